/**
 * Runs the reshard walks against a backend factory: first every captured
 * regression in regressions.json, then `cases` random walks from a seed.
 * A failure prints the seed (replay: KGSHARD_SEED=<seed>), fast-check's
 * shrunk path, and the shrunk walk as a JSON entry ready to paste into
 * regressions.json. Telemetry (how often each command and outcome
 * occurred) is returned with the result so a path never taken shows.
 *
 * Budget: KGSHARD_SIM_CASES (`npm test` uses a small default; the soak a
 * large one and a time limit).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { ReshardBackendFactory } from '../../src/ps/reshard/backend.js';
import {
  FULL_SCOPE,
  SimStats,
  commandsOf,
  describe,
  runWalk,
  walkCommandsIn,
  walkConfigIn,
  withinScope,
  type WalkCommand,
  type WalkConfig,
  type WalkScope,
} from './walk.js';

/**
 * A stored walk, replayed as it is on every run (it must pass). Walks that
 * caught a fault are kept here once the fault is fixed; the first entries
 * are the shrunk walks that caught faults seeded into the lifecycle on
 * purpose, so each guards the rule its note names.
 */
export interface Regression {
  /** What the walk caught, in a line. */
  readonly note: string;
  readonly seed: number;
  readonly path: string;
  readonly config: WalkConfig;
  readonly commands: readonly WalkCommand[];
}

export interface CampaignResult {
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly stats: SimStats;
  readonly cases: number;
  /** Captured regressions replayed, and those left out because they are outside the backend's scope. */
  readonly regressions: number;
  readonly outOfScope: number;
  readonly ms: number;
}

/** KGSHARD_SIM_CASES when set to a positive integer, else `fallback`. */
export function simCases(fallback: number): number {
  const v = Number(process.env['KGSHARD_SIM_CASES'] ?? '');
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** The walks captured in test/sim/regressions.json (read from the source tree beside dist). */
export function loadRegressions(): Regression[] {
  const file = fileURLToPath(new URL('../../../test/sim/regressions.json', import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as Regression[];
}

/**
 * `scope`: what the backend can run (default everything); random walks are
 * generated within it, and captured regressions outside it are left out
 * (counted in `outOfScope`).
 */
export async function runCampaign(
  factory: ReshardBackendFactory,
  opts: { readonly cases: number; readonly seed: number; readonly replay?: boolean; readonly scope?: WalkScope },
): Promise<CampaignResult> {
  const started = performance.now();
  const stats = new SimStats();
  const failures: string[] = [];
  const scope = opts.scope ?? FULL_SCOPE;
  const stored = opts.replay === false ? [] : loadRegressions();
  const regressions = stored.filter((r) => withinScope(scope, r.config, r.commands));
  for (const reg of regressions) {
    try {
      await runWalk(factory, reg.config, commandsOf(reg.commands), stats);
    } catch (e) {
      failures.push(`regression "${reg.note}" (seed ${reg.seed}) fails again: ${(e as Error).message}`);
    }
  }
  let failedWalk: { config: WalkConfig; commands: unknown[]; message: string } | undefined;
  const details = await fc.check(
    fc.asyncProperty(walkConfigIn(scope), walkCommandsIn(scope), async (config, commands) => {
      const local = new SimStats();
      try {
        await runWalk(factory, config, commands, local);
      } catch (e) {
        failedWalk = { config, commands: describe(commands), message: (e as Error).message };
        throw e;
      } finally {
        stats.merge(local);
      }
    }),
    { seed: opts.seed, numRuns: opts.cases },
  );
  if (details.failed && failedWalk !== undefined) {
    const entry = {
      note: failedWalk.message,
      seed: opts.seed,
      path: details.counterexamplePath ?? '',
      config: failedWalk.config,
      commands: failedWalk.commands,
    };
    failures.push(
      `walk failed after ${details.numRuns} cases: ${failedWalk.message}\n` +
        `  replay: KGSHARD_SEED=${opts.seed} (fast-check path ${details.counterexamplePath ?? '?'})\n` +
        `  regression entry for test/sim/regressions.json:\n${JSON.stringify(entry)}`,
    );
  } else if (details.failed) {
    failures.push(`walk property failed: ${String(details.errorInstance)}`);
  }
  return {
    ok: failures.length === 0,
    failures,
    stats,
    cases: details.numRuns,
    regressions: regressions.length,
    outOfScope: stored.length - regressions.length,
    ms: performance.now() - started,
  };
}
