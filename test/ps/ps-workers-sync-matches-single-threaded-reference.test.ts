import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { syncMatchScenario } from '../stress/ps.js';

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('4 Piscina threads x 1000 sync steps over 3 shards leave exactly the single-threaded reference table', async () => {
  const report = await syncMatchScenario({ workers: 4, steps: 1000, shards: 3, entities: 64, dim: 8, rowsPerPush: 12 });
  const { maxAbsDiff, differing } = report.details as { maxAbsDiff: number; differing: number };
  console.log(`  sync: max |diff| vs reference ${maxAbsDiff}, ${differing} elements differ`);
  assert.ok(report.ok, report.failures.join('\n'));
  assert.is(report.details['maxAbsDiff'], 0);
  assert.is(report.details['barriersCompleted'], 3000);
  assert.is(report.details['warnings'], 0);
});

test.run();
