/**
 * Real threads (the seed's concurrent_activate_never_exceeds_max_shards):
 * at the budget edge (3 Active, maxShards 4) with two Provisioning shards,
 * two worker threads released together each activate one of them. The
 * budget is re-checked under the mapper lock, so in every iteration exactly
 * one activation makes the transition (ok, true) and the other is refused
 * with 'at-max-shards'; the Active count is 4 and never read above 4, and
 * the loser's shard is still Provisioning (not routable).
 *
 * 200 iterations, each on a fresh mapper, run by two long-lived workers
 * that receive all the handles in one message and meet at a spin
 * rendezvous before every activation.
 */
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper, type MapperResult } from '../../src/router/mapper.js';
import { ask, type RaceBatch, type RaceOutcome } from '../fixtures/mapper-protocol.js';
import { startWorker } from '../helpers/threads.js';

const ITERATIONS = 200;

/** scaleUpProvisioning(1), retrying while the 1 ns cooldown of the previous one is still running. */
function provision(m: ShardMapper): number {
  for (let tries = 0; tries < 1000; tries++) {
    const r: MapperResult<number[]> = m.scaleUpProvisioning(1);
    if (r.ok) return r.value[0]!;
    assert.is(r.error, 'in-cooldown', r.message);
  }
  throw new Error('scaleUpProvisioning stayed in a 1 ns cooldown for 1000 tries');
}

test(`two threads activating at the budget edge: exactly one wins, ${ITERATIONS} iterations`, async () => {
  const mappers: ShardMapper[] = [];
  const pairs: [number, number][] = [];
  for (let k = 0; k < ITERATIONS; k++) {
    const m = ShardMapper.create({
      initialShards: 3,
      ringCapacity: 1024,
      policy: { minShards: 1, maxShards: 4, cooldownMs: 1e-6 },
    });
    const a = provision(m);
    const b = provision(m);
    assert.equal([a, b], [3, 4]);
    assert.is(m.activeShardCount(), 3);
    mappers.push(m);
    pairs.push([a, b]);
  }
  const ctl = new SharedArrayBuffer(64);
  const batchFor = (side: 0 | 1): RaceBatch => ({
    ctl,
    word: 0,
    parties: 2,
    rounds: mappers.map((m, k) => ({ handle: m.handle, op: 'activate' as const, arg: pairs[k]![side] })),
  });
  const workers: Worker[] = [startWorker('mapper-racer', null), startWorker('mapper-racer', null)];
  try {
    const [ra, rb] = await Promise.all([
      ask<RaceOutcome[]>(workers[0]!, batchFor(0)),
      ask<RaceOutcome[]>(workers[1]!, batchFor(1)),
    ]);
    for (let k = 0; k < ITERATIONS; k++) {
      const m = mappers[k]!;
      const [a, b] = pairs[k]!;
      const oa = ra[k]!;
      const ob = rb[k]!;
      const at = `iteration ${k}: activate(${a}) -> ${JSON.stringify(oa)}, activate(${b}) -> ${JSON.stringify(ob)}`;
      const oks = [oa, ob].filter((o) => o.ok);
      const atMax = [oa, ob].filter((o) => !o.ok && o.error === 'at-max-shards');
      assert.is(oks.length, 1, `${at}: expected exactly one success`);
      assert.is(atMax.length, 1, `${at}: expected exactly one 'at-max-shards'`);
      assert.is(oks[0]!.value, true, `${at}: the winning activation must report a transition`);
      assert.ok(oa.activeAfter <= 4 && ob.activeAfter <= 4, `${at}: a racer read more than 4 Active shards`);
      assert.is(m.activeShardCount(), 4, `${at}: Active count`);
      const [winner, loser] = oa.ok ? [a, b] : [b, a];
      assert.is(m.shardState(winner), 'active', at);
      assert.is(m.shardState(loser), 'provisioning', `${at}: the refused activation changed its shard`);
      assert.equal(m.activeShardIds(), [0, 1, 2, winner], at);
      assert.ok(!m.selectionTable().includes(loser), `${at}: the refused shard is routable`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
