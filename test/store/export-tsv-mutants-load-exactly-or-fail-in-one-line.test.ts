/**
 * Mutation campaign, export-tsv: a TSV export read as kgshard eval
 * --embeddings reads it. Every mutant (truncated, bit-flipped, a byte set or
 * inserted, a line duplicated, dropped or swapped, a declared size changed,
 * the file swapped for one of another kind) loads exactly what its bytes say
 * or fails with a one-line KgError naming the file, without a crash, an
 * oversized allocation or a change on disk. See
 * test/helpers/mutation-kinds.ts; `npm run soak -- mutation` runs more.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runKind } from '../helpers/mutation-kinds.js';

test('export-tsv mutants load exactly or fail in one line naming the file', async () => {
  const r = await runKind('export-tsv', 60);
  assert.is(r.errors + r.exact, r.tried);
  assert.ok(r.tried > 0 && r.errors > 0, JSON.stringify(r));
});

test.run();
