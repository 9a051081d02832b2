/**
 * The mapper's periodic collection and the scaling evaluation that reads
 * it, both under the mapper lock: the effects around the pure
 * `decideScaling` (scaling.ts).
 */
import type { MapperCore } from './mapper-core.js';
import { NO_SCALING, SLOT_ACTIVE, type ScalingDecision } from './mapper-types.js';
import { emptyMetrics, type ShardMetrics } from './metrics.js';
import { decideScaling, type ScalingRecord, type ScalingRecords } from './scaling.js';

/** `ShardMapper.collectMetrics`: every live shard's window (reset), stored; the table republished. */
export function collectMetrics(c: MapperCore): ShardMetrics[] {
  const out: ShardMetrics[] = [];
  if (!c.lock()) return out;
  try {
    for (const s of c.liveSlotsById()) {
      const id = c.i32[c.SLOT_ID + s]!;
      const m = c.collectorAt(s, id).collectAndReset(emptyMetrics(id));
      c.records.write(s, m);
      out.push(m);
    }
    c.table.publish();
  } finally {
    c.unlock();
  }
  return out;
}

/** Lock holder: what `decideScaling` reads, from the slots. */
export function scalingRecords(c: MapperCore): ScalingRecords {
  const r = c.records;
  const active: ScalingRecord[] = [];
  for (let s = 0; s < c.slots; s++) {
    if (c.i32[c.SLOT_STATE + s] !== SLOT_ACTIVE) continue;
    active.push({
      activatedAtMs: r.get(s, 'activatedAtMs'),
      fillRatio: r.get(s, 'fillRatio'),
      eventRate: r.get(s, 'eventRate'),
      pushLatencyNs: r.get(s, 'pushLatencyNs'),
      flushLatencyUs: r.get(s, 'flushLatencyUs'),
    });
  }
  return { activeCount: c.i32[c.ACTIVE]!, lastScalingMs: c.f64[c.LAST_SCALING]!, active };
}

/** `ShardMapper.evaluateScaling`: `none` without auto-scaling or when the lock cannot be had. */
export function evaluateScaling(c: MapperCore): ScalingDecision {
  if (!c.policy.autoScale) return NO_SCALING;
  if (!c.lock()) return NO_SCALING;
  try {
    return decideScaling(scalingRecords(c), c.policy, c.clock.now());
  } finally {
    c.unlock();
  }
}
