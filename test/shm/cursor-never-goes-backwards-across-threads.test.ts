import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cursorScenario } from '../stress/cursor.js';
import { withSeed } from '../helpers/prop.js';

test('3 workers racing advance() while a checker samples: never backwards, ends at the global max', () =>
  withSeed(
    '3 workers racing advance() while a checker samples: never backwards, ends at the global max',
    async (seed) => {
      const report = await cursorScenario({ workers: 3, steps: 20_000, duration: 60, seed: seed >>> 0 });
      assert.ok(report.ok, report.failures.join('\n'));
    },
  ));

test.run();
