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
import {
  invalidArgument,
  lockTimeout,
  reshardChunkBusy,
  reshardShape,
  reshardStalled,
  reshardUnknownChunk,
} from '../errors.js';
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
  /**
   * Sync mode only: the caller guarantees that no worker is inside or
   * preparing a sync step (between epochs). Without it a sync-mode server
   * refuses to move chunks: a worker may have grouped a step's rows by the
   * old placement before it reaches a shard's barrier.
   */
  readonly quiescent?: boolean;
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

/** Copy `len` rows of slot `sa` of shard `a` (and their accumulators) to slot `sb` of shard `b`. */
function copySlot(tables: Tables, a: number, sa: number, b: number, sb: number, len: number): void {
  const C = tables.placement.chunkRows;
  const w = tables.dim;
  tables.locks[b]!.data.set(tables.locks[a]!.data.subarray(sa * C * w, (sa * C + len) * w), sb * C * w);
  const accA = tables.accs[a]!;
  if (accA.length > 0) {
    const aw = accA.length / tables.locks[a]!.rows;
    tables.accs[b]!.set(accA.subarray(sa * C * aw, (sa * C + len) * aw), sb * C * aw);
  }
}

/**
 * Move chunk `c` to shard `to` (see the module note). Returns the writer
 * pause in µs, or -1 when `to` has no free slot that fits it (nothing
 * changed), or -2 when a sync step is in flight on its shard (try again).
 */
export async function moveChunk(tables: Tables, c: number, to: number): Promise<number> {
  const where = 'ParameterServer.reshard';
  const p = tables.placement;
  const from = p.locAt(p.version(), c);
  if (from === NO_LOC) throw invalidArgument(where, 'chunk', c, 'a placed chunk');
  const a = locShard(from);
  const sa = locSlot(from);
  if (a === to) return 0;
  const len = p.chunkLen[c]!;
  const sb = claimSlot(tables, to, c, len);
  if (sb < 0) return -1;
  // A first copy before the fence (racy, overwritten under it): the
  // destination's pages are faulted in and both slots are in cache, so the
  // writers wait only for the warm copy (a fresh region otherwise pays its
  // page faults inside the fence).
  copySlot(tables, a, sa, to, sb, len);
  const lock = tables.locks[a]!;
  // The pause counts from the request: writers are shut out from when the
  // fence's lock is taken, through the wait for those already inside.
  const t0 = performance.now();
  const s = await lock.fenceAsync(2 * lock.leaseMs);
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) {
    Atomics.store(p.slotState, p.slotIndex(to, sb), SLOT_FREE);
    throw lockTimeout(where, tables.tableName(a), 2 * lock.leaseMs);
  }
  try {
    if (tables.config.mode === 'sync' && Atomics.load(tables.ctl, tables.fields[a]!.touchedCount) !== 0) {
      p.slotChunk[p.slotIndex(to, sb)] = -1;
      Atomics.store(p.slotState, p.slotIndex(to, sb), SLOT_FREE);
      return -2;
    }
    copySlot(tables, a, sa, to, sb, len);
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

/** Rows of a chunk not placed yet: its rows' values (len * dim floats). */
export type NewChunks = Map<number, Float32Array>;

/** What one scheduler step did (`placementStep`). */
export interface PlacementStepResult {
  /** Chunks moved between shards. */
  readonly moved: number;
  /** New chunks placed (all of a chunk's rows at once). */
  readonly placed: readonly number[];
  /** Chunks whose pending correction's replacement was placed (held, not visible yet). */
  readonly replacements: readonly number[];
  /** Corrections swapped in (their replacement's version confirmed by the watermark). */
  readonly swapped: readonly CorrectionRecord[];
  /** Chunks whose copy was held back (no room, or past K). */
  readonly deferred: number;
  /** The same, one entry per chunk held back, with the reason. */
  readonly deferrals: readonly { readonly chunk: number; readonly reason: 'capacity' | 'budget' }[];
  /** The placement after this step is the ideal one and no new chunk or replacement waits for a slot. */
  readonly atIdeal: boolean;
  readonly version: number;
  readonly maxPauseUs: number;
  readonly totalPauseUs: number;
}

/**
 * Where the scheduler sees the placement now: live copies, and the bytes
 * held otherwise: draining copies, and the slots of placed replacements
 * (under the id `maxChunks + chunk`, so the scheduler counts their bytes
 * without taking them for copies of the chunk).
 */
function holdings(tables: Tables): { placement: Map<number, number[]>; draining: Map<number, number[]> } {
  const p = tables.placement;
  const v = p.version();
  const placement = new Map<number, number[]>();
  const draining = new Map<number, number[]>();
  for (let c = 0; c < p.chunks(); c++) {
    const loc = p.locAt(v, c);
    if (loc !== NO_LOC) placement.set(c, [locShard(loc)]);
  }
  for (let i = 0; i < p.slotState.length; i++) {
    if (p.slotState[i] !== SLOT_DRAINING) continue;
    const c = p.slotChunk[i]!;
    draining.set(c, [...(draining.get(c) ?? []), Math.floor(i / p.shape.slots)]);
  }
  for (const f of correctionsOf(tables).values())
    if (f.loc !== NO_LOC) draining.set(p.shape.maxChunks + f.chunk, [locShard(f.loc)]);
  return { placement, draining };
}

/**
 * Place new chunk `c` in shard `to`: claim a slot, write its rows (and
 * zero accumulators, as Adagrad starts), then publish the version that
 * places it. Nobody writes a chunk before a version places it, so no fence
 * is needed. False when `to` has no free slot that fits it.
 */
function placeNew(tables: Tables, c: number, to: number, rows: Float32Array): boolean {
  const p = tables.placement;
  const C = p.chunkRows;
  const len = p.chunkLen[c]!;
  const slot = claimSlot(tables, to, c, len);
  if (slot < 0) return false;
  const w = tables.dim;
  tables.locks[to]!.data.set(rows.subarray(0, len * w), slot * C * w);
  const acc = tables.accs[to]!;
  if (acc.length > 0) {
    const aw = acc.length / tables.locks[to]!.rows;
    acc.fill(0, slot * C * aw, (slot * C + len) * aw);
  }
  p.publish([c, locOf(to, slot)], p.activeShards());
  Atomics.store(p.slotState, p.slotIndex(to, slot), SLOT_LIVE);
  return true;
}

/**
 * One step of the reconciliation scheduler toward the ideal placement on
 * the targeted shards (`Placement.activeShards`): free what has drained;
 * swap in pending corrections the watermark has confirmed and place
 * waiting replacements (`stepCorrections`; each placed replacement takes
 * one of the `k` moves); then plan (`planStep`, the moves left) and move or
 * place each chunk (new chunks from `fresh`, removed from it once placed).
 * Coordinator only.
 */
export async function placementStep(
  tables: Tables,
  k: number,
  fresh: NewChunks,
  pollMs = 2,
): Promise<PlacementStepResult> {
  const where = 'ParameterServer.placementStep';
  const p = tables.placement;
  p.reclaim(tables.clock.now());
  const fixes = await stepCorrections(tables, k, where);
  const deferrals: { chunk: number; reason: 'capacity' | 'budget' }[] = fixes.noRoom.map((chunk) => ({
    chunk,
    reason: 'capacity',
  }));
  const budget = k - fixes.placed.length;
  let moved = 0;
  let maxPause = 0;
  let totalPause = 0;
  const placed: number[] = [];
  let atIdeal = fixes.noRoom.length === 0 && fixes.waiting === 0;
  if (budget < 1) {
    // The step's moves went to replacements: nothing else moves now.
    atIdeal = false;
    for (const c of fresh.keys()) deferrals.push({ chunk: c, reason: 'budget' });
  } else {
    const { placement, draining } = holdings(tables);
    const chunkBytes = new Map<number, number>();
    const bytes = slotBytes(tables);
    for (let c = 0; c < p.chunks(); c++) chunkBytes.set(c, bytes);
    for (const c of fresh.keys()) chunkBytes.set(c, bytes);
    for (const c of draining.keys()) chunkBytes.set(c, bytes);
    const plan = planStep({
      placement,
      draining,
      newChunks: [...fresh.keys()],
      shards: Array.from({ length: p.activeShards() }, (_, s) => s),
      capacity: (s) => capacityBytes(tables, s),
      chunkBytes,
      replication: 1,
      bonusReplicas: 0,
      maxMoves: budget,
    });
    for (const d of plan.deferred) deferrals.push({ chunk: d.chunk, reason: d.reason });
    for (const add of plan.adds) {
      const rows = fresh.get(add.chunk);
      if (rows !== undefined) {
        if (placeNew(tables, add.chunk, add.shard, rows)) {
          fresh.delete(add.chunk);
          placed.push(add.chunk);
        } else deferrals.push({ chunk: add.chunk, reason: 'capacity' });
        continue;
      }
      let us = await moveChunk(tables, add.chunk, add.shard);
      while (us === -2) {
        await delay(pollMs);
        us = await moveChunk(tables, add.chunk, add.shard);
      }
      if (us < 0) {
        deferrals.push({ chunk: add.chunk, reason: 'capacity' });
        continue;
      }
      moved++;
      maxPause = Math.max(maxPause, us);
      totalPause += us;
    }
    const done = moved + placed.length === plan.adds.length;
    atIdeal = atIdeal && plan.atIdeal && done && fresh.size === 0;
  }
  return {
    moved,
    placed,
    replacements: fixes.placed,
    swapped: fixes.swapped,
    deferred: deferrals.length,
    deferrals,
    atIdeal,
    version: p.version(),
    maxPauseUs: maxPause,
    totalPauseUs: totalPause,
  };
}

/**
 * Run `placementStep` until the placement is ideal (and every chunk of
 * `fresh` is placed), as the coordinator. Resolves with the totals; throws
 * E_RESHARD_STALLED after `timeoutMs` (server clock) without convergence.
 */
async function converge(
  tables: Tables,
  where: string,
  fresh: NewChunks,
  o: LiveReshardOptions,
): Promise<{ steps: number; moved: number; maxPause: number; totalPause: number }> {
  const k = o.maxMovesPerStep ?? 4;
  if (!Number.isInteger(k) || k < 1) throw invalidArgument(where, 'maxMovesPerStep', k, 'a positive integer');
  const timeoutMs = o.timeoutMs ?? 120_000;
  const clock = tables.clock;
  const started = clock.now();
  let steps = 0;
  let moved = 0;
  let maxPause = 0;
  let totalPause = 0;
  for (let stepNo = 1; ; stepNo++) {
    const r = await placementStep(tables, k, fresh, o.pollMs);
    const changed = r.moved + r.placed.length + r.replacements.length + r.swapped.length;
    if (changed > 0) {
      steps++;
      moved += r.moved;
      maxPause = Math.max(maxPause, r.maxPauseUs);
      totalPause += r.totalPauseUs;
    }
    o.onStep?.({ step: stepNo, moved: changed, deferred: r.deferred, version: r.version });
    if (r.atIdeal) break;
    if (changed === 0) {
      // Nothing fits until old copies drain: wait for the workers' confirmations and the grace window.
      if (clock.now() - started > timeoutMs)
        throw reshardStalled(
          where,
          timeoutMs,
          `${r.deferred} chunk(s) deferred, ${tables.placement.draining()} draining`,
        );
      await delay(o.pollMs ?? 2);
    }
  }
  return { steps, moved, maxPause, totalPause };
}

/** A sync-mode server moves chunks only between epochs (see `LiveReshardOptions.quiescent`). */
export function checkSyncQuiescent(tables: Tables, where: string, o: LiveReshardOptions): void {
  if (tables.config.mode === 'sync' && o.quiescent !== true)
    throw invalidArgument(
      where,
      'quiescent',
      o.quiescent ?? false,
      'true in sync mode (move chunks between epochs, when no worker is in a step)',
    );
}

/** Run `fn` as the placement's one coordinator. */
async function coordinating<T>(tables: Tables, where: string, fn: () => Promise<T>): Promise<T> {
  const p = tables.placement;
  if (!p.tryCoordinate()) throw invalidArgument(where, 'coordinator', 'busy', 'one placement change at a time');
  try {
    return await fn();
  } finally {
    p.endCoordinate();
  }
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
  checkSyncQuiescent(tables, where, o);
  const p = tables.placement;
  const started = tables.clock.now();
  const from = p.activeShards();
  const r = await coordinating(tables, where, async () => {
    // The new target is published first, so readers and reports see it at once.
    p.publish([], shards);
    const r = await converge(tables, where, pendingChunks(tables), o);
    publishPlacedEntities(tables);
    return r;
  });
  p.reclaim(tables.clock.now());
  return {
    from,
    to: shards,
    steps: r.steps,
    chunksMoved: r.moved,
    maxWriterPauseUs: Math.round(r.maxPause),
    totalWriterPauseUs: Math.round(r.totalPause),
    convergeMs: tables.clock.now() - started,
    version: p.version(),
    draining: p.draining(),
  };
}

/** What `growTables` did. */
export interface GrowthReport {
  /** Index of the first new entity (the rest follow). */
  readonly firstEntity: number;
  readonly entities: number;
  readonly chunks: number;
  /** Scheduler steps, and chunks moved besides the new ones (rebalancing). */
  readonly steps: number;
  readonly chunksMoved: number;
  readonly maxWriterPauseUs: number;
  readonly placeMs: number;
  readonly version: number;
}

/** New chunks registered and not placed yet, per server object (the coordinator's). */
const pendingNew = new WeakMap<Tables, NewChunks>();

/** The new chunks registered through `tables` and not placed yet. */
export function pendingChunks(tables: Tables): NewChunks {
  let m = pendingNew.get(tables);
  if (m === undefined) pendingNew.set(tables, (m = new Map<number, Float32Array>()));
  return m;
}

/**
 * Register `count` new entities, their rows from `initRows(i, out, offset)`
 * (i: 0 .. count-1): new chunks of at most `chunkRows` rows, not placed
 * yet (later scheduler steps place each one all-or-nothing). Returns the
 * first new entity's index and the new chunks. Checked first: nothing
 * changes when there is no room.
 */
export function registerEntities(
  tables: Tables,
  count: number,
  initRows: (i: number, out: Float32Array, offset: number) => void,
): { firstEntity: number; chunks: number[] } {
  const where = 'ParameterServer.addEntities';
  const p = tables.placement;
  const C = p.chunkRows;
  const w = tables.dim;
  const fresh = pendingChunks(tables);
  // Every entity registered so far, published or not: each is a row of one
  // chunk. (The published count stops at the first chunk not placed yet,
  // and chunks after it may be placed already.)
  let first = 0;
  for (let c = 0; c < p.chunks(); c++) first += p.chunkLen[c]!;
  const chunks = Math.ceil(count / C);
  if (!Number.isInteger(count) || count < 1) throw invalidArgument(where, 'count', count, 'a positive integer');
  if (first + count > p.shape.maxEntities)
    throw invalidArgument(where, 'entities', first + count, `at most entityCapacity (${p.shape.maxEntities})`);
  if (p.chunks() + chunks > p.shape.maxChunks)
    throw invalidArgument(where, 'chunks', p.chunks() + chunks, `at most ${p.shape.maxChunks} (entityCapacity)`);
  const c0 = p.chunks();
  const made: number[] = [];
  for (let k = 0; k < chunks; k++) {
    const c = c0 + k;
    const len = Math.min(C, count - k * C);
    const rows = new Float32Array(len * w);
    for (let j = 0; j < len; j++) {
      p.setEntity(first + k * C + j, c, j);
      initRows(k * C + j, rows, j * w);
    }
    p.chunkLen[c] = len;
    fresh.set(c, rows);
    made.push(c);
  }
  // The chunks exist (no version places them yet); entities are published once placed.
  p.setCounts(p.entities(), c0 + chunks);
  return { firstEntity: first, chunks: made };
}

/**
 * Publish the entities whose chunks are all placed: the entity count moves
 * to the end of the longest run of placed chunks (entities are published
 * in order). Returns the entity count.
 */
export function publishPlacedEntities(tables: Tables): number {
  const p = tables.placement;
  const v = p.version();
  let e = p.entities();
  const C = p.chunkRows;
  for (;;) {
    if (e >= p.shape.maxEntities) break;
    const c = p.chunkOf[e]!;
    // An entity past the registered ones has chunk 0 at offset 0 (unset): stop there.
    if (c >= p.chunks() || p.chunkEntity[c * C + p.offsetOf[e]!] !== e || p.locAt(v, c) === NO_LOC) break;
    e += p.chunkLen[c]! - p.offsetOf[e]!;
  }
  if (e !== p.entities()) p.setCounts(e, p.chunks());
  return e;
}

/**
 * Add `count` entities (`registerEntities`), then run scheduler steps until
 * every new chunk is placed and the placement is ideal, then publish them.
 * Coordinator; resolves when the new entities are published.
 */
export async function growTables(
  tables: Tables,
  count: number,
  initRows: (i: number, out: Float32Array, offset: number) => void,
  o: LiveReshardOptions = {},
): Promise<GrowthReport> {
  const where = 'ParameterServer.addEntities';
  checkSyncQuiescent(tables, where, o);
  const started = tables.clock.now();
  return coordinating(tables, where, async () => {
    const { firstEntity, chunks } = registerEntities(tables, count, initRows);
    const r = await converge(tables, where, pendingChunks(tables), o);
    publishPlacedEntities(tables);
    return {
      firstEntity,
      entities: count,
      chunks: chunks.length,
      steps: r.steps,
      chunksMoved: r.moved,
      maxWriterPauseUs: Math.round(r.maxPause),
      placeMs: tables.clock.now() - started,
      version: tables.placement.version(),
    };
  });
}

/** The audit record of a correction (`ParameterServer.correct`, or a step-wise one swapped by `placementStep`). */
export interface CorrectionRecord {
  readonly chunk: number;
  /** Its entities (indices into the server's entities), in row order. */
  readonly entities: readonly number[];
  /** The latest version when the correction was registered. */
  readonly registeredVersion: number;
  /** The version that placed the replacement (held, not visible), and the one that swapped it in. */
  readonly placedVersion: number;
  readonly swappedVersion: number;
  /** Where the rows were, and where the replacement is (shard, slot). */
  readonly from: { readonly shard: number; readonly slot: number };
  readonly to: { readonly shard: number; readonly slot: number };
  /** On the server's clock. */
  readonly registeredAtMs: number;
  readonly swappedAtMs: number;
  /** The writer pause of the swap (µs). */
  readonly swapPauseUs: number;
}

/** A correction registered and not swapped in yet, as `ParameterServer.pendingCorrections` reports it. */
export interface PendingCorrectionInfo {
  readonly chunk: number;
  readonly registeredVersion: number;
  readonly registeredAtMs: number;
  /** The version that placed the replacement; 0 while it waits for a slot. */
  readonly placedVersion: number;
  /** The slot holding the replacement (not visible yet), or null while it waits for one. */
  readonly at: { readonly shard: number; readonly slot: number } | null;
}

/** A correction between registration and swap. */
interface PendingCorrection {
  readonly chunk: number;
  /** The replacement rows (len * dim floats). */
  readonly values: Float32Array;
  /** The chunk's rows when the correction was registered (copied under its shard's fence); null until then. */
  before: Float32Array | null;
  registeredVersion: number;
  registeredAtMs: number;
  /** Where the replacement is held (`locOf`), NO_LOC until placed. */
  loc: number;
  placedVersion: number;
}

/** Corrections registered and not swapped in, per server object (the coordinator's), by chunk. */
const pendingFixes = new WeakMap<Tables, Map<number, PendingCorrection>>();

function correctionsOf(tables: Tables): Map<number, PendingCorrection> {
  let m = pendingFixes.get(tables);
  if (m === undefined) pendingFixes.set(tables, (m = new Map<number, PendingCorrection>()));
  return m;
}

/** The corrections registered through `tables` and not swapped in yet, in chunk order. */
export function pendingCorrections(tables: Tables): PendingCorrectionInfo[] {
  return [...correctionsOf(tables).values()]
    .filter((f) => f.before !== null)
    .sort((a, b) => a.chunk - b.chunk)
    .map((f) => ({
      chunk: f.chunk,
      registeredVersion: f.registeredVersion,
      registeredAtMs: f.registeredAtMs,
      placedVersion: f.placedVersion,
      at: f.loc === NO_LOC ? null : { shard: locShard(f.loc), slot: locSlot(f.loc) },
    }));
}

/**
 * Check a correction of chunk `c` and reserve it (synchronously, so a
 * second correction of the same chunk is refused at once). Refusals, in
 * this order: E_RESHARD_UNKNOWN_CHUNK (no such chunk), E_RESHARD_CHUNK_BUSY
 * (a new chunk not placed yet, or a correction of it in progress),
 * E_RESHARD_SHAPE (not its rows x dim floats), E_INVALID_ARGUMENT (a value
 * that is not finite).
 */
function reserveCorrection(tables: Tables, c: number, values: Float32Array, where: string): PendingCorrection {
  const p = tables.placement;
  const w = tables.dim;
  if (!Number.isInteger(c) || c < 0 || c >= p.chunks()) throw reshardUnknownChunk(where, c);
  if (p.locAt(p.version(), c) === NO_LOC) throw reshardChunkBusy(where, c, 'is new and not placed yet');
  const fixes = correctionsOf(tables);
  if (fixes.has(c)) throw reshardChunkBusy(where, c, 'has a correction in progress');
  const len = p.chunkLen[c]!;
  if (!(values instanceof Float32Array) || values.length !== len * w)
    throw reshardShape(where, c, len * w, values instanceof Float32Array ? values.length : -1, w);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!)) throw invalidArgument(where, `values[${i}]`, values[i], 'a finite number');
  const f: PendingCorrection = {
    chunk: c,
    values: Float32Array.from(values),
    before: null,
    registeredVersion: 0,
    registeredAtMs: 0,
    loc: NO_LOC,
    placedVersion: 0,
  };
  fixes.set(c, f);
  return f;
}

/**
 * Register a reserved correction: copy the chunk's rows as they are now
 * under its shard's fence, so each push is wholly before the registration
 * (replaced) or wholly after it (carried over by the swap). Coordinator.
 */
async function registerReserved(tables: Tables, f: PendingCorrection, where: string): Promise<void> {
  const p = tables.placement;
  const C = p.chunkRows;
  const w = tables.dim;
  const len = p.chunkLen[f.chunk]!;
  const loc = p.locAt(p.version(), f.chunk);
  const lock = tables.locks[locShard(loc)]!;
  const s = await lock.fenceAsync(2 * lock.leaseMs);
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, tables.tableName(locShard(loc)), 2 * lock.leaseMs);
  try {
    f.before = lock.data.slice(locSlot(loc) * C * w, (locSlot(loc) * C + len) * w);
  } finally {
    lock.unfence();
  }
  f.registeredVersion = p.version();
  f.registeredAtMs = tables.clock.now();
}

/** Forget a correction that will not complete (its replacement slot, if any, is freed). */
function dropCorrection(tables: Tables, f: PendingCorrection): void {
  const p = tables.placement;
  if (f.loc !== NO_LOC) {
    const i = p.slotIndex(locShard(f.loc), locSlot(f.loc));
    p.slotChunk[i] = -1;
    Atomics.store(p.slotState, i, SLOT_FREE);
  }
  correctionsOf(tables).delete(f.chunk);
}

/**
 * Register a correction of chunk `c` without waiting for it (step-wise:
 * later `placementStep`s place the replacement, then swap it in once the
 * workers' watermark covers the version that placed it). Coordinator.
 */
export async function registerCorrection(
  tables: Tables,
  c: number,
  values: Float32Array,
  where: string,
): Promise<PendingCorrectionInfo> {
  const f = reserveCorrection(tables, c, values, where);
  try {
    await registerReserved(tables, f, where);
  } catch (e) {
    dropCorrection(tables, f);
    throw e;
  }
  return pendingCorrections(tables).find((x) => x.chunk === c)!;
}

/**
 * Write the replacement of `f` into a free slot, on the chunk's shard when
 * it is active and has room, else on another active shard. False when no
 * active shard has room (nothing changed). The caller publishes the
 * version that places it.
 */
function placeReplacement(tables: Tables, f: PendingCorrection): boolean {
  const p = tables.placement;
  const C = p.chunkRows;
  const w = tables.dim;
  const c = f.chunk;
  const len = p.chunkLen[c]!;
  const a = locShard(p.locAt(p.version(), c));
  const active = p.activeShards();
  const others = Array.from({ length: active }, (_, s) => s).filter((s) => s !== a);
  for (const s of a < active ? [a, ...others] : others) {
    const slot = claimSlot(tables, s, c, len);
    if (slot < 0) continue;
    tables.locks[s]!.data.set(f.values, slot * C * w);
    f.loc = locOf(s, slot);
    return true;
  }
  return false;
}

/**
 * Swap in the placed replacement of `f`, under the fence of the chunk's
 * shard: each value becomes the replacement's plus what pushes added since
 * registration (so no update is lost), and one version moves the chunk onto
 * the replacement. Readers see the old rows or the new ones, never a mix;
 * the old copy drains like a moved one. Accumulators carry over.
 */
async function swapCorrection(tables: Tables, f: PendingCorrection, where: string): Promise<CorrectionRecord> {
  const p = tables.placement;
  const C = p.chunkRows;
  const w = tables.dim;
  const c = f.chunk;
  const len = p.chunkLen[c]!;
  const before = f.before!;
  const loc = p.locAt(p.version(), c);
  const a = locShard(loc);
  const sa = locSlot(loc);
  const b = locShard(f.loc);
  const sb = locSlot(f.loc);
  const clock = tables.clock;
  const lock = tables.locks[a]!;
  const s = await lock.fenceAsync(2 * lock.leaseMs);
  if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, tables.tableName(a), 2 * lock.leaseMs);
  const t0 = performance.now();
  let swappedVersion: number;
  try {
    const dst = tables.locks[b]!.data;
    const cur = lock.data;
    const base = sb * C * w;
    const old = sa * C * w;
    for (let i = 0; i < len * w; i++) dst[base + i] = dst[base + i]! + (cur[old + i]! - before[i]!);
    const accA = tables.accs[a]!;
    if (accA.length > 0) {
      const aw = accA.length / tables.locks[a]!.rows;
      tables.accs[b]!.set(accA.subarray(sa * C * aw, (sa * C + len) * aw), sb * C * aw);
    }
    swappedVersion = p.publish([c, f.loc], p.activeShards());
    const ia = p.slotIndex(a, sa);
    p.slotDrainVersion[ia] = swappedVersion;
    p.slotDrainAt[ia] = clock.now();
    Atomics.store(p.slotState, ia, SLOT_DRAINING);
    Atomics.store(p.slotState, p.slotIndex(b, sb), SLOT_LIVE);
  } finally {
    lock.unfence();
  }
  correctionsOf(tables).delete(c);
  return {
    chunk: c,
    entities: Array.from(p.chunkEntity.subarray(c * C, c * C + len)),
    registeredVersion: f.registeredVersion,
    placedVersion: f.placedVersion,
    swappedVersion,
    from: { shard: a, slot: sa },
    to: { shard: b, slot: sb },
    registeredAtMs: f.registeredAtMs,
    swappedAtMs: clock.now(),
    swapPauseUs: (performance.now() - t0) * 1000,
  };
}

/**
 * The rows chunk `c` would hold if its pending correction were swapped in
 * now: the replacement's rows (from its slot once placed) plus what pushes
 * added since registration, computed as the swap computes them (into `out`,
 * its rows x dim floats). False when no correction of `c` is pending. Not
 * fenced: racy under Hogwild writers, exact while none writes.
 */
export function previewCorrection(tables: Tables, c: number, out: Float32Array): boolean {
  const f = correctionsOf(tables).get(c);
  if (f === undefined || f.before === null) return false;
  const p = tables.placement;
  const C = p.chunkRows;
  const w = tables.dim;
  const n = p.chunkLen[c]! * w;
  const loc = p.locAt(p.version(), c);
  const cur = tables.locks[locShard(loc)]!.data;
  const old = locSlot(loc) * C * w;
  const src = f.loc === NO_LOC ? f.values : tables.locks[locShard(f.loc)]!.data;
  const base = f.loc === NO_LOC ? 0 : locSlot(f.loc) * C * w;
  for (let i = 0; i < n && i < out.length; i++) out[i] = src[base + i]! + (cur[old + i]! - f.before[i]!);
  return true;
}

/**
 * Replace chunk `c`'s rows with `values` (its rows x dim floats), live, in
 * one call:
 * 1. register: checks first (see `reserveCorrection` for the refusals and
 *    their order), then the chunk's rows as they are now are copied under
 *    its shard's fence;
 * 2. place and confirm: the replacement is written into a free slot,
 *    invisible, a version is published with it placed, and the correction
 *    waits until the workers' watermark reaches that version;
 * 3. swap in one visibility cycle (`swapCorrection`): pushes made since
 *    registration carry over; readers see the old rows or the new ones.
 * Holds the coordinator throughout. E_RESHARD_STALLED when no shard has a
 * free slot for the replacement, or the workers do not confirm in time.
 */
export async function correctChunk(
  tables: Tables,
  c: number,
  values: Float32Array,
  o: LiveReshardOptions = {},
): Promise<CorrectionRecord> {
  const where = 'ParameterServer.correct';
  checkSyncQuiescent(tables, where, o);
  const p = tables.placement;
  const clock = tables.clock;
  const f = reserveCorrection(tables, c, values, where);
  try {
    return await coordinating(tables, where, async () => {
      await registerReserved(tables, f, where);
      if (!placeReplacement(tables, f))
        throw reshardStalled(where, 0, `no shard has a free slot for the replacement of chunk ${c}`);
      f.placedVersion = p.publish([], p.activeShards());
      const timeoutMs = o.timeoutMs ?? 120_000;
      while (p.watermark(clock.now()) < f.placedVersion) {
        if (clock.now() - f.registeredAtMs > timeoutMs)
          throw reshardStalled(where, timeoutMs, `workers did not confirm version ${f.placedVersion}`);
        await delay(o.pollMs ?? 2);
      }
      return swapCorrection(tables, f, where);
    });
  } catch (e) {
    if (correctionsOf(tables).get(c) === f) dropCorrection(tables, f);
    throw e;
  }
}

/**
 * The corrections part of a scheduler step (coordinator): swap in every
 * placed replacement whose version the watermark covers, then place
 * waiting replacements, at most `budget` of them (each is a chunk's worth
 * of copying), publishing one version for those placed. Returns what was
 * swapped, the chunks whose replacement was placed, and those that found
 * no room.
 */
async function stepCorrections(
  tables: Tables,
  budget: number,
  where: string,
): Promise<{ swapped: CorrectionRecord[]; placed: number[]; noRoom: number[]; waiting: number }> {
  const p = tables.placement;
  const fixes = [...correctionsOf(tables).values()].filter((f) => f.before !== null).sort((a, b) => a.chunk - b.chunk);
  const mark = p.watermark(tables.clock.now());
  const swapped: CorrectionRecord[] = [];
  for (const f of fixes) {
    if (f.placedVersion === 0 || mark < f.placedVersion) continue;
    swapped.push(await swapCorrection(tables, f, where));
  }
  const placed: number[] = [];
  const noRoom: number[] = [];
  let waiting = 0;
  for (const f of fixes) {
    if (f.loc !== NO_LOC) continue;
    if (placed.length >= budget) waiting++;
    else if (placeReplacement(tables, f)) placed.push(f.chunk);
    else noRoom.push(f.chunk);
  }
  if (placed.length > 0) {
    const v = p.publish([], p.activeShards());
    for (const c of placed) correctionsOf(tables).get(c)!.placedVersion = v;
  }
  return { swapped, placed, noRoom, waiting };
}
