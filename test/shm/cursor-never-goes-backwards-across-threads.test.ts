import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cursorScenario } from '../stress/cursor.js';

test('3 workers racing advance() while a checker samples: never backwards, ends at the global max', async () => {
  const report = await cursorScenario({ workers: 3, steps: 20_000, duration: 60 });
  assert.ok(report.ok, report.failures.join('\n'));
});

test.run();
