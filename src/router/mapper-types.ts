/**
 * The shard mapper's vocabulary: limits, slot state codes as stored in
 * shared memory, and the result and decision types its operations return.
 */
import { invalidArgument, outOfRange } from '../errors.js';
import { MAX_SHARDS_LIMIT } from './policy.js';

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
export const STATE_NAMES: readonly (ShardState | undefined)[] = [
  undefined,
  'provisioning',
  'active',
  'draining',
  'stopped',
];
export const STATE_CODES: Readonly<Record<ShardState, number>> = {
  provisioning: SLOT_PROVISIONING,
  active: SLOT_ACTIVE,
  draining: SLOT_DRAINING,
  stopped: SLOT_STOPPED,
};

export type ScalingDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'scale-up'; readonly count: number }
  | { readonly kind: 'scale-down'; readonly count: number };

export const NO_SCALING: ScalingDecision = Object.freeze({ kind: 'none' });

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

/** Places inside mapper operations where a test may stop a thread (see `MapperTestHooks.setFaultPoint`). */
export type MapperFaultPoint = 'allocate:ids-taken' | 'allocate:slot-filled' | 'drain:slot-marked';

export function ok<T>(value: T): MapperResult<T> {
  return { ok: true, value };
}

export function fail(error: MapperFailure, message: string): MapperResult<never> {
  return { ok: false, error, message };
}

export function checkCount(where: string, count: unknown): asserts count is number {
  if (typeof count !== 'number' || !Number.isInteger(count)) throw invalidArgument(where, 'count', count, 'an integer');
  if (count < 0 || count > MAX_SHARDS_LIMIT) throw outOfRange(where, 'count', count, 0, MAX_SHARDS_LIMIT);
}
