/**
 * Real threads: 3 writer workers record on a shared and on private counters
 * while a collector worker collects in a tight loop. No window may hold a
 * count without its sum (or the reverse), and the windows must add up to
 * exactly what the writers recorded. The short version of
 * `npm run stress -- counter`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pairsScenario } from '../stress/counter.js';

test('concurrent recorders and a racing collector never split (count, sum)', async () => {
  const report = await pairsScenario({ threads: 3, recordings: 300_000, seconds: 120 });
  assert.ok(report.ok, `${report.name}\n${report.failures.join('\n')}\n${JSON.stringify(report.details)}`);
  assert.is(report.details['recorded'], 900_000);
});

test.run();
