/**
 * `runTraining` with an AbortSignal aborted from `onEpoch` stops after that
 * epoch (the one in progress when the signal fired) and returns a report
 * that says so: the epochs run, `stoppedBy: 'interrupt'`, a final
 * checkpoint holding that epoch, and the final evaluation as usual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { runTraining, type EpochProgress } from '../../src/kge/training/run.js';
import { tempDir, tinyTriples } from '../cli/kgshard-cli.js';
import { SEED } from '../helpers/prop.js';

const dataset = buildDataset('tiny', tinyTriples());

const ABORTED =
  'aborted after epoch k of 50: k epochs trained, stopped by interrupt, final checkpoint at k, then evaluated';
test(ABORTED, async () => {
  const k = 1 + (Math.abs(SEED) % 4);
  const controller = new AbortController();
  const seen: EpochProgress[] = [];
  const phases: string[] = [];
  const store = tempDir('abort');
  const report = await runTraining(
    dataset,
    {
      model: 'distmult',
      dim: 8,
      epochs: 50,
      batch: 16,
      neg: 4,
      chunk: 4,
      workers: 1,
      inThread: true,
      seed: SEED,
      checkpointDir: store,
    },
    {
      signal: controller.signal,
      onEpoch: (e) => {
        seen.push(e);
        if (e.done === k) controller.abort();
      },
      onPhase: (p) => phases.push(p.kind),
    },
  );
  assert.is(report.epochs, k, `seed ${SEED}`);
  assert.equal(
    seen.map((e) => e.done),
    Array.from({ length: k }, (_, i) => i + 1),
  );
  assert.ok(seen.every((e) => e.epochs === 50));
  assert.is(report.stoppedBy, 'interrupt');
  assert.is(report.options.epochs, 50);
  assert.is(report.bestEpoch, k);
  assert.is(report.finalLoss, seen[k - 1]!.loss);
  assert.is(report.checkpoint.lastEpoch, k, 'the final entry holds the epoch reached');
  assert.is(report.nothingLeftToTrain, false);
  assert.ok(report.evaluation !== null && report.evaluation.split === 'test', 'evaluated after the stop');
  assert.ok(report.evaluation.both.mrr > 0 && report.evaluation.both.mrr <= 1);
  assert.equal(phases, ['training', 'trained', 'evaluating', 'evaluated']);
  assert.is(
    report.relationStats.reduce((a, s) => a + s.count, 0),
    k * dataset.train.count,
    'one loss sample per positive per epoch run',
  );
});

test('a signal aborted before the run: one epoch, then the stop', async () => {
  const controller = new AbortController();
  controller.abort();
  const report = await runTraining(
    dataset,
    { model: 'distmult', dim: 8, epochs: 20, batch: 16, neg: 4, chunk: 4, workers: 1, inThread: true, seed: SEED },
    { signal: controller.signal },
  );
  assert.is(report.epochs, 1);
  assert.is(report.stoppedBy, 'interrupt');
  assert.is(report.checkpoint.lastEpoch, null, 'no store, no checkpoint');
});

test.run();
