/**
 * Training reads and writes rows through the parameter server's client:
 * each chunk's rows are gathered from the shards that hold them and the
 * updates are pushed shard by shard. With one worker each row still sees
 * the same gradients in the same order, so the tables and losses are
 * bit-identical to the direct path (the kernels on one shard's rows in
 * place) for any number of shards, every optimizer, both update modes.
 * The client's figures are real: reads and pushes are counted per shard
 * touched, and with one worker no push is stale.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { rng } from '../helpers/rng.js';
import { SEED, withSeed } from '../helpers/prop.js';

/** A test whose data, training seed and threads follow KGSHARD_SEED; prints the seed when it fails. */
const seeded = (name: string, fn: () => Promise<void>): void => test(name, () => withSeed(name, fn));

function synthetic(): Dataset {
  const rand = rng(SEED);
  const rows: [string, string, string][] = [];
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 150; h++) {
      const t = (h * (2 * r + 5) + 11 * r + 3) % 150;
      const u = Math.floor(rand() * 150);
      rows.push([`e${h}`, `r${r}`, `e${t}`], [`e${h}`, `r${r}`, `e${u}`]);
    }
  }
  return buildDataset('synthetic', { train: rows, valid: [], test: [] });
}

const dataset = synthetic();

function options(extra: Partial<TrainOptions>): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    model: 'complex',
    dim: 8,
    batch: 128,
    neg: 8,
    chunk: 16,
    epochs: 2,
    workers: 1,
    seed: SEED,
    inThread: true,
    ...extra,
  };
}

async function run(
  o: TrainOptions,
): Promise<{ t: { entities: Float32Array; relations: Float32Array }; losses: number[]; trainer: Trainer }> {
  const trainer = new Trainer(dataset, o);
  trainer.ps.onWarning = () => {};
  await trainer.train();
  return { t: trainer.tables(), losses: trainer.epochs.map((e) => e.loss), trainer };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function same(a: Float32Array, b: Float32Array, what: string): void {
  const x = bits(a);
  const y = bits(b);
  assert.is(x.length, y.length, `${what}: length`);
  for (let i = 0; i < x.length; i++)
    if (x[i] !== y[i]) assert.unreachable(`${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`);
}

for (const optimizer of ['adagrad', 'sgd', 'adagrad-row'] as const) {
  for (const model of ['complex', 'transe'] as const) {
    test(`async ${model} ${optimizer}: 1, 2 and 5 shards give the direct path's tables bit for bit`, async () => {
      const extra = { model, optimizer, maxNorm: model === 'transe' ? 1 : 0 };
      const direct = await run(options({ ...extra, dataPath: 'direct', shards: 1 }));
      for (const shards of [1, 2, 5]) {
        const ps = await run(options({ ...extra, shards }));
        same(ps.t.entities, direct.t.entities, `${shards} shards: entities`);
        same(ps.t.relations, direct.t.relations, `${shards} shards: relations`);
        assert.equal(ps.losses, direct.losses, `${shards} shards: losses`);
        const r = ps.trainer.psReport();
        assert.is(r.shards, shards);
        assert.ok(r.pulls >= r.pushes && r.pushes > 0, `${shards} shards: reads ${r.pulls}, pushes ${r.pushes}`);
        // A chunk touches at most every shard once per push.
        const chunks = 2 * Math.ceil(dataset.train.count / 16);
        assert.ok(r.pushes >= chunks && r.pushes <= chunks * shards, `pushes ${r.pushes} for ${chunks} chunks`);
        assert.is(r.relationPushes, chunks);
        assert.is(r.maxStaleness, 0, 'one worker: nothing else pushes between its read and its push');
      }
    });
  }
}

seeded('sync mode through every shard barrier: 1 and 3 shards agree bit for bit with one pooled worker', async () => {
  const a = await run(options({ mode: 'sync', inThread: false, shards: 1 }));
  const b = await run(options({ mode: 'sync', inThread: false, shards: 3 }));
  same(b.t.entities, a.t.entities, 'entities');
  same(b.t.relations, a.t.relations, 'relations');
  assert.equal(b.losses, a.losses);
  // One step per batch per shard.
  const batches = 2 * Math.ceil(dataset.train.count / 128);
  assert.is(a.trainer.psReport().barriers, batches);
  assert.is(b.trainer.psReport().barriers, batches * 3);
});

seeded('two pooled async workers over 4 shards: staleness is counted and training still learns', async () => {
  const { trainer, losses } = await run(options({ inThread: false, workers: 2, shards: 4, epochs: 3 }));
  const r = trainer.psReport();
  assert.is(r.shards, 4);
  assert.ok(r.pushes > 0 && r.pulls > 0);
  assert.ok(r.maxStaleness >= r.meanStaleness && r.meanStaleness >= 0);
  assert.ok(losses[2]! < losses[0]!, `loss falls: ${losses.join(', ')}`);
  assert.is(trainer.ps.stats().pushes, r.pushes, "the workers' pushes reach the server's statistics");
});

test('shards beyond the entities are refused before anything is allocated', () => {
  assert.throws(
    () => new Trainer(dataset, options({ shards: 151 })),
    /shards must be at most the entities \(150\), got 151/,
  );
  assert.throws(
    () => new Trainer(dataset, options({ shards: 2, dataPath: 'direct' })),
    /shards.*1 with dataPath 'direct'/,
  );
});

test.run();
