/**
 * Snapshots of the parameter server while Hogwild writers push, as a soak:
 * two worker threads push +1 to the rows they own through the training
 * client while the main thread copies the tables shard by shard in a loop;
 * every row of every copy is checked for a torn update (see
 * test/helpers/torn-rows.ts). Default 10 million row checks at 4,000 rows
 * of 64 floats in 4 shards. `npm test` runs the same check at 100,000.
 *
 *   npm run soak -- snapshots --checks 10000000
 */
import { checkSnapshotsForTornRows } from '../helpers/torn-rows.js';
import type { SoakOptions, SoakReport } from './report.js';

export async function soak(options: SoakOptions = {}): Promise<SoakReport> {
  const rowChecks = options['checks'] ?? 10_000_000;
  const entities = options['entities'] ?? 4000;
  const r = await checkSnapshotsForTornRows({ rowChecks, entities, dim: 64, shards: 4, workers: 2 });
  const failures: string[] = [];
  if (r.torn > 0) failures.push(`${r.torn} torn rows; first: ${r.example}`);
  if (r.moving < Math.min(2, r.snapshots)) failures.push(`the writers did not move during the snapshots (${r.moving})`);
  return {
    name: 'snapshots',
    ok: failures.length === 0,
    details: {
      row_checks: r.checks,
      torn_rows: r.torn,
      snapshots: r.snapshots,
      snapshots_while_rows_moved: r.moving,
      pushes: r.pushes,
      writer_pauses: r.pauses,
      writer_pause_max_us: Math.round(r.pauseMaxUs),
    },
    failures,
  };
}
