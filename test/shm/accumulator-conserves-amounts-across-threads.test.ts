import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accumulatorScenario } from '../stress/cursor.js';
import { withSeed } from '../helpers/prop.js';

test('3 workers adding concurrently: claims + final drain == total added, every claim >= threshold', () =>
  withSeed(
    '3 workers adding concurrently: claims + final drain == total added, every claim >= threshold',
    async (seed) => {
      const report = await accumulatorScenario({
        workers: 3,
        adds: 100_000,
        threshold: 500,
        maxAmount: 50,
        duration: 60,
        seed: seed >>> 0,
      });
      assert.ok(report.ok, report.failures.join('\n'));
    },
  ));

test.run();
