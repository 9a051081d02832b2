/**
 * The reshard simulation as a soak: batches of random walks against the
 * in-memory backend (seeds from KGSHARD_SEED onward, one per batch) until
 * `cases` walks have run or `minutes` have passed, whichever comes first,
 * plus the captured regressions. The report carries walks, commands and
 * oracle checks executed, walks per second and the telemetry lines.
 *
 *   npm run soak -- reshard-sim --cases 20000 --minutes 10
 *
 * Options: cases (default KGSHARD_SIM_CASES or 5000), minutes (default 5,
 * at most 120), batch (walks per seed, default 200).
 */
import { InMemoryReshardBackend } from '../../src/ps/reshard/memory-backend.js';
import { SEED } from '../helpers/prop.js';
import { runCampaign, simCases } from '../sim/campaign.js';
import { SimStats } from '../sim/walk.js';
import type { SoakReport, SoakScenario } from './report.js';
import { opt } from '../stress/report.js';

export const soak: SoakScenario = async (opts): Promise<SoakReport> => {
  const cases = opt(opts, 'cases', simCases(5000));
  const minutes = opt(opts, 'minutes', 5);
  const batch = Math.max(1, Math.floor(opt(opts, 'batch', 200)));
  if (!(minutes > 0 && minutes <= 120) || !(cases >= 1)) {
    return {
      name: 'reshard-sim',
      ok: false,
      details: { cases, minutes },
      failures: [`--minutes must be in (0, 120] and --cases >= 1, got ${minutes} and ${cases}`],
    };
  }
  const deadline = performance.now() + minutes * 60_000;
  const stats = new SimStats();
  const failures: string[] = [];
  let walks = 0;
  let regressions = 0;
  let seed = SEED;
  const started = performance.now();
  while (walks < cases && performance.now() < deadline && failures.length === 0) {
    const r = await runCampaign(InMemoryReshardBackend.create, {
      cases: Math.min(batch, cases - walks),
      seed,
      replay: walks === 0,
    });
    stats.merge(r.stats);
    failures.push(...r.failures);
    walks += r.cases;
    regressions += r.regressions;
    seed = (seed + 1) | 0;
  }
  const secs = (performance.now() - started) / 1000;
  console.log(stats.format());
  return {
    name: 'reshard-sim',
    ok: failures.length === 0,
    failures,
    details: {
      walks,
      regressions,
      commands: stats.steps,
      oracle_checks: stats.checks,
      walks_per_s: Math.round((walks / secs) * 10) / 10,
      first_seed: SEED,
      last_seed: seed - 1,
    },
  };
};
