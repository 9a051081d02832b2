/**
 * The file mutation campaign as a soak: every kind of file kgshard reads
 * (TSV splits, .npy, saved embeddings, npy/tsv/word2vec exports, checkpoint
 * store entries, relation statistics) damaged `--runs` times (default 2000
 * per kind) by the mutators of test/helpers/mutate.ts. Each mutant must load
 * exactly what its bytes say or fail with a one-line KgError naming the file;
 * the report gives, per kind, mutants tried, errors and exact loads.
 *
 *   npm run soak -- mutation --runs 5000
 *
 * KGSHARD_SEED replays a run.
 */
import { MUTATION_KINDS, runKind, type KindReport } from '../helpers/mutation-kinds.js';
import { SEED } from '../helpers/prop.js';
import type { SoakOptions, SoakReport } from './report.js';

export async function soak(options: SoakOptions = {}): Promise<SoakReport> {
  const runs = options['runs'] ?? 2000;
  const details: Record<string, unknown> = { seed: SEED, runs_per_kind: runs };
  const failures: string[] = [];
  let tried = 0;
  for (const kind of MUTATION_KINDS) {
    let r: KindReport;
    try {
      r = await runKind(kind, runs);
    } catch (e) {
      failures.push(
        `${kind}: ${
          (e as Error).message
            .split('\n')
            .filter((l) => /Counterexample|Got error/.test(l))
            .join(' | ') || (e as Error).message
        }`,
      );
      continue;
    }
    tried += r.tried;
    details[kind] = { tried: r.tried, errors: r.errors, exact: r.exact };
  }
  details['tried'] = tried;
  return { name: 'mutation', ok: failures.length === 0, details, failures };
}
