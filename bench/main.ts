/**
 * Benchmark entry: `npm run bench -- <suite> [--quick] [--runs N]`, or
 * `kgshard bench <suite> ...`, or `node dist/bench/main.js <suite> ...`.
 * Each suite writes bench/results/<suite>.json and prints a table.
 *
 * Suites register in SUITES below; a suite returns its cases, ratios,
 * figures and targets, and this module adds the run's context (machine,
 * time, options) and writes the file. Benchmarks report; they do not assert:
 * the exit code is non-zero only for bad usage, an errored case or a failed
 * correctness check, never for a missed target.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  loadavg,
  machineInfo,
  renderReport,
  writeJsonAtomic,
  type CaseResult,
  type SuiteReport,
  type Target,
} from './lib/report.js';

export interface SuiteOptions {
  readonly quick: boolean;
  /** Timed runs per case; undefined means the suite's default. */
  readonly runs: number | undefined;
  /** Case groups to run (undefined: all). */
  readonly only: readonly string[] | undefined;
  readonly log: (message: string) => void;
}

export interface SuiteOutput {
  readonly cases: CaseResult[];
  readonly ratios: SuiteReport['ratios'];
  readonly figures: Record<string, number | null>;
  readonly targets: Record<string, Target>;
  readonly notes: string[];
}

interface Suite {
  readonly description: string;
  /** Loaded on demand so one suite's imports never slow or break another. */
  load(): Promise<{ run: (o: SuiteOptions) => Promise<SuiteOutput>; defaultRuns: number }>;
}

const SUITES: Record<string, Suite> = {
  shm: {
    description: 'ring vs postMessage/Piscina, latency counter, seqlock snapshot bandwidth',
    load: async () => {
      const m = await import('./shm.js');
      return { run: m.runShm, defaultRuns: m.DEFAULT_RUNS };
    },
  },
  ps: {
    description:
      'parameter server pull vs Float32Array.set and postMessage, push (async/sync, 1-2 workers) vs postMessage',
    load: async () => {
      const m = await import('./ps.js');
      return { run: m.runPs, defaultRuns: m.DEFAULT_RUNS };
    },
  },
  router: {
    description:
      'router: selectShard ns/op vs a typed-array read (main thread; worker, table quiet vs rebuilt), ' +
      'route+push events/s (1-8 producers, batch 1/16/256, verified; backoff vs spin waits) ' +
      'vs Piscina/postMessage per event ' +
      '(--only select,select-busy,route)',
    load: async () => {
      const m = await import('./router.js');
      return { run: m.runRouter, defaultRuns: m.DEFAULT_RUNS };
    },
  },
  eval: {
    description:
      'filtered link prediction: WASM/JS kernel GFLOP/s, full built-in test split at dim 200 (target <= 10 s), ' +
      'beside the PyTorch reference at dim 100 (eval_vs_torch <= 1), and top-10 predictions for 10,000 queries ' +
      '(predict_queries_per_s; --only kernel,full,torch,predict)',
    load: async () => {
      const m = await import('./eval.js');
      return {
        run: (o: SuiteOptions) =>
          m.runEval({ quick: o.quick, runs: o.runs, only: o.only, log: (msg: string) => console.error(msg) }),
        defaultRuns: m.DEFAULT_RUNS,
      };
    },
  },
  train: {
    description:
      'training positives/s, TransE and ComplEx dim 100, 1 and 2 workers, beside the PyTorch reference ' +
      '(--only transe,complex,kgshard,torch; 1 round with --quick)',
    load: async () => {
      const m = await import('./train.js');
      return {
        run: (o: SuiteOptions) =>
          m.runTrain({ quick: o.quick, runs: o.runs, only: o.only, log: (msg: string) => console.error(msg) }),
        defaultRuns: m.DEFAULT_RUNS,
      };
    },
  },
  quality: {
    description:
      'time to quality: filtered test MRR beside the PyTorch reference, same settings and epochs (3 seeds), ' +
      'an ablation of the differences, and MRR after 60/150/300 s of training (--only epochs,ablation,time)',
    load: async () => {
      const m = await import('./quality.js');
      return { run: m.runQuality, defaultRuns: m.DEFAULT_RUNS };
    },
  },
  reshard: {
    description:
      'live reshard 2->4->2 while ComplEx trains on wordnet-lf (2 workers, async) beside a run without: ' +
      'throughput dip, writer pauses, convergence, test MRR (3 seeds)',
    load: async () => {
      const m = await import('./reshard.js');
      return { run: m.runReshard, defaultRuns: m.DEFAULT_RUNS };
    },
  },
};

const USAGE = `Usage: bench <suite> [--quick] [--runs N] [--only group,...] [--out FILE]

Suites:
${Object.entries(SUITES)
  .map(([k, s]) => `  ${k.padEnd(8)} ${s.description}`)
  .join('\n')}

Flags:
  --quick        fewer and shorter runs (a smoke run)
  --runs N       timed runs per case (suite default, e.g. shm 7, ps 5; 3 with --quick)
  --only LIST    only these case groups (shm: ring, counter, seqlock; ps: pull, pull-worker, push;
                 eval: kernel, full, torch, predict)
  --out FILE     results file (default bench/results/<suite>.json)
`;

function resultsPath(suite: string): string {
  // dist/bench/main.js -> <repo>/bench/results/<suite>.json
  return fileURLToPath(new URL(`../../bench/results/${suite}.json`, import.meta.url));
}

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string' },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e: unknown) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`bench: name a suite\n${USAGE}`);
    return 2;
  }
  const unknown = positionals.filter((p) => !(p in SUITES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown suite ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}\n`);
    return 2;
  }
  let runs: number | undefined;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
      process.stderr.write(`bench: --runs must be an integer in [1, 1000], got ${JSON.stringify(values.runs)}\n`);
      return 2;
    }
  }
  if (values.out !== undefined && positionals.length > 1) {
    process.stderr.write('bench: --out needs exactly one suite\n');
    return 2;
  }
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const tty = process.stderr.isTTY === true;
  const log = (m: string): void => {
    if (tty) process.stderr.write(`  … ${m}\n`);
  };

  let exit = 0;
  for (const name of positionals) {
    const suite = SUITES[name]!;
    const { run, defaultRuns } = await suite.load();
    const loadStart = loadavg();
    const started = performance.now();
    const timestamp = new Date().toISOString();
    let out: SuiteOutput;
    try {
      out = await run({ quick: values.quick, runs, only, log });
    } catch (e: unknown) {
      process.stderr.write(`bench: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
      exit = 1;
      continue;
    }
    const report: SuiteReport = {
      suite: name,
      timestamp,
      quick: values.quick,
      runs: runs ?? (values.quick ? 3 : defaultRuns),
      durationS: (performance.now() - started) / 1000,
      machine: machineInfo(loadStart),
      ok: out.cases.every((c) => c.state === 'completed'),
      ...out,
    };
    const path = values.out ?? resultsPath(name);
    writeJsonAtomic(path, report);
    process.stdout.write(`${renderReport(report)}\nwrote ${path}\n`);
    if (!report.ok) {
      for (const c of report.cases) if (c.state === 'errored') process.stderr.write(`bench: ${c.name}: ${c.error}\n`);
      exit = 1;
    }
  }
  return exit;
}

/** True when this module is the program's entry point (node dist/bench/main.js ...). */
function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
