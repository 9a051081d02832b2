import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapper, ONE_NS_MS, selected, spread, value } from './helpers/mapper.js';

// Reference: provisioning_shard_is_not_selectable_until_activated.
test('a provisioning shard is counted nowhere and selected never until activate', () => {
  const m = mapper(2, { minShards: 1, maxShards: 16, cooldownMs: ONE_NS_MS });
  const created: number[] = [];
  m.setOnShardCreated((id) => created.push(id));
  assert.equal(value(m.scaleUpProvisioning(1)), [2]);
  assert.is(m.activeShardCount(), 2);
  assert.is(m.shardState(2), 'provisioning');
  assert.equal(m.activeShardIds(), [0, 1]);
  assert.equal(m.allShardIds(), [0, 1, 2], 'a provisioning shard exists');
  assert.is(m.totalShardCount(), 3);
  assert.ok(m.metricsCollector(2) !== undefined, 'it has a collector already');
  assert.equal(created, [], 'no creation callback before it is live');

  const hashes = spread(10_000);
  assert.equal(selected(m, hashes), [0, 1], 'provisioning shard 2 was selected');
  assert.equal(m.selectionTable(), [0, 1]);

  assert.is(value(m.activate(2)), true);
  assert.is(m.shardState(2), 'active');
  assert.is(m.activeShardCount(), 3);
  assert.equal(created, [2]);
  assert.ok(selected(m, hashes).includes(2), 'after activate, shard 2 must be selectable');
  assert.equal(selected(m, hashes), [0, 1, 2]);
});

test('the forced variant also creates unselectable provisioning shards', () => {
  const m = mapper(1, { minShards: 1, maxShards: 4, cooldownMs: 60_000 });
  assert.equal(value(m.scaleUpProvisioningForce(2)), [1, 2]);
  assert.equal(selected(m), [0]);
  assert.is(m.activeShardCount(), 1);
  value(m.activate(1));
  assert.equal(selected(m), [0, 1]);
  assert.is(m.shardState(2), 'provisioning');
});

test('a producer cannot bind to a provisioning shard', () => {
  const m = mapper(1, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS });
  value(m.scaleUpProvisioning(1));
  const slot = m.bindProducer(0, 1);
  assert.is(m.idAtSlot(slot), 0);
  assert.is(m.bindProducer(0x80000000, 2), -1, 'the only Active shard is taken; the provisioning one is not offered');
});

test.run();
