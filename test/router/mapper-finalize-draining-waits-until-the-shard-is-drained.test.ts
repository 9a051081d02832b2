import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ShardMapper } from '../../src/router/mapper.js';
import { mapper, ONE_NS_MS, value } from './helpers/mapper.js';
import { ManualClock } from '../../src/shm/clock.js';

/** Three shards with shard 1 draining and past its minimum drain time. */
function drainingOne(minDrainMs = 1000): ShardMapper {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs });
  value(m.drainSpecific(1));
  m.testHooks().setDrainStartedMs(1, m.testHooks().now() - 5000);
  return m;
}

/** A hash `selectShard` maps to `id`. */
function hashFor(m: ShardMapper, id: number): number {
  for (let i = 0; i < 1 << 16; i++) {
    const h = Math.imul(i, 0x9e3779b9) >>> 0;
    if (m.selectShard(h) === id) return h;
  }
  throw new Error(`no hash selects shard ${id}`);
}

test('a drained shard that is empty, quiet, unbound and past minDrainMs is stopped', () => {
  const m = drainingOne();
  const removed: number[] = [];
  m.setOnShardRemoved((id) => removed.push(id));
  assert.equal(m.finalizeDraining(), [1]);
  assert.is(m.shardState(1), 'stopped');
  assert.equal(removed, [1]);
  assert.equal(m.allShardIds(), [0, 2], 'a stopped shard is not among the live ids');
  assert.is(m.totalShardCount(), 3, 'but it holds its slot until removed');
  assert.is(m.activeShardCount(), 2);
  assert.equal(m.finalizeDraining(), [], 'finalizing twice stops nothing more');
  assert.equal(removed, [1]);
  assert.equal(m.removeStoppedShards(), [1]);
  assert.is(m.shardState(1), undefined);
  assert.is(m.totalShardCount(), 2);
});

test('not stopped while the reported buffer length is non-zero', () => {
  const m = drainingOne();
  const c = m.metricsCollector(1)!;
  c.recordBufferLen(5);
  assert.equal(m.finalizeDraining(), []);
  assert.is(m.shardState(1), 'draining');
  c.recordBufferLen(0);
  assert.equal(m.finalizeDraining(), [1]);

  // The same through the mapper's per-slot report.
  const n = drainingOne();
  const slot = n.slotOf(1);
  n.reportBufferLen(slot, 1);
  assert.equal(n.finalizeDraining(), []);
  assert.is(n.metricsCollector(1)!.bufferLength(), 1);
  n.reportBufferLen(slot, 0);
  assert.equal(n.finalizeDraining(), [1]);
});

test('a buffer reported before the drain must be reported empty again', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  m.metricsCollector(1)!.recordBufferLen(700);
  value(m.drainSpecific(1));
  m.testHooks().setDrainStartedMs(1, m.testHooks().now() - 5000);
  assert.equal(m.finalizeDraining(), []);
  m.metricsCollector(1)!.recordBufferLen(0);
  assert.equal(m.finalizeDraining(), [1]);
});

test('not stopped while a push was counted since the drain began; rearmDrain zeroes the count', () => {
  const m = drainingOne();
  const hooks = m.testHooks();
  const c = m.metricsCollector(1)!;
  assert.is(c.pushesSinceDrainStart(), 0, 'pushes before the drain do not count');
  c.recordEventOnly();
  c.recordEvents(3);
  assert.is(c.pushesSinceDrainStart(), 4);
  assert.equal(m.finalizeDraining(), []);
  // A collection does not reset the count.
  m.collectMetrics();
  assert.is(c.pushesSinceDrainStart(), 4);
  assert.equal(m.finalizeDraining(), []);
  assert.is(m.shardState(1), 'draining');

  assert.is(m.rearmDrain(1), true);
  assert.is(c.pushesSinceDrainStart(), 0);
  assert.is(c.isDraining(), true);
  // Rearming restarts the drain window too: minDrainMs must pass again.
  assert.equal(m.finalizeDraining(), []);
  hooks.setDrainStartedMs(1, hooks.now() - 5000);
  assert.equal(m.finalizeDraining(), [1]);
});

test('pushes before the drain are forgotten by the drain itself', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const c = m.metricsCollector(1)!;
  c.recordEvents(50);
  assert.is(c.pushesSinceDrainStart(), 50);
  value(m.drainSpecific(1));
  assert.is(c.pushesSinceDrainStart(), 0);
  m.testHooks().setDrainStartedMs(1, m.testHooks().now() - 5000);
  assert.equal(m.finalizeDraining(), [1]);
});

test('not stopped before minDrainMs has passed since the drain began', () => {
  const m = mapper(
    3,
    { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 1000 },
    { clock: ManualClock.create(10_000) },
  );
  const hooks = m.testHooks();
  value(m.drainSpecific(1));
  assert.equal(m.finalizeDraining(), []);
  hooks.setDrainStartedMs(1, hooks.now() - 500);
  assert.equal(m.finalizeDraining(), []);
  hooks.setDrainStartedMs(1, hooks.now() - 1100);
  assert.equal(m.finalizeDraining(), [1]);
});

test('the drain window ends when the mapper clock passes minDrainMs', () => {
  const clock = ManualClock.create(10_000);
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 2 }, { clock });
  value(m.drainSpecific(1));
  clock.advance(2);
  assert.equal(m.finalizeDraining(), [], 'not past minDrainMs yet');
  clock.advance(1);
  assert.equal(m.finalizeDraining(), [1]);
});

test('not stopped while a producer is attached; stopped once it unbinds', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const hooks = m.testHooks();
  const token = 4242;
  const slot = m.bindProducer(hashFor(m, 1), token);
  assert.is(m.idAtSlot(slot), 1);
  assert.is(m.attachedProducer(slot), token);
  value(m.drainSpecific(1));
  hooks.setDrainStartedMs(1, hooks.now() - 5000);
  assert.equal(m.finalizeDraining(), []);
  m.unbindProducer(slot, token + 1); // someone else's token lets nothing go
  assert.is(m.attachedProducer(slot), token);
  assert.equal(m.finalizeDraining(), []);
  m.unbindProducer(slot, token);
  assert.is(m.attachedProducer(slot), 0);
  assert.equal(m.finalizeDraining(), [1]);
});

test('bindProducer never binds to a draining shard, and one producer per shard', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS });
  value(m.drainSpecific(1));
  const slots = [m.bindProducer(hashFor(m, 0), 1), m.bindProducer(hashFor(m, 0), 2)];
  assert.equal(slots.map((s) => m.idAtSlot(s)).sort(), [0, 2]);
  assert.is(m.bindProducer(0, 3), -1, 'every Active shard has a producer');
  assert.is(m.attachedProducer(m.slotOf(1)), 0);
});

test('every condition must hold at once', () => {
  const m = mapper(4, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 1000 });
  const hooks = m.testHooks();
  for (const id of [1, 2, 3]) value(m.drainSpecific(id));
  const long = hooks.now() - 5000;
  hooks.setDrainStartedMs(1, long);
  hooks.setDrainStartedMs(2, long);
  // 1: buffer not empty; 2: a push since the drain; 3: too recent.
  m.metricsCollector(1)!.recordBufferLen(1);
  m.metricsCollector(2)!.recordEventOnly();
  assert.equal(m.finalizeDraining(), []);
  m.metricsCollector(1)!.recordBufferLen(0);
  assert.equal(m.finalizeDraining(), [1]);
  assert.is(m.rearmDrain(2), true);
  hooks.setDrainStartedMs(2, long);
  hooks.setDrainStartedMs(3, long);
  assert.equal(m.finalizeDraining(), [2, 3]);
  assert.equal(m.activeShardIds(), [0]);
  assert.equal(m.removeStoppedShards(), [1, 2, 3]);
});

test('only draining shards are finalized; rearmDrain answers false for others', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const hooks = m.testHooks();
  hooks.setDrainStartedMs(0, hooks.now() - 5000);
  assert.equal(m.finalizeDraining(), [], 'an Active shard is never stopped');
  assert.is(m.rearmDrain(0), false);
  assert.is(m.rearmDrain(99), false);
  const [p] = value(m.scaleUpProvisioningForce(1));
  assert.is(m.rearmDrain(p!), false);
  assert.equal(m.finalizeDraining(), []);
  assert.is(m.shardState(p!), 'provisioning');
});

test.run();
