/**
 * The router soak, short: five seconds of the ramp profile with
 * auto-scaling, flat out, from just below sequence 2^32. Shards are
 * activated for joining producers and drained after they leave, the
 * producers pass 2^32, and every event arrives exactly once and in order.
 * (The short version of `npm run soak -- router`.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { soak } from '../soak/router.js';

test('ramp + auto-scale flat out: shards come and go, nothing lost, duplicated or reordered', async () => {
  const r = await soak({
    minutes: 5 / 60,
    producers: 3,
    cooldownMs: 200,
    tickMs: 50,
    firstSequence: 2 ** 32 - 100_000,
  });
  const what = JSON.stringify(r.details);
  assert.equal(r.failures, [], what);
  assert.ok(r.ok, what);
  const d = r.details as {
    events_routed: number;
    produced: number;
    lost: number;
    duplicated: number;
    reordered: number;
    shards_activated: number;
    shards_drained: number;
    shards_max: number;
    push_latency_ns: { p50: number; p99: number; p999: number };
    passed_2_32: boolean;
  };
  assert.is(d.events_routed, d.produced, what);
  assert.equal([d.lost, d.duplicated, d.reordered], [0, 0, 0], what);
  assert.ok(d.shards_activated > 0 && d.shards_drained > 0, what);
  assert.ok(d.shards_max >= 2 && d.shards_max <= 3, what);
  assert.ok(d.passed_2_32, `a producer passed sequence 2^32: ${what}`);
  const l = d.push_latency_ns;
  assert.ok(l.p50 > 0 && l.p50 <= l.p99 && l.p99 <= l.p999, what);
});

test('a soak length outside (0, 60] minutes is refused, naming the option', async () => {
  const r = await soak({ minutes: 0 });
  assert.not.ok(r.ok);
  assert.match(r.failures.join('\n'), /--minutes must be in \(0, 60\], got 0/);
});

test.run();
