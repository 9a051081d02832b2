import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import { KgError } from '../../src/errors.js';
import { mapper, mixed } from './helpers/mapper.js';

// Reference: select_shard_does_not_acquire_shards_lock.
test('selectShard answers while the mapper lock is held', () => {
  const m = mapper(2);
  const hooks = m.testHooks();
  const outside = m.selectShard(0xdeadbeef);
  // The lock is not re-entrant: anything in here that took it would throw.
  const inside = hooks.holdLock(() => m.selectShard(0xdeadbeef));
  assert.ok(inside < 2, `selectShard must return 0 or 1, got ${inside}`);
  assert.is(inside, outside);
});

test('every selection read works under the lock, on this object and on an attached one', () => {
  const m = mapper(3, { maxShards: 3 });
  const other = ShardMapper.attach(m.handle);
  const hashes = mixed(500);
  const before = hashes.map((h) => m.selectShard(h));
  const seen = m.testHooks().holdLock(() => ({
    mine: hashes.map((h) => m.selectShard(h)),
    theirs: hashes.map((h) => other.selectShard(h)),
    slots: hashes.map((h) => other.selectSlot(h)),
    table: other.selectionTable(),
    active: other.activeShardIds(),
  }));
  assert.equal(seen.mine, before);
  assert.equal(seen.theirs, before);
  assert.equal(
    seen.slots.map((s) => other.idAtSlot(s)),
    before,
  );
  assert.equal(seen.table, [0, 1, 2]);
  assert.equal(seen.active, [0, 1, 2]);
});

test('the hold is real: a locking call on the holding object is refused', () => {
  const m = mapper(2);
  let thrown: unknown;
  m.testHooks().holdLock(() => {
    try {
      m.scaleUp(1);
    } catch (e) {
      thrown = e;
    }
  });
  assert.instance(thrown, KgError);
  assert.match((thrown as KgError).message, /not re-entered/);
  // Released afterwards.
  assert.equal(
    m.collectMetrics().map((x) => x.shardId),
    [0, 1],
  );
});

test.run();
