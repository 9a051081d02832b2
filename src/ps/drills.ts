/**
 * Drills: small deterministic workloads that drive a `ParameterServer`
 * through its public API. They are a test-and-benchmark driver, not part of
 * training: the multi-thread tests, the stress scenarios and the benchmarks
 * run them in worker threads (see workers/ps-task.ts), and the tests compute
 * what the server must then hold with single-threaded references (in
 * test/stress/ps.ts) that restate the server's update rules on plain arrays.
 *
 * Every gradient is a pure function of (worker, step or push, shard, row,
 * element), so a reference needs no record of what the threads did.
 *
 * - Sync drill gradients (`gradientFor`) are float32 values of magnitude in
 *   [2^-8, 1): every one is a multiple of 2^-31, so the server's float64
 *   pending sum of up to 2^22 of them is exact and does not depend on the
 *   order in which workers arrive. A reference can then match bit for bit.
 * - Async drill gradients (`integerGradientFor`) are integers in ±[1, 8]. With
 *   a power-of-two learning rate of at least 2^-3 and a table of multiples
 *   of 2^-3 below 2^20 in magnitude, every update is exact, so the final
 *   table does not depend on the order in which threads' pushes land.
 * - The sweep drill (`runSweepPushes`, `checkPulls`, `SweepTrajectory`)
 *   pushes one constant gradient to a whole shard again and again, so the
 *   table at step s is known exactly and every pulled snapshot can be
 *   checked against its step.
 *
 * The run functions reuse preallocated buffers (`pushFlat`, `pullInto`).
 */
import { KgError } from '../errors.js';
import type { ParameterServer, PsWarningHandler } from './server.js';

// ------------------------------------------------------------ gradients

function round(h: number, v: number): number {
  h = Math.imul(h ^ Math.imul(v | 0, 0xcc9e2d51), 0x1b873593);
  return (h << 13) | (h >>> 19);
}

/** 32-bit hash of five small integers (murmur3-style mixing); allocates nothing. */
function mix(a: number, b: number, c: number, d: number, e: number): number {
  let h = round(round(round(round(round(0x9747b28c, a), b), c), d), e);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Sync drill gradient of element `k` of `row` of `shard`, pushed by `worker`
 * at `step`: a float32 value, sign and magnitude in [2^-8, 1) varying with
 * every argument. Exact float32 (24 significant bits), so converting it to
 * a `Float32Array` element changes nothing.
 */
export function gradientFor(worker: number, step: number, shard: number, row: number, k: number): number {
  const h = mix(worker, step, shard, row, k);
  const mantissa = 1 + (h & 0x7fffff) / 0x800000; // [1, 2), 23 fraction bits
  const exponent = (h >>> 23) & 7; // 0..7
  const sign = h >>> 31 === 1 ? -1 : 1;
  return sign * mantissa * 2 ** -(exponent + 1);
}

/** Async drill gradient: a non-zero integer in [-8, 8] (see the module note on exactness). */
export function integerGradientFor(worker: number, push: number, shard: number, row: number, k: number): number {
  const h = mix(worker, push, shard, row, k ^ 0x5a5a);
  const mag = 1 + (h & 7);
  return h >>> 31 === 1 ? -mag : mag;
}

/**
 * The rows a drill push touches: `min(rowsPerPush, nRows)` distinct rows of
 * a shard with `nRows` rows, consecutive (wrapping) from a start that varies
 * with the arguments. Writes them to `rowIdx`; returns how many.
 */
export function drillRows(worker: number, step: number, shard: number, nRows: number, rowsPerPush: number, rowIdx: Int32Array): number {
  const count = Math.min(rowsPerPush, nRows);
  if (count <= 0) return 0;
  const start = Math.floor((mix(worker, step, shard, -1, 0x2545f491) * nRows) / 4294967296);
  for (let j = 0; j < count; j++) {
    const r = start + j;
    rowIdx[j] = r >= nRows ? r - nRows : r;
  }
  return count;
}

/** The shard an async drill push goes to (multiply-shift of a hash, not `%`). */
export function drillShard(seed: number, worker: number, push: number, numShards: number): number {
  return Math.floor((mix(seed, worker, push, -2, 0x68e31da4) * numShards) / 4294967296);
}

/** A drill gradient: element `k` of `row` of `shard`, pushed by `worker` at step (or push) `step`. */
export type DrillGradient = (worker: number, step: number, shard: number, row: number, k: number) => number;

/** Fill one drill push: `drillRows` rows and their `gradient` values. Returns the row count. */
export function fillPush(
  gradient: DrillGradient,
  worker: number,
  step: number,
  shard: number,
  nRows: number,
  rowsPerPush: number,
  dim: number,
  rowIdx: Int32Array,
  grads: Float32Array,
): number {
  const count = drillRows(worker, step, shard, nRows, rowsPerPush, rowIdx);
  for (let i = 0; i < count; i++) {
    const r = rowIdx[i]!;
    for (let k = 0; k < dim; k++) grads[i * dim + k] = gradient(worker, step, shard, r, k);
  }
  return count;
}

// ------------------------------------------------------------ runs (any worker thread)

export interface DrillWarning {
  readonly code: string;
  readonly message: string;
}

export interface SyncDrillResult {
  readonly pushes: number;
  /** Pushes that completed their step themselves (`last: true`). */
  readonly lasts: number;
  /** Pushes whose step ended by the barrier timeout. */
  readonly timeouts: readonly { readonly shard: number; readonly step: number; readonly arrived: number }[];
  /** Pushes whose result named a step other than the drill step + 1 (the barrier lost track). */
  readonly stepMismatches: number;
  /** Warnings the server raised on this thread during the run (recorded instead of printed). */
  readonly warnings: readonly DrillWarning[];
}

/**
 * Sync mode, worker thread: for each step from `firstStep`, push
 * `fillPush(gradientFor, worker, step, shard, ...)` to every shard in order (each
 * push waits at that shard's barrier). Every worker of the step must run
 * the same steps, or the barrier times out.
 */
export function runSyncSteps(ps: ParameterServer, worker: number, steps: number, rowsPerPush: number, firstStep = 0): SyncDrillResult {
  const { rowIdx, grads } = buffers(ps, rowsPerPush);
  const warnings: DrillWarning[] = [];
  const timeouts: { shard: number; step: number; arrived: number }[] = [];
  let pushes = 0;
  let lasts = 0;
  let stepMismatches = 0;
  return recording(ps, warnings, () => {
    for (let step = firstStep; step < firstStep + steps; step++) {
      for (let shard = 0; shard < ps.numShards; shard++) {
        const n = fillPush(gradientFor, worker, step, shard, ps.entityIds(shard).length, rowsPerPush, ps.dim, rowIdx, grads);
        const r = ps.pushFlat(shard, worker, rowIdx, grads, n);
        pushes++;
        if (r.step !== step + 1) stepMismatches++;
        if (r.state === 'timed-out') timeouts.push({ shard, step, arrived: r.arrived });
        else if (r.state === 'step-complete' && r.last) lasts++;
      }
    }
    return { pushes, lasts, timeouts, stepMismatches, warnings };
  });
}

export interface AsyncDrillOptions {
  readonly worker: number;
  readonly pushes: number;
  readonly rowsPerPush: number;
  /** Varies the shard sequence between runs. */
  readonly seed: number;
  /** Push only to this shard (otherwise `drillShard` picks one per push). */
  readonly shard?: number;
  /** Pull the pushed shard after every `pullEvery` pushes (0: never). */
  readonly pullEvery?: number;
}

export interface AsyncDrillResult {
  readonly pushes: number;
  readonly pulls: number;
  /** Pushes per shard. */
  readonly perShard: readonly number[];
  /** Pushes whose result was not `applied` (must be none in async mode). */
  readonly notApplied: number;
  readonly warnings: readonly DrillWarning[];
}

/** Which shard async drill push `p` of `o` goes to. */
export function asyncDrillShard(o: AsyncDrillOptions, p: number, numShards: number): number {
  return o.shard ?? drillShard(o.seed, o.worker, p, numShards);
}

/** Async mode, any thread: `o.pushes` pushes of `integerGradientFor` values, each applied at once. */
export function runAsyncPushes(ps: ParameterServer, o: AsyncDrillOptions): AsyncDrillResult {
  const { rowIdx, grads } = buffers(ps, o.rowsPerPush);
  const pullBuf = new Float32Array(maxRows(ps) * ps.dim);
  const perShard = new Array<number>(ps.numShards).fill(0);
  const warnings: DrillWarning[] = [];
  const pullEvery = o.pullEvery ?? 0;
  let notApplied = 0;
  let pulls = 0;
  return recording(ps, warnings, () => {
    for (let p = 0; p < o.pushes; p++) {
      const shard = asyncDrillShard(o, p, ps.numShards);
      const n = fillPush(integerGradientFor, o.worker, p, shard, ps.entityIds(shard).length, o.rowsPerPush, ps.dim, rowIdx, grads);
      if (ps.pushFlat(shard, o.worker, rowIdx, grads, n).state !== 'applied') notApplied++;
      perShard[shard]!++;
      if (pullEvery > 0 && (p + 1) % pullEvery === 0) {
        ps.pullInto(shard, pullBuf);
        pulls++;
      }
    }
    return { pushes: o.pushes, pulls, perShard, notApplied, warnings };
  });
}

/** Where the sweep writer's throwaway arithmetic goes, so it cannot be optimised away. */
export let sink = 0;

/** Words of the sweep drill's control array (an Int32Array over shared memory). */
export const SWEEP_STOP = 0;
/** Readers that have started pulling; the sweep writer waits for the number it was given. */
export const SWEEP_READERS = 1;
export const SWEEP_CONTROL_WORDS = 2;

/**
 * Async mode, worker thread: wait (up to 30 s) until `readers` readers have
 * counted themselves in `control[SWEEP_READERS]`, then push `gradient` to
 * every row of `shard`, up to `maxPushes` times or until
 * `control[SWEEP_STOP]` becomes non-zero, doing `gap` units of throwaway
 * arithmetic between pushes (standing in for computing the next gradient;
 * a writer that pushes back to back can starve seqlock readers). Returns
 * the number of pushes.
 */
export function runSweepPushes(
  ps: ParameterServer,
  shard: number,
  gradient: number,
  maxPushes: number,
  control: Int32Array,
  readers: number,
  gap = 0,
): number {
  const rows = ps.entityIds(shard).length;
  const rowIdx = new Int32Array(rows);
  for (let r = 0; r < rows; r++) rowIdx[r] = r;
  const grads = new Float32Array(rows * ps.dim).fill(gradient);
  const giveUp = Date.now() + 30_000;
  for (let seen = Atomics.load(control, SWEEP_READERS); seen < readers && Date.now() < giveUp; seen = Atomics.load(control, SWEEP_READERS)) {
    Atomics.wait(control, SWEEP_READERS, seen, 10);
  }
  let pushes = 0;
  recording(ps, [], () => {
    while (pushes < maxPushes && Atomics.load(control, SWEEP_STOP) === 0) {
      ps.pushFlat(shard, 0, rowIdx, grads, rows);
      pushes++;
      let x = pushes;
      for (let i = 0; i < gap; i++) x = (x * 1.0000001 + i) % 1e9;
      sink += x;
    }
  });
  return pushes;
}

/**
 * What every element of a swept shard holds after each push: after `s`
 * pushes of `gradient`, t_0 = `initial` and t_{s+1} = f32(t_s - f32(lr * g))
 * element by element (the server's rule). Computed forward on demand, so no
 * bound on the number of pushes is needed; a trajectory only moves forward.
 */
export class SweepTrajectory {
  /** The values at `step`. */
  readonly values: Float32Array;
  step = 0;
  private readonly delta: number;

  constructor(initial: Float32Array, learningRate: number, gradient: number) {
    this.values = Float32Array.from(initial);
    this.delta = Math.fround(Math.fround(learningRate) * Math.fround(gradient));
  }

  /** A copy at the same step that advances on its own. */
  clone(): SweepTrajectory {
    const c = new SweepTrajectory(this.values, 1, 0);
    (c as unknown as { delta: number }).delta = this.delta;
    c.step = this.step;
    return c;
  }

  /** Advance to `step` and return the values there; false (and no change) when `step` is behind the current step. */
  advanceTo(step: number): boolean {
    if (step < this.step) return false;
    const v = this.values;
    for (; this.step < step; this.step++) {
      for (let e = 0; e < v.length; e++) v[e] = v[e]! - this.delta;
    }
    return true;
  }
}

export interface PullCheckResult {
  readonly pulls: number;
  readonly mismatches: number;
  /** Pulls whose step was below the previous pull's. */
  readonly badSteps: number;
  /** Pulls that saw a different step than the pull before. */
  readonly changes: number;
  /** Pulls that threw E_LOCK_TIMEOUT (a write stayed in progress through every attempt); they check nothing. */
  readonly gaveUp: number;
  readonly lastStep: number;
  readonly firstMismatch: string;
}

export interface PullCheckOptions {
  /** Pulls to make at least. */
  readonly pulls: number;
  /** Keep pulling past `pulls` until this many step changes were seen (default 0)... */
  readonly minChanges?: number;
  /** ...or until this time (`Date.now()` ms; default: no extra pulls). */
  readonly deadline?: number;
  /** Sweep control words: when given, count this reader in before the first pull (see `runSweepPushes`). */
  readonly control?: Int32Array;
  /**
   * The server is in async (Hogwild) mode, whose pulls are not fenced
   * against pushes: check the weaker contract instead of equality. With one
   * writer and a positive gradient, every element of a pull whose step is s
   * must lie between the trajectory at the previous pull's step (pushes
   * completed before this copy began) and at s + 1 (a push may be in flight
   * after the s counted ones), both inclusive.
   */
  readonly hogwild?: boolean;
}

/** Count one more reader in sweep control words (the writer waits for them). */
export function countReader(control: Int32Array): void {
  Atomics.add(control, SWEEP_READERS, 1);
  Atomics.notify(control, SWEEP_READERS);
}

/**
 * Any thread: pull `shard` at least `o.pulls` times and check every
 * snapshot, element by element with `===`, against `trajectory` at the
 * snapshot's step. Keeps pulling until it has seen `o.minChanges` step
 * changes (or `o.deadline` passes), so that the pulls race the writer even
 * when the scheduler runs the writer and the readers at different times.
 */
export function checkPulls(ps: ParameterServer, shard: number, trajectory: SweepTrajectory, o: PullCheckOptions): PullCheckResult {
  const { pulls, minChanges = 0, deadline = 0 } = o;
  if (o.control) countReader(o.control);
  const n = ps.entityIds(shard).length * ps.dim;
  const buf = new Float32Array(n);
  const want = trajectory.values;
  const upTo = o.hogwild === true ? trajectory.clone() : undefined;
  let mismatches = 0;
  let badSteps = 0;
  let changes = 0;
  let gaveUp = 0;
  let last = -1;
  let firstMismatch = '';
  let i = 0;
  let timeLeft = true;
  for (; i < pulls || (changes < minChanges && timeLeft); i++) {
    if ((i & 1023) === 1023) timeLeft = Date.now() < deadline;
    let step: number;
    try {
      step = ps.pullInto(shard, buf);
    } catch (e) {
      // The pull found a write in progress through all its attempts (a
      // writer descheduled mid-push): it gave up rather than return a torn
      // copy. Count it; it checks nothing.
      if (!(e instanceof KgError) || e.code !== 'E_LOCK_TIMEOUT') throw e;
      gaveUp++;
      continue;
    }
    if (upTo !== undefined) {
      if (step < last || !upTo.advanceTo(step + 1)) {
        badSteps++;
        if (firstMismatch === '') firstMismatch = `pull ${i}: step ${step} after step ${last}`;
        continue;
      }
      const low = upTo.values;
      for (let e = 0; e < n; e++) {
        const v = buf[e]!;
        if (!(v <= want[e]! && v >= low[e]!)) {
          mismatches++;
          if (firstMismatch === '') {
            firstMismatch = `pull ${i}, step ${step}, element ${e}: ${v} outside [${low[e]}, ${want[e]}] (trajectory at steps ${step + 1} and ${trajectory.step})`;
          }
        }
      }
      if (step !== last) {
        if (last >= 0) changes++;
        last = step;
        trajectory.advanceTo(step);
      }
      continue;
    }
    if (step !== last) {
      if (last >= 0) changes++;
      last = step;
      if (!trajectory.advanceTo(step)) {
        badSteps++;
        if (firstMismatch === '') firstMismatch = `pull ${i}: step ${step} after step ${trajectory.step}`;
        continue;
      }
    }
    for (let e = 0; e < n; e++) {
      if (buf[e] !== want[e]) {
        mismatches++;
        if (firstMismatch === '') firstMismatch = `pull ${i}, step ${step}, element ${e}: ${buf[e]} !== ${want[e]}`;
      }
    }
  }
  return { pulls: i, mismatches, badSteps, changes, gaveUp, lastStep: last, firstMismatch };
}

// ------------------------------------------------------------ internals

function maxRows(ps: ParameterServer): number {
  let m = 1;
  for (let s = 0; s < ps.numShards; s++) m = Math.max(m, ps.entityIds(s).length);
  return m;
}

function buffers(ps: ParameterServer, rowsPerPush: number): { rowIdx: Int32Array; grads: Float32Array } {
  const rows = Math.max(1, Math.min(rowsPerPush, maxRows(ps)));
  return { rowIdx: new Int32Array(rows), grads: new Float32Array(rows * ps.dim) };
}

/** Run `body` with the server's warnings on this thread recorded into `into` instead of printed. */
function recording<T>(ps: ParameterServer, into: DrillWarning[], body: () => T): T {
  const previous: PsWarningHandler = ps.onWarning;
  ps.onWarning = (code, message) => {
    into.push({ code, message });
  };
  try {
    return body();
  } finally {
    ps.onWarning = previous;
  }
}
