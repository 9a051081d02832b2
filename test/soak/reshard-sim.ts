/**
 * The reshard simulation as a soak: batches of random walks (seeds from
 * KGSHARD_SEED onward, one per batch) against each backend in turn, the
 * in-memory model and then the real parameter server in shared memory
 * (test/sim/shm-backend.ts: pushes and worker confirmations in worker
 * threads), each until its walks have run or its minutes have passed,
 * whichever comes first, plus the captured regressions within the
 * backend's scope. The report carries, per backend, walks, commands and
 * oracle checks executed and walks per second; the telemetry lines are
 * printed per backend.
 *
 *   npm run soak -- reshard-sim --cases 20000 --shm-cases 5000 --minutes 10
 *
 * Options: cases (walks on the in-memory backend; default
 * KGSHARD_SIM_CASES or 5000; 0 skips it), shm-cases (walks on the
 * shared-memory backend; default 1000; 0 skips it), minutes (time limit of
 * each backend, default 5, at most 120), batch (walks per seed, default
 * 200). Shared-memory walks leave replication out (the server keeps one
 * live copy per chunk).
 */
import type { ReshardBackendFactory } from '../../src/ps/reshard/backend.js';
import { InMemoryReshardBackend } from '../../src/ps/reshard/memory-backend.js';
import { SEED } from '../helpers/prop.js';
import { runCampaign, simCases } from '../sim/campaign.js';
import { closeShmThreads, SHM_SCOPE, SharedMemoryReshardBackend } from '../sim/shm-backend.js';
import { FULL_SCOPE, SimStats, type WalkScope } from '../sim/walk.js';
import type { SoakReport, SoakScenario } from './report.js';
import { opt } from '../stress/report.js';

interface Backend {
  readonly name: string;
  readonly factory: ReshardBackendFactory;
  readonly scope: WalkScope;
  readonly cases: number;
}

async function soakBackend(
  b: Backend,
  minutes: number,
  batch: number,
): Promise<{ details: Record<string, unknown>; failures: string[] }> {
  const deadline = performance.now() + minutes * 60_000;
  const stats = new SimStats();
  const failures: string[] = [];
  let walks = 0;
  let regressions = 0;
  let outOfScope = 0;
  let seed = SEED;
  const started = performance.now();
  while (walks < b.cases && performance.now() < deadline && failures.length === 0) {
    const r = await runCampaign(b.factory, {
      cases: Math.min(batch, b.cases - walks),
      seed,
      replay: walks === 0,
      scope: b.scope,
    });
    stats.merge(r.stats);
    failures.push(...r.failures.map((f) => `${b.name}: ${f}`));
    walks += r.cases;
    regressions += r.regressions;
    outOfScope += r.outOfScope;
    seed = (seed + 1) | 0;
  }
  const secs = (performance.now() - started) / 1000;
  console.log(`reshard-sim, ${b.name} backend:\n${stats.format()}`);
  return {
    failures,
    details: {
      walks,
      regressions,
      regressions_out_of_scope: outOfScope,
      commands: stats.steps,
      oracle_checks: stats.checks,
      walks_per_s: Math.round((walks / secs) * 10) / 10,
      first_seed: SEED,
      last_seed: seed - 1,
    },
  };
}

export const soak: SoakScenario = async (opts): Promise<SoakReport> => {
  const cases = opt(opts, 'cases', simCases(5000));
  const shmCases = opt(opts, 'shm-cases', 1000);
  const minutes = opt(opts, 'minutes', 5);
  const batch = Math.max(1, Math.floor(opt(opts, 'batch', 200)));
  if (!(minutes > 0 && minutes <= 120) || !(cases >= 0) || !(shmCases >= 0) || cases + shmCases < 1) {
    return {
      name: 'reshard-sim',
      ok: false,
      details: { cases, shmCases, minutes },
      failures: [
        `--minutes must be in (0, 120], --cases and --shm-cases >= 0 and not both 0, ` +
          `got ${minutes}, ${cases} and ${shmCases}`,
      ],
    };
  }
  const backends: Backend[] = [
    { name: 'in-memory', factory: InMemoryReshardBackend.create, scope: FULL_SCOPE, cases },
    {
      name: 'shared-memory',
      factory: (o, clock) => SharedMemoryReshardBackend.create(o, clock),
      scope: SHM_SCOPE,
      cases: shmCases,
    },
  ];
  const details: Record<string, unknown> = {};
  const failures: string[] = [];
  try {
    for (const b of backends) {
      if (b.cases < 1) continue;
      const r = await soakBackend(b, minutes, batch);
      details[b.name] = r.details;
      failures.push(...r.failures);
    }
  } finally {
    await closeShmThreads();
  }
  return { name: 'reshard-sim', ok: failures.length === 0, failures, details };
};
