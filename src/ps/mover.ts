/**
 * Live resharding of the parameter server: chunks move between shard
 * regions while workers keep pushing (src/ps/placement.ts has the
 * versioned placement they follow).
 *
 * `reshardTables` targets shards 0 .. n-1 and runs steps of the
 * reconciliation scheduler (reshard/plan.ts, `planStep`: held copies stay,
 * a copy that does not fit is deferred, at most K chunks move per step)
 * until the placement is the ideal one. Each move of chunk c from shard A
 * to shard B:
 * 1. claims a free slot of B that fits c;
 * 2. fences A (`Seqlock.fenceAsync`: its writer lock, then the Hogwild
 *    writers inside A waited out; new ones wait at A's gate);
 * 3. copies c's rows and optimizer accumulators from A to B;
 * 4. publishes version v + 1, which places c in B, and marks A's slot
 *    draining;
 * 5. lowers A's fence.
 * A writer that waited at A's gate finds a newer version once inside and
 * groups its rows again (client.ts), so every update lands in the copy
 * that the latest version names: none is lost. Writers pause only while
 * one chunk is copied. Readers pinned to an older version keep reading
 * A's copy until they unpin or their grace window passes; the slot is
 * freed (`Placement.reclaim`) once the quorum of live workers has
 * confirmed a version past the move and the grace window has passed.
 *
 * Sync mode: a chunk may move only while no step is in flight on its
 * shard (no pending sums), checked under the fence; a live reshard is for
 * async (Hogwild) training, and sync training reshards between epochs.
 *
 * The coordinator runs on one thread at a time (the main thread never
 * blocks here: fences and waits are awaited).
 */
import { invalidArgument, lockTimeout, reshardStalled } from '../errors.js';
import { SEQ_OK, SEQ_RECOVERED } from '../shm/seqlock.js';
import { locOf, locShard, locSlot, NO_LOC, SLOT_DRAINING, SLOT_FREE, SLOT_INCOMING, SLOT_LIVE } from './placement.js';
import { planStep } from './reshard/plan.js';
import type { Tables } from './tables.js';

export interface LiveReshardOptions {
  /** At most this many chunks move per scheduler step (K). Default 4. */
  readonly maxMovesPerStep?: number;
  /** Give up (E_RESHARD_STALLED) when the placement has not converged after this long, on the server's clock (ms). */
  readonly timeoutMs?: number;
  /** Called after each step (for progress). */
  readonly onStep?: (step: ReshardStepReport) => void;
  /** Wait between two attempts when a step could not move anything (ms, real time). Default 2. */
  readonly pollMs?: number;
}

export interface ReshardStepReport {
  readonly step: number;
  readonly moved: number;
  readonly deferred: number;
  readonly version: number;
}

/** What a reshard did. */
export interface ReshardReport {
  readonly from: number;
  readonly to: number;
  /** Scheduler steps that moved at least one chunk. */
  readonly steps: number;
  readonly chunksMoved: number;
  /** Longest and total time writers to a shard were fenced out by a move (µs). */
  readonly maxWriterPauseUs: number;
  readonly totalWriterPauseUs: number;
  /** From the call until the placement was the ideal one (ms, server clock). */
  readonly convergeMs: number;
  /** The placement version when it converged. */
  readonly version: number;
  /** Copies still draining at the end (freed later by `reclaim`). */
  readonly draining: number;
}

/** Bytes of one chunk slot of a shard region (rows and accumulators). */
function slotBytes(tables: Tables): number {
  const p = tables.placement;
  return p.chunkRows * tables.dim * 4;
}

/** Slots of shard `s` that can hold a chunk of `len` rows. */
function fits(tables: Tables, s: number, slot: number, len: number): boolean {
  return slot * tables.placement.chunkRows + len <= tables.locks[s]!.rows;
}

/** Capacity of shard `s` in bytes, as the scheduler counts it (one slot per chunk). */
function capacityBytes(tables: Tables, s: number): number {
  return Math.ceil(tables.locks[s]!.rows / tables.placement.chunkRows) * slotBytes(tables);
}

/** Claim a free slot of shard `s` that fits a chunk of `len` rows; -1 when none does. */
function claimSlot(tables: Tables, s: number, chunk: number, len: number): number {
  const p = tables.placement;
  for (let k = 0; k < p.shape.slots; k++) {
    const i = p.slotIndex(s, k);
    if (p.slotState[i] !== SLOT_FREE || !fits(tables, s, k, len)) continue;
    p.slotChunk[i] = chunk;
    Atomics.store(p.slotState, i, SLOT_INCOMING);
    return k;
  }
  return -1;
}

/**
 * Move chunk `c` to shard `to` (see the module note). Returns the writer
 * pause in µs, or -1 when `to` has no free slot that fits it (nothing
 * changed), or -2 when a sync step is in flight on its shard (try again).
 */
export async function moveChunk(tables: Tables, c: number, to: number): Promise<number> {
  const where = 'ParameterServer.reshard';
  const p = tables.placement;
  const C = p.chunkRows;
  const from = p.locAt(p.version(), c);
  if (from === NO_LOC) throw invalidArgument(where, 'chunk', c, 'a placed chunk');
  const a = locShard(from);
  const sa = locSlot(from);
  if (a === to) return 0;
  const len = p.chunkLen[c]!;
  const sb = claimSlot(tables, to, c, len);
  if (sb < 0) return -1;
  const lock = tables.locks[a]!;
  const s = await lock.fenceAsync(2 * lock.leaseMs);
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) {
    Atomics.store(p.slotState, p.slotIndex(to, sb), SLOT_FREE);
    throw lockTimeout(where, tables.tableName(a), 2 * lock.leaseMs);
  }
  const t0 = performance.now();
  try {
    if (tables.config.mode === 'sync' && Atomics.load(tables.ctl, tables.fields[a]!.touchedCount) !== 0) {
      p.slotChunk[p.slotIndex(to, sb)] = -1;
      Atomics.store(p.slotState, p.slotIndex(to, sb), SLOT_FREE);
      return -2;
    }
    const w = tables.dim;
    const src = tables.locks[a]!.data;
    const dst = tables.locks[to]!.data;
    dst.set(src.subarray(sa * C * w, (sa * C + len) * w), sb * C * w);
    const accA = tables.accs[a]!;
    if (accA.length > 0) {
      const aw = accA.length / tables.locks[a]!.rows;
      tables.accs[to]!.set(accA.subarray(sa * C * aw, (sa * C + len) * aw), sb * C * aw);
    }
    const now = tables.clock.now();
    const v = p.publish([c, locOf(to, sb)], p.activeShards());
    const ia = p.slotIndex(a, sa);
    p.slotDrainVersion[ia] = v;
    p.slotDrainAt[ia] = now;
    Atomics.store(p.slotState, ia, SLOT_DRAINING);
    Atomics.store(p.slotState, p.slotIndex(to, sb), SLOT_LIVE);
  } finally {
    lock.unfence();
  }
  const us = (performance.now() - t0) * 1000;
  p.noteMove(us);
  return us;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Reshard the entity tables onto shards 0 .. `shards`-1 while workers run
 * (see the module note). Resolves when the placement is the ideal one.
 */
export async function reshardTables(
  tables: Tables,
  shards: number,
  o: LiveReshardOptions = {},
): Promise<ReshardReport> {
  const where = 'ParameterServer.reshard';
  if (!Number.isInteger(shards) || shards < 1 || shards > tables.numShards)
    throw invalidArgument(where, 'shards', shards, `an integer in [1, ${tables.numShards}] (the shard regions)`);
  const k = o.maxMovesPerStep ?? 4;
  if (!Number.isInteger(k) || k < 1) throw invalidArgument(where, 'maxMovesPerStep', k, 'a positive integer');
  const timeoutMs = o.timeoutMs ?? 120_000;
  const p = tables.placement;
  if (!p.tryCoordinate()) throw invalidArgument(where, 'coordinator', 'busy', 'one reshard at a time');
  const clock = tables.clock;
  const started = clock.now();
  const from = p.activeShards();
  let steps = 0;
  let moved = 0;
  let maxPause = 0;
  let totalPause = 0;
  try {
    // The new target is published first, so readers and reports see it at once.
    p.publish([], shards);
    const targets = Array.from({ length: shards }, (_, s) => s);
    const chunkBytes = new Map<number, number>();
    for (let stepNo = 1; ; stepNo++) {
      p.reclaim(clock.now());
      const v = p.version();
      const n = p.chunks();
      const placement = new Map<number, number[]>();
      const draining = new Map<number, number[]>();
      for (let c = 0; c < n; c++) {
        const loc = p.locAt(v, c);
        if (loc !== NO_LOC) placement.set(c, [locShard(loc)]);
        chunkBytes.set(c, slotBytes(tables));
      }
      for (let i = 0; i < p.slotState.length; i++) {
        if (p.slotState[i] !== SLOT_DRAINING) continue;
        const c = p.slotChunk[i]!;
        const s = Math.floor(i / p.shape.slots);
        draining.set(c, [...(draining.get(c) ?? []), s]);
      }
      const plan = planStep({
        placement,
        draining,
        newChunks: [],
        shards: targets,
        capacity: (s) => capacityBytes(tables, s),
        chunkBytes,
        replication: 1,
        bonusReplicas: 0,
        maxMoves: k,
      });
      let movedNow = 0;
      let deferred = plan.deferred.length;
      for (const add of plan.adds) {
        let us = await moveChunk(tables, add.chunk, add.shard);
        while (us === -2) {
          await delay(o.pollMs ?? 2);
          us = await moveChunk(tables, add.chunk, add.shard);
        }
        if (us < 0) {
          deferred++;
          continue;
        }
        movedNow++;
        maxPause = Math.max(maxPause, us);
        totalPause += us;
      }
      if (movedNow > 0) {
        steps++;
        moved += movedNow;
      }
      o.onStep?.({ step: stepNo, moved: movedNow, deferred, version: p.version() });
      // `atIdeal`: the placement after this step is the ideal one.
      if (plan.atIdeal && movedNow === plan.adds.length) break;
      if (movedNow === 0) {
        // Nothing fits until old copies drain: wait for the workers' confirmations and the grace window.
        if (clock.now() - started > timeoutMs)
          throw reshardStalled(where, timeoutMs, `${deferred} chunk(s) deferred, ${p.draining()} copies draining`);
        await delay(o.pollMs ?? 2);
      }
    }
  } finally {
    p.endCoordinate();
  }
  p.reclaim(clock.now());
  return {
    from,
    to: shards,
    steps,
    chunksMoved: moved,
    maxWriterPauseUs: Math.round(maxPause),
    totalWriterPauseUs: Math.round(totalPause),
    convergeMs: clock.now() - started,
    version: p.version(),
    draining: p.draining(),
  };
}
