/**
 * The shard mapper's scaling policy: when to add shards, when to drain them,
 * and the bounds either may not cross.
 */
import { availableParallelism } from 'node:os';
import { invalidArgument, outOfRange } from '../errors.js';

/** Largest shard count a policy may allow: ids are 16-bit and 0xFFFF is the "no shard" sentinel. */
export const MAX_SHARDS_LIMIT = 0xfffe;

export interface ScalingPolicy {
  /** Fewest Active shards scale-down may leave; at least 1. */
  readonly minShards: number;
  /** Most Active shards scale-up may create; at least `minShards`. */
  readonly maxShards: number;
  /** A shard whose ring is fuller than this (0, 1] counts as overloaded. */
  readonly fillRatioThreshold: number;
  /** A shard emptier than this [0, fillRatioThreshold) that saw no event in the window counts as idle. */
  readonly underutilizedThreshold: number;
  /** A shard whose average push latency per event exceeds this (ns) counts as overloaded. */
  readonly pushLatencyThresholdNs: number;
  /** A shard whose average batch flush latency exceeds this (us) counts as overloaded. */
  readonly flushLatencyThresholdUs: number;
  /**
   * Least time between two scaling actions (ms); also the warm-up during
   * which a freshly activated shard is left out of scaling decisions.
   */
  readonly cooldownMs: number;
  /** Whether `evaluateScaling` may decide anything at all. */
  readonly autoScale: boolean;
  /** One push in this many records a latency sample (a power of two). */
  readonly latencySampleEvery: number;
  /** Least time a draining shard stays draining before it may be stopped (ms). */
  readonly minDrainMs: number;
}

/**
 * Defaults. The thresholds are kgshard's, not the reference's: a
 * JavaScript ring push costs more than a native one, and a push that waits
 * for ring space costs orders of magnitude more than one that does not, so
 * 1 us per event marks back-pressure here.
 */
export const DEFAULT_SCALING_POLICY: ScalingPolicy = Object.freeze({
  minShards: 1,
  maxShards: Math.min(MAX_SHARDS_LIMIT, Math.max(1, availableParallelism())),
  fillRatioThreshold: 0.7,
  underutilizedThreshold: 0.1,
  pushLatencyThresholdNs: 1000,
  flushLatencyThresholdUs: 10_000,
  cooldownMs: 30_000,
  autoScale: true,
  latencySampleEvery: 64,
  minDrainMs: 100,
});

const KEYS = Object.keys(DEFAULT_SCALING_POLICY) as (keyof ScalingPolicy)[];

/**
 * Fill in defaults for the fields `partial` leaves out. Unknown fields are an
 * error (a misspelt threshold would otherwise be silently ignored).
 */
export function scalingPolicy(partial: Partial<ScalingPolicy> = {}, where = 'scalingPolicy'): ScalingPolicy {
  if (partial === null || typeof partial !== 'object') throw invalidArgument(where, 'policy', partial, 'an object');
  for (const k of Object.keys(partial)) {
    if (!(KEYS as string[]).includes(k))
      throw invalidArgument(
        where,
        `policy.${k}`,
        (partial as Record<string, unknown>)[k],
        `one of the policy fields (${KEYS.join(', ')})`,
      );
  }
  return Object.freeze({ ...DEFAULT_SCALING_POLICY, ...stripUndefined(partial) });
}

/**
 * Return a copy with `maxShards` raised to `minShards` and to
 * `initialShards` when it is below them. Nothing else changes.
 */
export function normalizePolicy(policy: ScalingPolicy, initialShards = 0, where = 'normalizePolicy'): ScalingPolicy {
  // Only a well-formed maxShards is raised; anything else is left for
  // validatePolicy to reject rather than silently replaced.
  integer(where, 'maxShards', policy.maxShards, 1, MAX_SHARDS_LIMIT);
  integer(where, 'minShards', policy.minShards, 1, MAX_SHARDS_LIMIT);
  let maxShards = policy.maxShards;
  if (maxShards < policy.minShards) maxShards = policy.minShards;
  if (maxShards < initialShards) maxShards = initialShards;
  return maxShards === policy.maxShards ? policy : Object.freeze({ ...policy, maxShards });
}

/**
 * Check every field; throw an error naming the first bad field and its
 * value. Returns the policy for chaining.
 */
export function validatePolicy(policy: ScalingPolicy, where = 'validatePolicy'): ScalingPolicy {
  const p = policy;
  integer(where, 'minShards', p.minShards, 1, MAX_SHARDS_LIMIT);
  integer(where, 'maxShards', p.maxShards, 1, MAX_SHARDS_LIMIT);
  if (p.minShards > p.maxShards) {
    throw invalidArgument(where, 'policy.minShards', p.minShards, `at most policy.maxShards (${p.maxShards})`);
  }
  finite(where, 'fillRatioThreshold', p.fillRatioThreshold);
  if (!(p.fillRatioThreshold > 0 && p.fillRatioThreshold <= 1)) {
    throw invalidArgument(where, 'policy.fillRatioThreshold', p.fillRatioThreshold, 'in (0, 1]');
  }
  finite(where, 'underutilizedThreshold', p.underutilizedThreshold);
  if (!(p.underutilizedThreshold >= 0 && p.underutilizedThreshold < p.fillRatioThreshold)) {
    throw invalidArgument(
      where,
      'policy.underutilizedThreshold',
      p.underutilizedThreshold,
      `in [0, fillRatioThreshold = ${p.fillRatioThreshold})`,
    );
  }
  positive(where, 'pushLatencyThresholdNs', p.pushLatencyThresholdNs);
  positive(where, 'flushLatencyThresholdUs', p.flushLatencyThresholdUs);
  finite(where, 'cooldownMs', p.cooldownMs);
  if (p.cooldownMs < 0 || p.cooldownMs > 86_400_000)
    throw outOfRange(where, 'policy.cooldownMs', p.cooldownMs, 0, 86_400_000);
  if (typeof p.autoScale !== 'boolean') throw invalidArgument(where, 'policy.autoScale', p.autoScale, 'a boolean');
  integer(where, 'latencySampleEvery', p.latencySampleEvery, 1, 1 << 20);
  if ((p.latencySampleEvery & (p.latencySampleEvery - 1)) !== 0) {
    throw invalidArgument(where, 'policy.latencySampleEvery', p.latencySampleEvery, 'a power of two');
  }
  finite(where, 'minDrainMs', p.minDrainMs);
  if (p.minDrainMs < 0 || p.minDrainMs > 3_600_000)
    throw outOfRange(where, 'policy.minDrainMs', p.minDrainMs, 0, 3_600_000);
  return policy;
}

function integer(where: string, field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, `policy.${field}`, v, 'an integer');
  if (v < min || v > max) throw outOfRange(where, `policy.${field}`, v, min, max);
}

function finite(where: string, field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidArgument(where, `policy.${field}`, v, 'a finite number');
}

function positive(where: string, field: string, v: unknown): void {
  finite(where, field, v);
  if ((v as number) <= 0) throw invalidArgument(where, `policy.${field}`, v, 'a positive number');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
