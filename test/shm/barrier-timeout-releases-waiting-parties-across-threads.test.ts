import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timeoutScenario } from '../stress/barrier.js';

test('parties time out while one stays away, then continue in step once it joins', async () => {
  const report = await timeoutScenario({ tripRounds: 3, shortTimeoutMs: 150, passRounds: 100 });
  assert.ok(report.ok, report.failures.join('\n'));
});

test.run();
