/**
 * What a soak run reports: a name, whether it held, the figures it measured
 * (events routed, kills survived, mutants tried, ...) and any failures.
 */
export interface SoakReport {
  readonly name: string;
  readonly ok: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  readonly failures: readonly string[];
}

/** Options of one soak run, from `--name value` flags (numbers only). */
export type SoakOptions = Readonly<Record<string, number>>;

/** A soak scenario: bounded by its options, stops by itself. */
export type SoakScenario = (options: SoakOptions) => Promise<SoakReport>;
