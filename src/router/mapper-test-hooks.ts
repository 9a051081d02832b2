/**
 * Test hooks: direct access to mapper state that the public API only
 * changes through the lifecycle, for tests that pin a scenario (a stale
 * cooldown, a shard's metrics, the id counter). Not for production use.
 */
import { invalidArgument } from '../errors.js';
import type { MapperCore } from './mapper-core.js';
import { STATE_CODES, type MapperFaultPoint, type ShardState } from './mapper-types.js';
import type { ShardMetrics } from './metrics.js';

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

export function mapperTestHooks(c: MapperCore): MapperTestHooks {
  const slot = (id: number): number => {
    const s = c.slotOf(id);
    if (s < 0) throw invalidArgument('testHooks', 'id', id, 'an existing shard id');
    return s;
  };
  return {
    now: () => c.clock.now(),
    lastScalingMs: () => c.withLockValue(() => c.f64[c.LAST_SCALING]!),
    setLastScalingMs: (ms) => c.withLockValue(() => void (c.f64[c.LAST_SCALING] = ms ?? NaN)),
    setNextShardId: (n) => c.withLockValue(() => void (c.i32[c.NEXT_ID] = n)),
    setLastMetrics: (id, m) =>
      c.withLockValue(() => {
        const s = slot(id);
        c.records.write(s, { ...c.records.read(s, id), ...m });
      }),
    setActivatedAtMs: (id, ms) => c.withLockValue(() => c.records.set(slot(id), 'activatedAtMs', ms)),
    setDrainStartedMs: (id, ms) => c.withLockValue(() => c.records.set(slot(id), 'drainStartedMs', ms)),
    setState: (id, state) => c.withLockValue(() => Atomics.store(c.i32, c.SLOT_STATE + slot(id), STATE_CODES[state])),
    rebuildSelectionTable: () => c.withLockValue(() => c.table.publish()),
    holdLock: <T>(fn: () => T): T => c.withLockValue(fn),
    setFaultPoint: (fn) => void (c.faultPoint = fn),
  };
}
