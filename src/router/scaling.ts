/**
 * The scaling decision, as a pure function of the shards' last records, the
 * policy and the time: no lock, no shared memory. The mapper gathers the
 * records under its lock and calls `decideScaling`; tests call it with plain
 * data.
 */
import { NO_SCALING, type ScalingDecision } from './mapper-types.js';
import type { ScalingPolicy } from './policy.js';

/** What the decision reads of one Active shard: its last collection and when it became Active. */
export interface ScalingRecord {
  /** When the shard became Active (ms on the mapper's clock). */
  readonly activatedAtMs: number;
  readonly fillRatio: number;
  readonly eventRate: number;
  readonly pushLatencyNs: number;
  readonly flushLatencyUs: number;
}

/** The mapper's state a decision is made from. */
export interface ScalingRecords {
  /** The Active count (the mapper's counter: the budget the decision is sized against). */
  readonly activeCount: number;
  /** When the last scaling action happened (ms), NaN for never. */
  readonly lastScalingMs: number;
  /** One record per Active shard. */
  readonly active: readonly ScalingRecord[];
}

/** Whether `now` is within the cooldown of a scaling action at `lastScalingMs` (NaN: none yet). */
export function inCooldown(lastScalingMs: number, now: number, cooldownMs: number): boolean {
  return !Number.isNaN(lastScalingMs) && now - lastScalingMs < cooldownMs;
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
export function decideScaling(records: ScalingRecords, policy: ScalingPolicy, now: number): ScalingDecision {
  const p = policy;
  if (!p.autoScale) return NO_SCALING;
  if (inCooldown(records.lastScalingMs, now, p.cooldownMs)) return NO_SCALING;
  const active = records.activeCount;
  let overloaded = 0;
  let idle = 0;
  for (const r of records.active) {
    if (now - r.activatedAtMs < p.cooldownMs) continue; // warm-up
    if (
      r.fillRatio > p.fillRatioThreshold ||
      r.pushLatencyNs > p.pushLatencyThresholdNs ||
      r.flushLatencyUs > p.flushLatencyThresholdUs
    ) {
      overloaded++;
    }
    if (r.fillRatio < p.underutilizedThreshold && r.eventRate === 0) idle++;
  }
  const half = Math.floor(active / 2);
  if (overloaded > half && active < p.maxShards) {
    return { kind: 'scale-up', count: Math.min(Math.max(Math.floor(overloaded / 2), 1), p.maxShards - active) };
  }
  if (idle > half && active > p.minShards) {
    return { kind: 'scale-down', count: Math.min(Math.max(Math.floor(idle / 2), 1), active - p.minShards) };
  }
  return NO_SCALING;
}
