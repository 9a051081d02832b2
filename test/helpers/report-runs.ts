/**
 * Real runs for the report tests: a short training run that validates,
 * checkpoints and trains through two async shards, and a short load test
 * that ramps with auto-scaling and stalls a consumer (so its report has
 * scale events and breaker transitions), recorded with a timeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { runTraining, type TrainingReport } from '../../src/kge/training/run.js';
import { runLoadTest, type LoadTestOptions, type LoadTestSummary } from '../../src/router/loadtest.js';

type Triple = [string, string, string];

/**
 * 120 entities on a ring with six rules (next, hop, pair, opposite, block
 * and double), about one triple in ten held out for valid or test. Deterministic.
 */
export function reportDataset(): Dataset {
  const n = 120;
  const e = (i: number): string => `e${((i % n) + n) % n}`;
  const all: Triple[] = [];
  for (let i = 0; i < n; i++) {
    all.push([e(i), 'next', e(i + 1)]);
    all.push([e(i), 'hop', e(i + 3)]);
    all.push([e(i), 'pair', e(i ^ 1)]);
    all.push([e(i), 'opposite', e(i + n / 2)]);
    all.push([e(i), 'block', e(i - (i % 10))]);
    all.push([e(i), 'double', e(2 * i)]);
  }
  const train: Triple[] = [];
  const valid: Triple[] = [];
  const test: Triple[] = [];
  let seed = 12345;
  for (const t of all) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const k = (seed >>> 16) % 10;
    (k === 0 ? valid : k === 1 ? test : train).push(t);
  }
  return buildDataset('ring-120', { train, valid, test });
}

/** A training run with validations, a checkpoint store, and async pushes to two shards. */
export async function trainForReport(): Promise<TrainingReport> {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-report-'));
  try {
    return await runTraining(reportDataset(), {
      model: 'complex',
      dim: 16,
      epochs: 16,
      batch: 64,
      neg: 8,
      chunk: 16,
      lr: 0.1,
      workers: 2,
      shards: 2,
      mode: 'async',
      seed: 7,
      evalEvery: 4,
      patience: 100,
      checkpointDir: join(dir, 'ckpt'),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Load test options: producers ramp up and down with auto-scaling; shard 0's consumer stalls mid-run. */
export const LOADTEST_OPTIONS: LoadTestOptions = {
  producers: 3,
  threads: 1,
  shards: 1,
  minShards: 1,
  maxShards: 4,
  durationMs: 1600,
  rate: 200_000,
  batch: 64,
  autoScale: true,
  profile: 'ramp',
  cooldownMs: 100,
  tickMs: 25,
  ringCapacity: 1 << 12,
  breakerThreshold: 2,
  breakerCoolDownMs: 200,
  stallConsumer: { shard: 0, atMs: 500 },
  timeline: true,
};

export function loadTestForReport(): Promise<LoadTestSummary> {
  return runLoadTest(LOADTEST_OPTIONS);
}
