/**
 * Producer binding: each Active shard takes at most one producer (the
 * single-producer side of its ring). A producer claims a slot's `attached`
 * word by CAS with its token and lets go by CAS back to 0; no lock. A shard
 * whose circuit breaker is not closed takes no producer.
 */
import { invalidArgument } from '../errors.js';
import type { MapperCore } from './mapper-core.js';
import { SLOT_ACTIVE } from './mapper-types.js';

/**
 * `ShardMapper.bindProducer`: the slot bound, or -1. Tries the slot the
 * selection picks for `hash`, then the rest of the selection table, then
 * every Active slot with a closed breaker from least to most loaded.
 *
 * The claim is made first and the state checked after: a drain publishes
 * Draining before it looks for attached producers, so either this check
 * sees Draining (and we let go without pushing) or the drain sees us
 * attached (and waits until we detach). The breaker is checked after the
 * claim too; only the shard's own producer opens it (by failed waits) and
 * only the control loop closes it, so a shard whose breaker is closed when
 * we hold its producer word stays routable until we push there ourselves.
 */
export function bindProducer(c: MapperCore, hash: number, token: number): number {
  if (!Number.isInteger(token) || token === 0 || (token | 0) !== token) {
    throw invalidArgument('ShardMapper.bindProducer', 'token', token, 'a non-zero 32-bit integer');
  }
  const tries: number[] = [];
  const first = c.table.entry(hash);
  if (first >= 0) tries.push(first >>> 16);
  for (const id of c.table.ids()) tries.push(c.slotOf(id));
  const rest: number[] = [];
  for (let s = 0; s < c.slots; s++) if (c.slotState(s) === SLOT_ACTIVE && c.breakerClosedAt(s)) rest.push(s);
  rest.sort((a, b) => c.records.get(a, 'weight') - c.records.get(b, 'weight'));
  tries.push(...rest);
  for (const s of tries) {
    if (s < 0 || Atomics.load(c.attached, s) !== 0) continue;
    if (Atomics.compareExchange(c.attached, s, 0, token) !== 0) continue;
    if (c.slotState(s) === SLOT_ACTIVE && c.breakerClosedAt(s)) return s;
    Atomics.store(c.attached, s, 0);
  }
  return -1;
}

/** Let go of slot `s` if `token` holds it. */
export function unbindProducer(c: MapperCore, s: number, token: number): void {
  if (s >= 0 && s < c.slots) Atomics.compareExchange(c.attached, s, token, 0);
}

/** Token of the producer attached to slot `s` (0 = none). */
export function attachedProducer(c: MapperCore, s: number): number {
  return s >= 0 && s < c.slots ? Atomics.load(c.attached, s) : 0;
}
