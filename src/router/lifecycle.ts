/**
 * The shard lifecycle, applied under the mapper lock:
 *
 *   Provisioning --activate--> Active --drain--> Draining --finalize--> Stopped --remove--> (gone)
 *
 * Each function here is the body of a `ShardMapper` method (see there for
 * the contract); callers run callbacks after the lock is released. Also the
 * lock's recovery hook, which rebuilds what a dead holder left half-done.
 */
import type { MapperCore } from './mapper-core.js';
import {
  checkCount,
  fail,
  NO_SHARD,
  ok,
  SLOT_ACTIVE,
  SLOT_DRAINING,
  SLOT_FREE,
  SLOT_PROVISIONING,
  SLOT_STOPPED,
  STATE_NAMES,
  type MapperResult,
} from './mapper-types.js';
import { inCooldown } from './scaling.js';

function cooldownActive(c: MapperCore, now: number): boolean {
  return inCooldown(c.f64[c.LAST_SCALING]!, now, c.policy.cooldownMs);
}

function cooldownFailure(c: MapperCore, what: string, now: number): MapperResult<never> {
  const left = c.policy.cooldownMs - (now - c.f64[c.LAST_SCALING]!);
  return fail(
    'in-cooldown',
    `${what}: in cooldown for another ${left.toFixed(3)} ms (cooldownMs ${c.policy.cooldownMs})`,
  );
}

/**
 * Lock holder: check the budget (and the cooldown unless `force`), then
 * take `count` ids from the counter and `count` free slots. Ids stop
 * below 0xFFFF, the sentinel. Does not touch the Active count.
 */
function allocate(c: MapperCore, count: number, state: number, force: boolean): MapperResult<number[]> {
  const active = c.i32[c.ACTIVE]!;
  const max = c.policy.maxShards;
  if (active + count > max) {
    return fail('at-max-shards', `scale up by ${count}: ${active} shards are active, maxShards is ${max}`);
  }
  const now = c.clock.now();
  if (!force && cooldownActive(c, now)) return cooldownFailure(c, `scale up by ${count}`, now);
  const first = c.i32[c.NEXT_ID]!;
  if (first + count - 1 >= NO_SHARD) {
    return fail('at-max-shards', `scale up by ${count}: shard ids would pass ${NO_SHARD - 1} (next id is ${first})`);
  }
  const free: number[] = [];
  for (let s = 0; s < c.slots && free.length < count; s++) if (c.i32[c.SLOT_STATE + s] === SLOT_FREE) free.push(s);
  if (free.length < count) {
    return fail(
      'no-free-slot',
      `scale up by ${count}: only ${free.length} of ${c.slots} slots are free; remove stopped shards first`,
    );
  }
  c.i32[c.NEXT_ID] = first + count;
  c.faultPoint?.('allocate:ids-taken');
  const ids: number[] = [];
  for (let k = 0; k < count; k++) {
    const s = free[k]!;
    const id = first + k;
    c.records.clear(s);
    c.records.set(s, 'activatedAtMs', now);
    Atomics.store(c.attached, s, 0);
    Atomics.store(c.i32, c.SLOT_ID + s, id);
    c.collectorAt(s, id).reset();
    // The state store is the last write: a slot is either fully set up or still free.
    Atomics.store(c.i32, c.SLOT_STATE + s, state);
    ids.push(id);
    c.faultPoint?.('allocate:slot-filled');
  }
  return ok(ids);
}

/** Lock holder: Active -> Draining for slot `s` (state, stamp, collector, weight). */
function startDrain(c: MapperCore, s: number): void {
  c.records.set(s, 'drainStartedMs', c.clock.now());
  c.records.set(s, 'draining', 1);
  c.records.set(s, 'weight', Number.MAX_VALUE);
  // Counter reset and flag first, then the state a producer checks: a
  // producer that sees Draining pushes no more, and a push that raced the
  // reset is counted (deferring finalization, never hiding a push).
  c.collectorAt(s, c.i32[c.SLOT_ID + s]!).setDraining(true);
  c.faultPoint?.('drain:slot-marked');
  Atomics.store(c.i32, c.SLOT_STATE + s, SLOT_DRAINING);
}

function freeSlot(c: MapperCore, s: number): void {
  Atomics.store(c.i32, c.SLOT_STATE + s, SLOT_FREE);
  Atomics.store(c.i32, c.SLOT_ID + s, -1);
  c.dropCollector(s);
}

/** `ShardMapper.scaleUp` under the lock. */
export function scaleUp(c: MapperCore, count: number): MapperResult<number[]> {
  checkCount('ShardMapper.scaleUp', count);
  if (count === 0) return ok([]);
  return c.locked(() => {
    const a = allocate(c, count, SLOT_ACTIVE, false);
    if (!a.ok) return a;
    Atomics.add(c.i32, c.ACTIVE, count);
    c.f64[c.LAST_SCALING] = c.clock.now();
    c.table.publish();
    return a;
  });
}

/** `ShardMapper.scaleUpProvisioning` (`force`: `scaleUpProvisioningForce`). */
export function scaleUpProvisioning(c: MapperCore, count: number, force: boolean): MapperResult<number[]> {
  checkCount(force ? 'ShardMapper.scaleUpProvisioningForce' : 'ShardMapper.scaleUpProvisioning', count);
  if (count === 0) return ok([]);
  return c.locked(() => {
    const a = allocate(c, count, SLOT_PROVISIONING, force);
    if (a.ok) c.f64[c.LAST_SCALING] = c.clock.now();
    return a;
  });
}

/** `ShardMapper.activate`: true when this call made the transition. */
export function activate(c: MapperCore, id: number): MapperResult<boolean> {
  return c.locked((): MapperResult<boolean> => {
    const s = c.slotOf(id);
    if (s < 0) return fail('unknown-shard', `activate: no shard with id ${id}`);
    const st = c.i32[c.SLOT_STATE + s]!;
    if (st === SLOT_ACTIVE) return ok(false);
    if (st !== SLOT_PROVISIONING) {
      return fail(
        'illegal-transition',
        `activate: shard ${id} is ${STATE_NAMES[st]}; only a provisioning shard can be activated`,
      );
    }
    const active = c.i32[c.ACTIVE]!;
    if (active >= c.policy.maxShards) {
      return fail('at-max-shards', `activate: ${active} shards are active, maxShards is ${c.policy.maxShards}`);
    }
    c.records.set(s, 'activatedAtMs', c.clock.now());
    Atomics.store(c.i32, c.SLOT_STATE + s, SLOT_ACTIVE);
    Atomics.add(c.i32, c.ACTIVE, 1);
    c.table.publish();
    return ok(true);
  });
}

/** `ShardMapper.drainSpecific`. */
export function drainSpecific(c: MapperCore, id: number): MapperResult<void> {
  return c.locked((): MapperResult<void> => {
    const s = c.slotOf(id);
    if (s < 0) return fail('unknown-shard', `drain: no shard with id ${id}`);
    const st = c.i32[c.SLOT_STATE + s]!;
    if (st === SLOT_DRAINING) return ok(undefined);
    if (st !== SLOT_ACTIVE) {
      return fail(
        'illegal-transition',
        `drain: shard ${id} is ${STATE_NAMES[st]}; only an active shard can be drained`,
      );
    }
    const active = c.i32[c.ACTIVE]!;
    if (active <= c.policy.minShards) {
      return fail('at-min-shards', `drain: ${active} shards are active, minShards is ${c.policy.minShards}`);
    }
    startDrain(c, s);
    Atomics.sub(c.i32, c.ACTIVE, 1);
    c.f64[c.LAST_SCALING] = c.clock.now();
    c.table.publish();
    return ok(undefined);
  });
}

/** `ShardMapper.scaleDown`: drains the least loaded first. */
export function scaleDown(c: MapperCore, count: number): MapperResult<number[]> {
  checkCount('ShardMapper.scaleDown', count);
  return c.locked((): MapperResult<number[]> => {
    const active = c.i32[c.ACTIVE]!;
    const min = c.policy.minShards;
    const n = Math.min(count, active - min);
    if (active <= min || n <= 0) {
      return fail('at-min-shards', `scaleDown: ${active} shards are active, minShards is ${min}`);
    }
    const now = c.clock.now();
    if (cooldownActive(c, now)) return cooldownFailure(c, 'scaleDown', now);
    const weight = (s: number): number => c.records.get(s, 'weight');
    const order = c.liveSlotsById().filter((s) => c.i32[c.SLOT_STATE + s] === SLOT_ACTIVE);
    // Stable sort by weight, NaN last (like a total order on floats), ties by id.
    order.sort((a, b) => {
      const wa = weight(a);
      const wb = weight(b);
      if (Number.isNaN(wa) || Number.isNaN(wb)) return Number.isNaN(wa) ? (Number.isNaN(wb) ? 0 : 1) : -1;
      return wa - wb;
    });
    const ids: number[] = [];
    for (const s of order.slice(0, n)) {
      startDrain(c, s);
      ids.push(c.i32[c.SLOT_ID + s]!);
    }
    Atomics.sub(c.i32, c.ACTIVE, n);
    c.f64[c.LAST_SCALING] = now;
    c.table.publish();
    return ok(ids);
  });
}

/** `ShardMapper.finalizeDraining`: the ids it stopped (none when the lock could not be had). */
export function finalizeDraining(c: MapperCore): number[] {
  const stopped: number[] = [];
  if (!c.lock()) return stopped;
  try {
    const now = c.clock.now();
    for (const s of c.liveSlotsById()) {
      if (c.i32[c.SLOT_STATE + s] !== SLOT_DRAINING) continue;
      // A producer still attached could push again: not finished. (Checked
      // before the ring length: a producer detaches only after its last
      // push is published, so once we see it gone, the length it left is
      // visible.)
      if (Atomics.load(c.attached, s) !== 0) continue;
      if (Atomics.load(c.bufferLen, s) !== 0) continue;
      const id = c.i32[c.SLOT_ID + s]!;
      if (c.collectorAt(s, id).pushesSinceDrainStart() !== 0) continue;
      const started = c.records.get(s, 'drainStartedMs');
      if (!(now - started > c.policy.minDrainMs)) continue;
      Atomics.store(c.i32, c.SLOT_STATE + s, SLOT_STOPPED);
      stopped.push(id);
    }
    if (stopped.length > 0) c.table.publish();
  } finally {
    c.unlock();
  }
  return stopped;
}

/** `ShardMapper.rearmDrain`. */
export function rearmDrain(c: MapperCore, id: number): boolean {
  const r = c.locked((): MapperResult<boolean> => {
    const s = c.slotOf(id);
    if (s < 0 || c.i32[c.SLOT_STATE + s] !== SLOT_DRAINING) return ok(false);
    c.collectorAt(s, id).setDraining(true);
    c.records.set(s, 'drainStartedMs', c.clock.now());
    return ok(true);
  });
  return r.ok && r.value;
}

/** `ShardMapper.removeSpecificStoppedShard`. */
export function removeStopped(c: MapperCore, id: number): boolean {
  const r = c.locked((): MapperResult<boolean> => {
    const s = c.slotOf(id);
    if (s < 0 || c.i32[c.SLOT_STATE + s] !== SLOT_STOPPED) return ok(false);
    freeSlot(c, s);
    c.table.publish();
    return ok(true);
  });
  return r.ok && r.value;
}

/** `ShardMapper.removeStoppedShards`. */
export function removeAllStopped(c: MapperCore): number[] {
  const r = c.locked((): MapperResult<number[]> => {
    const ids: number[] = [];
    for (const s of c.liveSlotsById()) {
      if (c.i32[c.SLOT_STATE + s] !== SLOT_STOPPED) continue;
      ids.push(c.i32[c.SLOT_ID + s]!);
      freeSlot(c, s);
    }
    if (ids.length > 0) c.table.publish();
    return ok(ids);
  });
  return r.ok ? r.value : [];
}

/**
 * The recovery hook: runs under the lock when a holder that died (or
 * outlived its lease) is taken over, before the new holder's operation.
 * Rebuilds from the slots whatever the lock guards that the dead holder may
 * have left half-done. A slot becomes live only by its state store, the
 * last write of `allocate`, so a slot is either fully set up or still free;
 * the counters and the table are derived state:
 * - the Active count is the number of Active slots;
 * - the id counter moves past every id found in a slot (ids taken by a dead
 *   `allocate` and never placed are skipped, never reused);
 * - an Active slot carries no drain mark (a drain that died between its
 *   marks and the state store never happened);
 * - the selection table is rebuilt and republished.
 */
export function recover(c: MapperCore): void {
  const i32 = c.i32;
  let active = 0;
  let maxId = -1;
  for (let s = 0; s < c.slots; s++) {
    const st = i32[c.SLOT_STATE + s]!;
    if (st === SLOT_FREE) continue;
    const id = i32[c.SLOT_ID + s]!;
    if (id > maxId) maxId = id;
    if (st !== SLOT_ACTIVE) continue;
    active++;
    if (c.records.get(s, 'draining') === 1) {
      c.records.set(s, 'draining', 0);
      c.records.set(s, 'weight', 0);
      c.records.set(s, 'drainStartedMs', NaN);
      c.collectorAt(s, id).setDraining(false);
    }
  }
  Atomics.store(i32, c.ACTIVE, active);
  if (i32[c.NEXT_ID]! <= maxId) i32[c.NEXT_ID] = maxId + 1;
  c.table.publish();
}
