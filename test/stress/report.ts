/** What every stress scenario returns: the short version runs in `npm test`, the long one in `npm run stress`. */
export interface StressReport {
  readonly name: string;
  readonly ok: boolean;
  /** Counts and figures worth printing (events, reads, retries, ...). */
  readonly details: Record<string, unknown>;
  /** Why the run failed, when it did. */
  readonly failures: readonly string[];
}

/** Numeric options from the command line (`--events 1e8` becomes `{ events: 1e8 }`). */
export type StressOptions = Readonly<Record<string, number>>;

export type StressScenario = (opts: StressOptions) => Promise<StressReport>;

export function opt(opts: StressOptions, name: string, fallback: number): number {
  const v = opts[name];
  return v === undefined || !Number.isFinite(v) ? fallback : v;
}
