/**
 * `npm run soak -- [scenario ...] [--name value ...]`: the long reliability
 * runs (router soak, kill campaign, file mutation campaign, snapshot torn-row
 * check, reshard simulation walks). Every scenario is
 * bounded by its options and stops by itself; the last line is
 * `N passed, N failed`.
 *
 *   npm run soak                          # every scenario, default sizes
 *   npm run soak -- router --minutes 10   # one scenario, longer
 */
import { SOAKS } from './registry.js';
import { runScenarioMain } from '../helpers/scenario-main.js';

await runScenarioMain('soak', SOAKS, process.argv.slice(2));
