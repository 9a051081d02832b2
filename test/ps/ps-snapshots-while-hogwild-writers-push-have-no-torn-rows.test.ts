/**
 * Snapshots while training writes: two worker threads push +1 to the rows
 * they own through the parameter server's client (Hogwild, in place, no
 * lock) while the main thread copies the tables with `snapshotInto` in a
 * loop. Each shard is fenced while it is copied (the writers announce
 * themselves at the shard's gate, and wait while a fence is up), so no row
 * of a copy is half-updated and every push to a shard is wholly in the copy
 * or wholly out: over at least 100,000 row checks, 0 torn rows. The soak
 * (`npm run soak`) runs 10 million.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSnapshotsForTornRows } from '../helpers/torn-rows.js';

test('100,000 row checks of snapshots taken while two Hogwild writers push: 0 torn rows', async () => {
  const r = await checkSnapshotsForTornRows({ rowChecks: 100_000, entities: 2000, dim: 64, shards: 4, workers: 2 });
  assert.ok(r.checks >= 100_000, `checked ${r.checks} rows`);
  assert.is(r.torn, 0, r.example ?? '');
  // The writers really wrote while the copies were taken.
  assert.ok(r.moving >= 2, `rows moved between ${r.moving} of ${r.snapshots} snapshots`);
  assert.ok(
    r.pushes.every((p) => p > 0),
    `pushes ${r.pushes.join(', ')}`,
  );
});

test.run();
