/**
 * Result shapes, machine description, the stdout table and the atomic
 * write of bench/results/<suite>.json.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { summarize } from './stats.js';
import { writeFileAtomic } from '../../src/atomic-write.js';

export interface CaseCompleted {
  readonly state: 'completed';
  readonly name: string;
  /** What the case belongs to: its headline figure or the baseline it is compared with. */
  readonly group: string;
  readonly unit: string;
  /** Which direction is better, for whoever reads the table. */
  readonly better: 'higher' | 'lower';
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q1: number;
  readonly q3: number;
  /** (max - min) / median in percent. */
  readonly spreadPct: number;
  /** Number of timed runs; `samples` holds one figure per run. */
  readonly runs: number;
  readonly samples: number[];
  /** How the case was run (sizes, paths, batch sizes...). */
  readonly params: Record<string, unknown>;
  /** What was checked so the measured work could not be elided or lost. */
  readonly checks: Record<string, unknown>;
  readonly note?: string;
}

export interface CaseErrored {
  readonly state: 'errored';
  readonly name: string;
  readonly group: string;
  readonly error: string;
}

export type CaseResult = CaseCompleted | CaseErrored;

export interface Target {
  readonly description: string;
  /** null when the case did not run (then `pass` is false). */
  readonly value: number | null;
  readonly op: '>=' | '<=';
  readonly threshold: number;
  readonly pass: boolean;
}

export interface MachineInfo {
  readonly node: string;
  readonly v8: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly os: string;
  readonly platform: string;
  readonly arch: string;
  readonly totalMemGiB: number;
  /** 1, 5 and 15 minute load averages when the suite started and when it ended. */
  readonly loadavgStart: number[];
  readonly loadavgEnd: number[];
}

export interface SuiteReport {
  readonly suite: string;
  readonly timestamp: string;
  readonly quick: boolean;
  readonly runs: number;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly cases: CaseResult[];
  /** Ratios of medians measured in this same run. */
  readonly ratios: Record<string, number | null | Record<string, number | null>>;
  /** Named headline figures (medians). */
  readonly figures: Record<string, number | null>;
  readonly targets: Record<string, Target>;
  /** True when every case ran and every check passed (targets are reported, not asserted). */
  readonly ok: boolean;
  readonly notes: string[];
}

export function loadavg(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

export function machineInfo(loadavgStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()}`,
    platform: process.platform,
    arch: process.arch,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavgStart,
    loadavgEnd: loadavg(),
  };
}

/** A completed case from per-run figures. */
export function completed(
  name: string,
  group: string,
  unit: string,
  better: 'higher' | 'lower',
  samples: number[],
  params: Record<string, unknown>,
  checks: Record<string, unknown>,
  note?: string,
): CaseCompleted {
  const s = summarize(samples);
  return {
    state: 'completed',
    name,
    group,
    unit,
    better,
    median: s.median,
    min: s.min,
    max: s.max,
    q1: s.q1,
    q3: s.q3,
    spreadPct: s.spreadPct,
    runs: samples.length,
    samples,
    params,
    checks,
    ...(note !== undefined ? { note } : {}),
  };
}

export function target(description: string, value: number | null, op: '>=' | '<=', threshold: number): Target {
  const pass = value !== null && Number.isFinite(value) && (op === '>=' ? value >= threshold : value <= threshold);
  return { description, value, op, threshold, pass };
}

/** Write JSON to a temporary file beside `path`, then rename it over `path`. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
}

/** 1234567 -> "1.23 M"; small figures keep 3 significant digits. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)} G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)} M`;
  if (a >= 1e4) return `${(x / 1e3).toPrecision(3)} k`;
  if (a >= 100) return x.toFixed(0);
  return x.toPrecision(3);
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function renderReport(r: SuiteReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `suite ${r.suite}${r.quick ? ' (quick)' : ''}: ${r.runs} runs per case, ${r.durationS.toFixed(1)} s — ` +
      `node ${m.node}, ${m.cpus} cpus (${m.cpuModel}), ${m.os}, ` +
      `load ${m.loadavgStart.join(' ')} -> ${m.loadavgEnd.join(' ')}`,
  );
  out.push('');
  const rows: string[][] = [['case', 'unit', 'median', 'min', 'max', '±range/2', 'runs']];
  for (const c of r.cases) {
    if (c.state === 'errored') rows.push([c.name, 'ERROR', '—', '', '', '', '']);
    else
      rows.push([
        c.name,
        c.unit,
        fmt(c.median),
        fmt(c.min),
        fmt(c.max),
        `±${(c.spreadPct / 2).toFixed(0)}%`,
        String(c.runs),
      ]);
  }
  out.push(table(rows));
  for (const c of r.cases) if (c.state === 'errored') out.push(`ERROR ${c.name}: ${c.error}`);
  out.push('');
  const ratioRows: string[][] = [['ratio (same process run; see notes)', 'value']];
  for (const [k, v] of Object.entries(r.ratios)) {
    if (v === null || typeof v === 'number') ratioRows.push([k, fmt(v)]);
    else for (const [k2, v2] of Object.entries(v)) ratioRows.push([`${k}.${k2}`, fmt(v2)]);
  }
  out.push(table(ratioRows));
  out.push('');
  const targetRows: string[][] = [['target', 'value', 'wanted', 'result']];
  for (const [k, t] of Object.entries(r.targets)) {
    targetRows.push([
      k,
      fmt(t.value),
      `${t.op} ${fmt(t.threshold)}`,
      t.value === null ? 'not measured' : t.pass ? 'pass' : 'MISS',
    ]);
  }
  out.push(table(targetRows));
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
