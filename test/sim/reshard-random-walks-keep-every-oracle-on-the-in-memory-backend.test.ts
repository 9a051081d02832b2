/**
 * The reshard simulation in `npm test`: the captured regressions, then
 * KGSHARD_SIM_CASES random walks (default 12, a few seconds) against the
 * in-memory backend, every oracle checked after every command (see
 * walk.ts). Prints the telemetry; a failure prints the seed and the shrunk
 * walk as a regression entry.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InMemoryReshardBackend } from '../../src/ps/reshard/memory-backend.js';
import { SEED } from '../helpers/prop.js';
import { runCampaign, simCases } from './campaign.js';

test('random reshard walks keep every oracle on the in-memory backend', async () => {
  const r = await runCampaign(InMemoryReshardBackend.create, { cases: simCases(12), seed: SEED });
  const rate = (r.cases / (r.ms / 1000)).toFixed(1);
  console.log(
    `reshard sim: ${r.cases} walks + ${r.regressions} regressions in ${(r.ms / 1000).toFixed(1)} s ` +
      `(${rate} walks/s), seed ${SEED}\n${r.stats.format()}`,
  );
  if (!r.ok) console.error(`reshard sim failed; replay with KGSHARD_SEED=${SEED} npm test\n${r.failures.join('\n')}`);
  assert.ok(r.ok, r.failures[0]);
});

test.run();
