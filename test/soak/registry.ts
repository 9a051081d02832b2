/**
 * Every soak scenario, by name. Each module exports `soak`, a function of its
 * options; the short versions in `npm test` call the same function with small
 * options, `npm run soak` with the long defaults.
 */
import type { SoakScenario } from './report.js';
import { soak as router } from './router.js';
import { soak as routerStall } from './router-stall.js';
import { soak as trainKill } from './train-kill.js';
import { soak as mutation } from './mutation.js';
import { soak as snapshots } from './snapshots.js';
import { soak as reshardSim } from './reshard-sim.js';

export const SOAKS: Readonly<Record<string, SoakScenario>> = {
  router,
  'router-stall': routerStall,
  'train-kill': trainKill,
  mutation,
  snapshots,
  'reshard-sim': reshardSim,
};
