import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeWeight, emptyMetrics } from '../../src/router/metrics.js';

// Reference: test_shard_metrics_new.
test('fresh metrics are zero and not draining', () => {
  assert.equal(emptyMetrics(5), {
    shardId: 5,
    fillRatio: 0,
    eventRate: 0,
    avgPushLatencyNs: 0,
    avgFlushLatencyUs: 0,
    draining: false,
    weight: 0,
  });
  assert.is.not(emptyMetrics(1), emptyMetrics(1), 'a new object each time');
});

// Reference: test_shard_metrics_compute_weight.
test('the weight adds fill x100, push latency / 10 and events per million, and is stored', () => {
  const m = emptyMetrics(0);
  m.fillRatio = 0.5;
  m.avgPushLatencyNs = 100;
  m.eventRate = 1_000_000;
  const w = computeWeight(m);
  assert.ok(w > 0);
  assert.is(w, 50 + 10 + 1);
  assert.is(m.weight, w);
  assert.is(computeWeight(emptyMetrics(0)), 0);
  // Flush latency is a scaling signal, not part of the weight.
  const f = emptyMetrics(0);
  f.avgFlushLatencyUs = 1e6;
  assert.is(computeWeight(f), 0);
});

test('more load of any kind weighs more', () => {
  const base = (): ReturnType<typeof emptyMetrics> =>
    Object.assign(emptyMetrics(0), { fillRatio: 0.2, avgPushLatencyNs: 50, eventRate: 1000 });
  const w0 = computeWeight(base());
  assert.ok(computeWeight(Object.assign(base(), { fillRatio: 0.3 })) > w0);
  assert.ok(computeWeight(Object.assign(base(), { avgPushLatencyNs: 60 })) > w0);
  assert.ok(computeWeight(Object.assign(base(), { eventRate: 2_000_000 })) > w0);
});

// Reference: test_shard_metrics_draining_max_weight.
test('a draining shard weighs the largest finite number, whatever its figures', () => {
  const m = emptyMetrics(0);
  m.draining = true;
  assert.is(computeWeight(m), Number.MAX_VALUE);
  assert.is(m.weight, Number.MAX_VALUE);
  const busy = Object.assign(emptyMetrics(0), { draining: true, fillRatio: 1, avgPushLatencyNs: 1e9, eventRate: 1e9 });
  assert.is(computeWeight(busy), Number.MAX_VALUE);
  assert.ok(Number.isFinite(busy.weight));
});

test.run();
