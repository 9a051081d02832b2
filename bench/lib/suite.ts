/**
 * Helpers shared by suites: correctness checks that turn into errored
 * cases, paired tinybench runs, paired ratios, and cross-thread cases run
 * in shuffled rounds. The same patterns as bench/shm.ts (which keeps its own
 * private copies); new suites import them from here.
 */
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { cpuSnapshot, foreignCpu } from './foreign.js';
import { completed, type CaseCompleted, type CaseResult } from './report.js';
import { workerUrl } from './threads.js';
import { median } from './stats.js';
import { mulberry32 } from '../../src/prng.js';
export { mulberry32 };

export class CheckFailed extends Error {}

/** Throw (and so error the case) when a correctness check fails. */
export function check(cond: boolean, what: string): void {
  if (!cond) throw new CheckFailed(what);
}

/** Run a case group; an exception becomes one errored case. */
export async function guarded(
  name: string,
  group: string,
  fn: () => CaseResult[] | Promise<CaseResult[]>,
): Promise<CaseResult[]> {
  try {
    return await fn();
  } catch (e: unknown) {
    return [{ state: 'errored', name, group, error: e instanceof Error ? e.message : String(e) }];
  }
}

export function medianOf(cases: readonly CaseResult[], name: string): number | null {
  const c = cases.find((x) => x.name === name);
  return c !== undefined && c.state === 'completed' ? c.median : null;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b !== 0 ? a / b : null;
}

/**
 * Median over runs of (case a / case b) within each run, for cases whose
 * samples were taken side by side (index i of both from the same run).
 */
export function pairedRatio(cases: readonly CaseResult[], a: string, b: string): number | null {
  const ca = cases.find((x) => x.name === a);
  const cb = cases.find((x) => x.name === b);
  if (ca?.state !== 'completed' || cb?.state !== 'completed' || ca.samples.length !== cb.samples.length) return null;
  return median(ca.samples.map((x, i) => x / cb.samples[i]!));
}

/** Median of the non-null values, or null when there are none. */
export function medianOrNull(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length > 0 ? median(v) : null;
}

// ------------------------------------------------------------------ tinybench

export interface TinyTask {
  readonly name: string;
  /** One call of `fn` performs this many measured operations. */
  readonly opsPerCall: number;
  readonly fn: () => void;
}

export interface TinyTiming {
  /** Fresh Bench runs; every task once per run. */
  readonly runs: number;
  readonly timeMs: number;
  readonly warmupMs: number;
}

/**
 * Run the tasks `timing.runs` times, interleaved (a fresh Bench per run,
 * every task once per run, the order reversed every other run), and return
 * for each task the per-run median latency per operation in ns, index i of
 * every array from run i. `afterRun` checks the work after each run.
 */
export async function tinyRuns(
  tasks: readonly TinyTask[],
  timing: TinyTiming,
  afterRun: () => void,
): Promise<{ ns: Map<string, number[]>; detail: Map<string, Array<{ samples: number; rmePct: number }>> }> {
  const ns = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  const detail = new Map<string, Array<{ samples: number; rmePct: number }>>(tasks.map((t) => [t.name, []]));
  for (let r = 0; r < timing.runs; r++) {
    const bench = new Bench({
      time: timing.timeMs,
      warmupTime: timing.warmupMs,
      iterations: 64,
      warmupIterations: 16,
      throws: true,
      subtractTimerOverhead: true,
    });
    for (const t of r % 2 === 0 ? tasks : [...tasks].reverse()) bench.add(t.name, t.fn);
    await bench.run();
    for (const t of tasks) {
      const res = bench.getTask(t.name)?.result;
      if (res === undefined || res.state !== 'completed')
        throw new Error(`tinybench task ${t.name}: ${res?.state ?? 'missing'}`);
      ns.get(t.name)!.push((res.latency.p50 * 1e6) / t.opsPerCall);
      detail.get(t.name)!.push({ samples: res.latency.samplesCount, rmePct: Math.round(res.latency.rme * 100) / 100 });
    }
    afterRun();
  }
  return { ns, detail };
}

// ------------------------------------------------------------------ rounds of cross-thread cases

export interface Runner {
  readonly name: string;
  readonly group: string;
  /** One timed run with its own threads (and their own warm-up). */
  run(): Promise<CaseCompleted>;
}

/**
 * Fold one-run results of a case into one: samples and per-run arrays
 * concatenate, counts add up, other fields keep their first value.
 */
export function mergeRuns(parts: readonly CaseCompleted[]): CaseCompleted {
  const first = parts[0]!;
  const params: Record<string, unknown> = {};
  const checks: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(first.params)) {
    params[k] = Array.isArray(v) ? parts.flatMap((x) => x.params[k] as unknown[]) : v;
  }
  for (const [k, v] of Object.entries(first.checks)) {
    checks[k] = typeof v === 'number' ? parts.reduce((n, x) => n + (x.checks[k] as number), 0) : v;
  }
  return completed(
    first.name,
    first.group,
    first.unit,
    first.better,
    parts.flatMap((x) => x.samples),
    params,
    checks,
    first.note,
  );
}

export function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Let the previous case's threads exit and its garbage be collected before timing the next. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Run every runner once per round, `rounds` rounds, in a fresh shuffled
 * order each round (so that every case samples the same stretch of time and
 * no case always follows the same neighbour). A runner that fails stops
 * being run and becomes an errored case. Each run's params gain
 * `foreignCpusPerRun` and `stealCpusPerRun` (see foreign.ts).
 */
export async function runRounds(
  runners: readonly Runner[],
  rounds: number,
  seed: number,
  log: (m: string) => void,
  label: string,
): Promise<CaseResult[]> {
  const parts = new Map<string, CaseCompleted[]>(runners.map((x) => [x.name, []]));
  const errors = new Map<string, string>();
  const rand = mulberry32(seed);
  for (let round = 0; round < rounds; round++) {
    log(`${label} round ${round + 1}/${rounds}`);
    for (const runner of shuffled(runners, rand)) {
      if (errors.has(runner.name)) continue;
      await settle();
      try {
        const snap = cpuSnapshot();
        const c = await runner.run();
        const f = foreignCpu(snap);
        // Per run: CPUs other processes took meanwhile (whole run, threads' start and warm-up included).
        parts.get(runner.name)!.push({
          ...c,
          params: { ...c.params, foreignCpusPerRun: [f?.others ?? null], stealCpusPerRun: [f?.steal ?? null] },
        });
      } catch (e: unknown) {
        errors.set(runner.name, `round ${round + 1}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return runners.map((x): CaseResult => {
    const err = errors.get(x.name);
    if (err !== undefined) return { state: 'errored', name: x.name, group: x.group, error: err };
    return mergeRuns(parts.get(x.name)!);
  });
}

/**
 * Keep `window` Piscina tasks (the echo worker: answer x + 1) in flight until `n` have completed; resolves with the sum
 * of the answers.
 */
export function piscinaWindow(pool: Piscina, base: number, n: number, window: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let next = 0;
    let done = 0;
    let sum = 0;
    const launch = (): void => {
      const x = base + next++;
      pool.run(x).then((r: number) => {
        sum += r;
        done++;
        if (next < n) launch();
        else if (done === n) resolve(sum);
      }, reject);
    };
    for (let i = 0; i < Math.min(window, n); i++) launch();
  });
}

/**
 * Baseline: one Piscina task per event (the echo worker), `window` tasks in
 * flight, `runs` timed runs of `tasks` tasks after a warm-up, every answer
 * checked.
 */
export async function piscinaCase(
  name: string,
  options: ConstructorParameters<typeof Piscina>[0],
  describe: string,
  tasks: number,
  warmup: number,
  window: number,
  runs: number,
): Promise<CaseCompleted> {
  const pool = new Piscina({ ...options, filename: workerUrl('piscina-echo').href });
  try {
    const sumOf = (base: number, n: number): number => n * base + (n * (n - 1)) / 2 + n; // sum of (x + 1)
    check((await piscinaWindow(pool, 0, warmup, window)) === sumOf(0, warmup), `${name}: warm-up answers wrong`);
    const samples: number[] = [];
    let base = warmup;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const sum = await piscinaWindow(pool, base, tasks, window);
      const ms = performance.now() - t0;
      check(sum === sumOf(base, tasks), `${name}: answers wrong in run ${r}`);
      samples.push(tasks / (ms / 1000));
      base += tasks;
    }
    return completed(
      name,
      'baseline',
      'events/s',
      'higher',
      samples,
      {
        how: `main thread -> pool, one pool.run(x) per event (bench/workers/piscina-echo), ${window} tasks in flight`,
        pool: describe,
        threads: pool.threads.length,
        tasksPerRun: tasks,
        warmupTasks: warmup,
        timing: 'main thread, first run() -> last answer',
      },
      { answersChecked: warmup + tasks * runs },
    );
  } finally {
    await pool.destroy();
  }
}
