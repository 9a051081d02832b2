/**
 * More busy threads than cores: 8 producers over 4 shards, hosted by 8
 * producer threads (one each) or by 2, with 4 consumer threads, on a
 * machine with fewer cores. Half the producers find no shard and must wait
 * (asleep, not spinning); the others fill small rings, so producers park on
 * full rings and consumers on empty ones. Every event still arrives exactly
 * once and in order. Batch sizes and ring capacities come from the seed; no
 * timing is asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';
import { withSeed } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';

for (const threads of [8, 2]) {
  const name = `8 producers on ${threads} threads over 4 shards: nothing lost, duplicated or reordered`;
  test(name, () =>
    withSeed(name, async (seed) => {
      const rand = rng(seed ^ threads);
      const batch = rand() < 0.5 ? 1 : 1 + Math.floor(rand() * 256);
      const ringCapacity = 1 << (8 + Math.floor(rand() * 5));
      const r = await runLoadTest({
        ...DEFAULT_LOADTEST,
        producers: 8,
        threads,
        shards: 4,
        minShards: 4,
        maxShards: 4,
        durationMs: 1500,
        batch,
        ringCapacity,
      });
      const where = `batch ${batch}, ring ${ringCapacity}`;
      assert.ok(r.produced > 0, where);
      assert.is(r.consumed, r.produced, where);
      assert.is(r.lost, 0, where);
      assert.is(r.duplicated, 0, where);
      assert.is(r.reordered, 0, where);
      let sum = 0;
      for (const p of Object.values(r.per_producer)) {
        assert.is(p.consumed, p.produced, where);
        sum += p.produced;
      }
      assert.is(sum, r.produced, where);
    }),
  );
}

test.run();
