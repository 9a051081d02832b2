/**
 * With one worker and a seed, training is a pure function of (dataset,
 * options): the epoch's shuffle and every chunk's negatives come from the
 * seed, and one worker applies its updates in a fixed order. Two epochs give
 * bit-identical entity and relation tables whether the worker is the calling
 * thread (`inThread`) or a one-thread Piscina pool, and a different seed
 * gives different tables.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { rng } from '../helpers/rng.js';

/**
 * 200 entities, 5 relations, 2000 triples: every (h, r) has the tail
 * (a_r h + b_r) mod 200 and one other tail drawn by a seeded generator.
 */
function synthetic(): Dataset {
  const rand = rng(20240611);
  const rows: [string, string, string][] = [];
  for (let r = 0; r < 5; r++) {
    for (let h = 0; h < 200; h++) {
      const t = (h * (2 * r + 3) + 17 * r + 1) % 200;
      const u = (t + 1 + Math.floor(rand() * 199)) % 200;
      rows.push([`e${h}`, `r${r}`, `e${t}`], [`e${h}`, `r${r}`, `e${u}`]);
    }
  }
  return buildDataset('synthetic', { train: rows, valid: [], test: [] });
}

const dataset = synthetic();

function options(seed: number, inThread: boolean, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    model: 'distmult',
    dim: 16,
    batch: 256,
    neg: 16,
    chunk: 32,
    epochs: 2,
    workers: 1,
    seed,
    inThread,
    ...extra,
  };
}

interface Tables {
  entities: Float32Array;
  relations: Float32Array;
  losses: number[];
}

async function trainTables(o: TrainOptions): Promise<Tables> {
  const trainer = new Trainer(dataset, o);
  await trainer.train();
  const { entities, relations } = trainer.tables();
  // Copies: the tables are views of the trainer's shared regions.
  return { entities: entities.slice(), relations: relations.slice(), losses: trainer.epochs.map((e) => e.loss) };
}

/** Bit patterns, so that -0 and 0 (and NaN payloads) count as different. */
function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const x = bits(a);
  const y = bits(b);
  let first = -1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      first = i;
      break;
    }
  }
  assert.is(first, -1, `${what}: first differing float at ${first} (${a[first]} vs ${b[first]})`);
}

function differs(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('the synthetic dataset has the intended size', () => {
  assert.is(dataset.entities.length, 200);
  assert.is(dataset.relations.length, 5);
  assert.is(dataset.train.count, 2000);
});

for (const model of ['distmult', 'rotate'] as const) {
  const name =
    `${model}: same seed in-thread twice, in a 1-thread pool twice, ` + 'and in-thread vs pool: bit-identical tables';
  test(name, async () => {
    const extra = model === 'rotate' ? { model, margin: 6 } : { model };
    const a = await trainTables(options(7, true, extra));
    const b = await trainTables(options(7, true, extra));
    const c = await trainTables(options(7, false, extra));
    const d = await trainTables(options(7, false, extra));
    sameBits(a.entities, b.entities, 'in-thread entities');
    sameBits(a.relations, b.relations, 'in-thread relations');
    sameBits(c.entities, d.entities, 'pool entities');
    sameBits(c.relations, d.relations, 'pool relations');
    sameBits(a.entities, c.entities, 'in-thread vs pool entities');
    sameBits(a.relations, c.relations, 'in-thread vs pool relations');
    assert.equal(a.losses, c.losses, 'epoch losses');
    // Training actually changed the tables (identical because deterministic, not because idle).
    const untouched = new Trainer(dataset, options(7, true, extra)).tables();
    assert.ok(differs(untouched.entities, a.entities) > dataset.entities.length, 'entities were trained');
    assert.ok(differs(untouched.relations, a.relations) > 0, 'relations were trained');
  });
}

test('a different seed gives different tables', async () => {
  const a = await trainTables(options(7, true));
  const b = await trainTables(options(8, true));
  assert.ok(differs(a.entities, b.entities) > a.entities.length / 2, 'most entity floats differ');
  assert.ok(differs(a.relations, b.relations) > a.relations.length / 2, 'most relation floats differ');
  const c = await trainTables(options(8, false));
  sameBits(b.entities, c.entities, 'seed 8, in-thread vs pool');
});

test.run();
