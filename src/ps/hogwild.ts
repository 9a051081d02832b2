/**
 * Async mode (Hogwild): a push applies its gradient in place with no lock
 * and no seqlock write window, inside the table's shared-writer gate
 * (`Seqlock.enterShared`), so a snapshot that fences the table sees the
 * push wholly or not at all. Each element update is a plain float32
 * read-modify-write (four elements at once in the SIMD kernel); a racing
 * pusher may interleave with it (and one of two racing updates of one
 * element, or of four neighbours, may be lost), and a racing pull may copy
 * part of it. The counters are atomic adds, so every completed push is
 * counted exactly once in the step, the staleness and the stats. The step is
 * counted after the rows are written, so a reader that sees step n sees
 * every element of the first n pushes (unless a racing update overwrote
 * it). The relation table counts its step and `relationPushes`, no
 * staleness (it is never pulled on its own).
 */
import { SEQ_OK, type SeqStatus } from '../shm/seqlock.js';
import type { PushResult } from './sync-step.js';
import type { Tables } from './tables.js';

/**
 * Apply a checked push to table `t` at once. Returns the result, or the
 * gate's status when a fence did not lift in time (`SEQ_TIMED_OUT`, or
 * `SEQ_BUSY` on the main thread, which never waits): nothing was applied.
 */
export function applyHogwild(
  tables: Tables,
  t: number,
  worker: number,
  rowIdx: Int32Array,
  grads: Float32Array,
  count: number,
): PushResult | SeqStatus {
  const f = tables.fields[t]!;
  const ctl = tables.ctl;
  const gate = tables.locks[t]!;
  const entered = gate.enterShared();
  if (entered !== SEQ_OK) return entered;
  const sq = tables.applyRows(t, rowIdx, grads, count);
  if (t === tables.rel) {
    const step = Atomics.add(ctl, f.step, 1) + 1;
    gate.leaveShared();
    Atomics.add(ctl, tables.stat.relationPushes, 1);
    return { state: 'applied', step, staleness: 0 };
  }
  const staleness = Atomics.add(ctl, f.staleness, 1) + 1;
  const step = Atomics.add(ctl, f.step, 1) + 1;
  gate.leaveShared();
  // A statistic, racy by design: two pushes finishing together each store
  // their own norm and one of them is reported.
  if (count > 0) {
    tables.ctlF64[f.lastNorm] = sq / count;
    Atomics.store(ctl, tables.stat.lastNormShard, t + 1);
  }
  Atomics.add(ctl, tables.stat.pushes, 1);
  atomicMax(ctl, tables.stat.maxStaleness, staleness);
  if (staleness > tables.config.maxStaleness) {
    tables.warn(
      'KGSHARD_STALENESS',
      `worker ${worker} pushed to shard ${t} with staleness ${staleness}, ` +
        `above the maximum ${tables.config.maxStaleness}`,
    );
  }
  return { state: 'applied', step, staleness };
}

/** Raise `arr[i]` to at least `v` (compare-and-swap loop). */
export function atomicMax(arr: Int32Array, i: number, v: number): void {
  let cur = Atomics.load(arr, i);
  while (v > cur) {
    const seen = Atomics.compareExchange(arr, i, cur, v);
    if (seen === cur) return;
    cur = seen;
  }
}
