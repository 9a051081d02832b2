import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SHARDS_LIMIT } from '../../src/router/policy.js';
import { NO_SHARD } from '../../src/router/mapper.js';
import { failure, mapper, selected, snapshot, value } from './helpers/mapper.js';

// Reference: test_scale_up.
test('scaleUp adds Active shards with the next ids and calls back for each', () => {
  const m = mapper(2, { maxShards: 8 });
  const created: number[] = [];
  m.setOnShardCreated((id) => created.push(id));
  const ids = value(m.scaleUp(2));
  assert.equal(ids, [2, 3]);
  assert.is(m.activeShardCount(), 4);
  assert.equal(m.activeShardIds(), [0, 1, 2, 3]);
  assert.equal(created, [2, 3]);
  assert.equal(selected(m), [0, 1, 2, 3]);
  assert.ok(m.testHooks().lastScalingMs() <= m.testHooks().now(), 'scaleUp starts the cooldown');
});

// Reference: test_scale_up_max_limit.
test('scaleUp past maxShards is refused and changes nothing', () => {
  const m = mapper(4, { maxShards: 4 });
  const before = snapshot(m);
  assert.match(failure(m.scaleUp(1), 'at-max-shards'), /4 shards are active, maxShards is 4/);
  assert.equal(snapshot(m), before);
  // Partial room does not help: the whole request is refused.
  const n = mapper(2, { maxShards: 3 });
  const nBefore = snapshot(n);
  failure(n.scaleUp(2), 'at-max-shards');
  failure(n.scaleUpProvisioning(2), 'at-max-shards');
  failure(n.scaleUpProvisioningForce(2), 'at-max-shards');
  assert.equal(snapshot(n), nBefore);
  assert.equal(value(n.scaleUp(1)), [2]);
});

// Reference: test_scale_up_overflow_protection.
test('ids stop below the NO_SHARD sentinel', () => {
  const m = mapper(1, { maxShards: MAX_SHARDS_LIMIT });
  const hooks = m.testHooks();
  hooks.setNextShardId(NO_SHARD - 1);
  const before = snapshot(m);
  // Three ids would be 0xFFFE, 0xFFFF (the sentinel) and 0x10000.
  assert.match(failure(m.scaleUp(3), 'at-max-shards'), /shard ids would pass 65534/);
  failure(m.scaleUp(2), 'at-max-shards');
  failure(m.scaleUpProvisioningForce(2), 'at-max-shards');
  assert.equal(snapshot(m), before, 'a refused scale-up allocates nothing and starts no cooldown');
  // One more id still fits.
  assert.equal(value(m.scaleUp(1)), [NO_SHARD - 1]);
  assert.is(m.shardState(NO_SHARD - 1), 'active');
  assert.equal(m.activeShardIds(), [0, NO_SHARD - 1]);
  assert.ok(selected(m).includes(NO_SHARD - 1));
  // And then the space is exhausted.
  hooks.setLastScalingMs(null);
  failure(m.scaleUp(1), 'at-max-shards');
});

test('scaleUp is refused when no slot is free (stopped shards not yet removed)', () => {
  const m = mapper(1, { minShards: 1, maxShards: 2, cooldownMs: 0 }, { slots: 2 });
  const hooks = m.testHooks();
  value(m.scaleUp(1));
  value(m.drainSpecific(1));
  hooks.setState(1, 'stopped');
  const before = snapshot(m);
  assert.match(failure(m.scaleUp(1), 'no-free-slot'), /remove stopped shards first/);
  assert.equal(snapshot(m), before);
  assert.equal(m.removeStoppedShards(), [1]);
  assert.equal(value(m.scaleUp(1)), [2]);
});

test.run();
