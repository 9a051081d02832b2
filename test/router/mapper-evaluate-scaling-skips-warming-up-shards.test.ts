import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapper, value } from './helpers/mapper.js';
import { ManualClock } from '../../src/shm/clock.js';

const idle = { fillRatio: 0.05, eventRate: 0 };

// Reference: freshly_added_shard_skipped_from_evaluate_scaling_warmup.
test('a shard activated within the cooldown does not vote; the others still decide', () => {
  const m = mapper(3, { underutilizedThreshold: 0.2, minShards: 1, cooldownMs: 1000 });
  const hooks = m.testHooks();
  const old = hooks.now() - 2000;
  for (const id of [0, 1, 2]) {
    hooks.setLastMetrics(id, idle);
    hooks.setActivatedAtMs(id, old);
  }
  hooks.setActivatedAtMs(2, hooks.now());
  // Two warmed-up idle shards of three are a majority: scale-down.
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 });
  // With two shards fresh, one voter is not a majority of three; were the
  // fresh shards counted, all three would be idle.
  hooks.setActivatedAtMs(1, hooks.now());
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  // Past the warm-up they vote again.
  hooks.setActivatedAtMs(1, old);
  hooks.setActivatedAtMs(2, old);
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 });
});

test('a fresh shard changes the count a decision is made with', () => {
  const m = mapper(4, { underutilizedThreshold: 0.2, minShards: 1, cooldownMs: 1000 });
  const hooks = m.testHooks();
  for (const id of [0, 1, 2, 3]) hooks.setLastMetrics(id, idle);
  // Initial shards count as activated long ago.
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 2 });
  hooks.setActivatedAtMs(3, hooks.now());
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 }, 'three idle voters, not four');
});

test('shards added by scaleUp start in warm-up: their placeholder metrics cannot force a scale-down', () => {
  const m = mapper(1, { minShards: 1, maxShards: 4, cooldownMs: 1000 });
  const hooks = m.testHooks();
  hooks.setLastMetrics(0, { fillRatio: 0.5, eventRate: 100 });
  assert.equal(value(m.scaleUp(2)), [1, 2]);
  hooks.setLastScalingMs(null); // look past the action's own cooldown
  // Shards 1 and 2 hold zeroed metrics, which read as idle: 2 of 3.
  assert.equal(m.lastMetrics(1)?.eventRate, 0);
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  for (const id of [1, 2]) hooks.setActivatedAtMs(id, hooks.now() - 2000);
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 });
});

test('an overloaded fresh shard does not vote for a scale-up either', () => {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: 1000 });
  const hooks = m.testHooks();
  for (const id of [0, 1, 2]) hooks.setLastMetrics(id, { fillRatio: 0.9, eventRate: 10 });
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 1 });
  hooks.setActivatedAtMs(1, hooks.now());
  hooks.setActivatedAtMs(2, hooks.now());
  assert.equal(m.evaluateScaling(), { kind: 'none' });
});

test('the warm-up ends when the mapper clock passes it', () => {
  const clock = ManualClock.create(10_000);
  const m = mapper(1, { minShards: 1, maxShards: 4, cooldownMs: 2 }, { clock });
  const hooks = m.testHooks();
  hooks.setLastMetrics(0, { fillRatio: 0.5, eventRate: 100 });
  value(m.scaleUp(2));
  clock.advance(1);
  assert.equal(m.evaluateScaling(), { kind: 'none' }, 'within the cooldown and the warm-up');
  clock.advance(1);
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 });
});

test.run();
