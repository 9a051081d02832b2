/**
 * Shared scaffolding for the shard mapper tests: hash spreads over the
 * 32-bit range, a snapshot of the mapper's observable state, and the retry
 * the reference uses when a 1 ns cooldown has not elapsed yet.
 */
import * as assert from 'uvu/assert';
import { ShardMapper, type MapperResult, type ShardMapperOptions } from '../../../src/router/mapper.js';
import type { ScalingPolicy } from '../../../src/router/policy.js';

/** The reference's `cooldown: Duration::from_nanos(1)`. */
export const ONE_NS_MS = 1e-6;

/** A mapper with a 1024-event ring, like every reference test. */
export function mapper(
  initialShards: number,
  policy: Partial<ScalingPolicy> = {},
  extra: Partial<ShardMapperOptions> = {},
): ShardMapper {
  return ShardMapper.create({ initialShards, ringCapacity: 1024, policy, ...extra });
}

/** `n` hashes evenly spread over [0, 2^32). */
export function spread(n: number): number[] {
  const step = 2 ** 32 / n;
  return Array.from({ length: n }, (_, i) => Math.floor(i * step));
}

/** `n` well-mixed 32-bit hashes (golden-ratio multiply). */
export function mixed(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.imul(i, 0x9e3779b9) >>> 0);
}

/** The ids `selectShard` returns over `hashes`, ascending. */
export function selected(m: ShardMapper, hashes: readonly number[] = spread(10_000)): number[] {
  const seen = new Set<number>();
  for (const h of hashes) seen.add(m.selectShard(h));
  return [...seen].sort((a, b) => a - b);
}

/** Everything a failed operation must leave as it was. */
export function snapshot(m: ShardMapper) {
  const hooks = m.testHooks();
  const ids = [...Array(m.slots).keys()].map((s) => m.idAtSlot(s)).filter((id) => id >= 0);
  return {
    active: m.activeShardIds(),
    all: m.allShardIds(),
    table: m.selectionTable(),
    activeCount: m.activeShardCount(),
    total: m.totalShardCount(),
    states: ids.map((id) => [id, m.shardState(id)]),
    lastScaling: hooks.lastScalingMs(),
  };
}

/** Assert `r` failed with `error` and return its message. */
export function failure<T>(r: MapperResult<T>, error: string): string {
  assert.is(r.ok, false, `expected a '${error}' failure, got ${JSON.stringify(r)}`);
  if (r.ok) throw new Error('unreachable');
  assert.is(r.error, error, r.message);
  assert.type(r.message, 'string');
  return r.message;
}

/** Assert `r` succeeded and return its value. */
export function value<T>(r: MapperResult<T>): T {
  if (!r.ok) assert.unreachable(`expected success, got ${r.error}: ${r.message}`);
  return (r as { ok: true; value: T }).value;
}

/**
 * Run `op` until it is not refused for the cooldown: with a 1 ns cooldown a
 * second scaling action can land on the same clock tick as the first (the
 * reference retries the same way).
 */
export function pastCooldown<T>(op: () => MapperResult<T>): MapperResult<T> {
  for (let i = 0; i < 100_000; i++) {
    const r = op();
    if (r.ok || r.error !== 'in-cooldown') return r;
  }
  return op();
}
