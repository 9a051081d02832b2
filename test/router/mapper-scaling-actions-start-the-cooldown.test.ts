import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, mapper, snapshot, value } from './helpers/mapper.js';
import { ManualClock } from '../../src/shm/clock.js';

const policy = { minShards: 1, maxShards: 8, cooldownMs: 60_000 };

// Reference: drain_specific_bumps_last_scaling_so_scale_up_respects_cooldown.
test('drainSpecific stamps the cooldown, so an immediate scaleUp is refused', () => {
  const m = mapper(3, policy);
  const hooks = m.testHooks();
  assert.ok(Number.isNaN(hooks.lastScalingMs()), 'no prior scaling action');
  const before = hooks.now();
  value(m.drainSpecific(0));
  const stamp = hooks.lastScalingMs();
  assert.ok(stamp >= before, `drainSpecific must stamp the cooldown (got ${stamp}, before ${before})`);
  assert.ok(stamp <= hooks.now());
  const snap = snapshot(m);
  assert.match(failure(m.scaleUp(1), 'in-cooldown'), /in cooldown for another .* ms \(cooldownMs 60000\)/);
  assert.equal(snapshot(m), snap);
  failure(m.scaleUpProvisioning(1), 'in-cooldown');
  failure(m.scaleDown(1), 'in-cooldown');
  assert.equal(snapshot(m), snap);
});

test('every scaling action stamps the cooldown', () => {
  const actions: [string, (m: ReturnType<typeof mapper>) => void][] = [
    ['scaleUp', (m) => value(m.scaleUp(1))],
    ['scaleUpProvisioning', (m) => value(m.scaleUpProvisioning(1))],
    ['scaleUpProvisioningForce', (m) => value(m.scaleUpProvisioningForce(1))],
    ['scaleDown', (m) => value(m.scaleDown(1))],
    ['drainSpecific', (m) => value(m.drainSpecific(1))],
  ];
  for (const [name, act] of actions) {
    const m = mapper(3, policy);
    const hooks = m.testHooks();
    act(m);
    assert.not.ok(Number.isNaN(hooks.lastScalingMs()), `${name} did not stamp the cooldown`);
    failure(m.scaleUp(1), 'in-cooldown');
  }
});

test('activate, collection and finalization do not stamp the cooldown', () => {
  const m = mapper(3, { ...policy, minDrainMs: 0 });
  const hooks = m.testHooks();
  const [id] = value(m.scaleUpProvisioningForce(1));
  hooks.setLastScalingMs(null);
  value(m.activate(id!));
  m.collectMetrics();
  m.evaluateScaling();
  m.unbindProducer(m.bindProducer(1, 1), 1);
  assert.ok(Number.isNaN(hooks.lastScalingMs()));
  value(m.drainSpecific(0));
  hooks.setLastScalingMs(null);
  hooks.setDrainStartedMs(0, hooks.now() - 1000);
  assert.equal(m.finalizeDraining(), [0]);
  assert.equal(m.removeStoppedShards(), [0]);
  assert.ok(Number.isNaN(hooks.lastScalingMs()));
});

test('the forced provisioning skips the cooldown but still stamps it', () => {
  const m = mapper(2, policy);
  const hooks = m.testHooks();
  value(m.scaleUp(1));
  const first = hooks.lastScalingMs();
  failure(m.scaleUpProvisioning(1), 'in-cooldown');
  const ids = value(m.scaleUpProvisioningForce(2));
  assert.equal(ids, [3, 4]);
  assert.ok(hooks.lastScalingMs() >= first);
  failure(m.scaleUp(1), 'in-cooldown');
});

test('the cooldown ends cooldownMs after the stamp', () => {
  const m = mapper(2, policy);
  const hooks = m.testHooks();
  hooks.setLastScalingMs(hooks.now() - 59_000);
  failure(m.scaleUp(1), 'in-cooldown');
  hooks.setLastScalingMs(hooks.now() - 61_000);
  assert.equal(value(m.scaleUp(1)), [2]);
});

test('the cooldown ends when the mapper clock passes it', () => {
  const clock = ManualClock.create(10_000);
  const m = mapper(2, { minShards: 1, maxShards: 8, cooldownMs: 2 }, { clock });
  value(m.scaleUp(1));
  clock.advance(1);
  failure(m.scaleUp(1), 'in-cooldown');
  clock.advance(1);
  assert.equal(value(m.scaleUp(1)), [3]);
});

test.run();
