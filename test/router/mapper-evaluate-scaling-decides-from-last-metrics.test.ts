import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ScalingDecision } from '../../src/router/mapper.js';
import type { ScalingPolicy } from '../../src/router/policy.js';
import type { ShardMetrics } from '../../src/router/metrics.js';
import { mapper, ONE_NS_MS, snapshot } from './helpers/mapper.js';

/** Four shards whose last metrics are all `m`. */
function fourWith(policy: Partial<ScalingPolicy>, m: Partial<ShardMetrics>) {
  const mp = mapper(4, { cooldownMs: ONE_NS_MS, ...policy });
  for (const id of [0, 1, 2, 3]) mp.testHooks().setLastMetrics(id, m);
  return mp;
}

const overloaded = { fillRatio: 0.9 };
const idle = { fillRatio: 0.05, eventRate: 0 };

// Reference: test_evaluate_scaling_auto_scale_disabled.
test('with autoScale off the decision is always none', () => {
  assert.equal(fourWith({ autoScale: false, maxShards: 8 }, overloaded).evaluateScaling(), { kind: 'none' });
  assert.equal(fourWith({ autoScale: false, minShards: 1 }, idle).evaluateScaling(), { kind: 'none' });
  // The same metrics with autoScale on do decide.
  assert.equal(fourWith({ autoScale: true, maxShards: 8 }, overloaded).evaluateScaling().kind, 'scale-up');
});

// Reference: test_evaluate_scaling_in_cooldown.
test('within the cooldown of the last scaling action the decision is none', () => {
  const m = fourWith({ cooldownMs: 60_000, maxShards: 8 }, overloaded);
  const hooks = m.testHooks();
  hooks.setLastScalingMs(hooks.now());
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  hooks.setLastScalingMs(hooks.now() - 61_000);
  assert.equal(m.evaluateScaling().kind, 'scale-up');
});

// Reference: test_evaluate_scaling_scale_up_on_high_fill_ratio.
test('a majority over the fill threshold asks for a scale-up by half of them', () => {
  const m = fourWith({ fillRatioThreshold: 0.7, maxShards: 8 }, overloaded);
  const before = snapshot(m);
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 2 });
  assert.equal(snapshot(m), before, 'evaluateScaling decides without acting');
});

// Reference: test_evaluate_scaling_scale_up_on_high_latency.
test('a majority over the push latency threshold asks for a scale-up', () => {
  const m = fourWith({ pushLatencyThresholdNs: 10, maxShards: 8 }, { avgPushLatencyNs: 100 });
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 2 });
  const f = fourWith({ flushLatencyThresholdUs: 10, maxShards: 8 }, { avgFlushLatencyUs: 100 });
  assert.equal(f.evaluateScaling(), { kind: 'scale-up', count: 2 });
});

test('exactly half overloaded is not a majority; the room left caps the count', () => {
  const m = mapper(4, { cooldownMs: ONE_NS_MS, maxShards: 5 });
  const hooks = m.testHooks();
  for (const id of [0, 1, 2, 3]) hooks.setLastMetrics(id, { fillRatio: 0.5, eventRate: 10 });
  hooks.setLastMetrics(0, overloaded);
  hooks.setLastMetrics(1, overloaded);
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  hooks.setLastMetrics(2, overloaded);
  hooks.setLastMetrics(3, overloaded);
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 1 }, 'maxShards 5 leaves room for one');
});

// Reference: test_evaluate_scaling_scale_down_on_underutilized.
test('a majority idle (under the threshold, no events) asks for a scale-down', () => {
  const m = fourWith({ underutilizedThreshold: 0.2, minShards: 2 }, idle);
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 2 });
  // A shard that saw events is not idle however empty it is.
  const busy = fourWith({ underutilizedThreshold: 0.2, minShards: 1 }, { fillRatio: 0.05, eventRate: 1 });
  assert.equal(busy.evaluateScaling(), { kind: 'none' });
  // The scale-down stops at minShards.
  const floor = fourWith({ underutilizedThreshold: 0.2, minShards: 3 }, idle);
  assert.equal(floor.evaluateScaling(), { kind: 'scale-down', count: 1 });
});

// Reference: test_evaluate_scaling_no_scale_up_at_max.
test('no scale-up at maxShards', () => {
  const m = fourWith({ fillRatioThreshold: 0.7, maxShards: 4 }, overloaded);
  assert.equal(m.evaluateScaling(), { kind: 'none' });
});

// Reference: test_evaluate_scaling_no_scale_down_at_min.
test('no scale-down at minShards', () => {
  const m = fourWith({ underutilizedThreshold: 0.2, minShards: 4 }, idle);
  assert.equal(m.evaluateScaling(), { kind: 'none' });
});

// Reference: test_evaluate_scaling_ignores_draining_shards.
test('draining shards do not vote', () => {
  const m = fourWith({ fillRatioThreshold: 0.7, maxShards: 8 }, overloaded);
  const hooks = m.testHooks();
  for (const id of [0, 1, 2, 3]) hooks.setState(id, 'draining');
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  // Nor do provisioning or stopped ones.
  hooks.setState(0, 'provisioning');
  hooks.setState(1, 'stopped');
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  // Two Active overloaded of an Active count of 4 is not a majority; three is.
  hooks.setState(0, 'active');
  hooks.setState(1, 'active');
  assert.equal(m.evaluateScaling(), { kind: 'none' });
  hooks.setState(2, 'active');
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 1 });
});

test('drained shards vote no more after a real drain', () => {
  const m = fourWith({ minShards: 1, maxShards: 8, underutilizedThreshold: 0.2 }, { fillRatio: 0.5, eventRate: 10 });
  const hooks = m.testHooks();
  hooks.setLastMetrics(2, overloaded);
  hooks.setLastMetrics(3, overloaded);
  assert.equal(m.evaluateScaling(), { kind: 'none' }, 'two of four is not a majority');
  m.drainSpecific(1);
  hooks.setLastScalingMs(null);
  assert.equal(m.evaluateScaling(), { kind: 'scale-up', count: 1 }, 'two of three is');
  m.drainSpecific(3);
  hooks.setLastScalingMs(null);
  assert.equal(m.evaluateScaling(), { kind: 'none' }, 'the drained overloaded shard no longer votes');
});

// Reference: test_scaling_decision_debug.
test('decisions are a discriminated union: none, scale-up with a count, scale-down with a count', () => {
  const none = fourWith({ maxShards: 8 }, { fillRatio: 0.5, eventRate: 10 }).evaluateScaling();
  const up = fourWith({ maxShards: 8 }, overloaded).evaluateScaling();
  const down = fourWith({ minShards: 1 }, idle).evaluateScaling();
  const describe = (d: ScalingDecision): string => (d.kind === 'none' ? 'None' : `${d.kind}(${d.count})`);
  assert.is(describe(none), 'None');
  assert.is(describe(up), 'scale-up(2)');
  assert.is(describe(down), 'scale-down(2)');
  assert.equal(Object.keys(none), ['kind']);
  assert.equal(Object.keys(up).sort(), ['count', 'kind']);
});

test.run();
