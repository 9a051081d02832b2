/**
 * Every built-in model, trained by the Trainer with small settings, learns a
 * graph whose relations are functions of the entity id: successor and
 * predecessor on a ring, a symmetric pairing, and a permutation. The epoch
 * loss falls by more than half, and the filtered rank of the true tail
 * among all entities (brute force with `model.score`, 50 training triples)
 * falls from about half the entities to a handful.
 *
 * In-thread training, so the run is exactly reproducible; then one model
 * again in a pool of two workers updating the tables Hogwild-style.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';

const N = 100;
const rows: [string, string, string][] = [];
for (let i = 0; i < N; i++) {
  rows.push(
    [`e${i}`, 'next', `e${(i + 1) % N}`],
    [`e${i}`, 'prev', `e${(i + N - 1) % N}`],
    [`e${i}`, 'pair', `e${i ^ 1}`],
    [`e${i}`, 'jump', `e${(i * 7 + 3) % N}`],
  );
}
const dataset = buildDataset('ring', { train: rows, valid: [], test: [] });
const triples = dataset.train.triples;
const known = new Set<string>();
for (let i = 0; i < dataset.train.count; i++)
  known.add(`${triples[3 * i]},${triples[3 * i + 1]},${triples[3 * i + 2]}`);

/** Mean filtered rank of the true tail over 50 training triples, scored one by one with `model.score`. */
function meanRank(trainer: Trainer): number {
  const { entities: E, relations: R } = trainer.tables();
  const model = trainer.model;
  const dim = trainer.options.dim;
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  let sum = 0;
  const queries = 50;
  for (let q = 0; q < queries; q++) {
    const i = (q * 37) % dataset.train.count;
    const h = triples[3 * i]!;
    const r = triples[3 * i + 1]!;
    const t = triples[3 * i + 2]!;
    const truth = model.score(E, h * ew, R, r * rw, E, t * ew, dim);
    let rank = 1;
    for (let e = 0; e < N; e++) {
      if (e === t || known.has(`${h},${r},${e}`)) continue; // filtered
      if (model.score(E, h * ew, R, r * rw, E, e * ew, dim) >= truth) rank++;
    }
    sum += rank;
  }
  return sum / queries;
}

const settings: Record<string, Partial<TrainOptions>> = {
  transe: { margin: 6 },
  distmult: {},
  complex: {},
  rotate: { margin: 6 },
};

test('the graph is as built', () => {
  assert.is(dataset.entities.length, N);
  assert.is(dataset.relations.length, 4);
  assert.is(dataset.train.count, 4 * N);
});

async function trainAndCheck(model: string, extra: Partial<TrainOptions>): Promise<void> {
  const trainer = new Trainer(dataset, {
    ...DEFAULT_TRAIN,
    model,
    dim: 16,
    batch: 64,
    neg: 16,
    chunk: 16,
    lr: 0.1,
    optimizer: 'adagrad',
    epochs: 40,
    workers: 1,
    inThread: true,
    seed: 3,
    ...extra,
  });
  const before = meanRank(trainer);
  await trainer.train();
  const after = meanRank(trainer);
  const losses = trainer.epochs.map((e) => e.loss);
  assert.is(losses.length, 40);
  assert.ok(losses.every(Number.isFinite), `finite losses: ${losses.join(', ')}`);
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(last < 0.5 * first, `${model}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(before > N / 4, `${model}: untrained mean rank ${before} looks random`);
  assert.ok(after * 4 <= before, `${model}: mean rank ${before.toFixed(1)} -> ${after.toFixed(1)}`);
  assert.ok(after <= 5, `${model}: mean rank after training ${after.toFixed(1)}`);
  assert.is(trainer.positives, 40 * dataset.train.count);
}

for (const [model, extra] of Object.entries(settings)) {
  test(`${model} learns the graph: loss more than halves, mean filtered rank falls at least fourfold`, async () => {
    await trainAndCheck(model, extra);
  });
}

test('complex in a pool of two workers (Hogwild updates) learns the graph too', async () => {
  await trainAndCheck('complex', { inThread: false, workers: 2 });
});

test.run();
