import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, mapper, ONE_NS_MS, pastCooldown, snapshot, value } from './helpers/mapper.js';

// Reference: activate_returns_true_on_transition_and_false_on_idempotent_call.
test('activate is true on the transition and false (changing nothing) when already Active', () => {
  const m = mapper(2, { minShards: 1, maxShards: 16, cooldownMs: ONE_NS_MS });
  const created: number[] = [];
  m.setOnShardCreated((id) => created.push(id));
  assert.equal(value(m.scaleUpProvisioning(1)), [2]);
  assert.is(value(m.activate(2)), true, 'first activate on a provisioning shard');
  assert.is(m.activeShardCount(), 3);
  const before = snapshot(m);
  assert.is(value(m.activate(2)), false, 'activate on an Active shard');
  assert.is(m.activeShardCount(), 3, 'an idempotent activate must not move the Active count');
  assert.equal(snapshot(m), before);
  assert.equal(created, [2], 'the creation callback runs once per real transition');
  // An initial shard is Active too.
  assert.is(value(m.activate(0)), false);
});

// Reference: activate_rejects_when_active_count_would_exceed_max_shards.
test('activate re-checks maxShards: two provisioned shards at the edge cannot both go Active', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS });
  const a = value(m.scaleUpProvisioning(1));
  // Both pass the allocation gate: only Active shards count against it.
  const b = value(pastCooldown(() => m.scaleUpProvisioning(1)));
  assert.is(a.length, 1);
  assert.is(b.length, 1);
  assert.is(value(m.activate(a[0]!)), true);
  assert.is(m.activeShardCount(), 4);
  const before = snapshot(m);
  const msg = failure(m.activate(b[0]!), 'at-max-shards');
  assert.match(msg, /maxShards is 4/);
  assert.is(m.activeShardCount(), 4, 'the Active count must stay at the cap');
  assert.is(m.shardState(b[0]!), 'provisioning', 'the refused shard stays provisioning');
  assert.equal(snapshot(m), before);
  // Once a shard drains there is room again.
  value(m.drainSpecific(0));
  assert.is(value(m.activate(b[0]!)), true);
  assert.is(m.activeShardCount(), 4);
});

test('activate restamps the activation time (the shard enters warm-up)', () => {
  const m = mapper(2, { minShards: 1, maxShards: 4, cooldownMs: 1000, underutilizedThreshold: 0.2 });
  const hooks = m.testHooks();
  const ids = value(m.scaleUpProvisioningForce(2));
  hooks.setActivatedAtMs(ids[0]!, hooks.now() - 10_000);
  hooks.setActivatedAtMs(ids[1]!, hooks.now() - 10_000);
  value(m.activate(ids[0]!));
  value(m.activate(ids[1]!));
  // Shard 0 is busy, shard 1 idle; the two just activated are idle
  // placeholders. Were they to vote, 3 of 4 would be idle: a scale-down.
  hooks.setLastMetrics(0, { fillRatio: 0.5, eventRate: 100 });
  hooks.setLastScalingMs(null);
  assert.equal(m.evaluateScaling(), { kind: 'none' }, 'fresh shards must not vote');
  hooks.setActivatedAtMs(ids[0]!, hooks.now() - 10_000);
  hooks.setActivatedAtMs(ids[1]!, hooks.now() - 10_000);
  assert.equal(m.evaluateScaling(), { kind: 'scale-down', count: 1 });
});

test.run();
