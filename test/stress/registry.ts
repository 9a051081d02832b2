/**
 * Every stress scenario, by name. Each module exports `scenario`, a function
 * of its options; the tests under test/shm call the same function with small
 * options, `npm run stress` with the long defaults.
 */
import type { StressScenario } from './report.js';
import { scenario as ring } from './ring.js';
import { scenario as seqlock } from './seqlock.js';
import { scenario as counter } from './counter.js';
import { scenario as barrier } from './barrier.js';
import { scenario as cursor } from './cursor.js';
import { scenario as ps } from './ps.js';
import { scenario as router } from './router.js';
import { scenario as storeKill } from './store-kill.js';

export const SCENARIOS: Readonly<Record<string, { long: StressScenario }>> = {
  ring: { long: ring },
  seqlock: { long: seqlock },
  counter: { long: counter },
  barrier: { long: barrier },
  cursor: { long: cursor },
  ps: { long: ps },
  router: { long: router },
  'store-kill': { long: storeKill },
};
