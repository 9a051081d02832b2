/**
 * The reshard simulation against the real parameter server: the captured
 * regressions within its scope, then KGSHARD_SIM_CASES random walks
 * (default 60, a few seconds) against `SharedMemoryReshardBackend`, whose pushes and worker
 * confirmations run in worker threads, every oracle checked after every
 * command (see walk.ts). The walks leave replication out: the server keeps
 * one live copy per chunk (see shm-backend.ts). Prints the telemetry; a
 * failure prints the seed and the shrunk walk as a regression entry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SEED } from '../helpers/prop.js';
import { runCampaign, simCases } from './campaign.js';
import { closeShmThreads, SHM_SCOPE, SharedMemoryReshardBackend } from './shm-backend.js';

test('random reshard walks keep every oracle on the shared-memory backend', async () => {
  try {
    const r = await runCampaign((o, clock) => SharedMemoryReshardBackend.create(o, clock), {
      cases: simCases(60),
      seed: SEED,
      scope: SHM_SCOPE,
    });
    const rate = (r.cases / (r.ms / 1000)).toFixed(1);
    console.log(
      `reshard sim (shared memory): ${r.cases} walks + ${r.regressions} regressions ` +
        `(${r.outOfScope} need replication, left out) in ${(r.ms / 1000).toFixed(1)} s (${rate} walks/s), ` +
        `seed ${SEED}\n${r.stats.format()}`,
    );
    if (!r.ok) console.error(`reshard sim failed; replay with KGSHARD_SEED=${SEED} npm test\n${r.failures.join('\n')}`);
    assert.ok(r.ok, r.failures[0]);
  } finally {
    await closeShmThreads();
  }
});

test.run();
