/**
 * Run-to-run comparison of two saved load-test results (the `--json`
 * summaries of `runLoadTest`): each figure of A and B with the ratio B/A,
 * and whether the change is a regression (throughput down, latency up,
 * events lost, duplicated or reordered where A had none, pacing missed).
 * Pure functions over parsed JSON; reading and checking a file is
 * `readLoadTestResult`, which fails in one line naming the file.
 */
import { readFileSync } from 'node:fs';
import { loadResultError } from '../errors.js';

/** Which way is better for a figure, and how large a change counts as a regression. */
export interface CompareRule {
  /** `higher`/`lower`: better that way; `exact`: any increase is a regression (counts that should be 0); `info`. */
  better: 'higher' | 'lower' | 'exact' | 'info';
  /** Relative change past which `higher`/`lower` figures count as a regression (0.05 = 5%). */
  tolerance: number;
}

/** One compared figure. */
export interface CompareRow {
  /** Dotted path in the result, e.g. `push_latency_corrected_ns.p99`. */
  key: string;
  a: number | null;
  b: number | null;
  /** B / A (null when either is missing or A is 0 and B is not). */
  ratio: number | null;
  regression: boolean;
  better: CompareRule['better'];
}

/** Default tolerances: throughput 5%, latency 10% (latency percentiles are noisier). */
export const COMPARE_TOLERANCE = { throughput: 0.05, latency: 0.1 } as const;

const LATENCY_KEYS = ['p50', 'p90', 'p99', 'p999', 'max'] as const;

/** The figures compared, in order, with their rules. */
export function compareRules(): [string, CompareRule][] {
  const t = { better: 'higher', tolerance: COMPARE_TOLERANCE.throughput } as const;
  const l = { better: 'lower', tolerance: COMPARE_TOLERANCE.latency } as const;
  const exact = { better: 'exact', tolerance: 0 } as const;
  const info = { better: 'info', tolerance: 0 } as const;
  return [
    ['events_per_s', t],
    ['rate_requested', info],
    ['rate_achieved', t],
    ['behind_schedule_events', exact],
    ...LATENCY_KEYS.map((k): [string, CompareRule] => [`push_latency_ns.${k}`, l]),
    ...LATENCY_KEYS.map((k): [string, CompareRule] => [`push_latency_corrected_ns.${k}`, l]),
    ['scale_events', info],
    ['breaker_events', info],
    ['shards_max', info],
    ['produced', info],
    ['consumed', info],
    ['lost', exact],
    ['duplicated', exact],
    ['reordered', exact],
  ];
}

/** A figure of a result by dotted path; arrays count as their length; null when absent. */
function figure(r: Record<string, unknown>, key: string): number | null {
  let v: unknown = r;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    v = (v as Record<string, unknown>)[part];
  }
  if (Array.isArray(v)) return v.length;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Compare B against A, figure by figure (`compareRules`). */
export function compareLoadTests(a: Record<string, unknown>, b: Record<string, unknown>): CompareRow[] {
  return compareRules().map(([key, rule]) => {
    const x = figure(a, key);
    const y = figure(b, key);
    const ratio = x === null || y === null ? null : x === 0 ? (y === 0 ? 1 : null) : y / x;
    let regression = false;
    if (x !== null && y !== null) {
      if (rule.better === 'exact') regression = y > x;
      else if (rule.better === 'higher') regression = y < x * (1 - rule.tolerance);
      else if (rule.better === 'lower') regression = y > x * (1 + rule.tolerance);
    }
    return { key, a: x, b: y, ratio, regression, better: rule.better };
  });
}

/** Read a saved `kgshard loadtest --json` result; one-line errors naming the file. */
export function readLoadTestResult(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw loadResultError(file, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw loadResultError(file, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw loadResultError(file, 'not a load-test result (expected the JSON object of kgshard loadtest --json)');
  }
  const r = json as Record<string, unknown>;
  for (const k of ['events_per_s', 'produced', 'consumed', 'lost', 'duplicated', 'reordered']) {
    if (typeof r[k] !== 'number') {
      throw loadResultError(
        file,
        `not a load-test result: ${k} must be a number, got ${JSON.stringify(r[k]) ?? 'nothing'}`,
      );
    }
  }
  const l = r['push_latency_ns'];
  if (typeof l !== 'object' || l === null || typeof (l as Record<string, unknown>)['p99'] !== 'number') {
    throw loadResultError(file, 'not a load-test result: push_latency_ns must hold p50, p99, p999 and max');
  }
  return r;
}
