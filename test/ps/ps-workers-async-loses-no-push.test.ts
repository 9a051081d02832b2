import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asyncNoLossScenario } from '../stress/ps.js';
import { withSeed } from '../helpers/prop.js';

test('3 Piscina threads x 20000 Hogwild pushes, one shard each: every push counted once and applied exactly', () =>
  withSeed('async one shard per worker', async (seed) => {
    const report = await asyncNoLossScenario({
      workers: 3,
      pushes: 20_000,
      shards: 3,
      entities: 48,
      dim: 4,
      rowsPerPush: 4,
      pullEvery: 16,
      seed,
      ownShard: 1,
    });
    const { pushes, maxAbsDiff } = report.details as { pushes: number; maxAbsDiff: number };
    console.log(`  async: ${pushes} pushes, max |diff| vs reference ${maxAbsDiff}`);
    assert.ok(report.ok, report.failures.join('\n'));
    assert.is(report.details['stepSum'], 60_000);
    assert.is(report.details['statsPushes'], 60_000);
    assert.is(report.details['differing'], 0);
  }));

test(
  '3 Piscina threads x 20000 Hogwild pushes racing on random shards: ' +
    'every push is counted once in the steps and the stats',
  () =>
    withSeed('async racing', async (seed) => {
      // Racing Hogwild updates of one element may lose one of them (by
      // design), so the tables are not compared; the counters are exact.
      const report = await asyncNoLossScenario({
        workers: 3,
        pushes: 20_000,
        shards: 3,
        entities: 48,
        dim: 4,
        rowsPerPush: 4,
        pullEvery: 16,
        seed,
      });
      const { pushes, racedElements } = report.details as { pushes: number; racedElements: number };
      console.log(`  async racing: ${pushes} pushes, ${racedElements} elements changed by races`);
      assert.ok(report.ok, report.failures.join('\n'));
      assert.is(report.details['stepSum'], 60_000);
      assert.is(report.details['statsPushes'], 60_000);
    }),
);

test.run();
