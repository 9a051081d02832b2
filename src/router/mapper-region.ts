/**
 * Allocate once, wrap anywhere, for the shard mapper: `createMapperRegion`
 * checks the options and allocates and initialises the mapper region and
 * its counter region on the main thread; `attachMapperRegion` checks a
 * handle in any thread. `ShardMapper.create` and `attach` wrap the result.
 */
import {
  allocate,
  checkHeader,
  indexOf,
  MAPPER_COUNTERS,
  mapperLayout,
  type RegionLayout,
} from '../../native-layout/index.js';
import { badHandle, invalidArgument, outOfRange } from '../errors.js';
import type { BreakerTable, BreakerTableHandle } from '../shm/breaker.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from '../shm/clock.js';
import { LatencyCounter, type CounterHandle } from '../shm/counter.js';
import { checkLease } from '../shm/owner-lock.js';
import { RING_MAX_CAPACITY } from '../shm/ring.js';
import { attachShardBreakers, breakerPolicy, createShardBreakers, type BreakerPolicy } from './breakers.js';
import { SlotRecords, writePolicy } from './mapper-codec.js';
import { DEFAULT_MAPPER_LEASE_MS, MAX_SLOTS, SLOT_ACTIVE } from './mapper-types.js';
import { normalizePolicy, scalingPolicy, validatePolicy, type ScalingPolicy } from './policy.js';

export interface ShardMapperHandle {
  readonly kind: 'shard-mapper';
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly counters: CounterHandle;
  /** The shards' circuit breakers (breakers.ts). */
  readonly breakers: BreakerTableHandle;
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
  /**
   * Clock for the lease, cooldown, warm-up, drain window and the breakers' cool-down (default `realClock`). Shared
   * with every thread that attaches.
   */
  clock?: Clock;
  /** Circuit-breaker fields to override (`DEFAULT_BREAKER_POLICY` in breakers.ts). */
  breaker?: Partial<BreakerPolicy>;
}

/** A mapper's regions, checked or freshly initialised. */
export interface MapperRegion {
  readonly handle: ShardMapperHandle;
  readonly layout: RegionLayout;
  readonly counter: LatencyCounter;
  readonly breakers: BreakerTable;
  readonly clock: Clock;
}

/**
 * Main thread, once: allocate the mapper region with `initialShards` Active
 * shards (ids 0..n-1, activated an hour before the clock's now, so out of
 * warm-up) and its counter region. Throws for an invalid policy or option,
 * naming the field and value. The caller publishes the first selection
 * table.
 */
export function createMapperRegion(options: ShardMapperOptions): MapperRegion {
  const where = 'ShardMapper.create';
  if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
  const initial = options.initialShards;
  if (typeof initial !== 'number' || !Number.isInteger(initial))
    throw invalidArgument(where, 'initialShards', initial, 'an integer');
  if (initial < 0 || initial > MAX_SLOTS) throw outOfRange(where, 'initialShards', initial, 0, MAX_SLOTS);
  const cap = options.ringCapacity;
  if (typeof cap !== 'number' || !Number.isInteger(cap))
    throw invalidArgument(where, 'ringCapacity', cap, 'an integer');
  if (cap < 1 || cap > RING_MAX_CAPACITY) throw outOfRange(where, 'ringCapacity', cap, 1, RING_MAX_CAPACITY);
  const policy = validatePolicy(
    normalizePolicy(scalingPolicy(options.policy === undefined ? {} : options.policy, where), initial, where),
    where,
  );
  const slots = options.slots ?? Math.min(MAX_SLOTS, Math.max(initial, 2 * policy.maxShards + 2));
  if (typeof slots !== 'number' || !Number.isInteger(slots)) throw invalidArgument(where, 'slots', slots, 'an integer');
  if (slots < Math.max(1, initial) || slots > MAX_SLOTS)
    throw outOfRange(where, 'slots', slots, Math.max(1, initial), MAX_SLOTS);
  const leaseMs = checkLease(where, options.leaseMs ?? DEFAULT_MAPPER_LEASE_MS);
  const clock = clockOption(where, options.clock);
  const breaker = breakerPolicy(options.breaker, where);

  const layout = mapperLayout(slots);
  const sab = allocate(layout);
  const u32 = new Uint32Array(sab);
  u32[indexOf(layout, 'slots')] = slots;
  u32[indexOf(layout, 'ringCapacity')] = cap;
  u32[indexOf(layout, 'leaseMs')] = leaseMs;
  u32[indexOf(layout, 'initialShards')] = initial;
  const f64 = new Float64Array(sab);
  writePolicy(f64, layout, policy);
  f64[indexOf(layout, 'lastScalingMs')] = NaN;
  const i32 = new Int32Array(sab);
  const ids = indexOf(layout, 'slotId');
  const states = indexOf(layout, 'slotState');
  const records = new SlotRecords(f64, layout);
  const boot = clock.now() - 3_600_000;
  for (let s = 0; s < slots; s++) {
    i32[ids + s] = -1;
    records.set(s, 'drainStartedMs', NaN);
  }
  for (let s = 0; s < initial; s++) {
    i32[ids + s] = s;
    i32[states + s] = SLOT_ACTIVE;
    records.set(s, 'activatedAtMs', boot);
  }
  i32[indexOf(layout, 'activeCount')] = initial;
  i32[indexOf(layout, 'nextShardId')] = initial;
  const counter = LatencyCounter.create({ counters: slots * MAPPER_COUNTERS.stride });
  const breakers = createShardBreakers(breaker, clock);
  const handle: ShardMapperHandle = Object.freeze({
    kind: 'shard-mapper',
    sab,
    slots,
    counters: counter.handle,
    breakers: breakers.handle,
    clock: clock.handle,
  });
  return { handle, layout, counter, breakers, clock };
}

/** Any thread: check `handle` and both regions' headers. */
export function attachMapperRegion(handle: ShardMapperHandle): MapperRegion {
  const where = 'ShardMapper.attach';
  if (handle === null || typeof handle !== 'object' || handle.kind !== 'shard-mapper') {
    throw badHandle(where, "handle.kind must be 'shard-mapper'", (handle as { kind?: unknown } | null)?.kind);
  }
  const slots = handle.slots;
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS)
    throw outOfRange(where, 'handle.slots', slots, 1, MAX_SLOTS);
  const layout = mapperLayout(slots);
  checkHeader(handle.sab, layout);
  const counter = LatencyCounter.attach(handle.counters);
  if (counter.counters !== slots * MAPPER_COUNTERS.stride) {
    throw badHandle(
      where,
      `handle.counters has ${counter.counters} counters, expected ${slots * MAPPER_COUNTERS.stride}`,
    );
  }
  return {
    handle,
    layout,
    counter,
    breakers: attachShardBreakers(handle.breakers),
    clock: attachClock(handle.clock, where),
  };
}
