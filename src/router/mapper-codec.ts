/**
 * Codecs for the mapper region's f64 words: the scaling policy (written once
 * by the creator) and the per-slot records (metrics of the last collection
 * and lifecycle stamps, written by the lock holder). Field positions come
 * from `MAPPER_POLICY` and `MAPPER_RECORD` in native-layout; this file is the
 * only place in the router that turns a (slot, field) into an element index.
 */
import { indexOf, MAPPER_POLICY, MAPPER_RECORD, type RegionLayout } from '../../native-layout/index.js';
import type { ShardMetrics } from './metrics.js';
import type { ScalingPolicy } from './policy.js';

export type RecordField = Exclude<keyof typeof MAPPER_RECORD, 'words'>;

/** Write `policy` into a freshly allocated region's policy words. */
export function writePolicy(f64: Float64Array, layout: RegionLayout, policy: ScalingPolicy): void {
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
}

/** Read the policy words back (frozen). */
export function readPolicy(f64: Float64Array, layout: RegionLayout): ScalingPolicy {
  const p = indexOf(layout, 'policy');
  return Object.freeze({
    minShards: f64[p + MAPPER_POLICY.minShards]!,
    maxShards: f64[p + MAPPER_POLICY.maxShards]!,
    fillRatioThreshold: f64[p + MAPPER_POLICY.fillRatioThreshold]!,
    underutilizedThreshold: f64[p + MAPPER_POLICY.underutilizedThreshold]!,
    pushLatencyThresholdNs: f64[p + MAPPER_POLICY.pushLatencyThresholdNs]!,
    flushLatencyThresholdUs: f64[p + MAPPER_POLICY.flushLatencyThresholdUs]!,
    cooldownMs: f64[p + MAPPER_POLICY.cooldownMs]!,
    autoScale: f64[p + MAPPER_POLICY.autoScale] === 1,
    latencySampleEvery: f64[p + MAPPER_POLICY.latencySampleEvery]!,
    minDrainMs: f64[p + MAPPER_POLICY.minDrainMs]!,
  });
}

/**
 * The per-slot records. Plain (non-atomic) f64 access: every write happens
 * under the mapper lock; readers outside it (`lastMetrics`, the producer
 * binding's weight order) accept a value that is one collection late.
 */
export class SlotRecords {
  private readonly f64: Float64Array;
  private readonly base: number;

  constructor(f64: Float64Array, layout: RegionLayout) {
    this.f64 = f64;
    this.base = indexOf(layout, 'records');
  }

  get(s: number, field: RecordField): number {
    return this.f64[this.base + s * MAPPER_RECORD.words + MAPPER_RECORD[field]]!;
  }

  set(s: number, field: RecordField, value: number): void {
    this.f64[this.base + s * MAPPER_RECORD.words + MAPPER_RECORD[field]] = value;
  }

  /** Every word 0, the drain stamp NaN (no drain). */
  clear(s: number): void {
    const r = this.base + s * MAPPER_RECORD.words;
    for (let w = 0; w < MAPPER_RECORD.words; w++) this.f64[r + w] = 0;
    this.f64[r + MAPPER_RECORD.drainStartedMs] = NaN;
  }

  /** The metrics stored for slot `s`, labelled with shard `id`. */
  read(s: number, id: number): ShardMetrics {
    const r = this.base + s * MAPPER_RECORD.words;
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

  /** Store `m` as slot `s`'s metrics (the lifecycle stamps are left as they are). */
  write(s: number, m: ShardMetrics): void {
    const r = this.base + s * MAPPER_RECORD.words;
    const f = this.f64;
    f[r + MAPPER_RECORD.fillRatio] = m.fillRatio;
    f[r + MAPPER_RECORD.eventRate] = m.eventRate;
    f[r + MAPPER_RECORD.pushLatencyNs] = m.avgPushLatencyNs;
    f[r + MAPPER_RECORD.flushLatencyUs] = m.avgFlushLatencyUs;
    f[r + MAPPER_RECORD.draining] = m.draining ? 1 : 0;
    f[r + MAPPER_RECORD.weight] = m.weight;
  }
}
