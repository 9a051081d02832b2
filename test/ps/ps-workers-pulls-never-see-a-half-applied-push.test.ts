import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pullsScenario } from '../stress/ps.js';

test('100k pulls by a reader thread and the main thread, racing a writer thread, all equal the trajectory at their step', async () => {
  // Every pull must complete: a pull waits (napping on workers) for a push
  // in progress for up to twice the lock lease before it gives up.
  const report = await pullsScenario({ pulls: 100_000, readers: 1, mainReader: 1, minChanges: 1000, seconds: 8, maxGaveUp: 0 });
  console.log(`  pulls: ${JSON.stringify(report.details)}`);
  assert.ok(report.ok, report.failures.join('\n'));
  assert.is(report.details['mismatches'], 0);
  assert.is(report.details['badSteps'], 0);
  assert.ok((report.details['checkedPulls'] as number) >= 99_000);
});

test.run();
