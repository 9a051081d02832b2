/**
 * Cursor and threshold accumulator under real concurrency (the two
 * compare-and-swap primitives; the registry lists this module as `cursor`).
 *
 * Cursor: `workers` threads race `advance` with interleaved increasing
 * targets (and some stale ones) while a checker thread samples the value:
 * no sample may be lower than the one before, and the final value must be
 * the largest target anyone aimed at. Options: workers, steps, seed.
 *
 * Accumulator: `workers` threads `add` random amounts; at the end the main
 * thread drains what is pending. The claims plus the drain must equal
 * everything added, every claim must reach the threshold, the remainder
 * must be below it (no due flush was suppressed), and `flushes` must count
 * the claims. Options: workers, adds, threshold, maxAmount, seed.
 *
 * `duration` (seconds) bounds the whole module: half for each part.
 */
import { Accumulator } from '../../src/shm/accumulator.js';
import { Cursor } from '../../src/shm/cursor.js';
import {
  CONTROL_DONE,
  CONTROL_WORDS,
  type AdderInput,
  type AdderReport,
  type AdvancerInput,
  type AdvancerReport,
  type CheckerInput,
  type CheckerReport,
} from '../fixtures/cursor-shared.js';
import { firstMessage, runWorker, startWorker } from '../helpers/threads.js';
import { opt, type StressReport, type StressScenario } from './report.js';

export const cursorScenario: StressScenario = async (opts): Promise<StressReport> => {
  const workers = opt(opts, 'workers', 3);
  const steps = opt(opts, 'steps', 100_000_000);
  const seed = opt(opts, 'seed', (Date.now() & 0x7fffffff) >>> 0);
  const duration = opt(opts, 'duration', 30) / 2;
  const cursor = Cursor.create();
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const checkerInput: CheckerInput = { handle: cursor.handle, control };
  const checker = startWorker('cursor-checker', checkerInput);
  const checked = firstMessage<CheckerReport>(checker, (duration + 120) * 1000);
  const deadline = Date.now() + duration * 1000;
  let reports: AdvancerReport[];
  try {
    reports = await Promise.all(
      Array.from({ length: workers }, (_, worker) => {
        const input: AdvancerInput = { handle: cursor.handle, worker, workers, steps, seed: seed + worker, deadline };
        return runWorker<AdvancerReport>('cursor-advancer', input, (duration + 120) * 1000);
      }),
    );
  } finally {
    Atomics.store(new Int32Array(control), CONTROL_DONE, 1);
  }
  const check = await checked;
  await checker.terminate();

  const failures = reports.flatMap((r) => r.failures);
  const max = Math.max(...reports.map((r) => r.maxTarget));
  const final = cursor.get();
  if (final !== max) failures.push(`final value ${final}, expected the largest target ${max}`);
  if (check.backwards > 0)
    failures.push(`the checker saw the cursor go back ${check.backwards} times; first: ${check.firstError}`);
  if (check.last !== final)
    failures.push(`the checker's last sample ${check.last} differs from the final value ${final}`);
  const advanced = reports.reduce((s, r) => s + r.advanced, 0);
  if (advanced < 1) failures.push('no advance call ever moved the cursor');
  return {
    name: `cursor (${workers} advancers, ${steps} steps each max, seed ${seed})`,
    ok: failures.length === 0,
    details: { steps: reports.map((r) => r.steps), advanced, final, checkerSamples: check.samples, seed },
    failures,
  };
};

export const accumulatorScenario: StressScenario = async (opts): Promise<StressReport> => {
  const workers = opt(opts, 'workers', 3);
  const adds = opt(opts, 'adds', 100_000_000);
  const threshold = opt(opts, 'threshold', 1000);
  const maxAmount = opt(opts, 'maxAmount', 100);
  const seed = opt(opts, 'seed', (Date.now() & 0x7fffffff) >>> 0);
  const duration = opt(opts, 'duration', 30) / 2;
  const acc = Accumulator.create({ threshold });
  const deadline = Date.now() + duration * 1000;
  const reports = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const input: AdderInput = { handle: acc.handle, adds, maxAmount, seed: seed + 7919 * (w + 1), deadline };
      return runWorker<AdderReport>('accumulator-adder', input, (duration + 120) * 1000);
    }),
  );
  const remainder = acc.drain();
  const failures = reports.flatMap((r) => r.failures);
  const added = reports.reduce((s, r) => s + r.added, 0);
  const claimed = reports.reduce((s, r) => s + r.claimed, 0);
  const claims = reports.reduce((s, r) => s + r.claims, 0);
  if (claimed + remainder !== added) {
    failures.push(`claimed ${claimed} + drained ${remainder} = ${claimed + remainder}, but ${added} was added`);
  }
  if (remainder >= threshold)
    failures.push(`${remainder} was left pending with no add in progress (threshold ${threshold})`);
  if (acc.flushes() !== claims) failures.push(`flushes word ${acc.flushes()}, but workers made ${claims} claims`);
  if (acc.pending() !== 0) failures.push(`${acc.pending()} pending after the drain`);
  return {
    name: `accumulator (${workers} adders, ${adds} adds each max, threshold ${threshold}, seed ${seed})`,
    ok: failures.length === 0,
    details: { adds: reports.map((r) => r.adds), added, claims, remainder, seed },
    failures,
  };
};

/** Both parts; `npm run stress -- cursor`. */
export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const a = await cursorScenario(opts);
  const b = await accumulatorScenario(opts);
  return {
    name: `cursor: ${a.name}; ${b.name}`,
    ok: a.ok && b.ok,
    details: { cursor: a.details, accumulator: b.details },
    failures: [...a.failures, ...b.failures],
  };
};
