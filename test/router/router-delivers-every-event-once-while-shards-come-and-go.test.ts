/**
 * Producer threads push sequenced events while the main thread adds shards
 * and drains them through the running service: producers move off draining
 * shards, drained rings are emptied, shards are stopped and removed, and
 * every event arrives exactly once, in order within each shard. (The short
 * version of `npm run stress -- router`.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scenario } from '../stress/router.js';
import { withSeed } from '../helpers/prop.js';

test('no event lost, duplicated or reordered under add/drain churn', () =>
  withSeed('no event lost, duplicated or reordered under add/drain churn', async (seed) => {
    const r = await scenario({
      threads: 2,
      producers: 2,
      events: 400_000,
      churnMs: 20,
      minChurn: 8,
      duration: 20,
      seed: seed >>> 0,
    });
    assert.equal(r.failures, []);
    assert.ok(r.ok);
    const d = r.details as {
      produced: number;
      consumed: number;
      removed: number;
      producerMoves: number;
      drains: number;
    };
    assert.is(d.consumed, d.produced);
    assert.ok(d.produced > 0);
    assert.ok(d.drains > 0, 'shards were drained mid-stream');
    assert.ok(d.removed > 0, 'drained shards were stopped and removed');
    assert.ok(d.producerMoves > 0, 'producers moved off draining shards');
  }));

test.run();
