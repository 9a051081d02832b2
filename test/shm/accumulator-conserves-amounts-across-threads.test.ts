import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accumulatorScenario } from '../stress/cursor.js';

test('3 workers adding concurrently: claims + final drain == total added, every claim >= threshold', async () => {
  const report = await accumulatorScenario({ workers: 3, adds: 100_000, threshold: 500, maxAmount: 50, duration: 60 });
  assert.ok(report.ok, report.failures.join('\n'));
});

test.run();
