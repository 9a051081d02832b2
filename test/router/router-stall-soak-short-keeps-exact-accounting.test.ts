/**
 * The router stall soak, short: two seeded load tests of three seconds,
 * one with a fixed shard count and one auto-scaling (the stalled shard's
 * producer gets a new shard), each stalling one consumer mid-run. Each time the stalled shard's breaker
 * opens, goes half-open and closes, and every event arrives exactly once
 * and in order. (The short version of `npm run soak -- router-stall`.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { soak } from '../soak/router-stall.js';
import { withSeed } from '../helpers/prop.js';

test('two stalled-consumer runs: the breaker recovers, nothing lost, duplicated or reordered', () =>
  withSeed('router stall soak, short', async (seed) => {
    const r = await soak({ runs: 2, seconds: 3, coolDownMs: 300, seed: seed >>> 0 });
    const what = JSON.stringify(r.details);
    assert.equal(r.failures, [], what);
    assert.ok(r.ok, what);
    assert.is((r.details as { recovered: number }).recovered, 2, what);
  }));

test('options out of range are refused, naming them', async () => {
  const r = await soak({ runs: 0 });
  assert.not.ok(r.ok);
  assert.match(r.failures.join('\n'), /--runs must be in \[1, 1000\], got 0/);
});

test.run();
