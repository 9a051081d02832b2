import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SHARD } from '../../src/router/mapper.js';
import { failure, mapper, snapshot, value } from './helpers/mapper.js';

// Reference: scale_up_zero_is_a_noop.
test('scaleUp(0) succeeds in cooldown and leaves the cooldown stamp alone', () => {
  const m = mapper(2, { maxShards: 8, cooldownMs: 60_000 });
  const hooks = m.testHooks();
  hooks.setLastScalingMs(hooks.now());
  const stamp = hooks.lastScalingMs();
  const before = snapshot(m);
  const created: number[] = [];
  m.setOnShardCreated((id) => created.push(id));
  assert.equal(value(m.scaleUp(0)), []);
  assert.is(hooks.lastScalingMs(), stamp, 'scaleUp(0) bumped the cooldown stamp');
  assert.equal(snapshot(m), before);
  assert.equal(created, []);
  // The cooldown is real: a non-zero request is refused.
  failure(m.scaleUp(1), 'in-cooldown');
});

test('scaleUp(0) does not trip the id sentinel', () => {
  const m = mapper(2, { cooldownMs: 60_000 });
  const hooks = m.testHooks();
  hooks.setNextShardId(NO_SHARD);
  const before = snapshot(m);
  assert.equal(value(m.scaleUp(0)), []);
  assert.equal(value(m.scaleUpProvisioning(0)), []);
  assert.equal(value(m.scaleUpProvisioningForce(0)), []);
  assert.equal(snapshot(m), before);
  assert.ok(Number.isNaN(hooks.lastScalingMs()));
});

test('scaleUp(0) at maxShards is still a no-op, not a refusal', () => {
  const m = mapper(2, { maxShards: 2 });
  const before = snapshot(m);
  assert.equal(value(m.scaleUp(0)), []);
  assert.equal(value(m.scaleUpProvisioning(0)), []);
  assert.equal(snapshot(m), before);
});

test('scaleDown(0) is refused as at-min-shards (nothing to drain) and changes nothing', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: 60_000 });
  const before = snapshot(m);
  failure(m.scaleDown(0), 'at-min-shards');
  assert.equal(snapshot(m), before);
});

test.run();
