/**
 * The state every part of the shard mapper works on: views over the mapper
 * region (from its layout), the slot records, the selection table, the
 * per-slot metrics collectors, the clock and the mapper lock. One per
 * `ShardMapper` object (so one per thread that attaches); the lifecycle,
 * producer binding and test hooks are functions over it.
 */
import { indexOf, offsetOf, MAPPER_COUNTERS, type RegionLayout } from '../../native-layout/index.js';
import { invalidArgument } from '../errors.js';
import { BREAKER_CLOSED, type Breaker, type BreakerTable } from '../shm/breaker.js';
import type { Clock } from '../shm/clock.js';
import type { LatencyCounter } from '../shm/counter.js';
import { LOCK_BUSY, LOCK_MISUSED, LOCK_OK, LOCK_RECOVERED, OwnerLock, type LockStatus } from '../shm/owner-lock.js';
import { readPolicy, SlotRecords } from './mapper-codec.js';
import { fail, NO_SHARD, SLOT_FREE, type MapperFaultPoint, type MapperResult } from './mapper-types.js';
import { ShardMetricsCollector } from './metrics.js';
import type { ScalingPolicy } from './policy.js';
import { SelectionTable } from './selection-table.js';

export class MapperCore {
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly ringCapacity: number;
  readonly leaseMs: number;
  readonly policy: ScalingPolicy;
  readonly clock: Clock;
  readonly counter: LatencyCounter;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly records: SlotRecords;
  readonly table: SelectionTable;
  readonly ownerLock: OwnerLock;
  /** The shards' circuit breakers, by shard id (breakers.ts). */
  readonly breakers: BreakerTable;
  // Element indices, from the layout.
  readonly ACTIVE: number;
  readonly NEXT_ID: number;
  readonly LAST_SCALING: number;
  readonly SLOT_ID: number;
  readonly SLOT_STATE: number;
  readonly bufferLen: Int32Array;
  readonly draining: Int32Array;
  readonly attached: Int32Array;
  /** Per slot: when a producer last opened its shard's breaker (low 32 bits of whole ms on the clock). */
  readonly breakerOpened: Int32Array;
  readonly slotIds: Int32Array;
  /** Collector per slot, for the shard currently in it (rebuilt when the slot's id changes). */
  private readonly collectors: (ShardMetricsCollector | undefined)[];
  lockStatus: LockStatus = LOCK_OK;
  faultPoint: ((at: MapperFaultPoint) => void) | undefined;

  /** `recover` is the lock's recovery hook (see `recover` in lifecycle.ts). */
  constructor(
    sab: SharedArrayBuffer,
    slots: number,
    layout: RegionLayout,
    counter: LatencyCounter,
    breakers: BreakerTable,
    clock: Clock,
    recover: (core: MapperCore) => void,
  ) {
    this.sab = sab;
    this.slots = slots;
    this.clock = clock;
    this.counter = counter;
    this.breakers = breakers;
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    const u32 = new Uint32Array(sab);
    this.ringCapacity = u32[indexOf(layout, 'ringCapacity')]!;
    this.leaseMs = u32[indexOf(layout, 'leaseMs')]!;
    this.policy = readPolicy(this.f64, layout);
    this.ACTIVE = indexOf(layout, 'activeCount');
    this.NEXT_ID = indexOf(layout, 'nextShardId');
    this.LAST_SCALING = indexOf(layout, 'lastScalingMs');
    this.SLOT_ID = indexOf(layout, 'slotId');
    this.SLOT_STATE = indexOf(layout, 'slotState');
    this.bufferLen = new Int32Array(sab, offsetOf(layout, 'bufferLen'), slots);
    this.draining = new Int32Array(sab, offsetOf(layout, 'draining'), slots);
    this.attached = new Int32Array(sab, offsetOf(layout, 'attached'), slots);
    this.breakerOpened = new Int32Array(sab, offsetOf(layout, 'breakerOpened'), slots);
    this.slotIds = new Int32Array(sab, offsetOf(layout, 'slotId'), slots);
    this.records = new SlotRecords(this.f64, layout);
    this.table = new SelectionTable(this.i32, layout, slots, this.records, (s) => this.breakerClosedAt(s));
    this.collectors = new Array<ShardMetricsCollector | undefined>(slots).fill(undefined);
    this.ownerLock = new OwnerLock(this.i32, layout, this.leaseMs, clock, () => recover(this));
  }

  // ------------------------------------------------------------ slots

  /** The slot shard `id` occupies, or -1. Any thread. */
  slotOf(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= NO_SHARD) return -1;
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.load(this.i32, this.SLOT_ID + s) === id && Atomics.load(this.i32, this.SLOT_STATE + s) !== SLOT_FREE)
        return s;
    }
    return -1;
  }

  /** Shard id in slot `s`, or -1 when the slot is free. Any thread. */
  idAtSlot(s: number): number {
    if (!(s >= 0 && s < this.slots)) return -1;
    return Atomics.load(this.i32, this.SLOT_STATE + s) === SLOT_FREE ? -1 : Atomics.load(this.i32, this.SLOT_ID + s);
  }

  /** State code of slot `s` (SLOT_*). One atomic load; never throws. */
  slotState(s: number): number {
    if (!(s >= 0 && s < this.slots)) return SLOT_FREE;
    return Atomics.load(this.i32, this.SLOT_STATE + s) | 0;
  }

  // ------------------------------------------------------------ breakers

  /**
   * The circuit breaker of the shard in slot `s`, or undefined when the slot
   * is free. Any thread; the first call for a shard initialises its breaker
   * (closed) and makes this thread's view of it, later calls return the view.
   */
  breakerAt(s: number): Breaker | undefined {
    const id = this.idAtSlot(s);
    return id < 0 ? undefined : this.breakers.get(id);
  }

  /** Whether the breaker of the shard in slot `s` is closed (true for a free slot). Any thread; a few loads. */
  breakerClosedAt(s: number): boolean {
    const b = this.breakerAt(s);
    return b === undefined || b.state() === BREAKER_CLOSED;
  }

  /** Ids of the occupied slots whose state passes `pred`, ascending. */
  idsWhere(pred: (state: number) => boolean): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.slots; s++) {
      const st = Atomics.load(this.i32, this.SLOT_STATE + s);
      if (st !== SLOT_FREE && pred(st)) out.push(Atomics.load(this.i32, this.SLOT_ID + s));
    }
    return out.sort((a, b) => a - b);
  }

  /** Occupied slots in ascending id order (lock holder). */
  liveSlotsById(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.slots; s++) if (this.i32[this.SLOT_STATE + s] !== SLOT_FREE) out.push(s);
    return out.sort((a, b) => this.i32[this.SLOT_ID + a]! - this.i32[this.SLOT_ID + b]!);
  }

  /** The metrics collector over slot `s`'s cells, for shard `id`. */
  collectorAt(s: number, id: number): ShardMetricsCollector {
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

  /** Forget slot `s`'s collector (the slot was freed). */
  dropCollector(s: number): void {
    this.collectors[s] = undefined;
  }

  // ------------------------------------------------------------ lock

  /**
   * Take the mapper lock: within twice the lease on worker threads
   * (sleeping), at once or not at all on the main thread. A stale holder is
   * taken over and the recovery hook runs first. Records the status for
   * `lastLockStatus`.
   */
  lock(): boolean {
    const s = this.ownerLock.lock(2 * this.leaseMs);
    this.lockStatus = s;
    if (s === LOCK_OK || s === LOCK_RECOVERED) return true;
    if (s === LOCK_MISUSED) throw invalidArgument('ShardMapper', 'lock', 'held by this object', 'not re-entered');
    return false;
  }

  unlock(): void {
    this.ownerLock.unlock();
  }

  /** Run `fn` under the lock; a lock that cannot be had is a 'lock-busy' or 'lock-timeout' failure. */
  locked<T>(fn: () => MapperResult<T>): MapperResult<T> {
    if (!this.lock()) {
      return this.lockStatus === LOCK_BUSY
        ? fail(
            'lock-busy',
            `the mapper lock is held by thread ${this.ownerLock.owner()}; ` +
              'the main thread does not wait for it, try again later',
          )
        : fail(
            'lock-timeout',
            `could not take the mapper lock within ${2 * this.leaseMs} ms (held by thread ${this.ownerLock.owner()})`,
          );
    }
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  /** Run `fn` under the lock (test hooks); throws when the lock cannot be had. */
  withLockValue<T>(fn: () => T): T {
    if (!this.lock()) throw invalidArgument('testHooks', 'mapper lock', 'held', 'free within the lease');
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }
}
