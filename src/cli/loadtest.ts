/**
 * `kgshard loadtest`: run the event router's load test (the library's
 * `runLoadTest`) and print its summary. This file only reads flags into
 * LoadTestOptions (checked by the library's `validateLoadTest` before any
 * work, with its field names turned into flag names), shows the live
 * figures on a terminal and prints the result; the load test itself,
 * its checks and its figures are the library's.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { KgError, show, usageError } from '../errors.js';
import { compareLoadTests, readLoadTestResult, type CompareRow } from '../router/loadtest-compare.js';
import {
  DEFAULT_LOADTEST,
  runLoadTest,
  validateLoadTest,
  type LoadProgress,
  type LoadSample,
  type LoadTestOptions,
  type LoadTestSummary,
} from '../router/loadtest.js';
import { DEFAULT_WAIT_SLICE_MS } from '../router/router.js';
import type { BreakerEvent, ScaleEvent } from '../router/service.js';
import { checkReportPath, writeLoadTestReport } from '../report/file.js';
import {
  asUsage,
  bool,
  commandLine,
  compact,
  intFlag,
  parseFlags,
  str,
  usage,
  type FlagSpecs,
  type ParsedFlags,
} from './flags.js';
import { StatusLine } from './progress.js';

const C = 'loadtest';

const FLAGS: FlagSpecs = {
  producers: { type: 'string' },
  shards: { type: 'string' },
  'min-shards': { type: 'string' },
  'max-shards': { type: 'string' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  batch: { type: 'string' },
  'auto-scale': { type: 'boolean' },
  profile: { type: 'string' },
  cooldown: { type: 'string' },
  tick: { type: 'string' },
  threads: { type: 'string' },
  'ring-capacity': { type: 'string' },
  'breaker-threshold': { type: 'string' },
  'breaker-cooldown': { type: 'string' },
  'stall-consumer': { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
  series: { type: 'string' },
  compare: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** LoadTestOptions field → flag, so the library's validation errors name the flag. */
const FIELD_FLAGS: Readonly<Record<string, string>> = {
  producers: '--producers',
  threads: '--threads',
  shards: '--shards',
  minShards: '--min-shards',
  maxShards: '--max-shards',
  durationMs: '--duration',
  rate: '--rate',
  batch: '--batch',
  autoScale: '--auto-scale',
  profile: '--profile',
  cooldownMs: '--cooldown',
  tickMs: '--tick',
  ringCapacity: '--ring-capacity',
  breakerThreshold: '--breaker-threshold',
  breakerCoolDownMs: '--breaker-cooldown',
  stallConsumer: '--stall-consumer',
};

/** Fields the flags give as durations (the library takes milliseconds). */
const MS_FIELDS = new Set(['durationMs', 'cooldownMs', 'tickMs', 'breakerCoolDownMs']);

const D = DEFAULT_LOADTEST;

export function loadtestHelp(): string {
  return `Usage: kgshard loadtest [flags]

Load-test the event router: producer threads push sequenced events through
the shards while a consumer per shard drains and checks them and the control
loop scales the shards. Reports events/s, push latency and whether every
event arrived exactly once and in order (per producer within each shard).

Load:
  --producers N           logical producers; each needs a shard of its own,
                          the others wait for one (default ${D.producers})
  --threads N             producer threads hosting them, at most --producers
                          (default min(producers, 2))
  --rate R                events/s per producer: a number (2000000, 2e6),
                          with a k, M or G suffix (500k, 2M), or max
                          (default ${String(D.rate)})
  --batch N               events per push call (default ${D.batch})
  --profile P             flat: every producer all the run; ramp: producers
                          join one by one up to all at mid-run, then leave;
                          FILE.json: stages { duration_s, rate, producers }
                          with linear ramps between them (default ${D.profile})
  --duration D            run time: 5 (seconds), 5s, 500ms, 1m; a profile's
                          stages set it (their "50%" shares are of this)
                          (default ${fmtMs(D.durationMs)})
Shards:
  --shards N              shards at the start (default ${D.shards})
  --min-shards N          fewest shards scaling may leave (default ${D.minShards})
  --max-shards N          most shards scaling may create (default ${D.maxShards})
  --auto-scale            let the control loop add and drain shards
                          (default off)
  --cooldown D            least time between two scaling actions (default ${fmtMs(D.cooldownMs)})
  --tick D                control loop period (default ${fmtMs(D.tickMs)})
  --ring-capacity N       events per shard ring, a power of two (default ${D.ringCapacity})
Circuit breakers:
  --breaker-threshold N   failed waits for ring space in a row (each a whole
                          wait slice of ${DEFAULT_WAIT_SLICE_MS}ms with the ring full) that open a
                          shard's breaker (default ${D.breakerThreshold})
  --breaker-cooldown D    how long an open breaker keeps its shard out of
                          routing before it goes half-open (default ${fmtMs(D.breakerCoolDownMs)})
  --stall-consumer S@T    stall the consumer of shard S (one of the starting
                          shards) T into the run (5, 5s, 500ms), until the run
                          ends: its breaker opens, a replacement consumer
                          drains its ring, then the breaker closes (default none)
Output:
  --json                  print the summary as one JSON object
  --series FILE           write the figures over time as JSON lines, one
                          object about every 250 ms (see the README)
  --report FILE.html      also write the run as one HTML page of charts
                          (events/s, push latency, shards with scale and
                          breaker events, ring fill per shard over time) and
                          the final accounting; it needs no network or script
  --quiet                 no live line on a terminal
  -h, --help              show this help

Comparing two runs:
  kgshard loadtest --compare A.json B.json [--json]
                          compare two saved --json results: each figure of A
                          and B with the ratio B/A, regressions marked (exit
                          1 when there is one)

On a terminal, stderr shows a live line (elapsed time, events/s, push latency
p50/p99/p999, each shard's ring fill, active/waiting producers) and one line
per scale event and per breaker transition, unless --quiet; otherwise the run
is quiet. Exit code 0 when nothing was lost, duplicated or reordered, 1 when
something was (or on a failure), 2 for a bad flag.
`;
}

interface LoadTestPlan {
  readonly options: LoadTestOptions;
  readonly json: boolean;
  /** `--report`: where the HTML report goes, or undefined. */
  readonly report: string | undefined;
  /** `--series`: where the JSON lines go, or undefined. */
  readonly series: string | undefined;
  readonly quiet: boolean;
}

/** Read and check every flag (the library's validation included); throws usage errors (exit code 2). */
export function planLoadTest(args: readonly string[]): LoadTestPlan | 'help' {
  const flags = parseFlags(C, args, FLAGS);
  if (bool(flags, 'help')) return 'help';
  // Ranges are the library's (validateLoadTest below); here only the form.
  const int = (name: string, def: number): number => intFlag(C, flags, name, def, -Infinity, Infinity);
  const threadsRaw = str(flags, 'threads');
  const options: LoadTestOptions = {
    producers: int('producers', D.producers),
    ...(threadsRaw !== undefined ? { threads: int('threads', 0) } : {}),
    shards: int('shards', D.shards),
    minShards: int('min-shards', D.minShards),
    maxShards: int('max-shards', D.maxShards),
    durationMs: durationFlag(flags, 'duration', D.durationMs),
    rate: rateFlag(flags, D.rate),
    batch: int('batch', D.batch),
    autoScale: bool(flags, 'auto-scale') || D.autoScale,
    profile: str(flags, 'profile') ?? D.profile,
    cooldownMs: durationFlag(flags, 'cooldown', D.cooldownMs),
    tickMs: durationFlag(flags, 'tick', D.tickMs),
    ringCapacity: int('ring-capacity', D.ringCapacity),
    breakerThreshold: int('breaker-threshold', D.breakerThreshold),
    breakerCoolDownMs: durationFlag(flags, 'breaker-cooldown', D.breakerCoolDownMs),
    ...stallFlag(flags),
  };
  try {
    validateLoadTest(options);
  } catch (e) {
    if (e instanceof KgError) throw usage(flagError(e, flags));
    throw e;
  }
  const report = str(flags, 'report');
  if (report !== undefined) checkReportPath(report, C, '--report');
  const series = str(flags, 'series');
  if (series !== undefined) checkReportPath(series, C, '--series');
  if (str(flags, 'compare') !== undefined) {
    throw usage(usageError(`${C}: --compare takes two files and no other flag but --json: --compare A.json B.json`));
  }
  return { options, json: bool(flags, 'json'), report, series, quiet: bool(flags, 'quiet') };
}

/** A library validation error restated with the flag's name and the value as given. */
function flagError(e: KgError, flags: ParsedFlags): KgError {
  const field = typeof e.details['field'] === 'string' ? e.details['field'] : '';
  const flag = FIELD_FLAGS[field];
  if (flag === undefined) return e;
  const name = flag.slice(2);
  const raw = str(flags, name);
  const value = e.details['value'];
  const ms = MS_FIELDS.has(field);
  let got: string;
  if (raw === undefined) got = `${ms && typeof value === 'number' ? fmtMs(value) : show(value)} (the default)`;
  else if (!ms && typeof value === 'number' && String(value) === raw.trim()) got = String(value);
  else got = JSON.stringify(raw);
  let must: string;
  if (e.code === 'E_OUT_OF_RANGE' && typeof e.details['min'] === 'number' && typeof e.details['max'] === 'number') {
    const [min, max] = [e.details['min'], e.details['max']];
    // (Profile files' errors name their file and field already and pass through unchanged.)
    must = ms ? `in [${fmtMs(min)}, ${fmtMs(max)}]` : `in [${min}, ${max}]`;
    if (field === 'shards') must += ' (--min-shards to --max-shards)';
  } else if (ms && e.details['expected'] === 'an integer') {
    must = 'a whole number of milliseconds';
  } else {
    // The library's validation errors give `expected` as a sentence, when they give it.
    const expected = e.details['expected'];
    must = typeof expected === 'string' ? expected : 'valid';
  }
  // Other fields the condition names (`at most maxShards (2)`) become flags too.
  must = must.replace(
    /\b(minShards|maxShards|durationMs|cooldownMs|tickMs|ringCapacity)\b/g,
    (f) => FIELD_FLAGS[f] ?? f,
  );
  return new KgError(e.code, `${C}: ${flag} must be ${must}, got ${got}`, { ...e.details, flag });
}

const NUMBER = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const DURATION_RE = new RegExp(`^(${NUMBER})(ms|s|m|h)?$`);
const RATE_RE = new RegExp(`^(${NUMBER})([kKMG]?)$`);
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const RATE_MULT: Readonly<Record<string, number>> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** `5` (seconds), `5s`, `500ms`, `1m`, `1h` → milliseconds; `def` (ms) when absent. */
function durationFlag(flags: ParsedFlags, name: string, def: number): number {
  const raw = str(flags, name);
  if (raw === undefined) return def;
  const m = DURATION_RE.exec(raw.trim());
  if (m === null) throw usage(malformed(`--${name}`, raw, 'a duration such as 5 (seconds), 5s, 500ms or 1m'));
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  if (!Number.isFinite(ms)) throw usage(malformed(`--${name}`, raw, 'a duration such as 5 (seconds), 5s, 500ms or 1m'));
  // 1.1s is 1100 ms, not 1100.0000000000002.
  return Math.round(ms * 1e6) / 1e6;
}

const STALL_RE = /^(\d+)@(.+)$/;
const STALL_FORM = 'SHARD@TIME such as 0@2 (shard 0 stalls 2 s into the run) or 1@1500ms';

/** `--stall-consumer S@T`: shard S, T a duration into the run (seconds when bare); nothing when absent. */
function stallFlag(flags: ParsedFlags): Pick<LoadTestOptions, 'stallConsumer'> {
  const raw = str(flags, 'stall-consumer');
  if (raw === undefined) return {};
  const m = STALL_RE.exec(raw.trim());
  const t = m === null ? null : DURATION_RE.exec(m[2]!.trim());
  if (m === null || t === null) throw usage(malformed('--stall-consumer', raw, STALL_FORM));
  const atMs = Math.round(Number(t[1]) * UNIT_MS[t[2] ?? 's']! * 1e6) / 1e6;
  if (!Number.isFinite(atMs)) throw usage(malformed('--stall-consumer', raw, STALL_FORM));
  return { stallConsumer: { shard: Number(m[1]), atMs } };
}

/** `max`, or events/s: `2000000`, `2e6`, `2M`, `500k`; `def` when absent. */
function rateFlag(flags: ParsedFlags, def: number | 'max'): number | 'max' {
  const raw = str(flags, 'rate');
  if (raw === undefined) return def;
  const s = raw.trim();
  if (s === 'max') return 'max';
  const m = RATE_RE.exec(s);
  const n = m === null ? NaN : Number(m[1]) * RATE_MULT[m[2]!]!;
  if (!Number.isFinite(n))
    throw usage(malformed('--rate', raw, "'max' or events/s per producer such as 2000000, 2e6, 2M or 500k"));
  return n;
}

function malformed(flag: string, raw: string, expected: string): KgError {
  return new KgError('E_INVALID_ARGUMENT', `${C}: ${flag} must be ${expected}, got ${JSON.stringify(raw)}`, {
    flag,
    value: raw,
    expected,
  });
}

// ------------------------------------------------------------ display

/** Milliseconds as the flags write them: 1h, 1m, 5s, 1.5s, 500ms. */
export function fmtMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${+ms.toFixed(3)}ms`;
}

/** Nanoseconds in a readable unit: 851ns, 3.0us, 437us, 13.0ms, 1.20s. */
export function fmtNs(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e4) return `${(ns / 1e3).toFixed(1)}us`;
  if (ns < 1e6) return `${Math.round(ns / 1e3)}us`;
  if (ns < 1e7) return `${(ns / 1e6).toFixed(1)}ms`;
  if (ns < 1e9) return `${Math.round(ns / 1e6)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}

/**
 * The live line:
 * `1.2s/5s 105M ev/s push p50 851ns p99 3.0us p999 437us shards 0:45% 1:12% 3:draining producers 2 active 0 waiting`.
 */
export function progressText(p: LoadProgress, durationMs: number): string {
  const secs = (ms: number): string => `${(Math.min(ms, durationMs) / 1000).toFixed(1)}s`;
  const l = p.pushLatencyNs;
  const shards = p.shards
    .map((s) => `${s.id}:${s.state === 'active' ? `${Math.round(s.fill * 100)}%` : s.state}`)
    .join(' ');
  return [
    `${secs(p.elapsedMs)}/${fmtMs(durationMs)}`,
    `${compact(p.eventsPerS)} ev/s`,
    // All zero: no push was timed in this window yet (recorded latencies are >= 1 ns).
    l.p50 === 0 && l.p99 === 0 && l.p999 === 0
      ? 'push -'
      : `push p50 ${fmtNs(l.p50)} p99 ${fmtNs(l.p99)} p999 ${fmtNs(l.p999)}`,
    `shards ${shards === '' ? '-' : shards}`,
    `producers ${p.activeProducers} active ${p.waitingProducers} waiting`,
  ].join(' ');
}

/** `+ 1.234s activate shard 3 (waiting-producers)`. */
export function scaleEventText(e: ScaleEvent): string {
  return `+ ${(e.tMs / 1000).toFixed(3)}s ${e.kind} shard ${e.shard} (${e.reason})`;
}

/** `+ 2.113s breaker shard 0 closed -> open`. */
export function breakerEventText(e: BreakerEvent): string {
  return `+ ${(e.tMs / 1000).toFixed(3)}s breaker shard ${e.shard} ${e.from} -> ${e.to}`;
}

/** Live figures on a terminal (a rewritten status line, scale and breaker events above it); nothing off one. */
export class LoadTestProgress {
  private readonly line: StatusLine;
  private readonly durationMs: number;

  constructor(line: StatusLine, durationMs: number) {
    this.line = line;
    this.durationMs = durationMs;
  }

  start(): void {
    this.line.set(`0.0s/${fmtMs(this.durationMs)} starting`);
  }

  progress(p: LoadProgress): void {
    const text = progressText(p, this.durationMs);
    // The last report comes as the producers stop; the consumers then empty the rings and the traces are checked.
    this.line.set(p.elapsedMs >= this.durationMs ? `${text} - checking delivery` : text);
  }

  scaleEvent(e: ScaleEvent): void {
    this.line.note(scaleEventText(e));
  }

  breakerEvent(e: BreakerEvent): void {
    this.line.note(breakerEventText(e));
  }

  stop(): void {
    this.line.clear();
  }
}

/** The human summary printed at the end. */
export function summaryText(s: LoadTestSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const l = s.push_latency_ns;
  const kinds = new Map<string, number>();
  for (const e of s.scale_events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  const byKind = [...kinds].map(([k, c]) => `${c} ${k}`).join(', ');
  const ok = s.lost === 0 && s.duplicated === 0 && s.reordered === 0;
  const rows: [string, string][] = [
    ['events/s', n(s.events_per_s)],
    ['produced', n(s.produced)],
    ['consumed', n(s.consumed)],
    ['lost', n(s.lost)],
    ['duplicated', n(s.duplicated)],
    ['reordered', n(s.reordered)],
    [s.push_latency_corrected_ns === null ? 'push latency' : 'push latency (from send)', latencyText(l, 'samples')],
    ...(s.push_latency_corrected_ns === null
      ? []
      : ([['push latency (from schedule)', latencyText(s.push_latency_corrected_ns, 'events')]] as [string, string][])),
    ...pacedRows(s),
    ['scale events', `${s.scale_events.length}${byKind === '' ? '' : ` (${byKind})`}`],
    ['breaker events', breakerSummary(s)],
    [
      'final shards',
      `${s.shards_final.length === 0 ? '-' : s.shards_final.join(', ')} (at most ${s.shards_max} at once)`,
    ],
    [
      'result',
      ok ? 'ok: every event arrived exactly once and in order' : 'FAILED: events were lost, duplicated or reordered',
    ],
  ];
  const head =
    `loadtest: ${s.producers} producer${s.producers === 1 ? '' : 's'} ` +
    `on ${s.threads} thread${s.threads === 1 ? '' : 's'}, ` +
    `${s.profile}, rate ${s.rate === 'max' ? 'max' : `${compact(s.rate)}/s`} each, batch ${s.batch}, ` +
    `auto-scale ${s.auto_scale ? 'on' : 'off'}, ${(s.duration_ms / 1000).toFixed(2)} s`;
  const w = Math.max(...rows.map((r) => r[0].length));
  const warnings = s.warnings.map((x) => `warning: ${x}\n`).join('');
  return `${head}\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n${warnings}`;
}

/** `p50 851ns  p90 1.2us  p99 3.0us  p999 437us  max 2.0ms  (12,345 samples)`. */
function latencyText(l: LoadTestSummary['push_latency_ns'], unit: string): string {
  if (l.samples === 0) return '- (no push was timed)';
  return (
    `p50 ${fmtNs(l.p50)}  p90 ${fmtNs(l.p90)}  p99 ${fmtNs(l.p99)}  p999 ${fmtNs(l.p999)}  max ${fmtNs(l.max)}  ` +
    `(${l.samples.toLocaleString('en-US')} ${unit})`
  );
}

/** Paced runs: requested vs achieved, in total and per producer. */
function pacedRows(s: LoadTestSummary): [string, string][] {
  if (s.rate_requested === null || s.rate_achieved === null || s.behind_schedule_events === null) return [];
  const n = (x: number): string => x.toLocaleString('en-US');
  const share = (a: number, r: number): string => (r > 0 ? `${((100 * a) / r).toFixed(1)}%` : '-');
  const rows: [string, string][] = [
    [
      'rate requested/achieved',
      `${n(s.rate_requested)} / ${n(s.rate_achieved)} events/s (${share(s.rate_achieved, s.rate_requested)}), ` +
        `${n(s.behind_schedule_events)} events behind schedule`,
    ],
  ];
  for (const [id, p] of Object.entries(s.per_producer)) {
    if (p.rate_requested === null || p.rate_achieved === null || p.behind_schedule_events === null) continue;
    rows.push([
      `  producer ${id}`,
      `${n(p.rate_requested)} / ${n(p.rate_achieved)} events/s (${share(p.rate_achieved, p.rate_requested)}), ` +
        `${n(p.behind_schedule_events)} behind`,
    ]);
  }
  return rows;
}

/** `3 (shard 0: closed -> open 2.113s, open -> half-open 3.114s, half-open -> closed 3.215s)`, after the stall. */
function breakerSummary(s: LoadTestSummary): string {
  const byShard = new Map<number, string[]>();
  for (const e of s.breaker_events) {
    const list = byShard.get(e.shard) ?? [];
    list.push(`${e.from} -> ${e.to} ${(e.t_ms / 1000).toFixed(3)}s`);
    byShard.set(e.shard, list);
  }
  const parts = [...byShard].map(([shard, list]) => `shard ${shard}: ${list.join(', ')}`);
  const st = s.stall_consumer;
  const stall =
    st === null
      ? ''
      : st.t_ms === null
        ? `; shard ${st.shard}'s consumer was not stalled (the shard was gone)`
        : `; shard ${st.shard}'s consumer stalled at ${(st.t_ms / 1000).toFixed(3)}s`;
  return `${s.breaker_events.length}${parts.length === 0 ? '' : ` (${parts.join('; ')})`}${stall}`;
}

/** `--compare A.json B.json [--json]`: the files, or null when --compare is not among the flags. */
export function planCompare(args: readonly string[]): { a: string; b: string; json: boolean } | null {
  if (!args.some((x) => x === '--compare' || x.startsWith('--compare='))) return null;
  const flags = parseFlags(C, args, { compare: { type: 'string' }, json: { type: 'boolean' } }, 1);
  const a = str(flags, 'compare');
  const b = flags.positionals[0];
  if (a === undefined || b === undefined) {
    throw usage(usageError(`${C}: --compare needs two files: --compare A.json B.json`, { flag: '--compare' }));
  }
  return { a, b, json: bool(flags, 'json') };
}

/** The comparison as a table: figure, A, B, B/A, and `REGRESSION` where B is worse past the tolerance. */
export function compareText(a: string, b: string, rows: readonly CompareRow[]): string {
  const n = (x: number | null): string => (x === null ? '-' : Math.round(x).toLocaleString('en-US'));
  const shown = rows.filter((r) => r.a !== null || r.b !== null);
  const table = shown.map((r) => [
    r.key,
    n(r.a),
    n(r.b),
    r.ratio === null ? '-' : r.ratio.toFixed(3),
    r.regression ? 'REGRESSION' : r.better === 'info' ? '' : 'ok',
  ]);
  const head = ['figure', 'A', 'B', 'B/A', ''];
  const w = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((x, i) => (i === 0 ? x.padEnd(w[0]!) : i < 4 ? x.padStart(w[i]!) : x))
      .join('  ')
      .replace(/^/, '  ')
      .trimEnd();
  const bad = shown.filter((r) => r.regression).length;
  return (
    `loadtest --compare: A ${a}, B ${b}\n${[head, ...table].map(line).join('\n')}\n` +
    (bad === 0 ? 'no regression\n' : `${bad} regression${bad === 1 ? '' : 's'} (B worse than A past the tolerance)\n`)
  );
}

function compareCommand(c: { a: string; b: string; json: boolean }): number {
  const [ra, rb] = asUsage(() => [readLoadTestResult(c.a), readLoadTestResult(c.b)]);
  const rows = compareLoadTests(ra, rb);
  process.stdout.write(c.json ? `${JSON.stringify({ a: c.a, b: c.b, rows })}\n` : compareText(c.a, c.b, rows));
  return rows.some((r) => r.regression) ? 1 : 0;
}

export async function loadtestCommand(args: readonly string[]): Promise<number> {
  const cmp = asUsage(() => planCompare(args));
  if (cmp !== null) return compareCommand(cmp);
  const plan = asUsage(() => planLoadTest(args));
  if (plan === 'help') {
    process.stdout.write(loadtestHelp());
    return 0;
  }
  const line = new StatusLine(process.stderr, !plan.quiet && process.stderr.isTTY === true);
  const progress = new LoadTestProgress(line, plan.options.durationMs);
  progress.start();
  const report = plan.report;
  // --series: one JSON line per sample, written as it is taken (the file can be followed during the run).
  const seriesFd = plan.series !== undefined ? openSync(plan.series, 'w') : null;
  let summary: LoadTestSummary;
  try {
    summary = await runLoadTest({
      ...plan.options,
      ...(report !== undefined ? { timeline: true } : {}),
      ...(seriesFd !== null ? { onSample: (x: LoadSample) => void writeSync(seriesFd, `${JSON.stringify(x)}\n`) } : {}),
      onProgress: (p) => progress.progress(p),
      onScaleEvent: (e) => progress.scaleEvent(e),
      onBreakerEvent: (e) => progress.breakerEvent(e),
    });
  } finally {
    progress.stop();
    if (seriesFd !== null) closeSync(seriesFd);
  }
  let reportLine = '';
  if (report !== undefined) {
    line.set(`writing the report to ${report}`);
    await writeLoadTestReport(report, summary, { options: plan.options, command: commandLine(C, args) });
    line.clear();
    reportLine = `wrote the report to ${report}\n`;
  }
  // The timeline is the report's; --json keeps the summary's shape with or without --report.
  const json: LoadTestSummary = { ...summary };
  delete json.timeline;
  process.stdout.write(plan.json ? `${JSON.stringify(json)}\n` : summaryText(summary) + reportLine);
  return summary.lost === 0 && summary.duplicated === 0 && summary.reordered === 0 ? 0 : 1;
}
