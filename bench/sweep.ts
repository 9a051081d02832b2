/**
 * `npm run sweep -- --model M`: the hyper-parameter sweep that chose the
 * per-model defaults (`src/kge/defaults.ts`), on the **valid** split of the
 * leak-free built-in graph (`wordnet-lf`). Test is never looked at.
 *
 * Every configuration of the model's grid is one whole `kgshard train`
 * process: `--dataset wordnet-lf --eval-split valid --max-train-s B
 * --epochs 1000000 --json` plus the configuration's flags, so each run
 * trains for the same time budget B (it stops after the epoch that passes
 * B seconds) and reports filtered valid MRR, Hits@10 and mean rank. The
 * configurations run in a shuffled order (seeded), so a slow stretch of the
 * machine does not always hit the same ones. The best is the highest valid
 * MRR.
 *
 *   npm run sweep -- --model complex [--budget-s 45] [--seed 1] [--quick]
 *                    [--grid lr=0.05,0.1 --grid reg=0.01,0.03] [--out FILE]
 *
 * Bounded: configurations × (budget + evaluation + start-up); about 8
 * minutes for a 9-point grid at the default 45 s, 11 for 12 points. `--quick` trains 8 s per
 * configuration on the first two points only (a smoke run).
 * Writes `bench/results/sweep-<model>.json`.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_DEFAULTS } from '../src/kge/defaults.js';
import { loadavg, machineInfo, writeJsonAtomic } from './lib/report.js';
import { runProcess } from './lib/process.js';
import { mulberry32, shuffled } from './lib/suite.js';

/** A grid: flag name (without `--`) to the values tried. Every combination is one run. */
type Grid = Record<string, readonly string[]>;

/** The grids. Each point's other settings are the model's defaults (`MODEL_DEFAULTS`). */
export const GRIDS: Readonly<Record<string, Grid>> = {
  complex: { lr: ['0.05', '0.1', '0.2', '0.4'], reg: ['0.01', '0.03', '0.1'] },
  distmult: { lr: ['0.05', '0.1', '0.2', '0.4'], reg: ['0.01', '0.03', '0.1'] },
  transe: { lr: ['0.05', '0.1', '0.2'], margin: ['4', '8', '12'] },
  rotate: { lr: ['0.05', '0.1'], margin: ['6', '12'], adversarial: ['0.5', '1'] },
};

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface SweepPoint {
  readonly flags: Record<string, string>;
  readonly command: string;
  readonly valid_mrr: number | null;
  readonly valid_hits10: number | null;
  readonly valid_mr: number | null;
  readonly epochs: number | null;
  readonly train_s: number | null;
  readonly error?: string;
}

/** Every combination of the grid's values, in key order. */
export function gridPoints(grid: Grid): Record<string, string>[] {
  let points: Record<string, string>[] = [{}];
  for (const [k, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  }
  return points;
}

function trainArgs(model: string, flags: Record<string, string>, budgetS: number, seed: number): string[] {
  const args = [
    'train',
    '--dataset',
    'wordnet-lf',
    '--model',
    model,
    '--eval-split',
    'valid',
    '--max-train-s',
    String(budgetS),
    '--epochs',
    '1000000',
    '--seed',
    String(seed),
    '--json',
  ];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, v);
  return args;
}

async function runPoint(
  model: string,
  flags: Record<string, string>,
  budgetS: number,
  seed: number,
): Promise<SweepPoint> {
  const args = trainArgs(model, flags, budgetS, seed);
  const command = `kgshard ${args.join(' ')}`;
  // Generous: the budget bounds training; start-up, the last epoch and the evaluation come on top.
  const { code, stdout, stderr, timedOut } = await runProcess(process.execPath, [CLI, ...args], budgetS * 4 + 300);
  const empty = { flags, command, valid_mrr: null, valid_hits10: null, valid_mr: null, epochs: null, train_s: null };
  if (timedOut) return { ...empty, error: `timed out after ${budgetS * 4 + 300} s` };
  if (code !== 0) return { ...empty, error: `exit ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
  try {
    const j = JSON.parse(stdout) as {
      mrr: number;
      hits10: number;
      mr: number;
      epochs: number;
      train_s: number;
      eval_split: string;
    };
    if (j.eval_split !== 'valid') return { ...empty, error: `evaluated on ${j.eval_split}, not valid` };
    return {
      flags,
      command,
      valid_mrr: j.mrr,
      valid_hits10: j.hits10,
      valid_mr: j.mr,
      epochs: j.epochs,
      train_s: j.train_s,
    };
  } catch {
    return { ...empty, error: `no JSON on stdout: ${stdout.slice(0, 200)}` };
  }
}

function parseGridFlags(model: string, given: readonly string[] | undefined): Grid {
  const base = GRIDS[model];
  if (base === undefined)
    throw new Error(`sweep: --model must be one of ${Object.keys(GRIDS).join(', ')}, got ${JSON.stringify(model)}`);
  if (given === undefined || given.length === 0) return base;
  const grid: Record<string, string[]> = {};
  for (const g of given) {
    const m = /^([a-z][a-z-]*)=(.+)$/.exec(g);
    if (m === null) throw new Error(`sweep: --grid must be NAME=V1,V2,..., got ${JSON.stringify(g)}`);
    grid[m[1]!] = m[2]!.split(',');
  }
  return grid;
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      'budget-s': { type: 'string' },
      seed: { type: 'string' },
      grid: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const model = values.model ?? '';
  const grid = parseGridFlags(model, values.grid);
  const quick = values.quick === true;
  const budgetS = Number(values['budget-s'] ?? (quick ? 8 : 45));
  if (!(budgetS > 0)) throw new Error(`sweep: --budget-s must be > 0, got ${JSON.stringify(values['budget-s'])}`);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) throw new Error(`sweep: --seed must be an integer, got ${JSON.stringify(values.seed)}`);
  let points = shuffled(gridPoints(grid), mulberry32(seed));
  if (quick) points = points.slice(0, 2);
  const defaults = MODEL_DEFAULTS[model]!;
  console.error(`sweep ${model}: ${points.length} configurations x ${budgetS} s on the valid split of wordnet-lf`);
  const started = new Date().toISOString();
  const load0 = loadavg();
  const results: SweepPoint[] = [];
  for (const [i, flags] of points.entries()) {
    const r = await runPoint(model, flags, budgetS, seed);
    results.push(r);
    const what = Object.entries(flags)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.error(
      `  [${i + 1}/${points.length}] ${what}: ` +
        (r.error ??
          `valid MRR ${r.valid_mrr!.toFixed(4)}, Hits@10 ${r.valid_hits10!.toFixed(4)}, ` +
            `MR ${r.valid_mr!.toFixed(0)} after ${r.epochs} epochs`),
    );
  }
  const ranked = results.filter((r) => r.valid_mrr !== null).sort((a, b) => b.valid_mrr! - a.valid_mrr!);
  const best = ranked[0] ?? null;
  const report = {
    suite: 'sweep',
    model,
    dataset: 'wordnet-lf',
    split: 'valid',
    budget_s_per_configuration: budgetS,
    seed,
    quick,
    grid,
    defaults_at_run: defaults,
    best:
      best === null
        ? null
        : {
            flags: best.flags,
            valid_mrr: best.valid_mrr,
            valid_hits10: best.valid_hits10,
            valid_mr: best.valid_mr,
            epochs: best.epochs,
          },
    results: ranked.concat(results.filter((r) => r.valid_mrr === null)),
    started,
    finished: new Date().toISOString(),
    machine: machineInfo(load0),
  };
  const out =
    values.out ?? join(fileURLToPath(new URL('../../bench/results/', import.meta.url)), `sweep-${model}.json`);
  writeJsonAtomic(out, report);
  console.error(
    best === null
      ? 'sweep: every configuration failed'
      : `best: ${Object.entries(best.flags)
          .map(([k, v]) => `--${k} ${v}`)
          .join(' ')} (valid MRR ${best.valid_mrr!.toFixed(4)}); wrote ${out}`,
  );
  return best === null ? 1 : 0;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === self) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 2;
    },
  );
}
