import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lockstepScenario } from '../stress/barrier.js';

test('3 worker parties and the main thread run 2000 rounds without anyone running ahead', async () => {
  const report = await lockstepScenario({ parties: 4, rounds: 2000, asyncParty: 1, duration: 60 });
  assert.ok(report.ok, report.failures.join('\n'));
  assert.is(report.details['rounds'], 2000);
});

test.run();
