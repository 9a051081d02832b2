/**
 * `runTraining` on the tiny dataset while its checkpoint store fails for
 * real: before epoch 2's checkpoint the store directory is moved aside and
 * a regular file put in its place (every write fails with ENOTDIR); before
 * epoch 6's it is moved back. The checkpoint clock is a ManualClock moved
 * 4 s per epoch (past the 2 s rate limit, so every epoch's checkpoint is
 * offered), with a 10 s cool-down:
 *
 *   epoch  1  4 s   written
 *   epoch  2  8 s   fails: the breaker opens (warning 1)
 *   epoch  3,4      skipped
 *   epoch  5 20 s   the probe fails: open again (warning 2)
 *   epoch  6,7      skipped, although the disk works again
 *   epoch  8 32 s   the probe succeeds: closed, written
 *   epoch  9        written
 *   epoch 10        the final entry
 *
 * Training goes on through all of it, the entry of epoch 1 stays loadable
 * while writes fail, the run ends with a good final entry, and a resume
 * continues from it.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { prepareTraining, runTraining, type TrainingNotice } from '../../src/kge/training/run.js';
import { ManualClock } from '../../src/shm/clock.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { decodeTrainerSnapshot } from '../../src/store/train-state.js';
import { tempDir, tinyTriples } from '../cli/kgshard-cli.js';
import { err } from '../helpers/errors.js';
import { SEED } from '../helpers/prop.js';

const dataset = buildDataset('tiny', tinyTriples());
const settings = {
  model: 'distmult',
  dim: 8,
  batch: 16,
  neg: 4,
  chunk: 4,
  workers: 1,
  inThread: true,
  seed: SEED,
} as const;

/** The epochs of every entry in the store at `dir`, each decoded, by kind. */
function entries(dir: string): string[] {
  const store = CheckpointStore.open(dir, { onWarning: (m) => assert.unreachable(m) });
  return store
    .entries()
    .map((e) => {
      const state = decodeTrainerSnapshot(e.payload, dir);
      assert.is(state.epochs.length, e.iteration, 'the entry holds the epochs it says');
      return `${e.kind}@${e.iteration}`;
    })
    .sort();
}

test('training goes on while checkpoint writes fail, skips them for the cool-down, and checkpoints again', async () => {
  const root = tempDir('ckpt-breaker');
  const store = join(root, 'store');
  const aside = join(root, 'store.aside');
  const clock = ManualClock.create(0);
  const warnings: string[] = [];
  const seen: string[] = [];
  const onEpoch = (done: number): void => {
    // Runs before epoch `done`'s checkpoint is offered: what the store holds now is what earlier epochs wrote.
    clock.advance(4000);
    if (done === 2) {
      assert.equal(entries(store), ['checkpoint@1']);
      renameSync(store, aside);
      writeFileSync(store, 'not a directory\n');
    } else if (done >= 3 && done <= 5) {
      assert.equal(entries(aside), ['checkpoint@1'], `epoch ${done}: the good entry stays loadable`);
    } else if (done === 6) {
      rmSync(store);
      renameSync(aside, store);
    }
    if (done >= 6) seen.push(`${done}:${entries(store).join(',')}`);
  };
  const report = await runTraining(
    dataset,
    {
      ...settings,
      epochs: 10,
      checkpointDir: store,
      checkpointWrites: { coolDownMs: 10_000, clock },
    },
    {
      onEpoch: (p) => onEpoch(p.done),
      onNotice: (n: TrainingNotice) => {
        if (n.kind === 'warning') warnings.push(n.message);
      },
    },
  );
  assert.is(report.epochs, 10, 'every epoch trained');
  assert.is(report.stoppedBy, 'epochs');
  assert.ok(report.finalLoss !== null && Number.isFinite(report.finalLoss));
  assert.equal(seen, [
    '6:checkpoint@1',
    '7:checkpoint@1', // epoch 6 was skipped without touching the restored directory
    '8:checkpoint@1',
    '9:checkpoint@8', // the probe of epoch 8 wrote
    '10:checkpoint@9',
  ]);
  assert.is(warnings.length, 2, `one warning per open period:\n${warnings.join('\n')}`);
  for (const w of warnings) {
    assert.ok(w.includes('ENOTDIR'), w);
    assert.ok(w.includes(`skipping checkpoints to ${store} for 10 s`), w);
  }
  assert.equal(entries(store), ['final@10']);
  assert.is(report.checkpoint.lastEpoch, 10);
  assert.is(report.checkpoint.dir, resolve(store));

  const resumed = await runTraining(dataset, { ...settings, epochs: 12, checkpointDir: store, resume: true });
  assert.is(resumed.checkpoint.resumedFrom, 10, 'the final entry resumes');
  assert.is(resumed.epochs, 12);
  assert.equal(entries(store), ['final@10', 'final@12'], 'the resumed run wrote its own slot');
});

test('a store that stays broken to the end costs warnings, not the run: training and evaluation go on', async () => {
  const root = tempDir('ckpt-broken');
  const store = join(root, 'store');
  const warnings: string[] = [];
  const report = await runTraining(
    dataset,
    { ...settings, epochs: 4, checkpointDir: store },
    {
      onEpoch: (p) => {
        if (p.done === 1) {
          rmSync(store, { recursive: true, force: true });
          writeFileSync(store, 'not a directory\n');
        }
      },
      onNotice: (n: TrainingNotice) => {
        if (n.kind === 'warning') warnings.push(n.message);
      },
    },
  );
  assert.is(report.epochs, 4);
  assert.ok(report.evaluation !== null, 'the final evaluation ran');
  assert.ok(
    warnings.some((w) => w.startsWith('relation statistics not saved:')),
    `the statistics file could not be written at the end:\n${warnings.join('\n')}`,
  );
  assert.ok(warnings.some((w) => w.includes('ENOTDIR')));
});

test('bad checkpoint write options are refused before any work, naming the field', () => {
  const e = err(() => prepareTraining({ ...settings, epochs: 1, checkpointWrites: { coolDownMs: 0 } }));
  assert.is(e.code, 'E_OUT_OF_RANGE');
  assert.is(e.message, 'train: checkpointWrites.coolDownMs must be in [1, 2147483647], got 0');
  const c = err(() => prepareTraining({ ...settings, epochs: 1, checkpointWrites: 'often' as never }));
  assert.is(c.details['field'], 'checkpointWrites');
});

test.run();
