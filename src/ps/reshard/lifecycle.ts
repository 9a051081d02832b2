/**
 * The versioned (multi-version) life of chunk assignments, as a
 * single-threaded model with an injected clock. It decides what happens;
 * it holds no row values (a backend copies and frees rows as each step's
 * report says).
 *
 * - **Versions.** `step()` publishes at most one new assignment. Writers
 *   follow the latest one.
 * - **Readers** pin the latest version and read each row from the shards
 *   that held its chunk at that version. A pin is a lease of `pinLeaseMs`:
 *   while it lasts, no copy live at the pinned version is freed; after it,
 *   reads report `expired` (never a shard that may have lost the chunk).
 * - **Drains.** A copy that a new version no longer lists drains: it keeps
 *   its bytes and serves older versions until (1) a quorum of live workers
 *   has confirmed a version at or after the one that dropped it (the
 *   watermark), (2) `graceMs` has passed since that version was published,
 *   and (3) no unexpired pin reads it. Then `step()` frees it.
 * - **Workers** confirm the latest version they applied. One silent for
 *   more than `workerTimeoutMs` is excluded, so a dead worker cannot hold
 *   the watermark back; it must join again.
 * - **Corrections** replace a chunk's rows: the replacement is registered
 *   as a new chunk covering the same rows, placed like a new chunk (all
 *   floor copies at once) but not visible, and once the watermark covers
 *   the version that placed it, one version both makes it visible and
 *   drops every copy of the old chunk (which then drains). Readers see the
 *   old chunk or the new one, never a mix. An audit record follows each
 *   correction.
 */
import {
  invalidArgument,
  reshardChunkBusy,
  reshardChunkRemoved,
  reshardShape,
  reshardUnknownChunk,
  reshardUnknownPin,
  reshardUnknownWorker,
} from '../../errors.js';
import { planStep, type CopyChange, type Deferral } from './plan.js';
import { VALUE_BYTES, resolveReshardOptions, type ReshardOptions } from './options.js';
import { holdersOf, type Assignment, type ChunkId, type Holders, type RowBlock, type ShardId } from './types.js';

/** Where a chunk is in its life. */
export type ChunkPhase =
  /** Registered (new rows, or a replacement), not placed yet. */
  | 'unplaced'
  /** A replacement that is placed but not visible yet. */
  | 'standby'
  /** Visible to readers and writers. */
  | 'visible'
  /** Replaced; its copies drain. */
  | 'retired'
  /** Replaced and every copy freed. */
  | 'gone';

export interface ChunkInfo {
  readonly id: ChunkId;
  readonly block: RowBlock;
  readonly bytes: number;
  readonly phase: ChunkPhase;
  /** For a replacement: the chunk it replaces. */
  readonly replaces: ChunkId | undefined;
  /** For a chunk being (or already) replaced: its replacement. */
  readonly replacedBy: ChunkId | undefined;
  /** Version that placed it (0 while unplaced). */
  readonly placedAt: number;
}

/** The audit record of one correction. Versions are 0 until the event happens. */
export interface CorrectionRecord {
  readonly old: ChunkId;
  readonly replacement: ChunkId;
  readonly block: number;
  readonly registeredAtMs: number;
  readonly registeredAtVersion: number;
  readonly placedAtVersion: number;
  readonly swappedAtVersion: number;
  readonly swappedAtMs: number;
}

/** A copy that is no longer live but still holds bytes. */
export interface DrainingCopy {
  readonly chunk: ChunkId;
  readonly shard: ShardId;
  /** First version without this copy. */
  readonly droppedAt: number;
  /** When that version was published (clock ms). */
  readonly sinceMs: number;
}

/** Where the rows of a copy created by a step come from. */
export type CopySource = { readonly from: 'shard'; readonly shard: ShardId } | { readonly from: 'registered' };

export interface CopyAdd extends CopyChange {
  readonly source: CopySource;
}

/** What one `step()` did, in the order a backend applies it: free, then copy, then publish. */
export interface LifecycleStep {
  /** The version published, or 0 when nothing changed. */
  readonly published: number;
  readonly watermark: number;
  /** Draining copies freed (their bytes are free before the adds). */
  readonly freed: readonly CopyChange[];
  /** Copies created; each must be filled from its source before publication. */
  readonly adds: readonly CopyAdd[];
  /** Live copies dropped (now draining). */
  readonly drops: readonly CopyChange[];
  /** New chunks placed (entity chunks become visible, replacements go on standby). */
  readonly placed: readonly ChunkId[];
  /** Corrections swapped in by this step. */
  readonly swapped: readonly CorrectionRecord[];
  /** Work the scheduler held back. */
  readonly deferred: readonly Deferral[];
  /** Chunks that gained a copy. */
  readonly moved: number;
  /** Workers excluded by this step for silence. */
  readonly excluded: readonly number[];
  /** The scheduler found nothing to add or drop. */
  readonly idle: boolean;
  /** The live placement is the scheduler's ideal and no chunk waits to be placed. */
  readonly atIdeal: boolean;
}

export type ConfirmResult = 'ok' | 'excluded';

export type ResolveResult =
  | { readonly state: 'ok'; readonly chunk: ChunkId; readonly shard: ShardId; readonly version: number }
  | { readonly state: 'expired' }
  /** No chunk covers the row at that version (not placed yet, or beyond the rows). */
  | { readonly state: 'no-row' };

interface MutableChunk {
  id: ChunkId;
  block: RowBlock;
  bytes: number;
  phase: ChunkPhase;
  replaces: ChunkId | undefined;
  replacedBy: ChunkId | undefined;
  placedAt: number;
}

interface Worker {
  confirmed: number;
  lastSeenMs: number;
}

interface Pin {
  readonly version: number;
  readonly atMs: number;
}

const key = (c: ChunkId, s: ShardId): string => `${c}:${s}`;

export class AssignmentLifecycle {
  readonly options: ReshardOptions;
  private readonly now: () => number;
  private readonly blocks: RowBlock[] = [];
  private readonly chunks = new Map<ChunkId, MutableChunk>();
  private nextChunk = 0;
  private rows = 0;
  private readonly versions = new Map<number, Assignment>();
  /** When each kept version was published (clock ms). */
  private readonly publishedAtMs = new Map<number, number>();
  private latestVersion = 0;
  private readonly draining = new Map<string, DrainingCopy>();
  private readonly workers = new Map<number, Worker>();
  private nextWorker = 1;
  private readonly pins = new Map<number, Pin>();
  private nextPin = 1;
  private readonly audit: { -readonly [K in keyof CorrectionRecord]: CorrectionRecord[K] }[] = [];
  private targetShards: number;
  private replication: number;
  private bonusReplicas: number;

  /**
   * Creates the blocks of `options.rows` rows and publishes version 1: the
   * ideal placement of those chunks (no movement budget applies to a
   * placement from nothing). Chunks that find no room stay unplaced.
   */
  constructor(options: Partial<ReshardOptions>, now: () => number) {
    this.options = resolveReshardOptions(options, 'AssignmentLifecycle');
    this.now = now;
    this.targetShards = this.options.shards;
    this.replication = this.options.replication;
    this.bonusReplicas = this.options.bonusReplicas;
    this.addRows(this.options.rows);
    this.versions.set(0, { version: 0, placement: new Map(), visible: new Map() });
    this.step(Number.MAX_SAFE_INTEGER);
    if (this.latestVersion === 0) this.publish(new Map(), new Map());
  }

  // ------------------------------------------------------------ reading the state

  get latest(): Assignment {
    return this.versions.get(this.latestVersion)!;
  }

  /** A published version still kept (pinned or not older than the watermark), or undefined. */
  assignment(version: number): Assignment | undefined {
    return this.versions.get(version);
  }

  get shardCount(): number {
    return this.targetShards;
  }

  get replicationFactor(): { replication: number; bonusReplicas: number } {
    return { replication: this.replication, bonusReplicas: this.bonusReplicas };
  }

  get rowCount(): number {
    return this.rows;
  }

  chunk(id: ChunkId): ChunkInfo | undefined {
    return this.chunks.get(id);
  }

  allChunks(): ChunkInfo[] {
    return [...this.chunks.values()];
  }

  rowBlocks(): readonly RowBlock[] {
    return this.blocks;
  }

  drainingCopies(): DrainingCopy[] {
    return [...this.draining.values()];
  }

  corrections(): CorrectionRecord[] {
    return this.audit.map((r) => ({ ...r }));
  }

  liveWorkers(): { id: number; confirmed: number; lastSeenMs: number }[] {
    const now = this.now();
    return [...this.workers]
      .filter(([, w]) => this.alive(w, now))
      .map(([id, w]) => ({ id, confirmed: w.confirmed, lastSeenMs: w.lastSeenMs }));
  }

  pinsHeld(): { pin: number; version: number; atMs: number; expired: boolean }[] {
    const now = this.now();
    return [...this.pins].map(([pin, p]) => ({ pin, ...p, expired: this.expired(p, now) }));
  }

  /**
   * The highest version that a quorum of live workers has confirmed: with
   * q live workers and quorum f, the ceil(f*q)-th highest confirmation; the
   * latest version when that is 0 workers (zero quorum or nobody live).
   */
  watermark(): number {
    const now = this.now();
    const confirmed = [...this.workers.values()]
      .filter((w) => this.alive(w, now))
      .map((w) => w.confirmed)
      .sort((a, b) => b - a);
    const need = Math.ceil(this.options.quorum * confirmed.length - 1e-9);
    if (need <= 0) return this.latestVersion;
    return confirmed[need - 1]!;
  }

  /** Bytes physically held per shard (live copies at the latest version and draining copies). */
  footprint(): Map<ShardId, number> {
    const out = new Map<ShardId, number>();
    const charge = (c: ChunkId, s: ShardId): void => void out.set(s, (out.get(s) ?? 0) + this.bytesOf(c));
    for (const [c, h] of this.latest.placement) for (const s of [...h.floor, ...h.bonus]) charge(c, s);
    for (const d of this.draining.values()) charge(d.chunk, d.shard);
    return out;
  }

  /** Whether `shard` physically holds a copy of `chunk` (live at the latest version or draining). */
  holdsPhysically(chunk: ChunkId, shard: ShardId): boolean {
    return this.draining.has(key(chunk, shard)) || holdersOf(this.latest.placement, chunk).includes(shard);
  }

  /** The visible chunk covering `row` at `assignment`, or undefined. */
  chunkAt(assignment: Assignment, row: number): ChunkId | undefined {
    const block = this.blockOf(row);
    return block === undefined ? undefined : assignment.visible.get(block.index);
  }

  blockOf(row: number): RowBlock | undefined {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) return undefined;
    // Blocks are sorted by first row: binary search.
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.firstRow <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.blocks[lo];
  }

  /** The replacement waiting for `chunk` (unplaced or on standby), or undefined. */
  pendingReplacement(chunk: ChunkId): ChunkId | undefined {
    const c = this.chunks.get(chunk);
    if (c === undefined || c.phase !== 'visible' || c.replacedBy === undefined) return undefined;
    return c.replacedBy;
  }

  // ------------------------------------------------------------ topology

  /** Target `shards` shards (ids 0 .. shards-1); the next steps move copies accordingly. */
  reshard(shards: number): void {
    if (!Number.isInteger(shards) || shards < 1) throw invalidArgument('reshard', 'shards', shards, 'an integer >= 1');
    this.targetShards = shards;
  }

  setReplication(replication: number, bonusReplicas = this.bonusReplicas): void {
    if (!Number.isInteger(replication) || replication < 1)
      throw invalidArgument('setReplication', 'replication', replication, 'an integer >= 1');
    if (!Number.isInteger(bonusReplicas) || bonusReplicas < 0)
      throw invalidArgument('setReplication', 'bonusReplicas', bonusReplicas, 'an integer >= 0');
    this.replication = replication;
    this.bonusReplicas = bonusReplicas;
  }

  /** Append `count` rows as new chunks of up to chunkRows rows; returns their ids (unplaced). */
  addRows(count: number): ChunkId[] {
    if (!Number.isInteger(count) || count < 0) throw invalidArgument('addRows', 'count', count, 'an integer >= 0');
    const ids: ChunkId[] = [];
    for (let first = this.rows; first < this.rows + count; first += this.options.chunkRows) {
      const rows = Math.min(this.options.chunkRows, this.rows + count - first);
      const block: RowBlock = Object.freeze({ index: this.blocks.length, firstRow: first, rows });
      this.blocks.push(block);
      ids.push(this.newChunk(block, undefined));
    }
    this.rows += count;
    return ids;
  }

  /**
   * Register a replacement of `chunk`'s rows, given as `values` floats
   * (rows x dim). Throws E_RESHARD_UNKNOWN_CHUNK, E_RESHARD_SHAPE,
   * E_RESHARD_CHUNK_BUSY (a replacement is already pending, or the chunk is
   * itself pending) or E_RESHARD_CHUNK_REMOVED before changing anything.
   */
  registerCorrection(chunk: ChunkId, values: number): CorrectionRecord {
    const where = 'correct';
    const c = this.chunks.get(chunk);
    if (c === undefined) throw reshardUnknownChunk(where, chunk);
    if (c.phase === 'retired' || c.phase === 'gone') throw reshardChunkRemoved(where, chunk, c.replacedBy ?? -1);
    if (c.phase === 'unplaced')
      throw reshardChunkBusy(where, chunk, c.replaces === undefined ? 'is new and not placed yet' : 'is a replacement');
    if (c.phase === 'standby') throw reshardChunkBusy(where, chunk, `is the pending replacement of ${c.replaces}`);
    if (c.replacedBy !== undefined)
      throw reshardChunkBusy(where, chunk, `already has a pending replacement, chunk ${c.replacedBy}`);
    const expected = c.block.rows * this.options.dim;
    if (values !== expected) throw reshardShape(where, chunk, expected, values, this.options.dim);
    const replacement = this.newChunk(c.block, chunk);
    c.replacedBy = replacement;
    const record = {
      old: chunk,
      replacement,
      block: c.block.index,
      registeredAtMs: this.now(),
      registeredAtVersion: this.latestVersion,
      placedAtVersion: 0,
      swappedAtVersion: 0,
      swappedAtMs: 0,
    };
    this.audit.push(record);
    return { ...record };
  }

  // ------------------------------------------------------------ workers

  /** A worker starts from the latest version, which it counts as confirmed. */
  workerJoin(): number {
    const id = this.nextWorker++;
    this.workers.set(id, { confirmed: this.latestVersion, lastSeenMs: this.now() });
    return id;
  }

  workerLeave(worker: number): void {
    if (!this.workers.delete(worker)) throw reshardUnknownWorker('workerLeave', worker);
  }

  /**
   * Worker `worker` has applied `version` (confirmations only move
   * forward; a lower one is a heartbeat). A worker silent past its timeout
   * is excluded: this returns `excluded` and it must join again.
   */
  confirm(worker: number, version: number): ConfirmResult {
    const w = this.workers.get(worker);
    if (w === undefined) throw reshardUnknownWorker('confirm', worker);
    if (!Number.isInteger(version) || version < 0 || version > this.latestVersion)
      throw invalidArgument('confirm', 'version', version, `a published version in [0, ${this.latestVersion}]`);
    const now = this.now();
    if (!this.alive(w, now)) {
      this.workers.delete(worker);
      return 'excluded';
    }
    w.confirmed = Math.max(w.confirmed, version);
    w.lastSeenMs = now;
    return 'ok';
  }

  // ------------------------------------------------------------ readers

  /** Pin the latest version; the pin's lease starts now. */
  pin(): { pin: number; version: number } {
    const pin = this.nextPin++;
    this.pins.set(pin, { version: this.latestVersion, atMs: this.now() });
    return { pin, version: this.latestVersion };
  }

  unpin(pin: number): void {
    if (!this.pins.delete(pin)) throw reshardUnknownPin('unpin', pin);
  }

  /**
   * The chunk and shard a reader holding `pin` reads `row` from: a shard
   * that held the row's visible chunk at the pinned version. Replicas are
   * spread by row. `expired` once the lease is over.
   */
  resolve(pin: number, row: number): ResolveResult | undefined {
    const p = this.pins.get(pin);
    if (p === undefined) return undefined;
    if (this.expired(p, this.now())) return { state: 'expired' };
    const a = this.versions.get(p.version);
    if (a === undefined) return { state: 'expired' };
    return this.resolveIn(a, row);
  }

  /** As `resolve`, at the latest version (the writers' view). */
  resolveLatest(row: number): ResolveResult {
    return this.resolveIn(this.latest, row);
  }

  /**
   * As `resolve`, at `version` without a pin: `expired` once that version
   * is forgotten. Its copies are guaranteed only while the version is at or
   * after every watermark so far (a worker's applied version, under a full
   * quorum) or for `graceMs` after the next version was published.
   */
  resolveAt(version: number, row: number): ResolveResult {
    const a = this.versions.get(version);
    return a === undefined ? { state: 'expired' } : this.resolveIn(a, row);
  }

  // ------------------------------------------------------------ the cycle

  /**
   * One cycle: exclude silent workers, swap in confirmed corrections, free
   * drained copies, run the scheduler, and publish a version if anything
   * changed. `maxMoves` overrides K (the constructor's first placement).
   */
  step(maxMoves = this.options.maxMoves): LifecycleStep {
    const now = this.now();
    const excluded: number[] = [];
    for (const [id, w] of this.workers) {
      if (!this.alive(w, now)) {
        this.workers.delete(id);
        excluded.push(id);
      }
    }
    const watermark = this.watermark();
    const placement = new Map<ChunkId, ShardId[]>();
    for (const [c, h] of this.latest.placement) placement.set(c, [...h.floor, ...h.bonus]);
    const visible = new Map(this.latest.visible);

    // Corrections whose replacement is placed at a version the quorum has confirmed.
    const swapped: CorrectionRecord[] = [];
    const retiring: ChunkId[] = [];
    for (const record of this.audit) {
      if (record.swappedAtVersion !== 0 || record.placedAtVersion === 0 || record.placedAtVersion > watermark) continue;
      const old = this.chunks.get(record.old)!;
      const rep = this.chunks.get(record.replacement)!;
      visible.set(rep.block.index, rep.id);
      rep.phase = 'visible';
      old.phase = 'retired';
      placement.delete(old.id);
      retiring.push(old.id);
      record.swappedAtVersion = this.latestVersion + 1;
      record.swappedAtMs = now;
      swapped.push({ ...record });
    }

    // Free drained copies.
    const freed: CopyChange[] = [];
    for (const [k, d] of this.draining) {
      if (d.droppedAt > watermark || now - d.sinceMs < this.options.graceMs || this.pinnedAnywhere(d, now)) continue;
      this.draining.delete(k);
      freed.push({ chunk: d.chunk, shard: d.shard });
    }
    for (const c of this.chunks.values()) {
      if (c.phase === 'retired' && !placement.has(c.id) && !retiring.includes(c.id) && !this.hasDraining(c.id))
        c.phase = 'gone';
    }

    // Schedule. Copies of chunks retired above drain from the new version on.
    const drainingNow = new Map<ChunkId, ShardId[]>();
    for (const d of this.draining.values()) drainingNow.set(d.chunk, [...(drainingNow.get(d.chunk) ?? []), d.shard]);
    for (const c of retiring)
      drainingNow.set(c, [...(drainingNow.get(c) ?? []), ...holdersOf(this.latest.placement, c)]);
    const unplaced = [...this.chunks.values()].filter((c) => c.phase === 'unplaced').map((c) => c.id);
    const chunkBytes = new Map<ChunkId, number>();
    for (const c of this.chunks.values()) chunkBytes.set(c.id, c.bytes);
    const shards = Array.from({ length: this.targetShards }, (_, i) => i);
    const capacity = this.options.capacityBytes;
    const plan = planStep({
      placement,
      draining: drainingNow,
      newChunks: unplaced,
      shards,
      capacity: () => capacity,
      chunkBytes,
      replication: this.replication,
      bonusReplicas: this.bonusReplicas,
      maxMoves,
    });

    const adds: CopyAdd[] = plan.adds.map((a) => {
      const from = holdersOf(this.latest.placement, a.chunk);
      const source: CopySource =
        from.length > 0 && this.chunks.get(a.chunk)!.phase !== 'unplaced'
          ? { from: 'shard', shard: from[0]! }
          : { from: 'registered' };
      return { ...a, source };
    });
    const dropped: CopyChange[] = [...plan.drops];
    for (const c of retiring) for (const s of holdersOf(this.latest.placement, c)) dropped.push({ chunk: c, shard: s });
    const changed = swapped.length > 0 || plan.adds.length > 0 || plan.drops.length > 0;
    let published = 0;
    if (changed) {
      published = this.latestVersion + 1;
      for (const c of plan.placed) {
        const info = this.chunks.get(c)!;
        info.placedAt = published;
        if (info.replaces === undefined) {
          info.phase = 'visible';
          visible.set(info.block.index, c);
        } else {
          info.phase = 'standby';
          const record = this.audit.find((r) => r.replacement === c);
          if (record !== undefined) record.placedAtVersion = published;
        }
      }
      for (const a of plan.adds) this.draining.delete(key(a.chunk, a.shard));
      for (const d of dropped)
        this.draining.set(key(d.chunk, d.shard), {
          chunk: d.chunk,
          shard: d.shard,
          droppedAt: published,
          sinceMs: now,
        });
      this.publish(plan.next, visible);
    }
    this.collectVersions(watermark, now);
    return {
      published,
      watermark,
      freed,
      adds,
      drops: dropped,
      placed: plan.placed,
      swapped,
      deferred: plan.deferred,
      moved: plan.moved,
      excluded,
      idle: plan.idle,
      atIdeal: plan.atIdeal,
    };
  }

  // ------------------------------------------------------------ internals

  private newChunk(block: RowBlock, replaces: ChunkId | undefined): ChunkId {
    const id = this.nextChunk++;
    this.chunks.set(id, {
      id,
      block,
      bytes: block.rows * this.options.dim * VALUE_BYTES,
      phase: 'unplaced',
      replaces,
      replacedBy: undefined,
      placedAt: 0,
    });
    return id;
  }

  private bytesOf(c: ChunkId): number {
    return this.chunks.get(c)?.bytes ?? 0;
  }

  private publish(next: ReadonlyMap<ChunkId, Holders>, visible: ReadonlyMap<number, ChunkId>): void {
    const version = this.latestVersion + 1;
    this.publishedAtMs.set(version, this.now());
    const placement = new Map<ChunkId, Holders>();
    for (const [c, h] of next) placement.set(c, Object.freeze({ floor: [...h.floor], bonus: [...h.bonus] }));
    this.versions.set(version, Object.freeze({ version, placement, visible: new Map(visible) }));
    this.latestVersion = version;
  }

  private alive(w: Worker, now: number): boolean {
    return now - w.lastSeenMs <= this.options.workerTimeoutMs;
  }

  private expired(p: Pin, now: number): boolean {
    return now - p.atMs > this.options.pinLeaseMs;
  }

  /** Whether an unexpired pin is on a version at which the draining copy `d` was live. */
  private pinnedAnywhere(d: DrainingCopy, now: number): boolean {
    for (const p of this.pins.values()) {
      if (p.version >= d.droppedAt || this.expired(p, now)) continue;
      const a = this.versions.get(p.version);
      if (a !== undefined && holdersOf(a.placement, d.chunk).includes(d.shard)) return true;
    }
    return false;
  }

  private hasDraining(c: ChunkId): boolean {
    for (const d of this.draining.values()) if (d.chunk === c) return true;
    return false;
  }

  private resolveIn(a: Assignment, row: number): ResolveResult {
    const chunk = this.chunkAt(a, row);
    if (chunk === undefined) return { state: 'no-row' };
    const holders = holdersOf(a.placement, chunk);
    if (holders.length === 0) return { state: 'no-row' };
    return { state: 'ok', chunk, shard: holders[row % holders.length]!, version: a.version };
  }

  /**
   * Forget versions no reader or worker can still need: older than the
   * watermark, not pinned (unexpired), and superseded more than `graceMs`
   * ago.
   */
  private collectVersions(watermark: number, now: number): void {
    let keepFrom = Math.min(watermark, this.latestVersion);
    for (const p of this.pins.values()) if (!this.expired(p, now)) keepFrom = Math.min(keepFrom, p.version);
    for (const v of [...this.versions.keys()].sort((a, b) => a - b)) {
      if (v >= keepFrom) break;
      const next = this.publishedAtMs.get(v + 1);
      if (next !== undefined && now - next < this.options.graceMs) break;
      this.versions.delete(v);
      this.publishedAtMs.delete(v);
    }
  }
}
