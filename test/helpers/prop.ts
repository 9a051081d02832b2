/**
 * fast-check parameters for every property test: the seed comes from
 * KGSHARD_SEED (or a fresh one), the number of runs from KGSHARD_RUNS. On
 * failure fast-check's report names the seed and path; this wrapper also
 * prints the command that replays it.
 */
import fc from 'fast-check';

const envSeed = process.env['KGSHARD_SEED'];
export const SEED =
  envSeed !== undefined && envSeed !== '' ? Number(envSeed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const runs = Number(process.env['KGSHARD_RUNS'] ?? '');

/** Options for `fc.assert`, with `numRuns` scaled by KGSHARD_RUNS when set. */
export function propOptions<T>(defaultRuns = 100, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { seed: SEED, numRuns: Number.isFinite(runs) && runs > 0 ? runs : defaultRuns, ...extra };
}

/** `fc.assert` that prints how to replay a failure. */
export async function check<T>(
  prop: fc.IProperty<T> | fc.IAsyncProperty<T>,
  defaultRuns = 100,
  extra: fc.Parameters<T> = {},
): Promise<void> {
  try {
    await fc.assert(prop as fc.IAsyncProperty<T>, propOptions(defaultRuns, extra));
  } catch (err) {
    console.error(`property failed; replay with KGSHARD_SEED=${SEED} npm test`);
    throw err;
  }
}

/**
 * Run a test body that makes random choices (thread and churn tests
 * included) with the run's seed, and print the seed if it fails:
 * `KGSHARD_SEED=<n>` replays the same choices.
 */
export async function withSeed<T>(name: string, fn: (seed: number) => T | Promise<T>): Promise<T> {
  try {
    return await fn(SEED);
  } catch (err) {
    console.error(`${name} failed; replay with KGSHARD_SEED=${SEED} npm test`);
    throw err;
  }
}
