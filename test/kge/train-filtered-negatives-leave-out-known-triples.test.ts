import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { Trainer, DEFAULT_TRAIN } from '../../src/kge/trainer.js';
import { TrainContext, mulberry32, type TrainTask } from '../../src/kge/train-core.js';

/** 12 entities; relation "near" links every entity to the next three (a dense graph, so many negatives are true). */
function graph() {
  const train: [string, string, string][] = [];
  for (let i = 0; i < 12; i++) for (let d = 1; d <= 3; d++) train.push([`e${i}`, 'near', `e${(i + d) % 12}`]);
  return buildDataset('near', { train, valid: [], test: [] });
}

test('filtered sampling leaves out exactly the (positive, negative) pairs that are training triples', () => {
  const ds = graph();
  const opts = {
    ...DEFAULT_TRAIN,
    model: 'distmult',
    dim: 4,
    neg: 8,
    chunk: 6,
    batch: 36,
    epochs: 1,
    workers: 1,
    inThread: true,
    filterNegatives: true,
  };
  const trainer = new Trainer(ds, opts);
  const order = trainer.handle.order;
  for (let i = 0; i < order.length; i++) order[i] = i;
  const ctx = new TrainContext(trainer.handle);
  const task: TrainTask = { epoch: 0, start: 0, end: ds.train.count, steps: 1, worker: 0, seed: 99 };
  ctx.run(task);

  // Replay the task's negatives (same seed, same draws per chunk, sides alternating by chunk).
  const known = new Set<string>();
  const t = ds.train.triples;
  for (let i = 0; i < ds.train.count; i++) known.add(`${t[3 * i]},${t[3 * i + 1]},${t[3 * i + 2]}`);
  const rand = mulberry32(99);
  let expected = 0;
  let chunkNo = 0;
  for (let p = 0; p < ds.train.count; p += opts.chunk) {
    const n = Math.min(opts.chunk, ds.train.count - p);
    const negs = Array.from({ length: opts.neg }, () => Math.floor(rand() * ds.entities.length));
    const corruptTail = chunkNo++ % 2 === 0;
    for (let i = 0; i < n; i++) {
      const [h, r, tt] = [t[3 * (p + i)]!, t[3 * (p + i) + 1]!, t[3 * (p + i) + 2]!];
      for (const e of negs) if (known.has(corruptTail ? `${h},${r},${e}` : `${e},${r},${tt}`)) expected++;
    }
  }
  assert.ok(expected > 0, 'the dense graph makes some negatives true');
  assert.is(ctx.filteredPairs, expected);
});

test('without filtering nothing is left out, and filtered training still learns', async () => {
  const ds = graph();
  const plain = new Trainer(ds, { ...DEFAULT_TRAIN, model: 'distmult', dim: 8, epochs: 1, workers: 1, inThread: true });
  const ctx = new TrainContext(plain.handle);
  ctx.run({ epoch: 0, start: 0, end: ds.train.count, steps: 1, worker: 0, seed: 5 });
  assert.is(ctx.filteredPairs, 0);
  const filtered = new Trainer(ds, {
    ...DEFAULT_TRAIN,
    model: 'complex',
    dim: 8,
    epochs: 40,
    chunk: 4,
    neg: 8,
    workers: 1,
    inThread: true,
    filterNegatives: true,
  });
  await filtered.train();
  const losses = filtered.epochs.map((e) => e.loss);
  assert.ok(losses[losses.length - 1]! < losses[0]! / 2, `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
});

test.run();
