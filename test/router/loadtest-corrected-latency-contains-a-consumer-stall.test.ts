/**
 * Coordinated omission: a stalled consumer holds its producer back until the
 * shard's circuit breaker opens (breakerThreshold failed waits of a wait
 * slice each, with the ring full). Latency measured from the actual send
 * hides that hold-up (the producer simply sent later); latency measured
 * from each event's intended send time contains it. The hold-up is at
 * least threshold x slice, whatever the machine's load, so the test checks
 * lower bounds on the corrected figures and that the uncorrected p99 stays
 * below the corrected one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';
import { DEFAULT_WAIT_SLICE_MS } from '../../src/router/router.js';

test('corrected percentiles contain the stall; uncorrected ones do not', async () => {
  const threshold = 16;
  const holdNs = threshold * DEFAULT_WAIT_SLICE_MS * 1e6;
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers: 1,
    threads: 1,
    // One shard, so the stalled consumer is the producer's; after the breaker opens the producer waits for the
    // shard to recover (the cool-down), which only lengthens the hold.
    shards: 1,
    durationMs: 1500,
    rate: 100_000,
    batch: 64,
    ringCapacity: 1024,
    breakerThreshold: threshold,
    breakerCoolDownMs: 100,
    stallConsumer: { shard: 0, atMs: 400 },
  });
  assert.is(s.lost + s.duplicated + s.reordered, 0);
  assert.ok(s.stall_consumer?.t_ms !== null, 'the stall happened');
  const c = s.push_latency_corrected_ns!;
  const u = s.push_latency_ns;
  const f = (x: { p50: number; p99: number; max: number }): string => `p50 ${x.p50} p99 ${x.p99} max ${x.max}`;
  const what = `hold >= ${holdNs} ns; corrected ${f(c)}; uncorrected ${f(u)}`;
  assert.ok(c.max >= holdNs, `corrected max holds the whole stall: ${what}`);
  // The held events are >= hold / 1500 ms of the run (about 5%), so the top 1% of them waited over half the hold.
  assert.ok(c.p99 >= holdNs / 2, `corrected p99 contains it: ${what}`);
  assert.ok(u.p99 < c.p99, `uncorrected p99 is lower: ${what}`);
  assert.is(c.samples, s.produced, 'the corrected histogram counts every event');
});

test('flat out, there is no schedule and no corrected latency', async () => {
  const s = await runLoadTest({ ...DEFAULT_LOADTEST, producers: 1, threads: 1, shards: 1, durationMs: 200 });
  assert.is(s.push_latency_corrected_ns, null);
  assert.is(s.rate_requested, null);
  assert.is(s.behind_schedule_events, null);
});

test.run();
