/**
 * Sync mode: the per-table step, built on the table's `Barrier`
 * (src/shm/barrier.ts) with `expectedWorkers` parties.
 *
 * A push takes the table's writer lock, refuses a second push by the same
 * worker in this step, adds its gradient to the table's float64 pending
 * sums, records the worker, and arrives at the barrier, all under the lock.
 * Every arrival happens under the lock, so the holder knows whether its
 * arrival completes the round: the last pusher applies the step (the
 * average of the pending sums, one seqlock write) BEFORE it arrives, so a
 * party released by the barrier always finds the step applied. Any other
 * pusher releases the lock and waits for its round (`Barrier.wait`, or
 * `waitAsync`). If the barrier timeout passes first, it takes the lock
 * again and, if the round is still open, applies what arrived, trips the
 * round (releasing the others) and raises KGSHARD_BARRIER_TIMEOUT. A push
 * that arrives after a trip counts towards the next step.
 *
 * The blocking (`pushSync`, worker threads) and awaiting (`pushSyncAsync`,
 * any thread) forms share every step under the lock (`enterStep`,
 * `timeoutStep`, `roundEnded`); they differ only in how they take the lock
 * and how they wait at the barrier.
 */
import { doublePush, lockBusy, lockTimeout } from '../errors.js';
import { SEQ_BUSY, SEQ_OK, SEQ_RECOVERED } from '../shm/seqlock.js';
import type { ArrivalTicket } from '../shm/barrier.js';
import type { Tables } from './tables.js';
import type { UpdateKernel } from './wasm/kernel.js';
import { repairTable } from './repair.js';

export type PushResult =
  | { readonly state: 'applied'; readonly step: number; readonly staleness: number }
  | { readonly state: 'step-complete'; readonly step: number; readonly last: boolean }
  | { readonly state: 'timed-out'; readonly step: number; readonly arrived: number };

/** A push that has entered its step: done (it completed the step), or waiting on its round. */
type Entered =
  | { readonly done: true; readonly result: PushResult }
  | { readonly done: false; readonly step: number; readonly ticket: ArrivalTicket };

/** A checked sync push to table `t` from a worker thread: sleeps until the step completes or times out. */
export function pushSync(
  tables: Tables,
  where: string,
  t: number,
  worker: number,
  rowIdx: Int32Array,
  grads: Float32Array,
  count: number,
): PushResult {
  takeTableLock(tables, t, where);
  const e = enterStep(tables, t, worker, rowIdx, grads, count);
  if (e.done) return e.result;
  const r = tables.barriers[t]!.wait(e.ticket, tables.config.barrierTimeoutMs);
  if (r.state !== 'waiting') return roundEnded(tables, t, e.step);
  takeTableLock(tables, t, where);
  return timeoutStep(tables, t, e.step, e.ticket);
}

/** `pushSync` that awaits instead of sleeping, for the lock and for the barrier; any thread. */
export async function pushSyncAsync(
  tables: Tables,
  where: string,
  t: number,
  worker: number,
  rowIdx: Int32Array,
  grads: Float32Array,
  count: number,
): Promise<PushResult> {
  // Enter at once when the lock is free, so the push joins the step before
  // this call returns; otherwise park until it is released.
  if (!tryTableLock(tables, t)) await takeTableLockAsync(tables, t, where);
  const e = enterStep(tables, t, worker, rowIdx, grads, count);
  if (e.done) return e.result;
  const r = await tables.barriers[t]!.waitAsync(e.ticket, tables.config.barrierTimeoutMs);
  if (r.state !== 'waiting') return roundEnded(tables, t, e.step);
  await takeTableLockAsync(tables, t, where);
  return timeoutStep(tables, t, e.step, e.ticket);
}

/**
 * With table `t`'s lock held (the caller took it; released here): refuse a
 * second push by the same worker in this step, add the gradients to the
 * pending float64 sums, and arrive at the barrier, applying the step first
 * if this arrival completes it.
 */
function enterStep(
  tables: Tables,
  t: number,
  worker: number,
  rowIdx: Int32Array,
  grads: Float32Array,
  count: number,
): Entered {
  const lock = tables.locks[t]!;
  const barrier = tables.barriers[t]!;
  const f = tables.fields[t]!;
  const p = tables.pendings[t]!;
  const c = tables.ctl;
  const step = Atomics.load(c, f.step);
  const pushed = Atomics.load(c, f.pushedCount);
  for (let i = 0; i < pushed; i++) {
    if (Atomics.load(c, f.pushedWorkers + i) === worker) {
      lock.unlock();
      const rel = t === tables.rel;
      throw doublePush(
        rel ? 'ParameterServer.pushRelation' : 'ParameterServer.push',
        worker,
        rel ? tables.tableName(t) : t,
        step,
      );
    }
  }
  const width = tables.widthOf(t);
  // Mark the push in progress: if this thread dies before the mark is
  // cleared, the next lock holder knows the pending sums hold part of it.
  Atomics.store(c, f.pushing, worker + 1);
  let touched = Atomics.load(c, f.touchedCount);
  for (let i = 0; i < count; i++) {
    const r = rowIdx[i]!;
    if (p.flags[r] === 0) {
      p.flags[r] = 1;
      p.touched[touched++] = r;
    }
  }
  // Each float32 gradient is exact in float64, and float64 addition is
  // commutative: with two workers the sum does not depend on who came first.
  // The kernel adds from the push's staged copy (the check staged it), the
  // same additions as the loop.
  const k = p.sumsPtr >= 0 ? tables.kernel(t) : null;
  if (k !== null && k.takeOrStage(rowIdx, grads, count)) {
    k.accumulateStaged(p.sumsPtr, count);
  } else {
    for (let i = 0; i < count; i++) {
      const base = rowIdx[i]! * width;
      const g = i * width;
      for (let q = 0; q < width; q++) p.sums[base + q] = p.sums[base + q]! + grads[g + q]!;
    }
  }
  Atomics.store(c, f.touchedCount, touched);
  Atomics.store(c, f.pushedWorkers + pushed, worker);
  Atomics.store(c, f.pushedCount, pushed + 1);
  Atomics.store(c, f.pushing, 0);
  if (barrier.arrived() + 1 >= barrier.parties) {
    applyPending(tables, t);
    barrier.arrive(); // completes the round and releases its parties
    lock.unlock();
    return { done: true, result: { state: 'step-complete', step: step + 1, last: true } };
  }
  const ticket = barrier.arrive();
  lock.unlock();
  return { done: false, step, ticket };
}

/** A push's round ended while it waited: completed (the step moved on), or discarded by a repair (it did not). */
function roundEnded(tables: Tables, t: number, step: number): PushResult {
  const now = tables.step(t);
  if (now !== step) return { state: 'step-complete', step: now, last: false };
  return { state: 'timed-out', step: now, arrived: 0 };
}

/**
 * Barrier timeout, with table `t`'s lock held (released here): unless the
 * round has ended meanwhile, apply whatever arrived for `step`, trip the
 * round, and warn.
 */
function timeoutStep(tables: Tables, t: number, step: number, ticket: ArrivalTicket): PushResult {
  const lock = tables.locks[t]!;
  const barrier = tables.barriers[t]!;
  if (barrier.poll(ticket).state !== 'waiting') {
    lock.unlock();
    return roundEnded(tables, t, step);
  }
  const now = tables.step(t);
  if (now !== step) {
    // The step was applied but its last pusher died before arriving: end the round for it.
    barrier.trip(ticket);
    lock.unlock();
    return { state: 'step-complete', step: now, last: false };
  }
  const arrived = Atomics.load(tables.ctl, tables.fields[t]!.pushedCount);
  applyPending(tables, t);
  barrier.trip(ticket);
  lock.unlock();
  tables.warn(
    'KGSHARD_BARRIER_TIMEOUT',
    `${tables.tableName(t)} step ${step}: ${arrived} of ${tables.config.expectedWorkers} workers ` +
      `pushed within ${tables.config.barrierTimeoutMs} ms; applied what arrived`,
  );
  return { state: 'timed-out', step: step + 1, arrived };
}

/**
 * Under table `t`'s lock: apply the average of the pending sums (sum /
 * number of pushes, as the reference averages over pushes) to the touched
 * rows with the configured rule, clear the pending step, advance the step,
 * all inside one seqlock write.
 */
function applyPending(tables: Tables, t: number): void {
  const lock = tables.locks[t]!;
  const f = tables.fields[t]!;
  const c = tables.ctl;
  const rel = t === tables.rel;
  const n = Math.max(1, Atomics.load(c, f.pushedCount));
  const touched = Atomics.load(c, f.touchedCount);
  const width = tables.widthOf(t);
  lock.beginWrite(0, lock.rows);
  const k = tables.pendings[t]!.sumsPtr >= 0 ? tables.kernel(t) : null;
  const sq =
    k !== null && touched > 0 && k.reserve(Math.min(touched, PENDING_CHUNK))
      ? applyPendingKernel(tables, t, k, n, touched)
      : applyPendingRows(tables, t, n, touched, width);
  if (touched > 0 && !rel) tables.ctlF64[f.lastNorm] = sq / touched;
  Atomics.store(c, f.touchedCount, 0);
  Atomics.store(c, f.pushedCount, 0);
  Atomics.add(c, f.step, 1);
  lock.endWrite();
  if (rel) {
    Atomics.add(c, tables.stat.relationPushes, 1);
    return;
  }
  if (touched > 0) Atomics.store(c, tables.stat.lastNormShard, t + 1);
  Atomics.add(c, tables.stat.pushes, 1);
  Atomics.add(c, tables.stat.barriers, 1);
}

/** Touched rows packed into the kernel's scratch per call of the rule kernel. */
const PENDING_CHUNK = 256;

/**
 * Inside `applyPending`'s write: the average of each touched row (sum / n,
 * rounded to float32 as `avgRow` holds it), cleared from the pending sums,
 * then applied with `updateRow`. Returns the sum of the averages' squared norms.
 */
function applyPendingRows(tables: Tables, t: number, n: number, touched: number, width: number): number {
  const p = tables.pendings[t]!;
  const avg = tables.avgRow;
  let sq = 0;
  for (let i = 0; i < touched; i++) {
    const r = p.touched[i]!;
    const base = r * width;
    for (let k = 0; k < width; k++) {
      avg[k] = p.sums[base + k]! / n;
      p.sums[base + k] = 0;
    }
    sq += tables.applyRow(t, r, avg, 0);
    p.flags[r] = 0;
  }
  return sq;
}

/**
 * `applyPendingRows` with the table's kernels: up to PENDING_CHUNK touched
 * rows at a time, the kernel writes the float32 averages into its scratch
 * (and clears the sums), then the rule applies them from there: the rule
 * kernel (`Tables.applyScratch`), or `updateRow` for a rule without one. The same bits
 * as `applyPendingRows`. `k` has room for min(touched, PENDING_CHUNK) rows
 * (`reserve`) and the pending sums are in its memory.
 */
function applyPendingKernel(tables: Tables, t: number, k: UpdateKernel, n: number, touched: number): number {
  const p = tables.pendings[t]!;
  const width = k.width;
  const rows = k.scratchRows;
  const inKernel = tables.ruleKernel(t) !== null;
  let sq = 0;
  for (let from = 0; from < touched; from += PENDING_CHUNK) {
    const m = Math.min(PENDING_CHUNK, touched - from);
    for (let j = 0; j < m; j++) {
      const r = p.touched[from + j]!;
      rows[j] = r;
      p.flags[r] = 0;
    }
    sq += k.averageInto(p.sumsPtr, m, n);
    if (inKernel) tables.applyScratch(t, k, m);
    else for (let j = 0; j < m; j++) tables.updateRow(t, rows[j]!, k.scratchGrads, j * width);
  }
  return sq;
}

/**
 * Take table `t`'s writer lock, then finish a dead push's repair if its
 * recoverer could not. Throws E_LOCK_TIMEOUT on a worker after twice the
 * lease, E_LOCK_BUSY at once on the main thread (it never waits for a lock).
 */
function takeTableLock(tables: Tables, t: number, where: string): void {
  const lock = tables.locks[t]!;
  const timeout = lock.leaseMs * 2;
  const s = lock.lock(timeout);
  if (s === SEQ_BUSY) throw lockBusy(where, tables.tableName(t), lock.owner());
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, tables.tableName(t), timeout);
  repairTable(tables, t);
}

/** One attempt at table `t`'s writer lock, never waiting; on success, as `takeTableLock`. */
function tryTableLock(tables: Tables, t: number): boolean {
  const s = tables.locks[t]!.tryLock();
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) return false;
  repairTable(tables, t);
  return true;
}

/** `takeTableLock` that parks with `Atomics.waitAsync` instead of sleeping or refusing; any thread. */
async function takeTableLockAsync(tables: Tables, t: number, where: string): Promise<void> {
  const lock = tables.locks[t]!;
  const timeout = lock.leaseMs * 2;
  const s = await lock.lockAsync(timeout);
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, tables.tableName(t), timeout);
  repairTable(tables, t);
}
