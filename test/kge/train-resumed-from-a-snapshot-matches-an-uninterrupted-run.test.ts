/**
 * A run stopped after 2 of 4 epochs and resumed in a new Trainer from its
 * snapshot (tables, Adagrad accumulators, epoch count) ends bit-identical to
 * a run that was never stopped; restore refuses another shape before it
 * changes anything; a warm start copies the tables only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { rng } from '../helpers/rng.js';

function synthetic(): Dataset {
  const rand = rng(99);
  const rows: [string, string, string][] = [];
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 120; h++) rows.push([`e${h}`, `r${r}`, `e${(h * (r + 2) + 5 + Math.floor(rand() * 3)) % 120}`]);
  }
  return buildDataset('synthetic', { train: rows, valid: [], test: [] });
}

const dataset = synthetic();
const options = (epochs: number, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  ...DEFAULT_TRAIN,
  model: 'complex',
  dim: 8,
  batch: 128,
  neg: 8,
  chunk: 16,
  optimizer: 'adagrad',
  epochs,
  workers: 1,
  seed: 3,
  inThread: true,
  ...extra,
});

const bits = (a: Float32Array): number[] =>
  Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));

test('stop after 2 epochs, resume for 2 more: same bits as 4 epochs straight', async () => {
  const straight = new Trainer(dataset, options(4));
  await straight.train();
  const first = new Trainer(dataset, options(4));
  await first.train({ onEpoch: (r) => (r.epoch === 1 ? 'stop' : undefined) });
  assert.is(first.epochs.length, 2);
  const snap = first.snapshot();
  assert.ok(
    snap.optimizer.some((x) => x !== 0),
    'the optimizer state is part of the snapshot',
  );
  const resumed = new Trainer(dataset, options(4));
  resumed.restore(snap);
  await resumed.train();
  assert.is(resumed.epochs.length, 4);
  assert.equal(bits(resumed.tables().entities), bits(straight.tables().entities));
  assert.equal(bits(resumed.tables().relations), bits(straight.tables().relations));
  assert.equal(
    resumed.epochs.map((e) => e.loss),
    straight.epochs.map((e) => e.loss),
  );
});

test('restore refuses another shape and changes nothing', () => {
  const a = new Trainer(dataset, options(2)).snapshot();
  const other = new Trainer(dataset, options(2, { dim: 16 }));
  const before = bits(other.tables().entities);
  assert.throws(() => other.restore(a), /entities/);
  assert.equal(bits(other.tables().entities), before);
});

test('warm start copies the tables, not the optimizer state or epochs', async () => {
  const src = new Trainer(dataset, options(1));
  await src.train();
  const t = src.tables();
  const warm = new Trainer(dataset, options(3, { lr: 0.05 }));
  warm.warmStart(t.entities, t.relations);
  assert.equal(bits(warm.tables().entities), bits(t.entities));
  assert.is(warm.epochs.length, 0);
  assert.ok(warm.snapshot().optimizer.every((x) => x === 0));
});

test.run();
