/**
 * `npm run stress -- [scenario ...] [--name value ...]`: the long versions of
 * the concurrency tests. Every scenario is bounded by its options (event
 * counts, reads, --duration in seconds) and stops by itself.
 *
 *   npm run stress                          # every scenario, default sizes
 *   npm run stress -- ring --events 2e8     # one scenario, bigger
 *   npm run stress -- seqlock --duration 60
 */
import { SCENARIOS } from './registry.js';
import { runScenarioMain } from '../helpers/scenario-main.js';

await runScenarioMain(
  'stress',
  Object.fromEntries(Object.entries(SCENARIOS).map(([name, s]) => [name, s.long])),
  process.argv.slice(2),
);
