/**
 * The shard mapper: which shards exist, what state each is in, how loaded
 * each is, which one a new producer should go to, and when to add or drain
 * shards. Its whole state lives in one shared region (plus a counter region
 * for the per-shard metrics), so every thread can attach it, route with it
 * and mutate it.
 *
 * Lifecycle of a shard (lifecycle.ts): Provisioning -> Active -> Draining ->
 * Stopped -> removed. `scaleUp` creates shards directly Active; `scaleUpProvisioning` creates
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
 *   recovery hook (`recover` in lifecycle.ts) rebuilds everything the lock guards that a
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
 *   selection-table.ts for why a reader never uses a half-written table.
 * - Each shard has a circuit breaker (breakers.ts) in a shared breaker
 *   table that every thread attaches with the mapper. Producers report
 *   failed waits for ring space to it without any lock; a shard whose
 *   breaker is not closed is left out of the selection table and takes no
 *   producer. The control loop (the router service) moves it through
 *   half-open back to closed.
 *
 * This class is the public face; each concept has its own file:
 * mapper-region.ts (create and attach the regions), mapper-codec.ts (the
 * policy and slot-record words), mapper-core.ts (views, collectors, lock),
 * selection-table.ts, lifecycle.ts (transitions and the recovery hook),
 * collection.ts (metrics windows and the scaling evaluation), scaling.ts
 * (the pure decision), producer-binding.ts, breakers.ts (the circuit-breaker
 * policy), mapper-test-hooks.ts.
 */
import type { RegionLayout } from '../../native-layout/index.js';
import type { BreakerTable } from '../shm/breaker.js';
import type { Clock } from '../shm/clock.js';
import type { LatencyCounter } from '../shm/counter.js';
import type { LockStatus } from '../shm/owner-lock.js';
import * as breakers from './breakers.js';
import type { BreakerPolicy, BreakerStateName } from './breakers.js';
import { collectMetrics, evaluateScaling } from './collection.js';
import * as lifecycle from './lifecycle.js';
import { MapperCore } from './mapper-core.js';
import {
  attachMapperRegion,
  createMapperRegion,
  type ShardMapperHandle,
  type ShardMapperOptions,
} from './mapper-region.js';
import { mapperTestHooks, type MapperTestHooks } from './mapper-test-hooks.js';
import {
  NO_SHARD,
  SLOT_ACTIVE,
  SLOT_FREE,
  SLOT_STOPPED,
  STATE_NAMES,
  type MapperResult,
  type ScalingDecision,
  type ShardState,
} from './mapper-types.js';
import type { ShardMetrics, ShardMetricsCollector } from './metrics.js';
import type { ScalingPolicy } from './policy.js';
import { attachedProducer, bindProducer, unbindProducer } from './producer-binding.js';
import type { SelectionTable } from './selection-table.js';

export {
  DEFAULT_MAPPER_LEASE_MS,
  MAX_SLOTS,
  NO_SHARD,
  SLOT_ACTIVE,
  SLOT_DRAINING,
  SLOT_FREE,
  SLOT_PROVISIONING,
  SLOT_STOPPED,
  WEIGHT_TOLERANCE,
} from './mapper-types.js';
export type { MapperFailure, MapperFaultPoint, MapperResult, ScalingDecision, ShardState } from './mapper-types.js';
export type { MapperTestHooks } from './mapper-test-hooks.js';
export type { ShardMapperHandle, ShardMapperOptions } from './mapper-region.js';

type Callback = (shardId: number) => void;

export class ShardMapper {
  readonly handle: ShardMapperHandle;
  readonly slots: number;
  readonly ringCapacity: number;
  /** The normalized, validated policy; fixed for the mapper's life. */
  readonly policy: ScalingPolicy;
  /** The circuit breakers' settings; fixed for the mapper's life. */
  readonly breakerPolicy: BreakerPolicy;
  readonly leaseMs: number;
  /** The mapper's clock (lease, cooldown, warm-up, drain window, breaker cool-down). */
  readonly clock: Clock;

  private readonly core: MapperCore;
  /** `core.table`, one load closer for the per-event `selectShard`. */
  private readonly table: SelectionTable;
  private onCreated: Callback | undefined;
  private onRemoved: Callback | undefined;

  private constructor(
    handle: ShardMapperHandle,
    layout: RegionLayout,
    counter: LatencyCounter,
    table: BreakerTable,
    clock: Clock,
  ) {
    this.handle = handle;
    this.core = new MapperCore(handle.sab, handle.slots, layout, counter, table, clock, lifecycle.recover);
    this.table = this.core.table;
    this.slots = handle.slots;
    this.ringCapacity = this.core.ringCapacity;
    this.leaseMs = this.core.leaseMs;
    this.policy = this.core.policy;
    this.breakerPolicy = Object.freeze({ failureThreshold: table.failureThreshold, coolDownMs: table.coolDownMs });
    this.clock = clock;
  }

  /**
   * Main thread, once: allocate the mapper with `initialShards` Active shards
   * (ids 0..n-1). The initial shards count as activated long ago, so they
   * are not in warm-up. Throws for an invalid policy or option, naming the
   * field and value.
   */
  static create(options: ShardMapperOptions): ShardMapper {
    const r = createMapperRegion(options);
    const mapper = new ShardMapper(r.handle, r.layout, r.counter, r.breakers, r.clock);
    mapper.core.table.publish();
    return mapper;
  }

  /** Wrap an existing mapper in any thread; checks the handle and both regions' headers. */
  static attach(handle: ShardMapperHandle): ShardMapper {
    const r = attachMapperRegion(handle);
    return new ShardMapper(handle, r.layout, r.counter, r.breakers, r.clock);
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
    return Atomics.load(this.core.i32, this.core.ACTIVE);
  }

  /** Shards in any state not yet removed. */
  totalShardCount(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) if (this.core.slotState(s) !== SLOT_FREE) n++;
    return n;
  }

  /** State of shard `id`, or undefined when no such shard exists (never created, or removed). */
  shardState(id: number): ShardState | undefined {
    const s = this.core.slotOf(id);
    return s < 0 ? undefined : STATE_NAMES[this.core.slotState(s)];
  }

  /** Ids of the Active shards, ascending. */
  activeShardIds(): number[] {
    return this.core.idsWhere((st) => st === SLOT_ACTIVE);
  }

  /** Ids of every shard not Stopped (Provisioning, Active, Draining), ascending. */
  allShardIds(): number[] {
    return this.core.idsWhere((st) => st !== SLOT_FREE && st !== SLOT_STOPPED);
  }

  /** The slot shard `id` occupies, or -1. */
  slotOf(id: number): number {
    return this.core.slotOf(id);
  }

  /** Shard id in slot `s`, or -1 when the slot is free. */
  idAtSlot(s: number): number {
    return this.core.idAtSlot(s);
  }

  /** State code of slot `s` (SLOT_*): the producer's per-batch check. One atomic load; never throws. */
  slotState(s: number): number {
    return this.core.slotState(s);
  }

  /** Metrics of shard `id` as of the last collection, or undefined. */
  lastMetrics(id: number): ShardMetrics | undefined {
    const s = this.core.slotOf(id);
    return s < 0 ? undefined : this.core.records.read(s, id);
  }

  /** The live metrics collector of shard `id`, or undefined when no such shard exists. */
  metricsCollector(id: number): ShardMetricsCollector | undefined {
    const s = this.core.slotOf(id);
    return s < 0 ? undefined : this.core.collectorAt(s, id);
  }

  /** Collector of whatever shard is in slot `s` (the router's producers and consumers use slots). */
  collectorAtSlot(s: number): ShardMetricsCollector | undefined {
    const id = this.core.idAtSlot(s);
    return id < 0 ? undefined : this.core.collectorAt(s, id);
  }

  // ------------------------------------------------------------ selection (selection-table.ts)

  /**
   * The shard a new producer (or event) with 32-bit `hash` should go to: one
   * of the Active shards whose weight is within WEIGHT_TOLERANCE of the
   * lowest, picked by multiply-shift (unbiased for any count, no modulo).
   * NO_SHARD when no shard is Active. Any thread; lock-free, no allocation.
   */
  selectShard(hash: number): number {
    const e = this.table.entry(hash);
    return e < 0 ? NO_SHARD : e & 0xffff;
  }

  /** Like `selectShard`, but the slot of the chosen shard, or -1. */
  selectSlot(hash: number): number {
    const e = this.table.entry(hash);
    return e < 0 ? -1 : e >>> 16;
  }

  /** The current selection table as shard ids (a copy; tests and diagnostics). */
  selectionTable(): number[] {
    return this.core.table.ids();
  }

  // ------------------------------------------------------------ metrics and decisions

  /**
   * Collect every shard's window (resetting it), store the metrics and
   * weights, and republish the selection table. Returns the metrics by id.
   */
  collectMetrics(): ShardMetrics[] {
    return collectMetrics(this.core);
  }

  /**
   * Decide, without acting, whether to scale: `decideScaling` (scaling.ts)
   * over the Active shards' last records, read under the lock. `none` when
   * the lock cannot be had.
   */
  evaluateScaling(): ScalingDecision {
    return evaluateScaling(this.core);
  }

  // ------------------------------------------------------------ lifecycle (lifecycle.ts)

  /**
   * Add `count` shards, Active at once (routable as soon as this returns).
   * Refused past maxShards or within the cooldown; `count` 0 is a no-op that
   * does not touch the cooldown. Starts the cooldown. Calls the creation
   * callback for each new id after releasing the lock.
   */
  scaleUp(count: number): MapperResult<number[]> {
    const r = lifecycle.scaleUp(this.core, count);
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
    return lifecycle.scaleUpProvisioning(this.core, count, false);
  }

  /**
   * `scaleUpProvisioning` for an operator's explicit request: skips the
   * cooldown (but not maxShards), and still starts the cooldown so the
   * automatic loop keeps its pace.
   */
  scaleUpProvisioningForce(count: number): MapperResult<number[]> {
    return lifecycle.scaleUpProvisioning(this.core, count, true);
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
    const r = lifecycle.activate(this.core, id);
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
    return lifecycle.drainSpecific(this.core, id);
  }

  /**
   * Drain up to `count` Active shards, least loaded (lowest weight) first,
   * never below minShards; refused at minShards (also when that leaves
   * nothing to drain, `count` 0 included) and within the cooldown. Starts
   * the cooldown. Returns the drained ids.
   */
  scaleDown(count: number): MapperResult<number[]> {
    return lifecycle.scaleDown(this.core, count);
  }

  /**
   * Stop every Draining shard that is finished: its ring reported empty, no
   * push counted since the drain began, no producer attached, and draining
   * for longer than minDrainMs. Returns the stopped ids; calls the removal
   * callback for each after releasing the lock.
   */
  finalizeDraining(): number[] {
    const stopped = lifecycle.finalizeDraining(this.core);
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
    return lifecycle.rearmDrain(this.core, id);
  }

  /** Remove shard `id` if it is Stopped; its slot becomes free. Returns whether it did. */
  removeSpecificStoppedShard(id: number): boolean {
    return lifecycle.removeStopped(this.core, id);
  }

  /** Remove every Stopped shard. Returns their ids, ascending. */
  removeStoppedShards(): number[] {
    return lifecycle.removeAllStopped(this.core);
  }

  // ------------------------------------------------------------ producer binding (producer-binding.ts)

  /**
   * Bind a producer (token: a non-zero integer unique to it) to an Active
   * shard that has no producer: the shard `selectShard(hash)` picks if free,
   * else the next free one in the selection table, else the least loaded
   * free Active shard. Returns the slot, or -1 when every Active shard has a
   * producer. Any thread; no lock (a CAS on the slot's producer word).
   */
  bindProducer(hash: number, token: number): number {
    return bindProducer(this.core, hash, token);
  }

  /** Let go of slot `s` if `token` holds it. Call after the producer's last push to it. */
  unbindProducer(s: number, token: number): void {
    unbindProducer(this.core, s, token);
  }

  /** Token of the producer attached to slot `s` (0 = none). */
  attachedProducer(s: number): number {
    return attachedProducer(this.core, s);
  }

  /** Report slot `s`'s ring length (the data path's owner does this before collecting and finalizing). */
  reportBufferLen(s: number, len: number): void {
    if (s >= 0 && s < this.slots) Atomics.store(this.core.bufferLen, s, len | 0);
  }

  // ------------------------------------------------------------ circuit breakers (breakers.ts)

  /** State of shard `id`'s circuit breaker, or undefined when no such shard exists. Any thread; may be stale. */
  breakerState(id: number): BreakerStateName | undefined {
    const s = this.core.slotOf(id);
    return s < 0 ? undefined : breakers.stateAt(this.core, s);
  }

  /** State of the breaker of the shard in slot `s` ('closed' for a free slot). Any thread; may be stale. */
  breakerStateAt(s: number): BreakerStateName {
    return breakers.stateAt(this.core, s);
  }

  /** Whether the breaker of the shard in slot `s` is closed (true for a free slot). Any thread; never throws. */
  breakerClosedAt(s: number): boolean {
    return this.core.breakerClosedAt(s);
  }

  /**
   * A producer's failed wait for space in slot `s`'s ring (see
   * `Producer.pushBlocking`): counts it on the shard's breaker. Returns true
   * when the breaker is now not closed, this failure having opened it or
   * not: the producer must let go of the shard. Any thread, no lock;
   * allocates nothing once this thread has used the shard's breaker; never
   * throws.
   */
  recordFailedWait(s: number): boolean {
    return breakers.recordFailedWait(this.core, s);
  }

  /** A push into slot `s`'s ring went in after failed waits: ends the breaker's run of failures. Any thread. */
  recordWaitSuccess(s: number): void {
    breakers.recordWaitSuccess(this.core, s);
  }

  /** When (ms on the mapper's clock) a producer last opened shard `id`'s breaker; NaN for no such shard. */
  breakerOpenedAtMs(id: number): number {
    const s = this.core.slotOf(id);
    return s < 0 ? NaN : breakers.openedAtMs(this.core, s);
  }

  /**
   * For shard `id`'s open breaker whose cool-down has passed: claim its
   * half-open probe (the shard stays out of routing). True when this call
   * moved it to half-open; the caller then judges the shard and reports
   * with `closeBreaker` or `reopenBreaker`. Any thread, no lock.
   */
  tryHalfOpen(id: number): boolean {
    const s = this.core.slotOf(id);
    const b = s < 0 ? undefined : this.core.breakerAt(s);
    return b !== undefined && breakers.tryHalfOpen(b);
  }

  /**
   * The half-open probe of shard `id` passed: close its breaker, and
   * republish the selection table so the shard is routable again (if the
   * lock is busy, the next collection republishes it; binding checks the
   * breaker itself). True when this call closed it.
   */
  closeBreaker(id: number): boolean {
    const s = this.core.slotOf(id);
    const b = s < 0 ? undefined : this.core.breakerAt(s);
    if (b === undefined || !breakers.closeProbe(b)) return false;
    if (this.core.lock()) {
      try {
        this.core.table.publish();
      } finally {
        this.core.unlock();
      }
    }
    return true;
  }

  /** The half-open probe of shard `id` failed: reopen its breaker for a fresh cool-down. True when this call did. */
  reopenBreaker(id: number): boolean {
    const s = this.core.slotOf(id);
    const b = s < 0 ? undefined : this.core.breakerAt(s);
    return b !== undefined && breakers.reopenProbe(b);
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
    return this.core.lockStatus;
  }

  /** Any thread: thread id holding the mapper lock, or -1. */
  lockOwner(): number {
    return this.core.ownerLock.owner();
  }

  /** Any thread: how many times a dead or stale holder of the mapper lock has been taken over. */
  lockRecoveries(): number {
    return this.core.ownerLock.recoveries();
  }

  /**
   * Any thread: if thread `threadId` (known to have exited, e.g. from a
   * worker's `exit` event) holds the mapper lock, take it over at once, run
   * the recovery, release. Returns whether it did.
   */
  recoverDeadThread(threadId: number): boolean {
    return this.core.ownerLock.recoverDeadOwner(threadId);
  }

  /**
   * Direct access to state the public API only changes through the
   * lifecycle, for tests that pin a scenario (a stale cooldown, a shard's
   * metrics, the id counter). Not for production use.
   */
  testHooks(): MapperTestHooks {
    return mapperTestHooks(this.core);
  }
}
