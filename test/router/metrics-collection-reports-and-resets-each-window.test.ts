import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import { mapper, ONE_NS_MS, value } from './helpers/mapper.js';

// Reference: test_metrics_collection.
test('collectMetrics reports every shard; a reported buffer shows as fill ratio', () => {
  const m = mapper(2);
  const c = m.metricsCollector(0)!;
  c.recordBufferLen(512);
  c.recordPush(5);
  c.recordPush(10);
  const metrics = m.collectMetrics();
  assert.is(metrics.length, 2);
  const s0 = metrics.find((x) => x.shardId === 0)!;
  assert.ok(s0.fillRatio > 0);
  assert.equal(s0, {
    shardId: 0,
    fillRatio: 0.5,
    eventRate: 2,
    avgPushLatencyNs: 7, // floor((5 + 10) / 2)
    avgFlushLatencyUs: 0,
    draining: false,
    weight: 50 + 0.7 + 2 / 1_000_000,
  });
  assert.equal(
    metrics.find((x) => x.shardId === 1),
    {
      shardId: 1,
      fillRatio: 0,
      eventRate: 0,
      avgPushLatencyNs: 0,
      avgFlushLatencyUs: 0,
      draining: false,
      weight: 0,
    },
  );
  assert.equal(m.lastMetrics(0), s0, 'the collection is stored as the last metrics');
});

test('a collection resets the window but not the reported buffer length', () => {
  const m = mapper(2);
  const c = m.metricsCollector(1)!;
  c.recordBufferLen(256);
  c.recordEvents(10);
  c.recordLatencySample(40);
  c.recordFlush(300);
  c.recordFlush(500);
  let s1 = m.collectMetrics()[1]!;
  assert.is(s1.eventRate, 10);
  assert.is(s1.avgPushLatencyNs, 40);
  assert.is(s1.avgFlushLatencyUs, 400);
  assert.is(s1.fillRatio, 0.25);
  s1 = m.collectMetrics()[1]!;
  assert.is(s1.eventRate, 0);
  assert.is(s1.avgPushLatencyNs, 0);
  assert.is(s1.avgFlushLatencyUs, 0);
  assert.is(s1.fillRatio, 0.25, 'the buffer length is a level, not a window count');
  assert.is(c.bufferLength(), 256);
});

test('samples are averaged over samples, events counted over events', () => {
  const m = mapper(1);
  const c = m.metricsCollector(0)!;
  for (let i = 0; i < 64; i++) c.recordEventOnly();
  c.recordLatencySample(100);
  c.recordLatencySample(201);
  const [s] = m.collectMetrics();
  assert.is(s!.eventRate, 64);
  assert.is(s!.avgPushLatencyNs, 150);
});

test('collections are in id order and include draining shards at maximum weight', () => {
  const m = mapper(3, { minShards: 1, maxShards: 4, cooldownMs: ONE_NS_MS });
  value(m.drainSpecific(1));
  const [p] = value(m.scaleUpProvisioningForce(1));
  const ms = m.collectMetrics();
  assert.equal(
    ms.map((x) => x.shardId),
    [0, 1, 2, p],
  );
  assert.is(ms[1]!.draining, true);
  assert.is(ms[1]!.weight, Number.MAX_VALUE);
  assert.is(ms[0]!.draining, false);
});

test('the collector is the same memory from any mapper object', () => {
  const m = mapper(2);
  const other = ShardMapper.attach(m.handle);
  other.metricsCollector(1)!.recordBufferLen(1024);
  other.metricsCollector(1)!.recordEvents(3);
  const ms = m.collectMetrics();
  assert.is(ms[1]!.fillRatio, 1);
  assert.is(ms[1]!.eventRate, 3);
  assert.equal(other.lastMetrics(1), ms[1]);
  m.reportBufferLen(m.slotOf(0), 128);
  assert.is(other.metricsCollector(0)!.bufferLength(), 128);
  assert.is(other.collectorAtSlot(m.slotOf(0))!.shardId, 0);
});

test('no collector and no metrics for an id that does not exist', () => {
  const m = mapper(2);
  assert.is(m.metricsCollector(7), undefined);
  assert.is(m.lastMetrics(7), undefined);
  assert.is(m.collectorAtSlot(m.slots - 1), undefined);
  assert.is(m.collectorAtSlot(-1), undefined);
});

test.run();
