/**
 * Pulls: a consistent copy of a shard's rows and its step, copied inside one
 * seqlock read window (retrying when a locked write overlapped), and of the
 * relation table. A pull never takes a lock.
 */
import { isMainThread } from 'node:worker_threads';
import { dimMismatch, lockTimeout } from '../errors.js';
import { SEQ_OK, SEQ_RECOVERED } from '../shm/seqlock.js';
import type { Tables } from './tables.js';

/** Pull attempts that spin before the pull starts napping (workers) and checking for a dead pusher. */
const PULL_SPINS = 1024;
/** A worker-thread pull naps this long between attempts once a push has held the shard for a while. */
const PULL_NAP_MS = 0.05;
const napCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Copy `shard`'s rows into `dst` consistently and return the shard's step at
 * that instant (arguments checked by the caller). Allocates nothing. Counts
 * as a pull (stats, async staleness reset).
 */
export function pullShard(tables: Tables, shard: number, dst: Float32Array): number {
  const n = tables.rowsOf(shard) * tables.dim;
  if (dst.length < n) throw dimMismatch('ParameterServer.pullInto', 'dst', n, dst.length);
  const lock = tables.locks[shard]!;
  const ctl = tables.ctl;
  const src = n === lock.data.length ? lock.data : lock.data.subarray(0, n);
  const stepIdx = tables.fields[shard]!.step;
  let step: number;
  let deadline = 0;
  for (let attempt = 0; ; attempt++) {
    const seq = lock.readBegin();
    if (seq >= 0) {
      dst.set(src);
      step = Atomics.load(ctl, stepIdx);
      if (lock.readValidate(seq)) break;
    }
    if (attempt < PULL_SPINS) continue;
    // A push has held the shard through many attempts: its thread may be
    // descheduled (nap, on workers, to give it the core) or dead (take the
    // lock over once its lease has passed). Give up only after twice the
    // lease, when a live pusher would have lost the lock anyway.
    if (deadline === 0) deadline = performance.now() + 2 * lock.leaseMs;
    if (!isMainThread) Atomics.wait(napCell, 0, 0, PULL_NAP_MS);
    if ((attempt & 255) === 0) {
      lock.recoverIfStale();
      if (performance.now() > deadline)
        throw lockTimeout('ParameterServer.pullInto', `shard ${shard}`, 2 * lock.leaseMs);
    }
  }
  // Reset the staleness only when it is not already 0: a store would take
  // the shard's control line from the pushers for nothing.
  const stale = tables.fields[shard]!.staleness;
  if (tables.config.mode === 'async' && Atomics.load(ctl, stale) !== 0) Atomics.store(ctl, stale, 0);
  Atomics.add(ctl, tables.stat.pulls, 1);
  return step;
}

/** Copy the relation table into `dst` inside one seqlock read window. */
export function pullRelations(tables: Tables, dst: Float32Array): void {
  const n = tables.handle.relationIds.length * tables.relationDim;
  if (n === 0) return;
  const lock = tables.locks[tables.rel]!;
  const status = lock.read(dst, 0, tables.handle.relationIds.length);
  if (status !== SEQ_OK && status !== SEQ_RECOVERED) {
    throw lockTimeout('ParameterServer.pull', 'the relation table', lock.leaseMs);
  }
}
