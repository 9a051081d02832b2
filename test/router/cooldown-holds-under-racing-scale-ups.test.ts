/**
 * Real threads (the seed's cooldown_is_enforced_under_concurrent_scale_up):
 * two worker threads released together each call scaleUp(1) on a mapper
 * with a 60 s cooldown. The cooldown is checked and stamped under the same
 * lock as the mutation, so in every iteration exactly one call succeeds
 * and the other is refused with 'in-cooldown', and the mapper ends with 3
 * Active shards (2 initial + 1), never 4.
 *
 * 300 iterations, each on a fresh mapper, run by two long-lived workers.
 */
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import { ask, type RaceBatch, type RaceOutcome } from '../fixtures/mapper-protocol.js';
import { startWorker } from '../helpers/threads.js';

const ITERATIONS = 300;

test(`two threads racing scaleUp(1) in a 60 s cooldown: exactly one wins, ${ITERATIONS} iterations`, async () => {
  const mappers = Array.from({ length: ITERATIONS }, () =>
    ShardMapper.create({
      initialShards: 2,
      ringCapacity: 1024,
      policy: { minShards: 1, maxShards: 16, cooldownMs: 60_000 },
    }),
  );
  const ctl = new SharedArrayBuffer(64);
  const batch: RaceBatch = {
    ctl,
    word: 0,
    parties: 2,
    rounds: mappers.map((m) => ({ handle: m.handle, op: 'scaleUp' as const, arg: 1 })),
  };
  const workers: Worker[] = [startWorker('mapper-racer', null), startWorker('mapper-racer', null)];
  try {
    const [ra, rb] = await Promise.all(workers.map((w) => ask<RaceOutcome[]>(w, batch)));
    for (let k = 0; k < ITERATIONS; k++) {
      const m = mappers[k]!;
      const oa = ra![k]!;
      const ob = rb![k]!;
      const at = `iteration ${k}: ${JSON.stringify(oa)} / ${JSON.stringify(ob)}`;
      assert.is([oa, ob].filter((o) => o.ok).length, 1, `${at}: expected exactly one success`);
      assert.is(
        [oa, ob].filter((o) => !o.ok && o.error === 'in-cooldown').length,
        1,
        `${at}: expected exactly one 'in-cooldown'`,
      );
      assert.equal((oa.ok ? oa : ob).value, [2], `${at}: the winner gets the next id`);
      assert.is(m.activeShardCount(), 3, `${at}: cooldown violated`);
      assert.is(m.totalShardCount(), 3, `${at}: the refused scale-up left a shard behind`);
      assert.equal(m.activeShardIds(), [0, 1, 2], at);
      // The cooldown the winner started still holds, on this thread too.
      const again = m.scaleUp(1);
      assert.ok(
        !again.ok && again.error === 'in-cooldown',
        `${at}: a third scale-up got through: ${JSON.stringify(again)}`,
      );
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
