/**
 * The router's circuit-breaker policy: one breaker per shard, in a
 * shared-memory table (`BreakerTable`, src/shm/breaker.ts) that the mapper
 * creates with its clock and every thread attaches with it. The table is
 * indexed by shard id, and a shard's breaker is initialised by the first
 * thread that asks for it; ids are never reused, so a shard never inherits
 * another's breaker (the table's lines are touched only for ids in use).
 * This file decides what the breakers mean for routing; the breaker
 * protocol itself (states, counting, the cool-down, the single half-open
 * probe) is the shm primitive's.
 *
 * - Failure: a producer's failed wait for ring space (a whole wait slice,
 *   `RouterOptions.waitSliceMs`, with the ring full and not one slot
 *   released), reported by the producer on its own thread. The first push
 *   that goes in after failed waits reports a success, which ends the run
 *   of failures. `failureThreshold` failed waits in a row open the breaker.
 * - Open: the shard is left out of the selection table and no producer
 *   binds to it; the producer whose failure opened it lets go at once and
 *   binds to a healthy shard (one that is Active, closed and free) or waits
 *   for one. The router service replaces the shard's consumer.
 * - Half-open: after `coolDownMs` on the mapper's clock the service claims
 *   the single probe; the shard stays out of routing while the probe runs.
 *   The probe (`judgeProbe`) passes when the shard's current consumer runs
 *   and the ring is empty: the backlog the failure left has been drained.
 *   Passing closes the breaker and the shard is routable again; a probe
 *   that has not passed within another `coolDownMs` fails and reopens it.
 */

import { invalidArgument, outOfRange } from '../errors.js';
import {
  BREAKER_CLOSED,
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_HALF_OPEN,
  BREAKER_HALF_OPEN_TO_CLOSED,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_MAX_FAILURE_THRESHOLD,
  BREAKER_OPEN,
  BREAKER_PROBE,
  BreakerTable,
  type Breaker,
  type BreakerTableHandle,
} from '../shm/breaker.js';
import type { Clock } from '../shm/clock.js';
import type { MapperCore } from './mapper-core.js';

/** A breaker's state, by name. */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** The breaker settings of a router (a mapper's `breaker` option). */
export interface BreakerPolicy {
  /** Failed waits in a row that open a shard's breaker: an integer in [1, 1023]. */
  readonly failureThreshold: number;
  /** How long (ms) an open breaker refuses its shard before the half-open probe: an integer in [1, 3600000]. */
  readonly coolDownMs: number;
}

/**
 * Defaults: 20 failed waits of the default 5 ms slice are 100 ms with the
 * consumer taking nothing at all (a consumer that takes anything makes the
 * wait succeed), long past a descheduled thread's usual absence; a second's
 * cool-down keeps a sick shard from flapping.
 */
export const DEFAULT_BREAKER_POLICY: BreakerPolicy = Object.freeze({
  failureThreshold: 20,
  coolDownMs: 1000,
});

/** Inclusive ranges of the policy's fields. */
export const BREAKER_LIMITS = Object.freeze({
  failureThreshold: [1, BREAKER_MAX_FAILURE_THRESHOLD] as const,
  coolDownMs: [1, 3_600_000] as const,
});

/** Breakers in a mapper's table: one per possible shard id (0..0xFFFE; 0xFFFF is `NO_SHARD`). */
export const BREAKER_TABLE_SLOTS = 0xffff;

/** Fill in `partial` from the defaults and check it; throws naming `breaker.<field>` and the value. */
export function breakerPolicy(partial: Partial<BreakerPolicy> | undefined, where: string): BreakerPolicy {
  if (partial !== undefined && (partial === null || typeof partial !== 'object')) {
    throw invalidArgument(where, 'breaker', partial, 'an object');
  }
  const p: { failureThreshold: number; coolDownMs: number } = { ...DEFAULT_BREAKER_POLICY };
  for (const [k, v] of Object.entries(partial ?? {})) {
    if (k !== 'failureThreshold' && k !== 'coolDownMs') {
      throw invalidArgument(where, `breaker.${k}`, v, 'one of the breaker fields (failureThreshold, coolDownMs)');
    }
    if (v !== undefined) p[k] = v;
  }
  for (const k of ['failureThreshold', 'coolDownMs'] as const) {
    const v: unknown = p[k];
    const [min, max] = BREAKER_LIMITS[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, `breaker.${k}`, v, 'an integer');
    if (v < min || v > max) throw outOfRange(where, `breaker.${k}`, v, min, max);
  }
  return Object.freeze(p);
}

/** A new breaker table for a mapper: one breaker per shard id, cooling down on the mapper's clock. */
export function createShardBreakers(policy: BreakerPolicy, clock: Clock): BreakerTable {
  return BreakerTable.create({ slots: BREAKER_TABLE_SLOTS, ...policy, clock });
}

/** Attach a mapper's breaker table; checks that it has a breaker per shard id. */
export function attachShardBreakers(handle: BreakerTableHandle): BreakerTable {
  const t = BreakerTable.attach(handle);
  if (t.slots !== BREAKER_TABLE_SLOTS) {
    throw invalidArgument('ShardMapper.attach', 'handle.breakers.slots', t.slots, `${BREAKER_TABLE_SLOTS}`);
  }
  return t;
}

const NAMES: readonly BreakerStateName[] = ['closed', 'closed', 'open', 'half-open'];

/** The name of a breaker state code (an uninitialised breaker is closed). */
export function breakerStateName(code: number): BreakerStateName {
  return NAMES[code & 3]!;
}

/** The low 32 bits of whole milliseconds of `ms` (how the opening time is kept in one atomic word). */
function low32(ms: number): number {
  return Math.floor(ms) | 0;
}

/**
 * `ShardMapper.recordFailedWait`: count a producer's failed wait on the
 * breaker of the shard in slot `s`, stamping the time when this failure
 * opened it. Returns true when the breaker is now not closed (the producer
 * must move). Any thread; allocates nothing (the shard's breaker view is
 * made on the thread's first use of it), never throws.
 */
export function recordFailedWait(c: MapperCore, s: number): boolean {
  const b = c.breakerAt(s);
  if (b === undefined) return false;
  const t = b.recordFailure();
  if (t === BREAKER_CLOSED_TO_OPEN) Atomics.store(c.breakerOpened, s, low32(c.clock.now()));
  return t === BREAKER_CLOSED_TO_OPEN || b.state() !== BREAKER_CLOSED;
}

/** `ShardMapper.recordWaitSuccess`: a push went in after failed waits; ends the run of failures. */
export function recordWaitSuccess(c: MapperCore, s: number): void {
  c.breakerAt(s)?.recordSuccess();
}

/** The state of the breaker of the shard in slot `s` ('closed' for a free slot). Any thread. */
export function stateAt(c: MapperCore, s: number): BreakerStateName {
  const b = c.breakerAt(s);
  return b === undefined ? 'closed' : breakerStateName(b.state());
}

/**
 * When (ms on the mapper's clock) a producer last opened the breaker of the
 * shard in slot `s`: the stamp is the low 32 bits of the time, so this is
 * exact for an opening within the last 49 days. Any thread.
 */
export function openedAtMs(c: MapperCore, s: number): number {
  const now = c.clock.now();
  return now - ((low32(now) - Atomics.load(c.breakerOpened, s)) >>> 0);
}

/**
 * `ShardMapper.tryHalfOpen`: for an open breaker whose cool-down has
 * passed, claim the half-open probe. True when this call moved it to
 * half-open (the caller runs the probe and reports it with `closeProbe` or
 * `reopenProbe`); false otherwise (not open, cooling down, or another
 * caller claimed it).
 */
export function tryHalfOpen(b: Breaker): boolean {
  return b.state() === BREAKER_OPEN && b.allow() === BREAKER_PROBE;
}

/** The probe passed: half-open -> closed. True when this call closed it. */
export function closeProbe(b: Breaker): boolean {
  return b.state() === BREAKER_HALF_OPEN && b.recordSuccess() === BREAKER_HALF_OPEN_TO_CLOSED;
}

/** The probe failed: half-open -> open, with a fresh cool-down. True when this call reopened it. */
export function reopenProbe(b: Breaker): boolean {
  return b.state() === BREAKER_HALF_OPEN && b.recordFailure() === BREAKER_HALF_OPEN_TO_OPEN;
}

/** What a half-open probe is judged on. */
export interface ProbeView {
  /** Events queued in the shard's ring now. */
  readonly ringSize: number;
  /** Whether the consumer the probe judges is still the slot's consumer and running. */
  readonly consumerRunning: boolean;
  /** Time since the probe began (ms on the mapper's clock). */
  readonly elapsedMs: number;
  /** How long the probe may take before it fails (ms): the cool-down. */
  readonly windowMs: number;
}

export type ProbeVerdict = 'pass' | 'fail' | 'wait';

/**
 * The half-open probe's verdict, a pure function: `pass` once the judged
 * consumer runs and the ring is empty (it has drained what the failure
 * left, and no producer feeds the shard while it is not closed, so an
 * empty ring is its own work); `fail` when the window has passed without
 * that; `wait` otherwise.
 */
export function judgeProbe(v: ProbeView): ProbeVerdict {
  if (v.consumerRunning && v.ringSize === 0) return 'pass';
  return v.elapsedMs >= v.windowMs ? 'fail' : 'wait';
}
