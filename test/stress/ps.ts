/**
 * Parameter server under real concurrency: Piscina pools of worker threads
 * (test/fixtures/ps-task.ts) run the drills of test/fixtures/ps-drills.ts against one
 * server, and the main thread checks the result against a single-threaded
 * reference (`syncReference`, `asyncReference` below, which restate the
 * server's update rules on plain arrays). Three parts; the tests under
 * test/ps call each with small options, `npm run stress` runs all three
 * with the long defaults.
 *
 * Sync (`syncMatchScenario`): `workers` threads run `steps` sync steps, each
 * pushing to every shard; the tables must equal `syncReference` bit for bit
 * (the drill gradients make the float64 sums exact, so arrival order cannot
 * matter), every shard's step must be `steps`, and every barrier complete
 * without a timeout. Options: workers, steps, shards, entities, dim,
 * rowsPerPush, tolerance.
 *
 * Async (`asyncNoLossScenario`): `workers` threads each make `pushes` pushes
 * (pulling every `pullEvery` pushes); the step counts and the stats must add
 * up to the pushes. Pushes are Hogwild (no lock), so two threads updating
 * the same element at once may lose one update: with `ownShard` 1 each
 * worker pushes only to shard `worker % shards` (no two threads share an
 * element when workers <= shards) and the tables must equal
 * `asyncReference` exactly (integer gradients, power-of-two rate, table of
 * multiples of 1/8: every update is exact, so the order of pushes cannot
 * matter and a lost or doubled push shows); with `ownShard` 0 (default)
 * workers push to drill-chosen shards and race, and only the counters are
 * checked (`racedElements` reports how many elements a race changed).
 * Options: workers, pushes, shards, entities, dim, rowsPerPush, pullEvery,
 * seed, ownShard.
 *
 * Pulls (`pullsScenario`): one writer thread pushes gradient 1 to every row
 * of one shard (8 rows of 4) until told to stop, while `readers` reader
 * threads and the main thread (unless `mainReader` is 0) pull it; every
 * snapshot must equal the trajectory (`SweepTrajectory`) at the snapshot's
 * step, element for element. Each reader keeps pulling past its share until
 * it has seen `minChanges` step changes or `seconds` pass (the scheduler
 * may run the writer and the readers at different times). Options: pulls
 * (in all), readers, mainReader, minChanges, seconds, gap (work between the
 * writer's pushes, see `runSweepPushes`), maxGaveUp (pulls allowed to give
 * up with E_LOCK_TIMEOUT while the writer is alive; default 0), hogwild (0:
 * a sync-mode server with one worker, whose every push is applied under the
 * shard lock inside a seqlock write, so each pull must equal the
 * trajectory at its step; 1: an async server, whose Hogwild pushes are not
 * fenced, so each pulled element must lie between the trajectory at the
 * reader's previous step and at its step + 1).
 */
import { Piscina } from 'piscina';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ParameterServer, type PsStats } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import {
  asyncDrillShard,
  checkPulls,
  fillPush,
  gradientFor,
  integerGradientFor,
  countReader,
  SWEEP_CONTROL_WORDS,
  SWEEP_STOP,
  SweepTrajectory,
  type AsyncDrillOptions,
  type AsyncDrillResult,
  type PullCheckResult,
  type SyncDrillResult,
} from '../fixtures/ps-drills.js';
import { opt, type StressReport, type StressScenario } from './report.js';

/** dist/test/fixtures/ps-task.js, as a file URL string (what Piscina's `filename` takes). */
export const PS_TASK = new URL('../fixtures/ps-task.js', import.meta.url).href;

/** A pool of exactly `threads` threads over `ps`. Callers `await pool.destroy()` in a finally. */
export function psPool(ps: ParameterServer, threads: number): Piscina {
  return new Piscina({
    filename: PS_TASK,
    minThreads: threads,
    maxThreads: threads,
    workerData: { handle: ps.handle },
  });
}

export const ids = (n: number, prefix = 'e'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Every shard's rows, copied (a consistent pull each). */
export function tables(ps: ParameterServer): Float32Array[] {
  return Array.from({ length: ps.numShards }, (_, s) => ps.pull(s).entities);
}

/** Largest |a - b| over every element of every shard, and how many elements differ at all. */
export function compareTables(
  actual: Float32Array[],
  expected: Float32Array[],
): { maxAbsDiff: number; differing: number; first: string } {
  let maxAbsDiff = 0;
  let differing = 0;
  let first = '';
  actual.forEach((a, s) => {
    const b = expected[s]!;
    if (a.length !== b.length) {
      differing += Math.max(a.length, b.length);
      if (first === '') first = `shard ${s}: ${a.length} elements, expected ${b.length}`;
      return;
    }
    for (let e = 0; e < a.length; e++) {
      if (Object.is(a[e], b[e])) continue;
      differing++;
      const d = Math.abs(a[e]! - b[e]!);
      maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
      if (first === '') first = `shard ${s} element ${e}: ${a[e]} !== ${b[e]}`;
    }
  });
  return { maxAbsDiff, differing, first };
}

// ------------------------------------------------------------ single-threaded references

/**
 * What a sync-mode server must hold after the drill steps `[firstStep,
 * lastStep)` in which `workersAt(step)` pushed (those whose pushes arrived
 * before the step was applied), by the server's documented rule: per step
 * and shard, each touched row's float64 sum of the pushed gradients is
 * divided by the number of pushes, rounded to float32, scaled by the
 * float32 learning rate and subtracted in float32. `tables[s]` holds shard
 * `s`'s rows and is updated in place.
 */
export function syncReference(
  tables: Float32Array[],
  dim: number,
  learningRate: number,
  rowsPerPush: number,
  firstStep: number,
  lastStep: number,
  workersAt: (step: number) => readonly number[],
): void {
  const lr = Math.fround(learningRate);
  const rowIdx = new Int32Array(rowsPerPush);
  const grads = new Float32Array(rowsPerPush * dim);
  for (let step = firstStep; step < lastStep; step++) {
    const workers = workersAt(step);
    tables.forEach((table, shard) => {
      const nRows = table.length / dim;
      const sums = new Float64Array(table.length);
      const touched = new Uint8Array(nRows);
      for (const w of workers) {
        const count = fillPush(gradientFor, w, step, shard, nRows, rowsPerPush, dim, rowIdx, grads);
        for (let i = 0; i < count; i++) {
          touched[rowIdx[i]!] = 1;
          for (let k = 0; k < dim; k++) sums[rowIdx[i]! * dim + k]! += grads[i * dim + k]!;
        }
      }
      const pushes = Math.max(1, workers.length);
      for (let r = 0; r < nRows; r++) {
        if (touched[r] === 0) continue;
        for (let k = 0; k < dim; k++) {
          const e = r * dim + k;
          const avg = Math.fround(sums[e]! / pushes);
          table[e] = Math.fround(table[e]! - Math.fround(lr * avg));
        }
      }
    });
  }
}

/**
 * What an async-mode server must hold after the drills `runs` (applied in
 * list order, each push at once): `tables[s]` is updated in place. Equal to
 * the server's result whatever the interleaving only under the exactness
 * conditions of the drills' module note, or when one thread pushed.
 */
export function asyncReference(
  tables: Float32Array[],
  dim: number,
  learningRate: number,
  runs: readonly AsyncDrillOptions[],
): void {
  const lr = Math.fround(learningRate);
  const maxRowsPerPush = Math.max(1, ...runs.map((o) => o.rowsPerPush));
  const rowIdx = new Int32Array(maxRowsPerPush);
  const grads = new Float32Array(maxRowsPerPush * dim);
  for (const o of runs) {
    for (let p = 0; p < o.pushes; p++) {
      const shard = asyncDrillShard(o, p, tables.length);
      const table = tables[shard]!;
      const count = fillPush(
        integerGradientFor,
        o.worker,
        p,
        shard,
        table.length / dim,
        o.rowsPerPush,
        dim,
        rowIdx,
        grads,
      );
      for (let i = 0; i < count; i++) {
        const base = rowIdx[i]! * dim;
        for (let k = 0; k < dim; k++)
          table[base + k] = Math.fround(table[base + k]! - Math.fround(lr * grads[i * dim + k]!));
      }
    }
  }
}

// ------------------------------------------------------------ sync

export const syncMatchScenario: StressScenario = async (opts): Promise<StressReport> => {
  const workers = opt(opts, 'workers', 4);
  const steps = opt(opts, 'steps', 25_000);
  const shards = opt(opts, 'shards', 3);
  const entities = opt(opts, 'entities', 64);
  const dim = opt(opts, 'dim', 8);
  const rowsPerPush = opt(opts, 'rowsPerPush', 12);
  const tolerance = opt(opts, 'tolerance', 0);
  const config: Partial<PsConfig> = {
    dim,
    numShards: shards,
    expectedWorkers: workers,
    mode: 'sync',
    learningRate: 0.05,
    barrierTimeoutMs: 20_000,
  };
  const ps = ParameterServer.create(config, ids(entities), ['r0', 'r1']);
  const expected = tables(ps);
  const pool = psPool(ps, workers);
  const started = performance.now();
  let results: SyncDrillResult[];
  try {
    results = await Promise.all(
      Array.from(
        { length: workers },
        (_, w) => pool.run({ worker: w, steps, rowsPerPush }, { name: 'syncSteps' }) as Promise<SyncDrillResult>,
      ),
    );
  } finally {
    await pool.destroy();
  }
  const secs = (performance.now() - started) / 1000;
  const all = Array.from({ length: workers }, (_, w) => w);
  syncReference(expected, dim, config.learningRate!, rowsPerPush, 0, steps, () => all);
  const cmp = compareTables(tables(ps), expected);
  const st = ps.stats();

  const failures: string[] = [];
  if (cmp.maxAbsDiff > tolerance || (tolerance === 0 && cmp.differing > 0)) {
    failures.push(
      `${cmp.differing} elements differ from the single-threaded reference ` +
        `(max |diff| ${cmp.maxAbsDiff}); first: ${cmp.first}`,
    );
  }
  const stepsNow = ps.shardSteps();
  if (stepsNow.some((s) => s !== steps)) failures.push(`shard steps ${stepsNow.join(', ')}, expected ${steps} each`);
  if (st.barriersCompleted !== steps * shards)
    failures.push(`${st.barriersCompleted} barriers completed, expected ${steps * shards}`);
  if (st.pushes !== steps * shards) failures.push(`stats().pushes ${st.pushes}, expected ${steps * shards}`);
  if (st.warnings !== 0) failures.push(`${st.warnings} warnings`);
  const timeouts = results.reduce((n, r) => n + r.timeouts.length, 0);
  if (timeouts > 0) failures.push(`${timeouts} pushes ended by the barrier timeout`);
  const lasts = results.reduce((n, r) => n + r.lasts, 0);
  if (lasts !== steps * shards)
    failures.push(`${lasts} pushes completed a step, expected exactly one per step and shard (${steps * shards})`);
  const mismatched = results.reduce((n, r) => n + r.stepMismatches, 0);
  if (mismatched > 0) failures.push(`${mismatched} pushes returned a step other than theirs + 1`);
  return {
    name: `ps sync (${workers} workers x ${steps} steps x ${shards} shards, dim ${dim})`,
    ok: failures.length === 0,
    details: {
      steps,
      maxAbsDiff: cmp.maxAbsDiff,
      differing: cmp.differing,
      barriersCompleted: st.barriersCompleted,
      warnings: st.warnings,
      stepsPerSecond: Math.round(steps / secs),
    },
    failures,
  };
};

// ------------------------------------------------------------ async

/** Fill every shard with multiples of 1/8 in [-4, 4), varied per element (main thread, before any pusher runs). */
function fillEighths(ps: ParameterServer): void {
  for (let s = 0; s < ps.numShards; s++) {
    const v = ps.view(s); // racy view, but no other thread touches the server yet
    for (let e = 0; e < v.length; e++) v[e] = (((s * 977 + e * 31) & 63) - 32) / 8;
  }
}

export const asyncNoLossScenario: StressScenario = async (opts): Promise<StressReport> => {
  const workers = opt(opts, 'workers', 3);
  const pushes = opt(opts, 'pushes', 340_000);
  const shards = opt(opts, 'shards', 3);
  const entities = opt(opts, 'entities', 48);
  const dim = opt(opts, 'dim', 4);
  const rowsPerPush = opt(opts, 'rowsPerPush', 4);
  const pullEvery = opt(opts, 'pullEvery', 16);
  const seed = opt(opts, 'seed', Date.now() & 0x7fffffff);
  const ownShard = opt(opts, 'ownShard', 0) > 0;
  // Exactness needs |value| < 2^20: start below 4, each push moves an element by at most 1.
  if (workers * pushes > 2 ** 20 - 8) {
    return {
      name: 'ps async',
      ok: false,
      details: { workers, pushes },
      failures: [`workers * pushes must stay below 2^20 - 8 for exact sums, got ${workers * pushes}`],
    };
  }
  const ps = ParameterServer.create(
    { dim, numShards: shards, expectedWorkers: 1, mode: 'async', learningRate: 0.125, maxStaleness: 2 ** 31 - 1 },
    ids(entities),
    ['r0'],
  );
  fillEighths(ps);
  const expected = tables(ps);
  const runs: AsyncDrillOptions[] = Array.from({ length: workers }, (_, w) =>
    ownShard
      ? { worker: w, pushes, rowsPerPush, seed, pullEvery, shard: w % shards }
      : { worker: w, pushes, rowsPerPush, seed, pullEvery },
  );
  const pool = psPool(ps, workers);
  const started = performance.now();
  let results: AsyncDrillResult[];
  try {
    results = await Promise.all(runs.map((r) => pool.run(r, { name: 'asyncPushes' }) as Promise<AsyncDrillResult>));
  } finally {
    await pool.destroy();
  }
  const secs = (performance.now() - started) / 1000;
  const pullsBefore = shards; // `tables(ps)` above
  asyncReference(expected, dim, 0.125, runs);
  const cmp = compareTables(tables(ps), expected);
  const st: PsStats = ps.stats();
  const total = workers * pushes;
  const steps = ps.shardSteps();
  const expectedPerShard = new Array<number>(shards).fill(0);
  for (const r of runs) for (let p = 0; p < pushes; p++) expectedPerShard[asyncDrillShard(r, p, shards)]!++;

  const failures: string[] = [];
  if (ownShard && cmp.differing > 0) {
    failures.push(
      `${cmp.differing} elements differ from the reference (max |diff| ${cmp.maxAbsDiff}); first: ${cmp.first}`,
    );
  }
  const stepSum = steps.reduce((a, b) => a + b, 0);
  if (stepSum !== total) failures.push(`shard steps add up to ${stepSum}, expected ${total} pushes`);
  if (st.pushes !== total) failures.push(`stats().pushes ${st.pushes}, expected ${total}`);
  if (steps.some((s, i) => s !== expectedPerShard[i]))
    failures.push(`shard steps ${steps.join(', ')}, expected ${expectedPerShard.join(', ')}`);
  const notApplied = results.reduce((n, r) => n + r.notApplied, 0);
  if (notApplied > 0) failures.push(`${notApplied} async pushes were not 'applied'`);
  const workerPulls = results.reduce((n, r) => n + r.pulls, 0);
  if (st.pulls !== workerPulls + pullsBefore + shards)
    failures.push(`stats().pulls ${st.pulls}, expected ${workerPulls + pullsBefore + shards}`);
  if (st.warnings !== 0) failures.push(`${st.warnings} warnings`);
  return {
    name:
      `ps async (${workers} workers x ${pushes} Hogwild pushes, ` +
      `${shards} shards${ownShard ? ', one per worker' : ', racing'}, seed ${seed})`,
    ok: failures.length === 0,
    details: {
      pushes: total,
      stepSum,
      statsPushes: st.pushes,
      differing: cmp.differing,
      racedElements: ownShard ? 0 : cmp.differing,
      maxAbsDiff: cmp.maxAbsDiff,
      maxStalenessObserved: st.maxStalenessObserved,
      pushesPerSecond: Math.round(total / secs),
      seed,
    },
    failures,
  };
};

// ------------------------------------------------------------ pulls

export const pullsScenario: StressScenario = async (opts): Promise<StressReport> => {
  const pulls = opt(opts, 'pulls', 15_000_000);
  const readers = opt(opts, 'readers', 1);
  const mainReader = opt(opts, 'mainReader', 1) > 0;
  const minChanges = opt(opts, 'minChanges', 1000);
  const seconds = opt(opts, 'seconds', 20);
  const gap = opt(opts, 'gap', 0);
  const maxGaveUp = opt(opts, 'maxGaveUp', 0);
  const hogwild = opt(opts, 'hogwild', 0) > 0;
  const lr = 0.125;
  const gradient = 1;
  // Range strategy: entities 0..7 form shard 0 (8 rows of dim 4).
  const ps = ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      expectedWorkers: 1,
      mode: hogwild ? 'async' : 'sync',
      learningRate: lr,
      maxStaleness: 2 ** 31 - 1,
      strategy: 'range',
    },
    ids(16),
    ['r0'],
  );
  const shard = 0;
  const initial = ps.pull(shard).entities;
  const control = new Int32Array(new SharedArrayBuffer(SWEEP_CONTROL_WORDS * 4));
  // Each reader thread (and the main thread, when it reads) takes an equal share of the pulls.
  const pullers = readers + (mainReader ? 1 : 0);
  const share = Math.ceil(pulls / pullers);
  const deadline = Date.now() + seconds * 1000;
  const pool = psPool(ps, readers + 1);
  let writerPushes: number;
  let readerResults: PullCheckResult[];
  const main: PullCheckResult[] = [];
  const inFlight: Promise<unknown>[] = [];
  try {
    // The writer starts pushing once every reader has counted itself in, and stops when told.
    const writer = pool.run(
      { shard, gradient, maxPushes: 2 ** 31 - 1, control, readers: pullers, gap },
      { name: 'sweep' },
    ) as Promise<number>;
    const task = { shard, initial, gradient, control, pulls: share, minChanges, deadline, hogwild };
    const readerRuns = Array.from(
      { length: readers },
      () => pool.run(task, { name: 'checkPulls' }) as Promise<PullCheckResult>,
    );
    inFlight.push(writer, ...readerRuns);
    // The main thread pulls in chunks and yields between them (it must not
    // block the loop for long), with the same minimum of step changes.
    if (mainReader) {
      countReader(control);
      const trajectory = new SweepTrajectory(initial, lr, gradient);
      let done = 0;
      let changes = 0;
      while (done < share || (changes < minChanges && Date.now() < deadline)) {
        const r = checkPulls(ps, shard, trajectory, { pulls: 2000, hogwild });
        main.push(r);
        done += r.pulls;
        changes += r.changes;
        await yieldToLoop();
      }
    }
    readerResults = await Promise.all(readerRuns);
    Atomics.store(control, SWEEP_STOP, 1);
    writerPushes = await writer;
  } finally {
    Atomics.store(control, SWEEP_STOP, 1);
    // On failure, let the tasks still running end (they are bounded) so destroy() rejects none of them.
    await Promise.allSettled(inFlight);
    await pool.destroy();
  }
  const all = [...readerResults, ...main];
  const sum = (k: 'pulls' | 'mismatches' | 'badSteps' | 'changes' | 'gaveUp'): number =>
    all.reduce((n, r) => n + r[k], 0);
  const finalStep = ps.shardSteps()[shard]!;
  const finalTable = ps.pull(shard).entities;
  const expectedFinal = new SweepTrajectory(initial, lr, gradient);
  expectedFinal.advanceTo(finalStep);

  const failures: string[] = [];
  const first = all.find((r) => r.firstMismatch)?.firstMismatch;
  if (sum('mismatches') > 0)
    failures.push(`${sum('mismatches')} elements of pulled snapshots differ from the trajectory; first: ${first}`);
  if (sum('badSteps') > 0) failures.push(`${sum('badSteps')} snapshots went back a step; first: ${first}`);
  if (finalStep !== writerPushes) failures.push(`shard step ${finalStep}, but the writer made ${writerPushes} pushes`);
  if (!finalTable.every((v, e) => v === expectedFinal.values[e]))
    failures.push('the final table is not the trajectory at the final step');
  if (sum('gaveUp') > maxGaveUp) {
    failures.push(
      `${sum('gaveUp')} pulls gave up with E_LOCK_TIMEOUT while the writer was alive ` +
        '(pullInto bounds its retries by count, not time)',
    );
  }
  if (sum('changes') < minChanges)
    failures.push(`readers saw only ${sum('changes')} step changes (wanted ${minChanges}): the race was not exercised`);
  return {
    name:
      `ps pulls (${hogwild ? 'async, Hogwild' : 'sync'}; ` +
      `${readers} reader threads${mainReader ? ' + main' : ''}, ${pulls} pulls, 1 writer)`,
    ok: failures.length === 0,
    details: {
      pulls: sum('pulls'),
      checkedPulls: sum('pulls') - sum('gaveUp'),
      mismatches: sum('mismatches'),
      badSteps: sum('badSteps'),
      stepChangesSeen: sum('changes'),
      pullsGaveUp: sum('gaveUp'),
      writerPushes,
      writerGap: gap,
    },
    failures,
  };
};

// ------------------------------------------------------------ all three

export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const parts = [await syncMatchScenario(opts), await asyncNoLossScenario(opts), await pullsScenario(opts)];
  return {
    name: 'ps (sync matches the reference, async loses no push, pulls are consistent)',
    ok: parts.every((p) => p.ok),
    details: Object.fromEntries(parts.map((p) => [p.name, p.details])),
    failures: parts.flatMap((p) => p.failures.map((f) => `${p.name}: ${f}`)),
  };
};
