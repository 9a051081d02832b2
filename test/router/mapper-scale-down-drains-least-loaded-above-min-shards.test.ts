import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, mapper, ONE_NS_MS, selected, snapshot, value } from './helpers/mapper.js';

// Reference: test_scale_down.
test('scaleDown drains the requested count and the Active count drops', () => {
  const m = mapper(4, { minShards: 1, cooldownMs: ONE_NS_MS });
  const drained = value(m.scaleDown(2));
  assert.is(drained.length, 2);
  assert.is(m.activeShardCount(), 2);
  for (const id of drained) assert.is(m.shardState(id), 'draining');
  assert.is(m.allShardIds().length, 4, 'draining shards still exist');
  assert.is(m.activeShardIds().length, 2);
  for (const id of selected(m)) assert.not.ok(drained.includes(id));
});

// Reference: test_scale_down_min_limit.
test('scaleDown at minShards is refused and changes nothing', () => {
  const m = mapper(4, { minShards: 4 });
  const before = snapshot(m);
  assert.match(failure(m.scaleDown(1), 'at-min-shards'), /4 shards are active, minShards is 4/);
  assert.equal(snapshot(m), before);
});

test('scaleDown never goes below minShards: the count is clipped', () => {
  const m = mapper(4, { minShards: 3, cooldownMs: ONE_NS_MS });
  assert.is(value(m.scaleDown(3)).length, 1);
  assert.is(m.activeShardCount(), 3);
});

test('scaleDown drains the lowest weights first, ties by id, NaN last', () => {
  const m = mapper(5, { minShards: 1, cooldownMs: ONE_NS_MS });
  const hooks = m.testHooks();
  [7, Number.NaN, 2, 9, 2].forEach((weight, id) => hooks.setLastMetrics(id, { weight }));
  assert.equal(value(m.scaleDown(3)), [2, 4, 0]);
  hooks.setLastScalingMs(null);
  assert.equal(value(m.scaleDown(1)), [3]);
  assert.equal(m.activeShardIds(), [1]);
});

test('scaleDown is refused in cooldown and changes nothing', () => {
  const m = mapper(4, { minShards: 1, cooldownMs: 60_000 });
  const hooks = m.testHooks();
  hooks.setLastScalingMs(hooks.now());
  const before = snapshot(m);
  assert.match(failure(m.scaleDown(1), 'in-cooldown'), /cooldownMs 60000/);
  assert.equal(snapshot(m), before);
});

test.run();
