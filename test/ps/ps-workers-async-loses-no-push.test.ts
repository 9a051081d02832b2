import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asyncNoLossScenario } from '../stress/ps.js';

test('3 Piscina threads x 20000 async pushes to random shards: every push counted once and applied exactly', async () => {
  const report = await asyncNoLossScenario({ workers: 3, pushes: 20_000, shards: 3, entities: 48, dim: 4, rowsPerPush: 4, pullEvery: 16 });
  console.log(`  async: ${report.details['pushes']} pushes, max |diff| vs reference ${report.details['maxAbsDiff']}`);
  assert.ok(report.ok, report.failures.join('\n'));
  assert.is(report.details['stepSum'], 60_000);
  assert.is(report.details['statsPushes'], 60_000);
  assert.is(report.details['differing'], 0);
});

test.run();
