/**
 * A soak run reports like a stress scenario: a name, whether it held, the
 * figures it measured (events routed, kills survived, mutants tried, ...)
 * and any failures; its options are `--name value` numbers.
 */
export type {
  StressReport as SoakReport,
  StressOptions as SoakOptions,
  StressScenario as SoakScenario,
} from '../stress/report.js';
