/**
 * Sync mode: two pool workers each push every batch's entity gradients to
 * the parameter server, which averages the step's two pushes and applies
 * them once at its learning rate. Every worker pushes the same number of
 * batches per epoch (an empty push when its share has run out), so every
 * barrier completes with both pushes: the server counts exactly one barrier
 * per sync step, none times out, and no warning is raised. Training still
 * learns: the loss falls.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';

const N = 60;
const rows: [string, string, string][] = [];
for (let i = 0; i < N; i++) {
  rows.push(
    [`e${i}`, 'next', `e${(i + 1) % N}`],
    [`e${i}`, 'pair', `e${i ^ 1}`],
    [`e${i}`, 'jump', `e${(i * 7 + 3) % N}`],
  );
}
const dataset = buildDataset('ring', { train: rows, valid: [], test: [] });

function syncOptions(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    model: 'transe',
    margin: 6,
    mode: 'sync',
    optimizer: 'sgd',
    lr: 0.1,
    dim: 16,
    batch: 16,
    neg: 16,
    chunk: 8,
    epochs: 12,
    workers: 2,
    seed: 5,
    ...extra,
  };
}

/** Sync steps per epoch: each of w workers takes ceil(n / w) positives in batches. */
function stepsPerEpoch(n: number, workers: number, batch: number): number {
  return Math.ceil(Math.ceil(n / workers) / batch);
}

test('sync mode with SGD and two workers: one barrier per step and shard, no warnings, the loss falls', async () => {
  const o = syncOptions();
  const trainer = new Trainer(dataset, o);
  const warnings: string[] = [];
  trainer.ps.onWarning = (code, message) => warnings.push(`${code}: ${message}`);
  assert.is(trainer.ps.config.mode, 'sync');
  assert.is(trainer.ps.config.expectedWorkers, 2);
  await trainer.train();

  const steps = stepsPerEpoch(dataset.train.count, 2, o.batch);
  assert.is(steps, 6); // 180 positives: 90 per worker, in batches of 16
  const stats = trainer.ps.stats();
  assert.is(trainer.epochs.length, o.epochs);
  // Every step meets each shard's barrier once: one applied (averaged) update per step and shard.
  const shards = trainer.ps.numShards;
  assert.is(shards, trainer.options.shards, 'the default shard count');
  assert.is(stats.barriersCompleted, o.epochs * steps * shards);
  assert.is(stats.pushes, o.epochs * steps * shards, 'one applied (averaged) update per step and shard');
  assert.equal(trainer.ps.shardSteps(), new Array<number>(shards).fill(o.epochs * steps));
  assert.is(stats.warnings, 0);
  assert.equal(warnings, []);
  assert.ok(stats.relationPushes > 0, 'relation gradients went through the server');
  assert.is(trainer.positives, o.epochs * dataset.train.count);

  const losses = trainer.epochs.map((e) => e.loss);
  assert.ok(losses.every(Number.isFinite), losses.join(', '));
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(last < 0.5 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
});

const UNEVEN = 'uneven shares: a worker whose share runs out pushes empty batches, and every barrier still completes';
test(UNEVEN, async () => {
  // 3 positives over 2 workers: shares of 2 and 1, one positive per batch, so
  // 2 steps per epoch and worker 1 pushes one empty batch in each.
  const three = buildDataset('three', {
    train: [
      ['a', 'r', 'b'],
      ['b', 'r', 'c'],
      ['c', 's', 'a'],
    ],
    valid: [],
    test: [],
  });
  const trainer = new Trainer(three, syncOptions({ batch: 1, chunk: 1, neg: 2, epochs: 3 }));
  trainer.ps.onWarning = () => {};
  await trainer.train();
  assert.is(stepsPerEpoch(3, 2, 1), 2);
  assert.is(trainer.ps.stats().barriersCompleted, 3 * 2 * trainer.ps.numShards);
  assert.is(trainer.ps.stats().warnings, 0);
  assert.is(trainer.positives, 3 * 3);

  // Fewer positives than workers: worker 1 has nothing at all and still meets the one barrier per epoch.
  const one = buildDataset('one', { train: [['a', 'r', 'b']], valid: [], test: [] });
  const t1 = new Trainer(one, syncOptions({ batch: 4, chunk: 4, neg: 2, epochs: 2 }));
  t1.ps.onWarning = () => {};
  await t1.train();
  assert.is(t1.ps.stats().barriersCompleted, 2 * t1.ps.numShards);
  assert.is(t1.ps.stats().warnings, 0);
  assert.is(t1.positives, 2);
});

test.run();
