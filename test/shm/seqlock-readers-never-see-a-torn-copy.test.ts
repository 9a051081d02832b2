import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scenario } from '../stress/seqlock.js';
import { withSeed } from '../helpers/prop.js';

test('1 million reads by 2 reader threads racing a writer that rewrites rows as constant vectors', () =>
  withSeed(
    '1 million reads by 2 reader threads racing a writer that rewrites rows as constant vectors',
    async (seed) => {
      const report = await scenario({ reads: 500_000, readers: 2, rows: 16, cols: 64, seed });
      assert.ok(report.ok, `${report.name}: ${report.failures.join('; ')}`);
      assert.ok((report.details['reads'] as number) >= 1_000_000);
    },
  ));

test.run();
