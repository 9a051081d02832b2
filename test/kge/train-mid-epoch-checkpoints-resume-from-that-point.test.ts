/**
 * Checkpoints while an epoch runs: `checkpointState` reads where every
 * worker is in the epoch's order, then copies the tables shard by shard
 * while the workers keep training. The state says which positions of the
 * epoch remain; it survives the store's encoding, and a resumed trainer
 * starts from its tables and trains exactly the remaining positives of that
 * epoch before the next ones. `runTraining` with `checkpointEverySeconds`
 * writes such entries during epochs, and a run resumed from one continues
 * inside the epoch.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { runTraining, type TrainingNotice } from '../../src/kge/training/run.js';
import { decodeTrainerSnapshot, encodeTrainerSnapshot } from '../../src/store/train-state.js';
import { rng } from '../helpers/rng.js';
import { SEED, withSeed } from '../helpers/prop.js';

/** A test whose data, training seed and threads follow KGSHARD_SEED; prints the seed when it fails. */
const seeded = (name: string, fn: () => Promise<void>): void => test(name, () => withSeed(name, fn));

/** 400 entities, 6 relations, 60,000 triples: an epoch long enough to be caught running. */
function synthetic(): Dataset {
  const rand = rng(SEED);
  const rows: [string, string, string][] = [];
  for (let i = 0; i < 60_000; i++) {
    const h = Math.floor(rand() * 400);
    const r = Math.floor(rand() * 6);
    rows.push([`e${h}`, `r${r}`, `e${(h * (r + 2) + 7) % 400}`]);
  }
  return buildDataset('synthetic', { train: rows, valid: [], test: rows.slice(0, 50) });
}

const dataset = synthetic();
const n = dataset.train.count;

function options(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    model: 'distmult',
    dim: 16,
    batch: 512,
    neg: 16,
    chunk: 16,
    epochs: 2,
    workers: 2,
    shards: 3,
    seed: SEED,
    ...extra,
  };
}

const span = (remaining: number[]): number => {
  let s = 0;
  for (let i = 0; i < remaining.length; i += 2) s += remaining[i + 1]! - remaining[i]!;
  return s;
};

seeded('a checkpoint taken while the epoch runs resumes with exactly the remaining positives', async () => {
  const trainer = new Trainer(dataset, options());
  const running = trainer.epoch(0);
  // Wait until the workers have trained some of the epoch, then checkpoint while they go on.
  while ((trainer.epochProgress() ?? 0) === 0) await new Promise((r) => setImmediate(r));
  const snap = await trainer.checkpointState();
  await running;
  await trainer.close();
  const p = snap.partial;
  assert.ok(p !== undefined, 'taken while the epoch ran: it holds the epoch in progress');
  assert.is(p.epoch, 0);
  assert.is(snap.epochs.length, 0);
  assert.ok(p.positives > 0 && p.positives < n, `${p.positives} of ${n} trained`);
  assert.is(span(p.remaining), n - p.positives, 'remaining positions + trained ones = the epoch');
  for (let i = 0; i < p.remaining.length; i += 2) assert.ok(p.remaining[i]! < p.remaining[i + 1]!);

  // Through the store's encoding and back.
  const state = decodeTrainerSnapshot(encodeTrainerSnapshot(snap), 'test');
  assert.equal(state.partial, p);

  const resumed = new Trainer(dataset, options());
  resumed.restore(state);
  const before = resumed.tables();
  assert.equal(Array.from(before.entities), Array.from(snap.entities), 'the resumed tables are the snapshot');
  await resumed.train();
  assert.is(resumed.epochs.length, 2);
  assert.is(resumed.epochs[0]!.positives, n, 'the resumed epoch reports the whole epoch');
  assert.is(resumed.epochs[1]!.positives, n);
  assert.is(resumed.positives, n - p.positives + n, 'it trained only what remained of epoch 1, then epoch 2');
  assert.ok(resumed.epochs.every((e) => Number.isFinite(e.loss)));
});

seeded('--checkpoint-every-s writes entries inside epochs, and a resume continues inside the epoch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-mid-epoch-'));
  const copy = join(dir, 'copy');
  try {
    let copied = false;
    const report = await runTraining(
      dataset,
      {
        ...options(),
        checkpointDir: join(dir, 'store'),
        checkpointEverySeconds: 0.005,
      },
      {
        // At the end of epoch 1 (before its own checkpoint) the store's entry is the last mid-epoch one:
        // keep a copy, as a run killed during epoch 1 would have left it.
        onEpoch: (e) => {
          if (e.done === 1 && !copied) {
            cpSync(join(dir, 'store'), copy, { recursive: true });
            copied = true;
          }
        },
      },
    );
    assert.ok(report.checkpoint.midEpoch > 0, `mid-epoch checkpoints: ${report.checkpoint.midEpoch}`);
    assert.ok(report.ps.snapshots >= report.checkpoint.midEpoch);
    const notices: TrainingNotice[] = [];
    const again = await runTraining(
      dataset,
      { ...options(), checkpointDir: copy, resume: true },
      { onNotice: (x) => notices.push(x) },
    );
    const said = notices.map((x) => x.message).join('\n');
    assert.match(said, new RegExp(`resumed from checkpoint in epoch 1 \\(\\d+ of ${n} positives trained\\)`));
    assert.is(again.epochs, 2);
    assert.is(again.checkpoint.resumedFrom, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
