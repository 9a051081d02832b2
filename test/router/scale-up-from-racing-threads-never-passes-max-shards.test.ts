/**
 * Real threads (the seed's test_scale_up_max_shards_concurrent): 5 worker
 * threads attach the same mapper and call scaleUp(3) released together.
 * Whatever the interleaving, the Active count never passes maxShards, it
 * grows by exactly 3 per success, the new ids are distinct, fresh and are
 * exactly the new Active shards, and every refusal is 'at-max-shards' (or
 * 'in-cooldown': the 1 ns cooldown may still be running when two scale-ups
 * land within one clock tick of each other).
 *
 * Many rounds, each on a fresh mapper, so the race is run many times:
 * - initial 5, max 10: the first success takes the count to 8, after which
 *   5 + 3 + 3 > 10, so exactly one racer may win;
 * - initial 4, max 10: one or two may win (4 + 3 + 3 = 10), never three.
 */
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import { ask, type RaceBatch, type RaceOutcome } from '../fixtures/mapper-protocol.js';
import { startWorker } from '../helpers/threads.js';

const RACERS = 5;
const ROUNDS = 200;
const MAX = 10;

test(`${RACERS} threads racing scaleUp(3) never take the Active count past maxShards (${ROUNDS} rounds)`, async () => {
  const initialOf = (k: number): number => (k % 2 === 0 ? 5 : 4);
  const mappers = Array.from({ length: ROUNDS }, (_, k) =>
    ShardMapper.create({
      initialShards: initialOf(k),
      ringCapacity: 1024,
      policy: { maxShards: MAX, cooldownMs: 1e-6 },
    }),
  );
  const ctl = new SharedArrayBuffer(64);
  const batch: RaceBatch = {
    ctl,
    word: 0,
    parties: RACERS,
    rounds: mappers.map((m) => ({ handle: m.handle, op: 'scaleUp' as const, arg: 3 })),
  };
  const workers: Worker[] = [];
  try {
    for (let t = 0; t < RACERS; t++) workers.push(startWorker('mapper-racer', null));
    const results = await Promise.all(workers.map((w) => ask<RaceOutcome[]>(w, batch)));

    for (let k = 0; k < ROUNDS; k++) {
      const m = mappers[k]!;
      const initial = initialOf(k);
      const outcomes = results.map((r) => r[k]!);
      const at = `round ${k} (initial ${initial}): ${JSON.stringify(outcomes)}`;
      const wins = outcomes.filter((o) => o.ok);
      const count = m.activeShardCount();
      assert.ok(count <= MAX, `${at}: ${count} Active shards, maxShards is ${MAX}`);
      assert.is(count, initial + 3 * wins.length, `${at}: count ${count} is not initial + 3 per success`);
      assert.ok(wins.length >= 1, `${at}: nobody scaled up, though the first scale-up always fits`);
      if (initial === 5) assert.is(wins.length, 1, `${at}: only one scale-up by 3 fits between 5 and 10`);
      else assert.ok(wins.length <= 2, `${at}: at most two scale-ups by 3 fit between 4 and 10`);
      for (const o of outcomes) {
        assert.ok(o.activeAfter <= MAX, `${at}: a racer read ${o.activeAfter} Active shards right after its call`);
        if (!o.ok)
          assert.ok(o.error === 'at-max-shards' || o.error === 'in-cooldown', `${at}: unexpected refusal ${o.error}`);
      }
      // The won ids: 3 each, all distinct, never an initial id, and exactly the new Active shards.
      const ids = wins.flatMap((o) => o.value as number[]).sort((a, b) => a - b);
      assert.is(new Set(ids).size, ids.length, `${at}: an id was handed out twice`);
      assert.equal(
        ids,
        Array.from({ length: ids.length }, (_, i) => initial + i),
        `${at}: ids are not the next ones from the counter`,
      );
      assert.equal(m.activeShardIds(), [...Array.from({ length: initial }, (_, i) => i), ...ids], `${at}: Active ids`);
      assert.is(m.totalShardCount(), count, `${at}: a refused scale-up left a shard behind`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
