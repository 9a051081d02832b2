/**
 * Requested vs achieved: a paced run reports, per producer and in total,
 * the events/s its schedule asked for, the events/s it pushed and the
 * events due but not pushed; the totals are the producers' sums, and an
 * achievable rate is met.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';

test('per producer and in total: requested, achieved, behind', async () => {
  const rate = 50_000;
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers: 2,
    threads: 1,
    shards: 2,
    durationMs: 800,
    rate,
    batch: 64,
  });
  assert.is(s.lost + s.duplicated + s.reordered, 0);
  const per = Object.values(s.per_producer);
  assert.is(per.length, 2);
  let requested = 0;
  let achieved = 0;
  let behind = 0;
  for (const p of per) {
    // The schedule starts when the producer thread does, after the run's clock: at most the rate.
    assert.ok(p.rate_requested! > 0.5 * rate && p.rate_requested! <= rate * 1.01, `requested ${p.rate_requested}`);
    assert.ok(p.rate_achieved! <= p.rate_requested! + 1, `achieved ${p.rate_achieved} <= requested`);
    requested += p.rate_requested!;
    achieved += p.rate_achieved!;
    behind += p.behind_schedule_events!;
  }
  assert.ok(Math.abs(s.rate_requested! - requested) <= 2);
  assert.ok(Math.abs(s.rate_achieved! - achieved) <= 2);
  assert.is(s.behind_schedule_events, behind);
  // 100k events/s in all is far below what the router takes: nothing is left behind but the last call's worth.
  assert.ok(behind <= 0.05 * s.produced, `behind ${behind} of ${s.produced}`);
  assert.ok(s.rate_achieved! >= 0.95 * s.rate_requested!, `achieved ${s.rate_achieved} of ${s.rate_requested}`);
  assert.is(s.generator_bound, false);
  assert.equal(s.warnings, []);
  assert.equal(
    s.profile_points.map((x) => x.rate),
    [rate, rate],
  );
});

test.run();
