import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ShardState } from '../../src/router/mapper.js';
import { mapper, ONE_NS_MS, value } from './helpers/mapper.js';

// Reference: finalize_draining_does_not_deadlock_on_callback_reentry.
test('the removal callback runs after the lock is released and sees the shard Stopped', () => {
  const m = mapper(2, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  const hooks = m.testHooks();
  const observed: [number, ShardState | undefined][] = [];
  m.setOnShardRemoved((id) => observed.push([id, m.shardState(id)]));
  value(m.drainSpecific(0));
  m.metricsCollector(0)!.recordBufferLen(0);
  assert.is(m.metricsCollector(0)!.pushesSinceDrainStart(), 0);
  hooks.setDrainStartedMs(0, hooks.now() - 1000); // past the 100 ms default minDrainMs
  assert.equal(m.finalizeDraining(), [0]);
  assert.equal(observed, [[0, 'stopped']]);
});

test('a removal callback may call locking methods: it can remove the shard it is told about', () => {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const hooks = m.testHooks();
  const seen: unknown[] = [];
  m.setOnShardRemoved((id) => {
    // Each of these takes the mapper lock, which is not re-entrant: they
    // only work if finalizeDraining let go of it first.
    seen.push(m.removeSpecificStoppedShard(id), m.collectMetrics().length, m.testHooks().lastScalingMs() > 0);
  });
  value(m.drainSpecific(2));
  hooks.setDrainStartedMs(2, hooks.now() - 1000);
  assert.equal(m.finalizeDraining(), [2]);
  assert.equal(seen, [true, 2, true]);
  assert.is(m.shardState(2), undefined);
});

test('the creation callback may re-enter too, and sees the shard Active and selectable', () => {
  const m = mapper(1, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  const seen: [number, ShardState | undefined, boolean, number][] = [];
  m.setOnShardCreated((id) => {
    seen.push([id, m.shardState(id), m.selectionTable().includes(id), m.collectMetrics().length]);
  });
  value(m.scaleUp(2));
  const [p] = value(m.scaleUpProvisioningForce(1));
  assert.equal(seen.length, 2, 'provisioning creates no callback');
  value(m.activate(p!));
  assert.equal(seen, [
    [1, 'active', true, 3],
    [2, 'active', true, 3],
    [3, 'active', true, 4],
  ]);
});

test('callbacks can be cleared', () => {
  const m = mapper(2, { minShards: 1, maxShards: 8, cooldownMs: 0, minDrainMs: 0 });
  const calls: number[] = [];
  m.setOnShardCreated((id) => calls.push(id));
  m.setOnShardRemoved((id) => calls.push(-id));
  m.setOnShardCreated(undefined);
  m.setOnShardRemoved(undefined);
  value(m.scaleUp(1));
  value(m.drainSpecific(2));
  m.testHooks().setDrainStartedMs(2, m.testHooks().now() - 1000);
  assert.equal(m.finalizeDraining(), [2]);
  assert.equal(calls, []);
});

test.run();
