/**
 * The shard mapper: which shards exist, what state each is in, how loaded
 * each is, which one a new producer should go to, and when to add or drain
 * shards. Its whole state lives in one shared region (plus a counter region
 * for the per-shard metrics), so every thread can attach it, route with it
 * and mutate it.
 *
 * Lifecycle of a shard:
 *
 *   Provisioning --activate--> Active --drain--> Draining --finalize--> Stopped --remove--> (gone)
 *
 * `scaleUp` creates shards directly Active; `scaleUpProvisioning` creates
 * them Provisioning, so the owner can start a consumer before any producer
 * is routed there. Shard ids come from a counter that only grows: an id is
 * never reused, even after its shard is removed. 0xFFFF (`NO_SHARD`) means
 * "no Active shard".
 *
 * Concurrency:
 * - Mutations (scale, activate, drain, finalize, remove, collect) hold the
 *   mapper lock, the project's `OwnerLock` (src/shm/owner-lock.ts): a word
 *   taken by CAS that records its holder's token, thread and held-since
 *   stamp. Workers sleep while they wait for it. The main thread never
 *   waits: when another thread holds the lock, a mutation on the main
 *   thread fails at once with 'lock-busy' (methods without a result type
 *   report it through `lastLockStatus()`) and the caller tries again later.
 * - A holder that outlives the lease (default 2 s) is taken over, and the
 *   recovery hook (`recover`) rebuilds everything the lock guards that a
 *   dead holder may have left half-done from the slots, which are the
 *   truth: the Active count is the number of Active slots, the id counter
 *   is past every id in a slot, an Active slot carries no drain mark, and
 *   the selection table is rebuilt and republished. So a thread that died
 *   inside any operation delays the others, never wedges them nor leaves
 *   the counters disagreeing with the slots.
 * - Every time the mapper reads (lease, cooldown, warm-up, drain window)
 *   comes from its clock (`clock` option: `realClock` by default, a
 *   `ManualClock` in tests), shared by every thread that attaches it.
 * - Creation and removal callbacks run after the lock is released, so a
 *   callback may call back into the mapper.
 * - `selectShard` never takes the lock. It reads a selection table that the
 *   lock holder rebuilds on every state change and every collection; see
 *   `publishTable` for why a reader never uses a half-written table.
 */
import {
  checkHeader,
  indexOf,
  offsetOf,
  MAPPER_COUNTERS,
  MAPPER_POLICY,
  MAPPER_RECORD,
  allocate,
  mapperLayout,
  type RegionLayout,
} from '../../native-layout/index.js';
import { badHandle, invalidArgument, outOfRange } from '../errors.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from '../shm/clock.js';
import { checkLease, LOCK_BUSY, LOCK_MISUSED, LOCK_OK, LOCK_RECOVERED, OwnerLock, type LockStatus } from '../shm/owner-lock.js';
import { LatencyCounter, type CounterHandle } from '../shm/counter.js';
import { RING_MAX_CAPACITY } from '../shm/ring.js';
import { emptyMetrics, ShardMetricsCollector, type ShardMetrics } from './metrics.js';
import {
  MAX_SHARDS_LIMIT,
  normalizePolicy,
  scalingPolicy,
  validatePolicy,
  type ScalingPolicy,
} from './policy.js';

/** `selectShard`'s answer when no shard is Active. */
export const NO_SHARD = 0xffff;
/** Two weights closer than this count as equally loaded. */
export const WEIGHT_TOLERANCE = 0.1;
/** Most slots a mapper region may have. */
export const MAX_SLOTS = 4096;
export const DEFAULT_MAPPER_LEASE_MS = 2000;

/** Slot state codes, as stored in shared memory. */
export const SLOT_FREE = 0;
export const SLOT_PROVISIONING = 1;
export const SLOT_ACTIVE = 2;
export const SLOT_DRAINING = 3;
export const SLOT_STOPPED = 4;

export type ShardState = 'provisioning' | 'active' | 'draining' | 'stopped';
const STATE_NAMES: readonly (ShardState | undefined)[] = [undefined, 'provisioning', 'active', 'draining', 'stopped'];
const STATE_CODES: Readonly<Record<ShardState, number>> = {
  provisioning: SLOT_PROVISIONING,
  active: SLOT_ACTIVE,
  draining: SLOT_DRAINING,
  stopped: SLOT_STOPPED,
};

export type ScalingDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'scale-up'; readonly count: number }
  | { readonly kind: 'scale-down'; readonly count: number };

/** Why a mapper operation did nothing. The mapper's state is unchanged in every case. */
export type MapperFailure =
  | 'at-max-shards'
  | 'at-min-shards'
  | 'in-cooldown'
  | 'no-free-slot'
  | 'unknown-shard'
  | 'illegal-transition'
  | 'lock-timeout'
  | 'lock-busy';

export type MapperResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: MapperFailure; readonly message: string };

export interface ShardMapperHandle {
  readonly kind: 'shard-mapper';
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly counters: CounterHandle;
  /** The mapper's clock (absent: the real clock). */
  readonly clock?: ClockHandle;
}

export interface ShardMapperOptions {
  /** Shards created Active at once, ids 0..initialShards-1. */
  initialShards: number;
  /** Capacity (events) of each shard's ring: the denominator of the fill ratio. */
  ringCapacity: number;
  /** Policy fields to override; normalized (maxShards raised to minShards and initialShards), then validated. */
  policy?: Partial<ScalingPolicy>;
  /**
   * Shard slots in the region: Active, Provisioning, Draining and Stopped
   * shards each hold one until removed. Default: 2 x maxShards + 2 (at
   * least initialShards), at most MAX_SLOTS.
   */
  slots?: number;
  /** Lock lease (ms) after which a holder is presumed dead. */
  leaseMs?: number;
  /** Clock for the lease, cooldown, warm-up and drain window (default `realClock`). Shared with every thread that attaches. */
  clock?: Clock;
}

/** Places inside mapper operations where a test may stop a thread (see `MapperTestHooks.setFaultPoint`). */
export type MapperFaultPoint = 'allocate:ids-taken' | 'allocate:slot-filled' | 'drain:slot-marked';

type Callback = (shardId: number) => void;


export class ShardMapper {
  readonly handle: ShardMapperHandle;
  readonly slots: number;
  readonly ringCapacity: number;
  /** The normalized, validated policy; fixed for the mapper's life. */
  readonly policy: ScalingPolicy;
  readonly leaseMs: number;

  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly counter: LatencyCounter;
  private readonly clock: Clock;
  private readonly ownerLock: OwnerLock;
  private lockStatus: LockStatus = LOCK_OK;
  private faultPoint: ((at: MapperFaultPoint) => void) | undefined;
  // Element indices, from the layout.
  private readonly ACTIVE: number;
  private readonly NEXT_ID: number;
  private readonly TABLE_GEN: number;
  private readonly LAST_SCALING: number;
  private readonly TABLES: number;
  private readonly SLOT_ID: number;
  private readonly SLOT_STATE: number;
  private readonly RECORDS: number;
  private readonly bufferLen: Int32Array;
  private readonly draining: Int32Array;
  private readonly attached: Int32Array;
  private readonly slotIds: Int32Array;
  /** Collector per slot, for the shard currently in it (rebuilt when the slot's id changes). */
  private readonly collectors: (ShardMetricsCollector | undefined)[];
  /** This object's copy of the selection table (see `selectEntry`). */
  private readonly cached: Int32Array;
  private cachedLen = 0;
  private cachedGen = -1;
  private onCreated: Callback | undefined;
  private onRemoved: Callback | undefined;

  private constructor(handle: ShardMapperHandle, layout: RegionLayout, counter: LatencyCounter, clock: Clock) {
    this.handle = handle;
    this.clock = clock;
    this.slots = handle.slots;
    this.counter = counter;
    this.i32 = new Int32Array(handle.sab);
    this.f64 = new Float64Array(handle.sab);
    const u32 = new Uint32Array(handle.sab);
    this.ringCapacity = u32[indexOf(layout, 'ringCapacity')]!;
    this.leaseMs = u32[indexOf(layout, 'leaseMs')]!;
    const p = indexOf(layout, 'policy');
    const f = this.f64;
    this.policy = Object.freeze({
      minShards: f[p + MAPPER_POLICY.minShards]!,
      maxShards: f[p + MAPPER_POLICY.maxShards]!,
      fillRatioThreshold: f[p + MAPPER_POLICY.fillRatioThreshold]!,
      underutilizedThreshold: f[p + MAPPER_POLICY.underutilizedThreshold]!,
      pushLatencyThresholdNs: f[p + MAPPER_POLICY.pushLatencyThresholdNs]!,
      flushLatencyThresholdUs: f[p + MAPPER_POLICY.flushLatencyThresholdUs]!,
      cooldownMs: f[p + MAPPER_POLICY.cooldownMs]!,
      autoScale: f[p + MAPPER_POLICY.autoScale] === 1,
      latencySampleEvery: f[p + MAPPER_POLICY.latencySampleEvery]!,
      minDrainMs: f[p + MAPPER_POLICY.minDrainMs]!,
    });
    this.ACTIVE = indexOf(layout, 'activeCount');
    this.NEXT_ID = indexOf(layout, 'nextShardId');
    this.TABLE_GEN = indexOf(layout, 'tableGen');
    this.LAST_SCALING = indexOf(layout, 'lastScalingMs');
    this.TABLES = indexOf(layout, 'tables');
    this.SLOT_ID = indexOf(layout, 'slotId');
    this.SLOT_STATE = indexOf(layout, 'slotState');
    this.RECORDS = indexOf(layout, 'records');
    const sab = handle.sab;
    this.bufferLen = new Int32Array(sab, offsetOf(layout, 'bufferLen'), this.slots);
    this.draining = new Int32Array(sab, offsetOf(layout, 'draining'), this.slots);
    this.attached = new Int32Array(sab, offsetOf(layout, 'attached'), this.slots);
    this.slotIds = new Int32Array(sab, offsetOf(layout, 'slotId'), this.slots);
    this.collectors = new Array<ShardMetricsCollector | undefined>(this.slots).fill(undefined);
    this.cached = new Int32Array(this.slots);
    this.ownerLock = new OwnerLock(this.i32, layout, this.leaseMs, clock, () => this.recover());
  }

  /**
   * Main thread, once: allocate the mapper with `initialShards` Active shards
   * (ids 0..n-1). The initial shards count as activated long ago, so they
   * are not in warm-up. Throws for an invalid policy or option, naming the
   * field and value.
   */
  static create(options: ShardMapperOptions): ShardMapper {
    const where = 'ShardMapper.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    const initial = options.initialShards;
    if (typeof initial !== 'number' || !Number.isInteger(initial)) throw invalidArgument(where, 'initialShards', initial, 'an integer');
    if (initial < 0 || initial > MAX_SLOTS) throw outOfRange(where, 'initialShards', initial, 0, MAX_SLOTS);
    const cap = options.ringCapacity;
    if (typeof cap !== 'number' || !Number.isInteger(cap)) throw invalidArgument(where, 'ringCapacity', cap, 'an integer');
    if (cap < 1 || cap > RING_MAX_CAPACITY) throw outOfRange(where, 'ringCapacity', cap, 1, RING_MAX_CAPACITY);
    const policy = validatePolicy(normalizePolicy(scalingPolicy(options.policy === undefined ? {} : options.policy, where), initial, where), where);
    const slots = options.slots ?? Math.min(MAX_SLOTS, Math.max(initial, 2 * policy.maxShards + 2));
    if (typeof slots !== 'number' || !Number.isInteger(slots)) throw invalidArgument(where, 'slots', slots, 'an integer');
    if (slots < Math.max(1, initial) || slots > MAX_SLOTS) throw outOfRange(where, 'slots', slots, Math.max(1, initial), MAX_SLOTS);
    const leaseMs = checkLease(where, options.leaseMs ?? DEFAULT_MAPPER_LEASE_MS);
    const clock = clockOption(where, options.clock);

    const layout = mapperLayout(slots);
    const sab = allocate(layout);
    const u32 = new Uint32Array(sab);
    u32[indexOf(layout, 'slots')] = slots;
    u32[indexOf(layout, 'ringCapacity')] = cap;
    u32[indexOf(layout, 'leaseMs')] = leaseMs;
    u32[indexOf(layout, 'initialShards')] = initial;
    const f64 = new Float64Array(sab);
    const p = indexOf(layout, 'policy');
    f64[p + MAPPER_POLICY.minShards] = policy.minShards;
    f64[p + MAPPER_POLICY.maxShards] = policy.maxShards;
    f64[p + MAPPER_POLICY.fillRatioThreshold] = policy.fillRatioThreshold;
    f64[p + MAPPER_POLICY.underutilizedThreshold] = policy.underutilizedThreshold;
    f64[p + MAPPER_POLICY.pushLatencyThresholdNs] = policy.pushLatencyThresholdNs;
    f64[p + MAPPER_POLICY.flushLatencyThresholdUs] = policy.flushLatencyThresholdUs;
    f64[p + MAPPER_POLICY.cooldownMs] = policy.cooldownMs;
    f64[p + MAPPER_POLICY.autoScale] = policy.autoScale ? 1 : 0;
    f64[p + MAPPER_POLICY.latencySampleEvery] = policy.latencySampleEvery;
    f64[p + MAPPER_POLICY.minDrainMs] = policy.minDrainMs;
    f64[indexOf(layout, 'lastScalingMs')] = NaN;
    const i32 = new Int32Array(sab);
    const ids = indexOf(layout, 'slotId');
    const states = indexOf(layout, 'slotState');
    const rec = indexOf(layout, 'records');
    const boot = clock.now() - 3_600_000;
    for (let s = 0; s < slots; s++) {
      i32[ids + s] = -1;
      f64[rec + s * MAPPER_RECORD.words + MAPPER_RECORD.drainStartedMs] = NaN;
    }
    for (let s = 0; s < initial; s++) {
      i32[ids + s] = s;
      i32[states + s] = SLOT_ACTIVE;
      f64[rec + s * MAPPER_RECORD.words + MAPPER_RECORD.activatedAtMs] = boot;
    }
    i32[indexOf(layout, 'activeCount')] = initial;
    i32[indexOf(layout, 'nextShardId')] = initial;
    const counter = LatencyCounter.create({ counters: slots * MAPPER_COUNTERS.stride });
    const handle: ShardMapperHandle = Object.freeze({ kind: 'shard-mapper', sab, slots, counters: counter.handle, clock: clock.handle });
    const mapper = new ShardMapper(handle, layout, counter, clock);
    mapper.publishTable();
    return mapper;
  }

  /** Wrap an existing mapper in any thread; checks the handle and both regions' headers. */
  static attach(handle: ShardMapperHandle): ShardMapper {
    const where = 'ShardMapper.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'shard-mapper') {
      throw badHandle(where, "handle.kind must be 'shard-mapper'", (handle as { kind?: unknown } | null)?.kind);
    }
    const slots = handle.slots;
    if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw outOfRange(where, 'handle.slots', slots, 1, MAX_SLOTS);
    const layout = mapperLayout(slots);
    checkHeader(handle.sab, layout);
    const counter = LatencyCounter.attach(handle.counters);
    if (counter.counters !== slots * MAPPER_COUNTERS.stride) {
      throw badHandle(where, `handle.counters has ${counter.counters} counters, expected ${slots * MAPPER_COUNTERS.stride}`);
    }
    return new ShardMapper(handle, layout, counter, attachClock(handle.clock, where));
  }

  // ------------------------------------------------------------ callbacks

  /** Called with each shard id that becomes Active, after the lock is released (this thread's mapper object only). */
  setOnShardCreated(callback: Callback | undefined): void {
    this.onCreated = callback;
  }

  /** Called with each shard id that becomes Stopped, after the lock is released (this thread's mapper object only). */
  setOnShardRemoved(callback: Callback | undefined): void {
    this.onRemoved = callback;
  }

  // ------------------------------------------------------------ reads

  /** Active shards now (any thread; may be stale on return). */
  activeShardCount(): number {
    return Atomics.load(this.i32, this.ACTIVE);
  }

  /** Shards in any state not yet removed. */
  totalShardCount(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.i32, this.SLOT_STATE + s) !== SLOT_FREE) n++;
    return n;
  }

  /** State of shard `id`, or undefined when no such shard exists (never created, or removed). */
  shardState(id: number): ShardState | undefined {
    const s = this.slotOf(id);
    return s < 0 ? undefined : STATE_NAMES[Atomics.load(this.i32, this.SLOT_STATE + s)];
  }

  /** Ids of the Active shards, ascending. */
  activeShardIds(): number[] {
    return this.idsWhere((st) => st === SLOT_ACTIVE);
  }

  /** Ids of every shard not Stopped (Provisioning, Active, Draining), ascending. */
  allShardIds(): number[] {
    return this.idsWhere((st) => st !== SLOT_FREE && st !== SLOT_STOPPED);
  }

  /** The slot shard `id` occupies, or -1. */
  slotOf(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= NO_SHARD) return -1;
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.load(this.i32, this.SLOT_ID + s) === id && Atomics.load(this.i32, this.SLOT_STATE + s) !== SLOT_FREE) return s;
    }
    return -1;
  }

  /** Shard id in slot `s`, or -1 when the slot is free. */
  idAtSlot(s: number): number {
    if (!(s >= 0 && s < this.slots)) return -1;
    return Atomics.load(this.i32, this.SLOT_STATE + s) === SLOT_FREE ? -1 : Atomics.load(this.i32, this.SLOT_ID + s);
  }

  /** State code of slot `s` (SLOT_*): the producer's per-batch check. One atomic load; never throws. */
  slotState(s: number): number {
    if (!(s >= 0 && s < this.slots)) return SLOT_FREE;
    return Atomics.load(this.i32, this.SLOT_STATE + s) | 0;
  }

  /** Metrics of shard `id` as of the last collection, or undefined. */
  lastMetrics(id: number): ShardMetrics | undefined {
    const s = this.slotOf(id);
    return s < 0 ? undefined : this.readRecord(s, id);
  }

  /** The live metrics collector of shard `id`, or undefined when no such shard exists. */
  metricsCollector(id: number): ShardMetricsCollector | undefined {
    const s = this.slotOf(id);
    return s < 0 ? undefined : this.collectorAt(s, id);
  }

  /** Collector of whatever shard is in slot `s` (the router's producers and consumers use slots). */
  collectorAtSlot(s: number): ShardMetricsCollector | undefined {
    const id = this.idAtSlot(s);
    return id < 0 ? undefined : this.collectorAt(s, id);
  }

  // ------------------------------------------------------------ selection

  /**
   * The shard a new producer (or event) with 32-bit `hash` should go to: one
   * of the Active shards whose weight is within WEIGHT_TOLERANCE of the
   * lowest, picked by multiply-shift (unbiased for any count, no modulo).
   * NO_SHARD when no shard is Active. Any thread; lock-free, no allocation.
   */
  selectShard(hash: number): number {
    const e = this.selectEntry(hash);
    return e < 0 ? NO_SHARD : e & 0xffff;
  }

  /** Like `selectShard`, but the slot of the chosen shard, or -1. */
  selectSlot(hash: number): number {
    const e = this.selectEntry(hash);
    return e < 0 ? -1 : e >>> 16;
  }

  /** The current selection table as shard ids (a copy; tests and diagnostics). */
  selectionTable(): number[] {
    this.refreshTable();
    const out: number[] = [];
    for (let k = 0; k < this.cachedLen; k++) out.push(this.cached[k]! & 0xffff);
    return out;
  }

  /*
   * Read side of the selection table. The lock holder writes a new table
   * into the buffer NOT currently published, then publishes it by bumping
   * the generation (buffer = generation & 1) with an atomic store.
   *
   * Each mapper object keeps a private copy of the table and the generation
   * it copied. The per-call check reads the generation with a PLAIN load: an
   * `Atomics.load` costs about 8 ns on Node 20, more than the whole rest of
   * the selection. A plain aligned 32-bit load cannot tear; it can only be
   * late, which is the same as having been called a moment earlier (a
   * selection can always be overtaken by a drain, here as with any
   * lock-free read). When it differs from the copy's generation, the copy is
   * refreshed under the full protocol (`refreshTable`), so a selection never
   * comes from a half-written table.
   */
  private selectEntry(hash: number): number {
    if (this.i32[this.TABLE_GEN] !== this.cachedGen) this.refreshTable();
    const len = this.cachedLen;
    return len === 0 ? -1 : this.cached[((hash >>> 0) * len * 2.3283064365386963e-10) | 0]!;
  }

  /*
   * Copy the published table. Load the generation, copy its buffer, load
   * the generation again: equal means no publication happened in between,
   * and since a writer only ever writes the buffer of the NEXT generation
   * (not this one unless a publication happened first), the copy is a
   * complete table. Otherwise retry; publications happen at mapper events
   * (a few per second), so retries are rare and short.
   */
  private refreshTable(): void {
    const i32 = this.i32;
    for (;;) {
      const gen = Atomics.load(i32, this.TABLE_GEN);
      const base = this.TABLES + (gen & 1) * (this.slots + 1);
      const len = i32[base]!;
      if (len >= 0 && len <= this.slots) {
        for (let k = 0; k < len; k++) this.cached[k] = i32[base + 1 + k]!;
        if (Atomics.load(i32, this.TABLE_GEN) === gen) {
          this.cachedLen = len;
          this.cachedGen = gen;
          return;
        }
      }
    }
  }

  /** Lock holder: rebuild the selection table from the slots and publish it. */
  private publishTable(): void {
    const i32 = this.i32;
    const f64 = this.f64;
    const active: number[] = [];
    let min = Number.MAX_VALUE;
    for (let s = 0; s < this.slots; s++) {
      if (i32[this.SLOT_STATE + s] !== SLOT_ACTIVE) continue;
      active.push(s);
      const w = f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.weight]!;
      if (w < min) min = w; // NaN compares false: ignored, as the reference's fold(f64::min) ignores it
    }
    active.sort((a, b) => i32[this.SLOT_ID + a]! - i32[this.SLOT_ID + b]!);
    let picked = active.filter(
      (s) => Math.abs(f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.weight]! - min) < WEIGHT_TOLERANCE,
    );
    // Every weight NaN: the filter kept nothing; fall back to every Active shard.
    if (picked.length === 0) picked = active;
    const gen = i32[this.TABLE_GEN]!;
    const base = this.TABLES + ((gen + 1) & 1) * (this.slots + 1);
    for (let k = 0; k < picked.length; k++) {
      const s = picked[k]!;
      i32[base + 1 + k] = (s << 16) | i32[this.SLOT_ID + s]!;
    }
    i32[base] = picked.length;
    Atomics.store(i32, this.TABLE_GEN, (gen + 1) | 0);
  }

  // ------------------------------------------------------------ metrics and decisions

  /**
   * Collect every shard's window (resetting it), store the metrics and
   * weights, and republish the selection table. Returns the metrics by id.
   */
  collectMetrics(): ShardMetrics[] {
    const out: ShardMetrics[] = [];
    if (!this.lock()) return out;
    try {
      for (const s of this.liveSlotsById()) {
        const id = this.i32[this.SLOT_ID + s]!;
        const m = this.collectorAt(s, id).collectAndReset(emptyMetrics(id));
        this.writeRecord(s, m);
        out.push(m);
      }
      this.publishTable();
    } finally {
      this.unlock();
    }
    return out;
  }

  /**
   * Decide, without acting, whether to scale: nothing when auto-scaling is
   * off or within the cooldown of the last scaling action; otherwise, among
   * Active shards past their warm-up (cooldown since activation), scale up
   * when more than half of the Active count is overloaded (fill, push or
   * flush latency over threshold) and below maxShards, by half the
   * overloaded (at least 1, at most the room left); else scale down when
   * more than half is idle (emptier than the idle threshold and no event in
   * the window) and above minShards, by half the idle (at least 1, at most
   * down to minShards).
   */
  evaluateScaling(): ScalingDecision {
    const p = this.policy;
    if (!p.autoScale) return NONE;
    if (!this.lock()) return NONE;
    try {
      const now = this.clock.now();
      if (this.inCooldown(now)) return NONE;
      const active = this.i32[this.ACTIVE]!;
      let overloaded = 0;
      let idle = 0;
      for (let s = 0; s < this.slots; s++) {
        if (this.i32[this.SLOT_STATE + s] !== SLOT_ACTIVE) continue;
        const r = this.RECORDS + s * MAPPER_RECORD.words;
        if (now - this.f64[r + MAPPER_RECORD.activatedAtMs]! < p.cooldownMs) continue; // warm-up
        const fill = this.f64[r + MAPPER_RECORD.fillRatio]!;
        if (
          fill > p.fillRatioThreshold ||
          this.f64[r + MAPPER_RECORD.pushLatencyNs]! > p.pushLatencyThresholdNs ||
          this.f64[r + MAPPER_RECORD.flushLatencyUs]! > p.flushLatencyThresholdUs
        ) {
          overloaded++;
        }
        if (fill < p.underutilizedThreshold && this.f64[r + MAPPER_RECORD.eventRate] === 0) idle++;
      }
      const half = Math.floor(active / 2);
      if (overloaded > half && active < p.maxShards) {
        return { kind: 'scale-up', count: Math.min(Math.max(Math.floor(overloaded / 2), 1), p.maxShards - active) };
      }
      if (idle > half && active > p.minShards) {
        return { kind: 'scale-down', count: Math.min(Math.max(Math.floor(idle / 2), 1), active - p.minShards) };
      }
      return NONE;
    } finally {
      this.unlock();
    }
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * Add `count` shards, Active at once (routable as soon as this returns).
   * Refused past maxShards or within the cooldown; `count` 0 is a no-op that
   * does not touch the cooldown. Starts the cooldown. Calls the creation
   * callback for each new id after releasing the lock.
   */
  scaleUp(count: number): MapperResult<number[]> {
    checkCount('ShardMapper.scaleUp', count);
    if (count === 0) return ok([]);
    const r = this.locked(() => {
      const a = this.allocate(count, SLOT_ACTIVE, false);
      if (!a.ok) return a;
      Atomics.add(this.i32, this.ACTIVE, count);
      this.f64[this.LAST_SCALING] = this.clock.now();
      this.publishTable();
      return a;
    });
    if (r.ok) for (const id of r.value) this.onCreated?.(id);
    return r;
  }

  /**
   * Add `count` shards in Provisioning: they have ids and collectors but are
   * not routable, not counted Active and not in scaling decisions until
   * `activate`. Same budget and cooldown gates as `scaleUp` (so staging
   * cannot bypass the policy); starts the cooldown; no callback.
   */
  scaleUpProvisioning(count: number): MapperResult<number[]> {
    checkCount('ShardMapper.scaleUpProvisioning', count);
    if (count === 0) return ok([]);
    return this.locked(() => {
      const a = this.allocate(count, SLOT_PROVISIONING, false);
      if (a.ok) this.f64[this.LAST_SCALING] = this.clock.now();
      return a;
    });
  }

  /**
   * `scaleUpProvisioning` for an operator's explicit request: skips the
   * cooldown (but not maxShards), and still starts the cooldown so the
   * automatic loop keeps its pace.
   */
  scaleUpProvisioningForce(count: number): MapperResult<number[]> {
    checkCount('ShardMapper.scaleUpProvisioningForce', count);
    if (count === 0) return ok([]);
    return this.locked(() => {
      const a = this.allocate(count, SLOT_PROVISIONING, true);
      if (a.ok) this.f64[this.LAST_SCALING] = this.clock.now();
      return a;
    });
  }

  /**
   * Provisioning -> Active. `value` is true when this call made the
   * transition, false when the shard was already Active (idempotent; nothing
   * changes). The budget is re-checked under the lock, so racing
   * activations never take the Active count past maxShards. Draining and
   * Stopped shards cannot be activated. Calls the creation callback once per
   * real transition, after releasing the lock.
   */
  activate(id: number): MapperResult<boolean> {
    const r = this.locked((): MapperResult<boolean> => {
      const s = this.slotOf(id);
      if (s < 0) return fail('unknown-shard', `activate: no shard with id ${id}`);
      const st = this.i32[this.SLOT_STATE + s]!;
      if (st === SLOT_ACTIVE) return ok(false);
      if (st !== SLOT_PROVISIONING) {
        return fail('illegal-transition', `activate: shard ${id} is ${STATE_NAMES[st]}; only a provisioning shard can be activated`);
      }
      const active = this.i32[this.ACTIVE]!;
      if (active >= this.policy.maxShards) {
        return fail('at-max-shards', `activate: ${active} shards are active, maxShards is ${this.policy.maxShards}`);
      }
      this.f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.activatedAtMs] = this.clock.now();
      Atomics.store(this.i32, this.SLOT_STATE + s, SLOT_ACTIVE);
      Atomics.add(this.i32, this.ACTIVE, 1);
      this.publishTable();
      return ok(true);
    });
    if (r.ok && r.value) this.onCreated?.(id);
    return r;
  }

  /**
   * Active -> Draining for shard `id`: no longer routable, its
   * pushes-since-drain count starts from zero, the Active count drops, and
   * the cooldown starts (a drain is a scale-down). Draining an already
   * draining shard is a no-op; Provisioning and Stopped shards cannot be
   * drained; refused when it would leave fewer than minShards Active.
   */
  drainSpecific(id: number): MapperResult<void> {
    return this.locked((): MapperResult<void> => {
      const s = this.slotOf(id);
      if (s < 0) return fail('unknown-shard', `drain: no shard with id ${id}`);
      const st = this.i32[this.SLOT_STATE + s]!;
      if (st === SLOT_DRAINING) return ok(undefined);
      if (st !== SLOT_ACTIVE) {
        return fail('illegal-transition', `drain: shard ${id} is ${STATE_NAMES[st]}; only an active shard can be drained`);
      }
      const active = this.i32[this.ACTIVE]!;
      if (active <= this.policy.minShards) {
        return fail('at-min-shards', `drain: ${active} shards are active, minShards is ${this.policy.minShards}`);
      }
      this.startDrain(s);
      Atomics.sub(this.i32, this.ACTIVE, 1);
      this.f64[this.LAST_SCALING] = this.clock.now();
      this.publishTable();
      return ok(undefined);
    });
  }

  /**
   * Drain up to `count` Active shards, least loaded (lowest weight) first,
   * never below minShards; refused at minShards (also when that leaves
   * nothing to drain, `count` 0 included) and within the cooldown. Starts
   * the cooldown. Returns the drained ids.
   */
  scaleDown(count: number): MapperResult<number[]> {
    checkCount('ShardMapper.scaleDown', count);
    return this.locked((): MapperResult<number[]> => {
      const active = this.i32[this.ACTIVE]!;
      const min = this.policy.minShards;
      const n = Math.min(count, active - min);
      if (active <= min || n <= 0) {
        return fail('at-min-shards', `scaleDown: ${active} shards are active, minShards is ${min}`);
      }
      const now = this.clock.now();
      if (this.inCooldown(now)) return this.cooldownFailure('scaleDown', now);
      const f64 = this.f64;
      const weight = (s: number): number => f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.weight]!;
      const order = this.liveSlotsById().filter((s) => this.i32[this.SLOT_STATE + s] === SLOT_ACTIVE);
      // Stable sort by weight, NaN last (like a total order on floats), ties by id.
      order.sort((a, b) => {
        const wa = weight(a);
        const wb = weight(b);
        if (Number.isNaN(wa) || Number.isNaN(wb)) return Number.isNaN(wa) ? (Number.isNaN(wb) ? 0 : 1) : -1;
        return wa - wb;
      });
      const ids: number[] = [];
      for (const s of order.slice(0, n)) {
        this.startDrain(s);
        ids.push(this.i32[this.SLOT_ID + s]!);
      }
      Atomics.sub(this.i32, this.ACTIVE, n);
      f64[this.LAST_SCALING] = now;
      this.publishTable();
      return ok(ids);
    });
  }

  /**
   * Stop every Draining shard that is finished: its ring reported empty, no
   * push counted since the drain began, no producer attached, and draining
   * for longer than minDrainMs. Returns the stopped ids; calls the removal
   * callback for each after releasing the lock.
   */
  finalizeDraining(): number[] {
    const stopped: number[] = [];
    if (!this.lock()) return stopped;
    try {
      const now = this.clock.now();
      for (const s of this.liveSlotsById()) {
        if (this.i32[this.SLOT_STATE + s] !== SLOT_DRAINING) continue;
        // A producer still attached could push again: not finished. (Checked
        // before the ring length: a producer detaches only after its last
        // push is published, so once we see it gone, the length it left is
        // visible.)
        if (Atomics.load(this.attached, s) !== 0) continue;
        if (Atomics.load(this.bufferLen, s) !== 0) continue;
        const id = this.i32[this.SLOT_ID + s]!;
        if (this.collectorAt(s, id).pushesSinceDrainStart() !== 0) continue;
        const started = this.f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.drainStartedMs]!;
        if (!(now - started > this.policy.minDrainMs)) continue;
        Atomics.store(this.i32, this.SLOT_STATE + s, SLOT_STOPPED);
        stopped.push(id);
      }
      if (stopped.length > 0) this.publishTable();
    } finally {
      this.unlock();
    }
    for (const id of stopped) this.onRemoved?.(id);
    return stopped;
  }

  /**
   * Restart the drain window of Draining shard `id`: zero its
   * pushes-since-drain count and restamp the drain start. For the owner of
   * the data path once the shard's producer has moved away: a push that
   * raced the drain's start was counted, and would otherwise hold the shard
   * in Draining forever. Returns whether the shard was Draining.
   */
  rearmDrain(id: number): boolean {
    const r = this.locked((): MapperResult<boolean> => {
      const s = this.slotOf(id);
      if (s < 0 || this.i32[this.SLOT_STATE + s] !== SLOT_DRAINING) return ok(false);
      this.collectorAt(s, id).setDraining(true);
      this.f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.drainStartedMs] = this.clock.now();
      return ok(true);
    });
    return r.ok && r.value;
  }

  /** Remove shard `id` if it is Stopped; its slot becomes free. Returns whether it did. */
  removeSpecificStoppedShard(id: number): boolean {
    const r = this.locked((): MapperResult<boolean> => {
      const s = this.slotOf(id);
      if (s < 0 || this.i32[this.SLOT_STATE + s] !== SLOT_STOPPED) return ok(false);
      this.freeSlot(s);
      this.publishTable();
      return ok(true);
    });
    return r.ok && r.value;
  }

  /** Remove every Stopped shard. Returns their ids, ascending. */
  removeStoppedShards(): number[] {
    const r = this.locked((): MapperResult<number[]> => {
      const ids: number[] = [];
      for (const s of this.liveSlotsById()) {
        if (this.i32[this.SLOT_STATE + s] !== SLOT_STOPPED) continue;
        ids.push(this.i32[this.SLOT_ID + s]!);
        this.freeSlot(s);
      }
      if (ids.length > 0) this.publishTable();
      return ok(ids);
    });
    return r.ok ? r.value : [];
  }

  // ------------------------------------------------------------ producer binding

  /**
   * Bind a producer (token: a non-zero integer unique to it) to an Active
   * shard that has no producer: the shard `selectShard(hash)` picks if free,
   * else the next free one in the selection table, else the least loaded
   * free Active shard. Returns the slot, or -1 when every Active shard has a
   * producer. Any thread; no lock (a CAS on the slot's producer word).
   *
   * The claim is made first and the state checked after: a drain publishes
   * Draining before it looks for attached producers, so either this check
   * sees Draining (and we let go without pushing) or the drain sees us
   * attached (and waits until we detach).
   */
  bindProducer(hash: number, token: number): number {
    if (!Number.isInteger(token) || token === 0 || (token | 0) !== token) {
      throw invalidArgument('ShardMapper.bindProducer', 'token', token, 'a non-zero 32-bit integer');
    }
    const slots = this.slots;
    const tries: number[] = [];
    const first = this.selectSlot(hash);
    if (first >= 0) tries.push(first);
    for (const id of this.selectionTable()) tries.push(this.slotOf(id));
    const rest: number[] = [];
    for (let s = 0; s < slots; s++) if (this.slotState(s) === SLOT_ACTIVE) rest.push(s);
    const w = (s: number): number => this.f64[this.RECORDS + s * MAPPER_RECORD.words + MAPPER_RECORD.weight]!;
    rest.sort((a, b) => w(a) - w(b));
    tries.push(...rest);
    for (const s of tries) {
      if (s < 0 || Atomics.load(this.attached, s) !== 0) continue;
      if (Atomics.compareExchange(this.attached, s, 0, token) !== 0) continue;
      if (this.slotState(s) === SLOT_ACTIVE) return s;
      Atomics.store(this.attached, s, 0);
    }
    return -1;
  }

  /** Let go of slot `s` if `token` holds it. Call after the producer's last push to it. */
  unbindProducer(s: number, token: number): void {
    if (s >= 0 && s < this.slots) Atomics.compareExchange(this.attached, s, token, 0);
  }

  /** Token of the producer attached to slot `s` (0 = none). */
  attachedProducer(s: number): number {
    return s >= 0 && s < this.slots ? Atomics.load(this.attached, s) : 0;
  }

  /** Report slot `s`'s ring length (the data path's owner does this before collecting and finalizing). */
  reportBufferLen(s: number, len: number): void {
    if (s >= 0 && s < this.slots) Atomics.store(this.bufferLen, s, len | 0);
  }

  // ------------------------------------------------------------ lock

  /**
   * How the last lock attempt by this object went (LOCK_* from
   * src/shm/owner-lock.ts): `LOCK_BUSY` tells a main-thread caller of a
   * method without a result type (`collectMetrics`, `finalizeDraining`,
   * `evaluateScaling`, ...) that it did nothing because another thread held
   * the lock.
   */
  lastLockStatus(): LockStatus {
    return this.lockStatus;
  }

  /** Any thread: thread id holding the mapper lock, or -1. */
  lockOwner(): number {
    return this.ownerLock.owner();
  }

  /** Any thread: how many times a dead or stale holder of the mapper lock has been taken over. */
  lockRecoveries(): number {
    return this.ownerLock.recoveries();
  }

  /**
   * Any thread: if thread `threadId` (known to have exited, e.g. from a
   * worker's `exit` event) holds the mapper lock, take it over at once, run
   * the recovery, release. Returns whether it did.
   */
  recoverDeadThread(threadId: number): boolean {
    return this.ownerLock.recoverDeadOwner(threadId);
  }

  // ------------------------------------------------------------ test hooks

  /**
   * Direct access to state the public API only changes through the
   * lifecycle, for tests that pin a scenario (a stale cooldown, a shard's
   * metrics, the id counter). Not for production use.
   */
  testHooks(): MapperTestHooks {
    const rec = (id: number): number => {
      const s = this.slotOf(id);
      if (s < 0) throw invalidArgument('testHooks', 'id', id, 'an existing shard id');
      return s;
    };
    return {
      now: () => this.clock.now(),
      lastScalingMs: () => this.withLockValue(() => this.f64[this.LAST_SCALING]!),
      setLastScalingMs: (ms) => this.withLockValue(() => void (this.f64[this.LAST_SCALING] = ms ?? NaN)),
      setNextShardId: (n) => this.withLockValue(() => void (this.i32[this.NEXT_ID] = n)),
      setLastMetrics: (id, m) =>
        this.withLockValue(() => {
          const s = rec(id);
          const cur = { ...this.readRecord(s, id), ...m };
          this.writeRecord(s, cur);
        }),
      setActivatedAtMs: (id, ms) =>
        this.withLockValue(() => void (this.f64[this.RECORDS + rec(id) * MAPPER_RECORD.words + MAPPER_RECORD.activatedAtMs] = ms)),
      setDrainStartedMs: (id, ms) =>
        this.withLockValue(() => void (this.f64[this.RECORDS + rec(id) * MAPPER_RECORD.words + MAPPER_RECORD.drainStartedMs] = ms)),
      setState: (id, state) => this.withLockValue(() => Atomics.store(this.i32, this.SLOT_STATE + rec(id), STATE_CODES[state])),
      rebuildSelectionTable: () => this.withLockValue(() => this.publishTable()),
      holdLock: <T>(fn: () => T): T => this.withLockValue(fn),
      setFaultPoint: (fn) => void (this.faultPoint = fn),
    };
  }

  // ------------------------------------------------------------ internals

  private collectorAt(s: number, id: number): ShardMetricsCollector {
    let c = this.collectors[s];
    if (c === undefined || c.shardId !== id) {
      c = new ShardMetricsCollector(id, {
        counter: this.counter,
        counterBase: s * MAPPER_COUNTERS.stride,
        bufferLen: this.bufferLen,
        draining: this.draining,
        slotIds: this.slotIds,
        slot: s,
        capacity: this.ringCapacity,
      });
      this.collectors[s] = c;
    }
    return c;
  }

  private idsWhere(pred: (state: number) => boolean): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.slots; s++) {
      const st = Atomics.load(this.i32, this.SLOT_STATE + s);
      if (st !== SLOT_FREE && pred(st)) out.push(Atomics.load(this.i32, this.SLOT_ID + s));
    }
    return out.sort((a, b) => a - b);
  }

  /** Occupied slots in ascending id order. */
  private liveSlotsById(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.slots; s++) if (this.i32[this.SLOT_STATE + s] !== SLOT_FREE) out.push(s);
    return out.sort((a, b) => this.i32[this.SLOT_ID + a]! - this.i32[this.SLOT_ID + b]!);
  }

  private readRecord(s: number, id: number): ShardMetrics {
    const r = this.RECORDS + s * MAPPER_RECORD.words;
    const f = this.f64;
    return {
      shardId: id,
      fillRatio: f[r + MAPPER_RECORD.fillRatio]!,
      eventRate: f[r + MAPPER_RECORD.eventRate]!,
      avgPushLatencyNs: f[r + MAPPER_RECORD.pushLatencyNs]!,
      avgFlushLatencyUs: f[r + MAPPER_RECORD.flushLatencyUs]!,
      draining: f[r + MAPPER_RECORD.draining] === 1,
      weight: f[r + MAPPER_RECORD.weight]!,
    };
  }

  private writeRecord(s: number, m: ShardMetrics): void {
    const r = this.RECORDS + s * MAPPER_RECORD.words;
    const f = this.f64;
    f[r + MAPPER_RECORD.fillRatio] = m.fillRatio;
    f[r + MAPPER_RECORD.eventRate] = m.eventRate;
    f[r + MAPPER_RECORD.pushLatencyNs] = m.avgPushLatencyNs;
    f[r + MAPPER_RECORD.flushLatencyUs] = m.avgFlushLatencyUs;
    f[r + MAPPER_RECORD.draining] = m.draining ? 1 : 0;
    f[r + MAPPER_RECORD.weight] = m.weight;
  }

  /** Lock holder: Active -> Draining for slot `s` (state, stamp, collector, weight). */
  private startDrain(s: number): void {
    const r = this.RECORDS + s * MAPPER_RECORD.words;
    this.f64[r + MAPPER_RECORD.drainStartedMs] = this.clock.now();
    this.f64[r + MAPPER_RECORD.draining] = 1;
    this.f64[r + MAPPER_RECORD.weight] = Number.MAX_VALUE;
    // Counter reset and flag first, then the state a producer checks: a
    // producer that sees Draining pushes no more, and a push that raced the
    // reset is counted (deferring finalization, never hiding a push).
    this.collectorAt(s, this.i32[this.SLOT_ID + s]!).setDraining(true);
    this.faultPoint?.('drain:slot-marked');
    Atomics.store(this.i32, this.SLOT_STATE + s, SLOT_DRAINING);
  }

  private freeSlot(s: number): void {
    Atomics.store(this.i32, this.SLOT_STATE + s, SLOT_FREE);
    Atomics.store(this.i32, this.SLOT_ID + s, -1);
    this.collectors[s] = undefined;
  }

  private inCooldown(now: number): boolean {
    const last = this.f64[this.LAST_SCALING]!;
    return !Number.isNaN(last) && now - last < this.policy.cooldownMs;
  }

  private cooldownFailure(what: string, now: number): MapperResult<never> {
    const left = this.policy.cooldownMs - (now - this.f64[this.LAST_SCALING]!);
    return fail('in-cooldown', `${what}: in cooldown for another ${left.toFixed(3)} ms (cooldownMs ${this.policy.cooldownMs})`);
  }

  /**
   * Lock holder: check the budget (and the cooldown unless `force`), then
   * take `count` ids from the counter and `count` free slots. Ids stop
   * below 0xFFFF, the sentinel. Does not touch the Active count.
   */
  private allocate(count: number, state: number, force: boolean): MapperResult<number[]> {
    const active = this.i32[this.ACTIVE]!;
    const max = this.policy.maxShards;
    if (active + count > max) {
      return fail('at-max-shards', `scale up by ${count}: ${active} shards are active, maxShards is ${max}`);
    }
    const now = this.clock.now();
    if (!force && this.inCooldown(now)) return this.cooldownFailure(`scale up by ${count}`, now);
    const first = this.i32[this.NEXT_ID]!;
    if (first + count - 1 >= NO_SHARD) {
      return fail('at-max-shards', `scale up by ${count}: shard ids would pass ${NO_SHARD - 1} (next id is ${first})`);
    }
    const free: number[] = [];
    for (let s = 0; s < this.slots && free.length < count; s++) if (this.i32[this.SLOT_STATE + s] === SLOT_FREE) free.push(s);
    if (free.length < count) {
      return fail('no-free-slot', `scale up by ${count}: only ${free.length} of ${this.slots} slots are free; remove stopped shards first`);
    }
    this.i32[this.NEXT_ID] = first + count;
    this.faultPoint?.('allocate:ids-taken');
    const ids: number[] = [];
    for (let k = 0; k < count; k++) {
      const s = free[k]!;
      const id = first + k;
      const r = this.RECORDS + s * MAPPER_RECORD.words;
      for (let w = 0; w < MAPPER_RECORD.words; w++) this.f64[r + w] = 0;
      this.f64[r + MAPPER_RECORD.drainStartedMs] = NaN;
      this.f64[r + MAPPER_RECORD.activatedAtMs] = now;
      Atomics.store(this.attached, s, 0);
      Atomics.store(this.i32, this.SLOT_ID + s, id);
      this.collectorAt(s, id).reset();
      Atomics.store(this.i32, this.SLOT_STATE + s, state);
      ids.push(id);
      this.faultPoint?.('allocate:slot-filled');
    }
    return ok(ids);
  }

  private locked<T>(fn: () => MapperResult<T>): MapperResult<T> {
    if (!this.lock()) {
      return this.lockStatus === LOCK_BUSY
        ? fail('lock-busy', `the mapper lock is held by thread ${this.ownerLock.owner()}; the main thread does not wait for it, try again later`)
        : fail('lock-timeout', `could not take the mapper lock within ${2 * this.leaseMs} ms (held by thread ${this.ownerLock.owner()})`);
    }
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  private withLockValue<T>(fn: () => T): T {
    if (!this.lock()) throw invalidArgument('testHooks', 'mapper lock', 'held', 'free within the lease');
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  /**
   * Take the mapper lock: within twice the lease on worker threads
   * (sleeping), at once or not at all on the main thread. A stale holder is
   * taken over and `recover` runs first. Records the status for
   * `lastLockStatus`.
   */
  private lock(): boolean {
    const s = this.ownerLock.lock(2 * this.leaseMs);
    this.lockStatus = s;
    if (s === LOCK_OK || s === LOCK_RECOVERED) return true;
    if (s === LOCK_MISUSED) throw invalidArgument('ShardMapper', 'lock', 'held by this object', 'not re-entered');
    return false;
  }

  private unlock(): void {
    this.ownerLock.unlock();
  }

  /**
   * The recovery hook: runs under the lock when a holder that died (or
   * outlived its lease) is taken over, before the new holder's operation.
   * Rebuilds from the slots whatever the lock guards that the dead holder may
   * have left half-done. A slot becomes live only by its state store, the
   * last write of `allocate`, so a slot is either fully set up or still free;
   * the counters and the table are derived state:
   * - the Active count is the number of Active slots;
   * - the id counter moves past every id found in a slot (ids taken by a dead
   *   `allocate` and never placed are skipped, never reused);
   * - an Active slot carries no drain mark (a drain that died between its
   *   marks and the state store never happened);
   * - the selection table is rebuilt and republished.
   */
  private recover(): void {
    const i32 = this.i32;
    let active = 0;
    let maxId = -1;
    for (let s = 0; s < this.slots; s++) {
      const st = i32[this.SLOT_STATE + s]!;
      if (st === SLOT_FREE) continue;
      const id = i32[this.SLOT_ID + s]!;
      if (id > maxId) maxId = id;
      if (st !== SLOT_ACTIVE) continue;
      active++;
      const r = this.RECORDS + s * MAPPER_RECORD.words;
      if (this.f64[r + MAPPER_RECORD.draining] === 1) {
        this.f64[r + MAPPER_RECORD.draining] = 0;
        this.f64[r + MAPPER_RECORD.weight] = 0;
        this.f64[r + MAPPER_RECORD.drainStartedMs] = NaN;
        this.collectorAt(s, id).setDraining(false);
      }
    }
    Atomics.store(i32, this.ACTIVE, active);
    if (i32[this.NEXT_ID]! <= maxId) i32[this.NEXT_ID] = maxId + 1;
    this.publishTable();
  }
}

export interface MapperTestHooks {
  now(): number;
  lastScalingMs(): number;
  setLastScalingMs(ms: number | null): void;
  setNextShardId(n: number): void;
  setLastMetrics(id: number, metrics: Partial<ShardMetrics>): void;
  setActivatedAtMs(id: number, ms: number): void;
  setDrainStartedMs(id: number, ms: number): void;
  setState(id: number, state: ShardState): void;
  rebuildSelectionTable(): void;
  holdLock<T>(fn: () => T): T;
  /**
   * Call `fn` at each fault point this mapper object passes, under the lock
   * (a test stops its thread there, in the middle of an operation); undefined
   * removes it.
   */
  setFaultPoint(fn: ((at: MapperFaultPoint) => void) | undefined): void;
}

const NONE: ScalingDecision = Object.freeze({ kind: 'none' });

function ok<T>(value: T): MapperResult<T> {
  return { ok: true, value };
}

function fail(error: MapperFailure, message: string): MapperResult<never> {
  return { ok: false, error, message };
}

function checkCount(where: string, count: unknown): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count)) throw invalidArgument(where, 'count', count, 'an integer');
  if (count < 0 || count > MAX_SHARDS_LIMIT) throw outOfRange(where, 'count', count, 0, MAX_SHARDS_LIMIT);
}
