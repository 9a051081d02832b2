/**
 * A collector belongs to its shard, not to its slot: once the shard is
 * removed and its slot reused by a new shard, recordings through the old
 * collector are dropped (as they would be lost with the shard) and it
 * reports draining, instead of changing the new shard's figures.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';

test("late recordings on a removed shard leave the slot's new shard alone", () => {
  const m = ShardMapper.create({
    initialShards: 2,
    ringCapacity: 1024,
    slots: 2,
    policy: { minShards: 1, maxShards: 2, cooldownMs: 0, minDrainMs: 0 },
  });
  const old = m.metricsCollector(1)!;
  assert.ok(m.drainSpecific(1).ok);
  m.testHooks().setDrainStartedMs(1, m.testHooks().now() - 1000);
  assert.equal(m.finalizeDraining(), [1]);
  assert.equal(m.removeStoppedShards(), [1]);
  const up = m.scaleUp(1);
  assert.ok(up.ok && up.value[0] === 2);
  old.recordPush(500);
  old.recordEvents(10);
  old.recordFlush(7);
  old.recordBufferLen(512);
  old.setDraining(true);
  assert.ok(old.isDraining(), 'a removed shard counts as draining');
  const fresh = m.collectMetrics().find((x) => x.shardId === 2)!;
  assert.equal(
    [fresh.eventRate, fresh.avgPushLatencyNs, fresh.avgFlushLatencyUs, fresh.fillRatio, fresh.draining, fresh.weight],
    [0, 0, 0, 0, false, 0],
  );
  assert.is(m.metricsCollector(2)!.pushesSinceDrainStart(), 0);
  assert.is(m.shardState(2), 'active');
});

test('a negative ring length is recorded as empty', () => {
  const m = ShardMapper.create({ initialShards: 1, ringCapacity: 1024 });
  m.metricsCollector(0)!.recordBufferLen(-5);
  assert.is(m.collectMetrics()[0]!.fillRatio, 0);
});

test.run();
