/**
 * `decideScaling` with plain data: no mapper, no lock, no hooks. The mapper
 * tests (mapper-evaluate-scaling-*) check that `evaluateScaling` feeds it
 * the Active shards' records under the lock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { DEFAULT_SCALING_POLICY, type ScalingPolicy } from '../../src/router/policy.js';
import { decideScaling, inCooldown, type ScalingRecord } from '../../src/router/scaling.js';
import { check } from '../helpers/prop.js';

const NOW = 1_000_000;
const OLD = NOW - 3_600_000;

function policy(p: Partial<ScalingPolicy>): ScalingPolicy {
  return { ...DEFAULT_SCALING_POLICY, minShards: 1, maxShards: 8, cooldownMs: 1000, ...p };
}

function shard(m: Partial<ScalingRecord>): ScalingRecord {
  return { activatedAtMs: OLD, fillRatio: 0.5, eventRate: 10, pushLatencyNs: 0, flushLatencyUs: 0, ...m };
}

function shards(n: number, m: Partial<ScalingRecord>): ScalingRecord[] {
  return Array.from({ length: n }, () => shard(m));
}

const overloaded = { fillRatio: 0.9 };
const idle = { fillRatio: 0.05, eventRate: 0 };

test('auto-scaling off or within the cooldown: none', () => {
  const active = shards(4, overloaded);
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active }, policy({ autoScale: false }), NOW), {
    kind: 'none',
  });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NOW - 10, active }, policy({}), NOW), { kind: 'none' });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NOW - 1000, active }, policy({}), NOW), {
    kind: 'scale-up',
    count: 2,
  });
});

test('a majority overloaded by fill, push or flush latency scales up by half of them, within the room left', () => {
  const p = policy({ fillRatioThreshold: 0.7, pushLatencyThresholdNs: 10, flushLatencyThresholdUs: 10 });
  for (const m of [overloaded, { pushLatencyNs: 100 }, { flushLatencyUs: 100 }]) {
    assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active: shards(4, m) }, p, NOW), {
      kind: 'scale-up',
      count: 2,
    });
  }
  const half = [...shards(2, overloaded), ...shards(2, {})];
  assert.equal(
    decideScaling({ activeCount: 4, lastScalingMs: NaN, active: half }, p, NOW),
    { kind: 'none' },
    'half is not a majority',
  );
  const room = policy({ maxShards: 5 });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active: shards(4, overloaded) }, room, NOW), {
    kind: 'scale-up',
    count: 1,
  });
  const full = policy({ maxShards: 4 });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active: shards(4, overloaded) }, full, NOW), {
    kind: 'none',
  });
});

test('a majority idle (under the threshold, no events) scales down, never below minShards', () => {
  const p = (minShards: number): ScalingPolicy => policy({ underutilizedThreshold: 0.2, minShards });
  const active = shards(4, idle);
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active }, p(2), NOW), {
    kind: 'scale-down',
    count: 2,
  });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active }, p(3), NOW), {
    kind: 'scale-down',
    count: 1,
  });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active }, p(4), NOW), { kind: 'none' });
  const busy = shards(4, { fillRatio: 0.05, eventRate: 1 });
  assert.equal(decideScaling({ activeCount: 4, lastScalingMs: NaN, active: busy }, p(1), NOW), { kind: 'none' });
});

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('shards in warm-up (activated within the cooldown) do not vote, but the Active count still sizes the majority', () => {
  const p = policy({ underutilizedThreshold: 0.2, cooldownMs: 1000 });
  const fresh = shard({ ...idle, activatedAtMs: NOW - 10 });
  const two = [shard(idle), shard(idle), fresh];
  assert.equal(decideScaling({ activeCount: 3, lastScalingMs: NaN, active: two }, p, NOW), {
    kind: 'scale-down',
    count: 1,
  });
  const one = [shard(idle), fresh, fresh];
  assert.equal(decideScaling({ activeCount: 3, lastScalingMs: NaN, active: one }, p, NOW), { kind: 'none' });
  const overFresh = [
    shard(overloaded),
    shard({ ...overloaded, activatedAtMs: NOW }),
    shard({ ...overloaded, activatedAtMs: NOW }),
  ];
  assert.equal(decideScaling({ activeCount: 3, lastScalingMs: NaN, active: overFresh }, p, NOW), { kind: 'none' });
});

test('inCooldown: NaN is no action yet; the window is half-open', () => {
  assert.is(inCooldown(NaN, NOW, 1000), false);
  assert.is(inCooldown(NOW - 999, NOW, 1000), true);
  assert.is(inCooldown(NOW - 1000, NOW, 1000), false);
});

test('a decision stays within the policy and is the same for the same arguments', async () => {
  const rec = fc.record({
    activatedAtMs: fc.oneof(fc.constant(OLD), fc.integer({ min: NOW - 2000, max: NOW })),
    fillRatio: fc.double({ min: 0, max: 1, noNaN: true }),
    eventRate: fc.oneof(fc.constant(0), fc.nat(1000)),
    pushLatencyNs: fc.nat(5000),
    flushLatencyUs: fc.nat(20_000),
  });
  await check(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 1, max: 16 }),
      fc.array(rec, { maxLength: 16 }),
      fc.boolean(),
      (a, b, active, auto) => {
        const minShards = Math.min(a, b);
        const maxShards = Math.max(a, b);
        const activeCount = Math.max(active.length, 1);
        const p = policy({ minShards, maxShards, autoScale: auto });
        const d = decideScaling({ activeCount, lastScalingMs: NaN, active }, p, NOW);
        assert.equal(
          decideScaling({ activeCount, lastScalingMs: NaN, active }, p, NOW),
          d,
          'same inputs, same decision',
        );
        if (!auto) assert.equal(d, { kind: 'none' });
        if (d.kind === 'scale-up') assert.ok(d.count >= 1 && activeCount + d.count <= maxShards);
        if (d.kind === 'scale-down') assert.ok(d.count >= 1 && activeCount - d.count >= minShards);
      },
    ),
  );
});

test.run();
