/**
 * The parameter server's versioned chunk placement, in shared memory (the
 * region `psPlacementLayout` of native-layout).
 *
 * Entity rows are grouped into chunks of `chunkRows` rows; a chunk is the
 * unit of placement and of movement. Each shard region has `slots` chunk
 * slots; a chunk lives in one slot of one shard, and its row j is the
 * region's row `slot * chunkRows + j`. The placement (every chunk's shard
 * and slot) is published as numbered versions: the coordinator (the thread
 * that reshards, one at a time) writes version v + 1 into the ring entry
 * `(v + 1) % versions`, stamps it, then stores `version`. So:
 *
 * - Writers (training workers) follow the latest version. A worker copies
 *   the latest entry into its own arrays (`copyLoc`) and confirms it
 *   (`confirm`: its block holds the version and when it was seen).
 * - Readers (evaluation, checkpoints, a serving thread) `pin` a version,
 *   copying its locations, and read each chunk where that version placed
 *   it. While a reader holds the pin (a lease of `pinLeaseMs`), the copies
 *   of that version are kept.
 * - A copy that stops being current (a chunk moved away, a correction
 *   swapped in) drains: its slot is freed only when (1) a quorum of the live
 *   workers has confirmed a version at which the copy is no longer current,
 *   (2) the grace window has passed since it stopped being current, and
 *   (3) no reader whose pin lease still runs holds a version that still
 *   places the chunk there. A worker not seen for `workerTimeoutMs` is not
 *   live, so a dead worker cannot stall the watermark. Quorum -1 means every
 *   live worker; 0 (zero-quorum mode) waits for the grace window only.
 *
 * Every control word is read and written with Atomics; the ring entries and
 * chunk maps are plain int32 arrays published by the atomic store of the
 * version (or of the entity and chunk counts) that follows them.
 */
import { badHandle } from '../errors.js';
import {
  allocate,
  checkHeader,
  indexOf,
  PS_PLACEMENT_BLOCK_WORDS,
  psPlacementLayout,
  type PsPlacementShape,
  type RegionLayout,
} from '../../native-layout/index.js';

/** A slot's state. */
export const SLOT_FREE = 0;
export const SLOT_LIVE = 1;
/** Claimed for a chunk being copied in (not yet placed by any version). */
export const SLOT_INCOMING = 2;
/** Holds a copy that is no longer current, kept for pinned readers and lagging workers. */
export const SLOT_DRAINING = 3;

/** Bits of the slot in a location word (shard << SLOT_BITS | slot). */
export const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Location of a chunk that a version does not place. */
export const NO_LOC = -1;

export function locOf(shard: number, slot: number): number {
  return (shard << SLOT_BITS) | slot;
}
export function locShard(loc: number): number {
  return loc >> SLOT_BITS;
}
export function locSlot(loc: number): number {
  return loc & SLOT_MASK;
}

export interface PlacementHandle {
  readonly kind: 'ps-placement';
  readonly sab: SharedArrayBuffer;
  readonly shape: PsPlacementShape;
}

/** When copies may be dropped (see the module note). */
export interface PlacementRules {
  /** Live workers whose confirmation drops a copy: -1 every live worker, 0 none (grace window only). */
  readonly quorum: number;
  /** How long a copy that stopped being current stays readable for pinned readers. */
  readonly graceMs: number;
  /** A worker not seen for this long is not live (its confirmation is not awaited). */
  readonly workerTimeoutMs: number;
  /** How long a pin keeps the copies of its version (a lease: a reader that never unpins cannot hold them forever). */
  readonly pinLeaseMs: number;
}

export class Placement {
  readonly handle: PlacementHandle;
  readonly shape: PsPlacementShape;
  readonly chunkRows: number;
  /** Entity index → its chunk; entity index → its row in the chunk. */
  readonly chunkOf: Int32Array;
  readonly offsetOf: Int32Array;
  /** Chunk → its rows; chunk c's row j is entity `chunkEntity[c * chunkRows + j]`. */
  readonly chunkLen: Int32Array;
  readonly chunkEntity: Int32Array;
  readonly ringVersion: Int32Array;
  readonly ringActive: Int32Array;
  readonly ringLoc: Int32Array;
  readonly slotChunk: Int32Array;
  readonly slotState: Int32Array;
  readonly slotDrainVersion: Int32Array;
  readonly slotGen: Int32Array;
  readonly slotDrainAt: Float64Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly w: Record<
    | 'version'
    | 'chunks'
    | 'entities'
    | 'activeShards'
    | 'quorum'
    | 'graceMs'
    | 'workerTimeoutMs'
    | 'pinLeaseMs'
    | 'coordinating'
    | 'moves'
    | 'maxPauseUs',
    number
  >;
  private readonly workerBase: number;
  private readonly readerBase: number;

  private constructor(handle: PlacementHandle, layout: RegionLayout) {
    this.handle = handle;
    const p = (this.shape = handle.shape);
    this.chunkRows = p.chunkRows;
    const sab = handle.sab;
    const view = (name: string, n: number): Int32Array => new Int32Array(sab, indexOf(layout, name) * 4, n);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab, 0, Math.floor(sab.byteLength / 8));
    const slots = p.shards * p.slots;
    this.ringVersion = view('ringVersion', p.versions);
    this.ringActive = view('ringActive', p.versions);
    this.ringLoc = view('ringLoc', p.versions * p.maxChunks);
    this.chunkLen = view('chunkLen', p.maxChunks);
    this.chunkEntity = view('chunkEntity', p.maxChunks * p.chunkRows);
    this.chunkOf = view('chunkOf', p.maxEntities);
    this.offsetOf = view('offsetOf', p.maxEntities);
    this.slotChunk = view('slotChunk', slots);
    this.slotState = view('slotState', slots);
    this.slotDrainVersion = view('slotDrainVersion', slots);
    this.slotGen = view('slotGen', slots);
    this.slotDrainAt = new Float64Array(sab, indexOf(layout, 'slotDrainAt') * 8, slots);
    this.w = {
      version: indexOf(layout, 'latest'),
      chunks: indexOf(layout, 'chunks'),
      entities: indexOf(layout, 'entities'),
      activeShards: indexOf(layout, 'activeShards'),
      quorum: indexOf(layout, 'quorum'),
      graceMs: indexOf(layout, 'graceMs'),
      workerTimeoutMs: indexOf(layout, 'workerTimeoutMs'),
      pinLeaseMs: indexOf(layout, 'pinLeaseMs'),
      coordinating: indexOf(layout, 'coordinating'),
      moves: indexOf(layout, 'moves'),
      maxPauseUs: indexOf(layout, 'maxPauseUs'),
    };
    this.workerBase = indexOf(layout, 'workerBlocks');
    this.readerBase = indexOf(layout, 'readerBlocks');
  }

  /**
   * Allocate a placement with every slot free and no chunk, at version 0
   * (placing nothing). The creator then adds the initial chunks
   * (`addChunk`) and publishes version 1 (`publishInitial`).
   */
  static create(shape: PsPlacementShape, rules: PlacementRules): Placement {
    const layout = psPlacementLayout(shape);
    const sab = allocate(layout);
    const u32 = new Uint32Array(sab);
    u32[indexOf(layout, 'chunkRows')] = shape.chunkRows;
    u32[indexOf(layout, 'shards')] = shape.shards;
    u32[indexOf(layout, 'slots')] = shape.slots;
    u32[indexOf(layout, 'maxChunks')] = shape.maxChunks;
    u32[indexOf(layout, 'maxEntities')] = shape.maxEntities;
    u32[indexOf(layout, 'versions')] = shape.versions;
    u32[indexOf(layout, 'workers')] = shape.workers;
    u32[indexOf(layout, 'readers')] = shape.readers;
    const p = new Placement({ kind: 'ps-placement', sab, shape: { ...shape } }, layout);
    p.ringLoc.fill(NO_LOC);
    p.slotChunk.fill(-1);
    p.i32[p.w.quorum] = rules.quorum;
    p.i32[p.w.graceMs] = rules.graceMs;
    p.i32[p.w.workerTimeoutMs] = rules.workerTimeoutMs;
    p.i32[p.w.pinLeaseMs] = rules.pinLeaseMs;
    return p;
  }

  static attach(handle: PlacementHandle): Placement {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ps-placement')
      throw badHandle('Placement.attach', "handle.kind must be 'ps-placement'", (handle as { kind?: unknown })?.kind);
    const layout = psPlacementLayout(handle.shape);
    checkHeader(handle.sab, layout);
    return new Placement(handle, layout);
  }

  // ------------------------------------------------------------ reads (any thread)

  /** The latest published version. */
  version(): number {
    return Atomics.load(this.i32, this.w.version);
  }

  /** Chunks registered so far. */
  chunks(): number {
    return Atomics.load(this.i32, this.w.chunks);
  }

  /** Entities registered so far. */
  entities(): number {
    return Atomics.load(this.i32, this.w.entities);
  }

  /** Shards the latest version places chunks on (the resharding target). */
  activeShards(): number {
    return Atomics.load(this.i32, this.w.activeShards);
  }

  rules(): PlacementRules {
    return {
      quorum: Atomics.load(this.i32, this.w.quorum),
      graceMs: Atomics.load(this.i32, this.w.graceMs),
      workerTimeoutMs: Atomics.load(this.i32, this.w.workerTimeoutMs),
      pinLeaseMs: Atomics.load(this.i32, this.w.pinLeaseMs),
    };
  }

  /**
   * Change the confirmation quorum (-1 every live worker, 0 none, k a
   * count): the next watermark uses it. For a coordinator that keeps the
   * quorum a share of the live workers as they come and go.
   */
  setQuorum(quorum: number): void {
    Atomics.store(this.i32, this.w.quorum, quorum);
  }

  /** Whether version `v` is still in the ring (not overwritten by a newer one). */
  holds(v: number): boolean {
    return v > 0 && Atomics.load(this.ringVersion, v % this.shape.versions) === v;
  }

  /** Chunk `c`'s location at version `v` (NO_LOC when `v` does not place it or is no longer held). */
  locAt(v: number, c: number): number {
    const e = v % this.shape.versions;
    if (Atomics.load(this.ringVersion, e) !== v) return NO_LOC;
    const loc = this.ringLoc[e * this.shape.maxChunks + c]!;
    return Atomics.load(this.ringVersion, e) === v ? loc : NO_LOC;
  }

  /**
   * Copy the latest version's locations of chunks [0, n) into `shard` and
   * `base` (the region row of the chunk's row 0; -1 where not placed).
   * Returns the version copied. Allocates nothing.
   */
  copyLatest(shard: Int32Array, base: Int32Array): number {
    const C = this.chunkRows;
    const V = this.shape.versions;
    const M = this.shape.maxChunks;
    for (;;) {
      const v = this.version();
      const e = v % V;
      const n = Math.min(this.chunks(), shard.length);
      for (let c = 0; c < n; c++) {
        const loc = this.ringLoc[e * M + c]!;
        shard[c] = loc === NO_LOC ? -1 : locShard(loc);
        base[c] = loc === NO_LOC ? -1 : locSlot(loc) * C;
      }
      // The entry was not overwritten while it was copied (a newer version
      // needs `versions` more publications to reach it).
      if (Atomics.load(this.ringVersion, e) === v) return v;
    }
  }

  // ------------------------------------------------------------ workers

  /** Worker `worker` has applied version `v`; seen at `nowMs`. Hot path: two stores. */
  confirm(worker: number, v: number, nowMs: number): void {
    if (worker < 0 || worker >= this.shape.workers) return;
    const b = this.workerBase + worker * PS_PLACEMENT_BLOCK_WORDS;
    Atomics.store(this.i32, b, v);
    this.f64[(b >> 1) + 1] = nowMs;
  }

  /**
   * Worker `worker` stops confirming (it left): its block goes back to "no
   * confirmation", so the watermark no longer waits for it (instead of
   * counting it live until its timeout). Joining again is confirming again.
   */
  release(worker: number): void {
    if (worker < 0 || worker >= this.shape.workers) return;
    Atomics.store(this.i32, this.workerBase + worker * PS_PLACEMENT_BLOCK_WORDS, 0);
  }

  /** The version worker `w` confirmed last (0: none) and when it was last seen. */
  confirmed(worker: number): { version: number; seenMs: number } {
    const b = this.workerBase + worker * PS_PLACEMENT_BLOCK_WORDS;
    return { version: Atomics.load(this.i32, b), seenMs: this.f64[(b >> 1) + 1]! };
  }

  /**
   * The confirmation watermark at `nowMs`: the highest version that the
   * quorum of live workers has confirmed (every live worker for quorum -1),
   * Infinity when no confirmation is awaited (quorum 0, or no live worker).
   */
  watermark(nowMs: number): number {
    const q = Atomics.load(this.i32, this.w.quorum);
    if (q === 0) return Infinity;
    const timeout = Atomics.load(this.i32, this.w.workerTimeoutMs);
    const live: number[] = [];
    for (let w = 0; w < this.shape.workers; w++) {
      const { version, seenMs } = this.confirmed(w);
      if (version > 0 && nowMs - seenMs <= timeout) live.push(version);
    }
    if (live.length === 0) return Infinity;
    live.sort((a, b) => b - a);
    const need = q < 0 ? live.length : Math.min(q, live.length);
    return live[need - 1]!;
  }

  // ------------------------------------------------------------ readers

  /**
   * Pin the latest version for reading at `nowMs`, and copy its locations
   * into `shard` and `base` (as `copyLatest`). Returns the reader slot
   * (release it with `unpin`) or -1 when every reader slot is taken. While
   * the pin holds (at most its lease, `pinLeaseMs`), every copy the pinned
   * version names stays in its slot.
   */
  pin(nowMs: number, shard: Int32Array, base: Int32Array): number {
    for (let r = 0; r < this.shape.readers; r++) {
      const b = this.readerBase + r * PS_PLACEMENT_BLOCK_WORDS;
      if (Atomics.compareExchange(this.i32, b, 0, -1) !== 0) continue;
      this.f64[(b >> 1) + 1] = nowMs;
      // Publish the version before copying: a coordinator that frees a slot
      // after this store sees the pin; one that freed it before made a
      // version newer than the one copied, so copy again.
      for (;;) {
        const v = this.version();
        Atomics.store(this.i32, b, v);
        if (this.copyLatest(shard, base) === v) return r;
      }
    }
    return -1;
  }

  /** The version reader `r` pinned (0: not pinned). */
  pinned(r: number): number {
    const v = Atomics.load(this.i32, this.readerBase + r * PS_PLACEMENT_BLOCK_WORDS);
    return v < 0 ? 0 : v;
  }

  /** When reader `r` pinned its version. */
  pinnedAt(r: number): number {
    return this.f64[((this.readerBase + r * PS_PLACEMENT_BLOCK_WORDS) >> 1) + 1]!;
  }

  unpin(r: number): void {
    if (r < 0 || r >= this.shape.readers) return;
    Atomics.store(this.i32, this.readerBase + r * PS_PLACEMENT_BLOCK_WORDS, 0);
  }

  /** Whether a reader whose pin lease still runs holds a version in [from, to). */
  pinnedBetween(from: number, to: number, nowMs: number): boolean {
    const lease = Atomics.load(this.i32, this.w.pinLeaseMs);
    for (let r = 0; r < this.shape.readers; r++) {
      const v = this.pinned(r);
      if (v >= from && v < to && nowMs - this.pinnedAt(r) <= lease) return true;
    }
    return false;
  }

  // ------------------------------------------------------------ the coordinator

  /** Become the coordinator (one thread at a time); false when another thread is. */
  tryCoordinate(): boolean {
    return Atomics.compareExchange(this.i32, this.w.coordinating, 0, 1) === 0;
  }

  endCoordinate(): void {
    Atomics.store(this.i32, this.w.coordinating, 0);
  }

  /** Register entity `e` as row `offset` of chunk `c` (coordinator; before the entity count publishes it). */
  setEntity(e: number, c: number, offset: number): void {
    this.chunkOf[e] = c;
    this.offsetOf[e] = offset;
    this.chunkEntity[c * this.chunkRows + offset] = e;
  }

  /** Publish the entity and chunk counts (coordinator). */
  setCounts(entities: number, chunks: number): void {
    Atomics.store(this.i32, this.w.chunks, chunks);
    Atomics.store(this.i32, this.w.entities, entities);
  }

  /** Slot index of (shard, slot) in the slot arrays. */
  slotIndex(shard: number, slot: number): number {
    return shard * this.shape.slots + slot;
  }

  /**
   * Publish version `version() + 1`: the latest locations with `changes`
   * applied (pairs of chunk and location, NO_LOC to unplace) and
   * `activeShards` shards targeted. Returns the new version. The ring
   * entry it takes is `versions` publications old: a worker or reader that
   * copies an entry checks its stamp afterwards, and pinned readers hold
   * their own copy (`pin`), so nobody reads an entry while it is rewritten.
   */
  publish(changes: ArrayLike<number>, activeShards: number): number {
    const V = this.shape.versions;
    const M = this.shape.maxChunks;
    const v = this.version();
    const next = v + 1;
    const from = (v % V) * M;
    const to = (next % V) * M;
    Atomics.store(this.ringVersion, next % V, 0);
    this.ringLoc.copyWithin(to, from, from + M);
    for (let i = 0; i + 1 < changes.length; i += 2) this.ringLoc[to + changes[i]!] = changes[i + 1]!;
    this.ringActive[next % V] = activeShards;
    Atomics.store(this.ringVersion, next % V, next);
    Atomics.store(this.i32, this.w.activeShards, activeShards);
    Atomics.store(this.i32, this.w.version, next);
    return next;
  }

  /** Count a move and its writer pause (µs) in the region's statistics. */
  noteMove(pauseUs: number): void {
    Atomics.add(this.i32, this.w.moves, 1);
    const us = Math.min(2 ** 31 - 1, Math.ceil(pauseUs));
    let cur = Atomics.load(this.i32, this.w.maxPauseUs);
    while (us > cur) {
      const seen = Atomics.compareExchange(this.i32, this.w.maxPauseUs, cur, us);
      if (seen === cur) break;
      cur = seen;
    }
  }

  /** Chunks moved and the longest writer pause of a move (µs), since creation. */
  moveStats(): { moves: number; maxPauseUs: number } {
    return { moves: Atomics.load(this.i32, this.w.moves), maxPauseUs: Atomics.load(this.i32, this.w.maxPauseUs) };
  }

  /**
   * Free every draining slot whose copy may be dropped at `nowMs` (see the
   * module note). Returns the slots freed. Coordinator.
   */
  reclaim(nowMs: number): number {
    const grace = Atomics.load(this.i32, this.w.graceMs);
    const mark = this.watermark(nowMs);
    let freed = 0;
    for (let i = 0; i < this.slotState.length; i++) {
      if (this.slotState[i] !== SLOT_DRAINING) continue;
      const d = this.slotDrainVersion[i]!;
      if (mark < d) continue;
      if (nowMs - this.slotDrainAt[i]! < grace) continue;
      // A reader pinned (within its lease) to a version before d may still read this copy.
      if (this.pinnedBetween(1, d, nowMs)) continue;
      this.slotGen[i] = this.slotGen[i]! + 1;
      this.slotChunk[i] = -1;
      Atomics.store(this.slotState, i, SLOT_FREE);
      freed++;
    }
    return freed;
  }

  /** Slots still draining. */
  draining(): number {
    let n = 0;
    for (let i = 0; i < this.slotState.length; i++) if (this.slotState[i] === SLOT_DRAINING) n++;
    return n;
  }
}
