/**
 * `timeline: true` makes the load test record its live figures about every
 * 250 ms (on the main thread): times on the scale events' time base, in
 * order, with events/s, push latency, the active shards and each shard's
 * ring fill; the accounting stays exact.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';

test('a sample about every 250 ms, in time order, with every figure', async () => {
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers: 1,
    threads: 1,
    shards: 1,
    durationMs: 900,
    rate: 500_000,
    batch: 64,
    timeline: true,
  });
  assert.is(s.lost + s.duplicated + s.reordered, 0);
  const t = s.timeline!;
  assert.ok(t.length >= 3 && t.length <= 5, `samples: ${t.length}`);
  for (let k = 1; k < t.length; k++) assert.ok(t[k]!.t_ms > t[k - 1]!.t_ms, 'in time order');
  assert.ok(
    t.some((x) => x.events_per_s > 0),
    'events flowed',
  );
  assert.ok(
    t.some((x) => x.push_latency_ns.p50 > 0 && x.push_latency_ns.p99 >= x.push_latency_ns.p50),
    'pushes were timed',
  );
  for (const x of t) {
    assert.is(x.active_shards, 1);
    assert.equal(
      x.shards.map((sh) => sh.id),
      [0],
    );
    assert.ok(x.shards[0]!.fill >= 0 && x.shards[0]!.fill <= 1);
    assert.is(x.active_producers, 1);
  }
});

test.run();
