/**
 * The `quality` suite: what a user buys, the filtered test MRR reached, beside
 * the PyTorch reference trainer (`torch_kge.py`, see bench/lib/torch.ts), on
 * the built-in graphs. Three groups (`--only epochs,ablation,time`):
 *
 * - `epochs`: same settings, same epochs. TransE, DistMult and ComplEx on
 *   the leak-free graph (`wordnet-lf`), dim 100, batch 1024, 64 negatives,
 *   Adagrad lr 0.1, 2 threads, `EPOCHS` epochs, seeds 1..`SEEDS`: ComplEx and
 *   DistMult with the logistic loss and N3 0.03 (the reference: softplus,
 *   `--reg n3 --reg-weight 0.03 --init-scale 1e-3`), TransE (L1) with the
 *   margin loss, margin 8 and entity max-norm 1 (the reference's
 *   `--loss margin --margin 8`, its default max-norm 1). The ratio is
 *   kgshard's median MRR over the reference's; the seed-to-seed spread is
 *   reported beside it.
 * - `ablation`: kgshard alone, the same ComplEx (and TransE) settings with
 *   one choice changed at a time, same seeds: row-wise Adagrad, N3 per
 *   float instead of on complex moduli, no shared negatives (`chunk` 1),
 *   TransE without max-norm or without shared negatives. This is the "Matching the reference" table.
 * - `time`: time to quality. Each trainer trains with its best documented
 *   settings (kgshard: `MODEL_DEFAULTS`; the reference: its README's) on 2
 *   threads for `BUDGET_S` seconds of training (it stops after the epoch
 *   that passes the budget; evaluation time is not training time), and
 *   the filtered test MRR is measured along the way: kgshard after the
 *   epochs that pass every `EVAL_EVERY_S` seconds of training, the
 *   reference every few epochs (`--eval-every K --eval-split test`). MRR at
 *   60, 150 and 300 s is read off each curve by linear interpolation
 *   between the two evaluations around the mark. TransE, DistMult and
 *   ComplEx on `wordnet-lf`, ComplEx on `wordnet` (WN18RR-style); RotatE on
 *   `wordnet-lf` for kgshard alone (the reference has no RotatE). The
 *   trainers alternate (the order is shuffled per configuration).
 *   `time_to_reference_mrr` is the training time kgshard needs to reach the
 *   MRR the reference reaches in `BUDGET_S` s, divided by `BUDGET_S`
 *   (null when kgshard does not reach it within its own budget).
 *
 * - `time-targets`: the `time` group's ComplEx and TransE curves on
 *   `wordnet-lf` alone (the ones `time_to_reference_mrr` targets), about 22 min.
 * - `kernels`: kgshard alone, the `epochs` group's settings and seeds with
 *   the WebAssembly SIMD kernels (the default) and with the JavaScript
 *   kernels (`kernels: 'js'`), TransE, DistMult and ComplEx on both
 *   built-in graphs: `simd_vs_js_mrr` is the ratio of median MRRs, beside
 *   each side's seed-to-seed range (the SIMD kernels round to float32, so
 *   the runs part ways after the first steps and agree only within noise).
 *
 * Test metrics in `epochs`, `ablation` and `kernels` are after the last epoch; tuning
 * never reads them (the defaults come from `npm run sweep`, on valid).
 *
 *   npm run bench -- quality [--quick] [--only time]     # writes bench/results/quality.json
 *
 * Bounded: `epochs` about 10 min, `ablation` about 6 min, `time` about 55
 * min (9 curves of 300 s plus their evaluations). `--quick` runs 1 seed, 2
 * epochs and 20 s curves on two configurations, as a smoke run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Dataset } from '../src/data/dataset.js';
import { writeSplit } from '../src/data/split-writer.js';
import { loadWordnet, type BuiltinDataset } from '../src/data/wordnet.js';
import { MODEL_DEFAULTS } from '../src/kge/defaults.js';
import { EVAL_TASK_FILENAME, evaluate } from '../src/kge/eval.js';
import { FilterIndex } from '../src/kge/filter.js';
import { createModel } from '../src/kge/models/index.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../src/kge/trainer.js';
import complexN3PerFloat, { NAME as N3_PER_FLOAT } from './lib/complex-n3-per-float.js';
import type { KgeModel } from '../src/kge/model.js';
import { completed, target, type CaseResult, type SuiteReport, type Target } from './lib/report.js';
import { median } from './lib/stats.js';
import { mulberry32, round2, round4, shuffled } from './lib/suite.js';
import { probeTorch, runTorchScript, type TorchProbe } from './lib/torch.js';
import type { SuiteOptions, SuiteOutput } from './main.js';

const THREADS = 2;
const EPOCHS = 8;
const SEEDS = 3;
/** Seeds per configuration of `epochs` and `ablation` (`--runs`). */
export const DEFAULT_RUNS = SEEDS;
const BUDGET_S = 300;
const MARK_FRACTIONS = [0.2, 0.5, 1] as const; // 60, 150, 300 s
const EVAL_EVERY_S = 15;

type Model = 'transe' | 'distmult' | 'complex' | 'rotate';
type Side = 'kgshard' | 'torch';
const GROUPS = ['epochs', 'ablation', 'time', 'time-targets', 'kernels'] as const;

/** The options every suite takes (`--quick`, `--runs` as seeds, `--only` as groups). */
export type QualityBenchOptions = SuiteOptions;

interface Metrics {
  readonly mrr: number;
  readonly hits10: number;
  readonly mr: number;
}

interface CurvePoint {
  readonly epoch: number;
  readonly train_s: number;
  readonly mrr: number;
  readonly hits10: number;
  /** Mean rank, where the trainer reports it (the reference reports it only at the end). */
  readonly mr: number | null;
}

interface RunOutcome extends Metrics {
  readonly epochs: number;
  readonly train_s: number;
  readonly curve?: CurvePoint[];
}

// ------------------------------------------------------------------ settings

/** kgshard at the reference's settings of the `epochs` group. */
function sameSettings(model: 'transe' | 'distmult' | 'complex'): Partial<TrainOptions> {
  const common = { dim: 100, batch: 1024, neg: 64, lr: 0.1, optimizer: 'adagrad' as const, adversarial: 0 };
  if (model === 'transe') return { ...common, model: 'transe-l1', loss: 'margin', margin: 8, reg: 0, maxNorm: 1 };
  return { ...common, model, loss: 'logistic', margin: 0, reg: 0.03, regKind: 'n3', maxNorm: 0 };
}

/** The reference's flags at the settings of the `epochs` group (and its best documented ones). */
function torchFlags(model: 'transe' | 'distmult' | 'complex'): string[] {
  const common = [
    '--model',
    model,
    '--dim',
    '100',
    '--batch',
    '1024',
    '--neg',
    '64',
    '--lr',
    '0.1',
    '--optimizer',
    'adagrad',
    '--threads',
    String(THREADS),
  ];
  if (model === 'transe') return [...common, '--p', '1', '--loss', 'margin', '--margin', '8'];
  return [...common, '--loss', 'softplus', '--reg', 'n3', '--reg-weight', '0.03', '--init-scale', '1e-3'];
}

/** kgshard's best documented settings: the per-model defaults. */
function bestSettings(model: Model): Partial<TrainOptions> {
  const d = MODEL_DEFAULTS[model]!;
  return { ...d, model: model === 'transe' ? 'transe-l1' : model };
}

// ------------------------------------------------------------------ kgshard

interface KgRun {
  readonly dataset: Dataset;
  readonly filter: FilterIndex;
  readonly evalPool: Piscina;
}

async function evalTest(run: KgRun, modelName: string, dim: number, trainer: Trainer): Promise<Metrics> {
  const t = trainer.tables();
  const r = await evaluate({
    model: createModel(modelName),
    dim,
    entities: t.entities,
    relations: t.relations,
    dataset: run.dataset,
    split: 'test',
    filter: run.filter,
    pool: run.evalPool,
  });
  return { mrr: r.both.mrr, hits10: r.both.hits10, mr: r.both.mr };
}

/**
 * Train kgshard in this process (a pool of THREADS workers) for `epochs`
 * epochs or `budgetS` seconds of training, and evaluate on test at the end
 * (and, with `curveEveryS`, after every epoch that passes another
 * `curveEveryS` seconds of training).
 */
async function runKgshard(
  run: KgRun,
  settings: Partial<TrainOptions>,
  seed: number,
  stop: { epochs: number } | { budgetS: number; curveEveryS: number },
  evalModel?: string,
  userModel?: KgeModel,
): Promise<RunOutcome> {
  const options: TrainOptions = {
    ...DEFAULT_TRAIN,
    ...settings,
    model: settings.model!,
    workers: THREADS,
    seed,
    epochs: 'epochs' in stop ? stop.epochs : 1_000_000,
  };
  const trainer = new Trainer(run.dataset, options, userModel);
  const evalAs = evalModel ?? trainer.model.name;
  const curve: CurvePoint[] = [];
  try {
    let nextEval = 'budgetS' in stop ? stop.curveEveryS : Infinity;
    for (let e = 0; e < options.epochs; e++) {
      const report = await trainer.epoch(e);
      if (!Number.isFinite(report.loss)) throw new Error(`epoch ${e + 1}: non-finite loss ${report.loss}`);
      if ('budgetS' in stop) {
        const done = trainer.trainSeconds >= stop.budgetS;
        if (trainer.trainSeconds >= nextEval || done) {
          const m = await evalTest(run, evalAs, options.dim, trainer);
          curve.push({
            epoch: e + 1,
            train_s: round2(trainer.trainSeconds),
            mrr: round4(m.mrr),
            hits10: round4(m.hits10),
            mr: Math.round(m.mr),
          });
          while (nextEval <= trainer.trainSeconds) nextEval += stop.curveEveryS;
        }
        if (done) break;
      }
    }
    const last = curve[curve.length - 1];
    const m =
      last !== undefined
        ? { mrr: last.mrr, hits10: last.hits10, mr: last.mr! }
        : await evalTest(run, evalAs, options.dim, trainer);
    return {
      ...m,
      epochs: trainer.epochs.length,
      train_s: round2(trainer.trainSeconds),
      ...(curve.length > 0 ? { curve } : {}),
    };
  } finally {
    await trainer.close();
  }
}

// ------------------------------------------------------------------ reference

interface TorchJson {
  readonly mrr: number;
  readonly hits10: number;
  readonly mr: number;
  readonly epochs: number;
  readonly train_s: number;
  readonly n_train: number;
  readonly curve: { epoch: number; train_s: number; split: string; mrr: number; hits10: number }[];
}

async function runTorch(
  dir: string,
  dataset: Dataset,
  flags: string[],
  seed: number,
  stop: { epochs: number } | { budgetS: number; evalEvery: number },
): Promise<RunOutcome> {
  const args = ['--data', dir, ...flags, '--seed', String(seed)];
  if ('epochs' in stop) args.push('--epochs', String(stop.epochs));
  else
    args.push(
      '--epochs',
      '100000',
      '--max-train-s',
      String(stop.budgetS),
      '--eval-every',
      String(stop.evalEvery),
      '--eval-split',
      'test',
    );
  const timeoutS = 'epochs' in stop ? 600 : stop.budgetS * 3 + 300;
  const { json: j } = await runTorchScript<TorchJson>(args, timeoutS);
  if (j.n_train !== dataset.train.count)
    throw new Error(`reference read ${j.n_train} training triples, the dataset has ${dataset.train.count}`);
  const out = { mrr: j.mrr, hits10: j.hits10, mr: j.mr, epochs: j.epochs, train_s: j.train_s };
  if ('epochs' in stop) return out;
  // Its intermediate test evaluations, then the final one (at train_s).
  const curve: CurvePoint[] = j.curve
    .filter((c) => c.split === 'test')
    .map((c) => ({ epoch: c.epoch, train_s: c.train_s, mrr: c.mrr, hits10: c.hits10, mr: null }));
  curve.push({
    epoch: j.epochs,
    train_s: j.train_s,
    mrr: round4(j.mrr),
    hits10: round4(j.hits10),
    mr: Math.round(j.mr),
  });
  return { ...out, curve };
}

// ------------------------------------------------------------------ curves

/**
 * Linear interpolation of a curve's field at training time `t` (from (0, 0)
 * before the first point); null past its end.
 */
export function atTime(curve: readonly CurvePoint[], t: number, field: 'mrr' | 'hits10'): number | null {
  let prev = { train_s: 0, v: 0 };
  for (const p of curve) {
    if (p.train_s >= t) {
      const span = p.train_s - prev.train_s;
      const v = span > 0 ? prev.v + ((p[field] - prev.v) * (t - prev.train_s)) / span : p[field];
      return round4(v);
    }
    prev = { train_s: p.train_s, v: p[field] };
  }
  return null;
}

/** The first training time at which the (interpolated) curve reaches `mrr`, or null. */
export function timeToReach(curve: readonly CurvePoint[], mrr: number): number | null {
  let prev = { train_s: 0, v: 0 };
  for (const p of curve) {
    if (p.mrr >= mrr) {
      const rise = p.mrr - prev.v;
      return round2(rise > 0 ? prev.train_s + ((mrr - prev.v) / rise) * (p.train_s - prev.train_s) : p.train_s);
    }
    prev = { train_s: p.train_s, v: p.mrr };
  }
  return null;
}

// ------------------------------------------------------------------ suite

export async function runQuality(o: QualityBenchOptions): Promise<SuiteOutput> {
  const only = o.only ?? [...GROUPS];
  for (const g of only)
    if (!(GROUPS as readonly string[]).includes(g))
      throw new Error(`--only: unknown group ${JSON.stringify(g)} (quality: ${GROUPS.join(', ')})`);
  const seeds = o.quick ? [1] : Array.from({ length: o.runs ?? SEEDS }, (_, i) => i + 1);
  const epochs = o.quick ? 2 : EPOCHS;
  const budgetS = o.quick ? 20 : BUDGET_S;
  const marks = MARK_FRACTIONS.map((f) => Math.round(f * budgetS));
  const evalEveryS = o.quick ? 5 : EVAL_EVERY_S;
  const notes: string[] = [];
  const cases: CaseResult[] = [];
  const ratios: SuiteReport['ratios'] = {};
  const figures: Record<string, number | null> = {};
  const targets: Record<string, Target> = {};

  const torch: TorchProbe = probeTorch();
  if (!torch.ok) notes.push(`REFERENCE NOT RUN: ${torch.why}. Only kgshard's own figures are reported.`);
  else notes.push(`reference: torch_kge.py with torch ${torch.version}, ${THREADS} threads`);

  const root = mkdtempSync(join(tmpdir(), 'bench-quality-kgshard-'));
  const evalPool = new Piscina({
    filename: EVAL_TASK_FILENAME,
    minThreads: THREADS,
    maxThreads: THREADS,
    idleTimeout: 60_000,
  });
  const runs = new Map<BuiltinDataset, KgRun & { dir: string }>();
  const open = (name: BuiltinDataset): KgRun & { dir: string } => {
    let r = runs.get(name);
    if (r === undefined) {
      const dataset = loadWordnet({ variant: name });
      const dir = writeSplit(dataset, join(root, name)).dir;
      r = { dataset, filter: FilterIndex.fromDataset(dataset), evalPool, dir };
      runs.set(name, r);
    }
    return r;
  };
  const caseOf = (
    name: string,
    group: string,
    samples: number[],
    params: Record<string, unknown>,
    checks: Record<string, unknown> = {},
  ): void => {
    cases.push(completed(name, group, 'MRR', 'higher', samples.map(round4), params, checks));
  };
  const guard = async (name: string, group: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      cases.push({ state: 'errored', name, group, error: e instanceof Error ? e.message : String(e) });
      o.log(`  ${name}: ERROR ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  try {
    // ---------------------------------------------------------------- epochs
    if (only.includes('epochs')) {
      const lf = open('wordnet-lf');
      const vs: Record<string, number | null> = {};
      for (const model of ['transe', 'distmult', 'complex'] as const) {
        const out: Record<Side, RunOutcome[]> = { kgshard: [], torch: [] };
        for (const seed of seeds) {
          const order: Side[] = shuffled(['kgshard', 'torch'] as Side[], mulberry32(seed * 31 + model.length));
          for (const side of order) {
            if (side === 'torch' && !torch.ok) continue;
            await guard(`${side} ${model} seed ${seed}`, 'epochs', async () => {
              const r =
                side === 'kgshard'
                  ? await runKgshard(lf, sameSettings(model), seed, { epochs })
                  : await runTorch(lf.dir, lf.dataset, torchFlags(model), seed, { epochs });
              out[side].push(r);
              o.log(
                `  epochs: ${side} ${model} seed ${seed}: MRR ${r.mrr.toFixed(4)}, Hits@10 ${r.hits10.toFixed(4)}, ` +
                  `MR ${r.mr.toFixed(0)} (${r.train_s.toFixed(1)} s)`,
              );
            });
          }
        }
        for (const side of ['kgshard', 'torch'] as const) {
          const rs = out[side];
          if (rs.length === 0) continue;
          caseOf(
            `${side} ${model} wordnet-lf, ${epochs} epochs, same settings`,
            'epochs',
            rs.map((r) => r.mrr),
            {
              settings: side === 'kgshard' ? sameSettings(model) : torchFlags(model).join(' '),
              seeds,
              hits10: rs.map((r) => round4(r.hits10)),
              mr: rs.map((r) => Math.round(r.mr)),
              train_s: rs.map((r) => r.train_s),
            },
          );
          figures[`epochs_${side}_${model}_mrr`] = round4(median(rs.map((r) => r.mrr)));
          figures[`epochs_${side}_${model}_hits10`] = round4(median(rs.map((r) => r.hits10)));
          figures[`epochs_${side}_${model}_mr`] = Math.round(median(rs.map((r) => r.mr)));
        }
        const k = out.kgshard.map((r) => r.mrr);
        const t = out.torch.map((r) => r.mrr);
        vs[model] = k.length > 0 && t.length > 0 ? round2(median(k) / median(t)) : null;
        if (k.length > 0 && t.length > 0) {
          // Within the noise: kgshard's best seed reaches the reference's median,
          // or its median is within the reference's seed-to-seed range.
          targets[`same_settings_${model}`] = target(
            `kgshard ${model} median MRR after ${epochs} epochs / the reference's ` +
              `(same settings, ${seeds.length} seeds)`,
            vs[model] ?? null,
            '>=',
            1,
          );
        }
      }
      ratios['same_settings_mrr_vs_torch'] = vs;
    }

    // ---------------------------------------------------------------- ablation
    if (only.includes('ablation')) {
      const lf = open('wordnet-lf');
      const variants: { name: string; settings: Partial<TrainOptions>; evalAs?: string; model?: KgeModel }[] = [
        {
          name: 'complex: as kgshard trains it (element-wise Adagrad, N3 on moduli, chunk 64)',
          settings: sameSettings('complex'),
        },
        {
          name: 'complex: row-wise Adagrad (adagrad-row)',
          settings: { ...sameSettings('complex'), optimizer: 'adagrad-row' },
        },
        {
          name: 'complex: N3 per float, not on complex moduli',
          settings: {
            ...sameSettings('complex'),
            model: N3_PER_FLOAT,
            modelModule: fileURLToPath(new URL('./lib/complex-n3-per-float.js', import.meta.url)),
          },
          evalAs: 'complex',
          model: complexN3PerFloat(),
        },
        {
          name: 'complex: row-wise Adagrad and N3 per float (kgshard before)',
          settings: {
            ...sameSettings('complex'),
            optimizer: 'adagrad-row',
            model: N3_PER_FLOAT,
            modelModule: fileURLToPath(new URL('./lib/complex-n3-per-float.js', import.meta.url)),
          },
          evalAs: 'complex',
          model: complexN3PerFloat(),
        },
        { name: 'complex: no shared negatives (chunk 1)', settings: { ...sameSettings('complex'), chunk: 1 } },
        { name: 'transe: as kgshard trains it (max-norm 1, Bordes init)', settings: sameSettings('transe') },
        { name: 'transe: no max-norm', settings: { ...sameSettings('transe'), maxNorm: 0 } },
        { name: 'transe: no shared negatives (chunk 1)', settings: { ...sameSettings('transe'), chunk: 1 } },
      ];
      const ab: Record<string, number | null> = {};
      for (const v of variants) {
        const rs: RunOutcome[] = [];
        for (const seed of seeds) {
          await guard(`${v.name} seed ${seed}`, 'ablation', async () => {
            const r = await runKgshard(lf, v.settings, seed, { epochs }, v.evalAs, v.model);
            rs.push(r);
            o.log(
              `  ablation: ${v.name} seed ${seed}: MRR ${r.mrr.toFixed(4)}, ` +
                `Hits@10 ${r.hits10.toFixed(4)}, MR ${r.mr.toFixed(0)}`,
            );
          });
        }
        if (rs.length === 0) continue;
        caseOf(
          `kgshard ${v.name}, ${epochs} epochs`,
          'ablation',
          rs.map((r) => r.mrr),
          {
            // The model module as a path inside the checkout, not this machine's.
            settings:
              v.settings.modelModule === undefined
                ? v.settings
                : { ...v.settings, modelModule: 'dist/bench/lib/complex-n3-per-float.js' },
            seeds,
            hits10: rs.map((r) => round4(r.hits10)),
            mr: rs.map((r) => Math.round(r.mr)),
            train_s: rs.map((r) => r.train_s),
          },
        );
        ab[v.name] = round4(median(rs.map((r) => r.mrr)));
      }
      ratios['ablation_median_mrr'] = ab;
    }

    // ---------------------------------------------------------------- kernels
    if (only.includes('kernels')) {
      const byModel: Record<string, number | null> = {};
      for (const graph of ['wordnet-lf', 'wordnet'] as const) {
        const g = open(graph);
        for (const model of ['transe', 'distmult', 'complex'] as const) {
          const medians: Record<string, number> = {};
          for (const kernels of ['simd', 'js'] as const) {
            const rs: RunOutcome[] = [];
            for (const seed of seeds) {
              await guard(`kgshard ${model} ${graph} ${kernels} kernels seed ${seed}`, 'kernels', async () => {
                const r = await runKgshard(g, { ...sameSettings(model), kernels }, seed, { epochs });
                rs.push(r);
                o.log(
                  `  kernels: ${model} ${graph} ${kernels} seed ${seed}: MRR ${r.mrr.toFixed(4)}, ` +
                    `Hits@10 ${r.hits10.toFixed(4)}, MR ${r.mr.toFixed(0)} (${r.train_s.toFixed(1)} s)`,
                );
              });
            }
            if (rs.length === 0) continue;
            caseOf(
              `kgshard ${model} ${graph}, ${epochs} epochs, ${kernels} kernels`,
              'kernels',
              rs.map((r) => r.mrr),
              {
                settings: { ...sameSettings(model), kernels },
                seeds,
                hits10: rs.map((r) => round4(r.hits10)),
                mr: rs.map((r) => Math.round(r.mr)),
                train_s: rs.map((r) => r.train_s),
              },
            );
            medians[kernels] = median(rs.map((r) => r.mrr));
          }
          const k = `${model}_${graph.replace('-', '_')}`;
          byModel[k] =
            medians['simd'] !== undefined && medians['js'] !== undefined
              ? round2(medians['simd'] / medians['js'])
              : null;
        }
      }
      ratios['simd_vs_js_mrr'] = byModel;
    }

    // ---------------------------------------------------------------- time
    if (only.includes('time') || only.includes('time-targets')) {
      const all: { model: Model; data: BuiltinDataset; evalEvery: number }[] = o.quick
        ? [
            { model: 'complex', data: 'wordnet-lf', evalEvery: 1 },
            { model: 'rotate', data: 'wordnet-lf', evalEvery: 1 },
          ]
        : [
            { model: 'complex', data: 'wordnet-lf', evalEvery: 4 },
            { model: 'transe', data: 'wordnet-lf', evalEvery: 6 },
            { model: 'distmult', data: 'wordnet-lf', evalEvery: 6 },
            { model: 'complex', data: 'wordnet', evalEvery: 3 },
            { model: 'rotate', data: 'wordnet-lf', evalEvery: 0 },
          ];
      // `time-targets`: only the curves the targets name (ComplEx and TransE on wordnet-lf).
      const configs = only.includes('time')
        ? all
        : all.filter((c) => c.data === 'wordnet-lf' && (c.model === 'complex' || c.model === 'transe'));
      const ttr: Record<string, number | null> = {};
      const seed = 1;
      for (const c of configs) {
        const run = open(c.data);
        const key = `${c.model}_${c.data.replace('-', '_')}`;
        const out: Partial<Record<Side, RunOutcome>> = {};
        const sides: Side[] =
          c.model === 'rotate' || !torch.ok
            ? ['kgshard']
            : shuffled(['kgshard', 'torch'] as Side[], mulberry32(key.length * 97));
        for (const side of sides) {
          await guard(`${side} ${c.model} ${c.data} ${budgetS} s`, 'time', async () => {
            const r =
              side === 'kgshard'
                ? await runKgshard(run, bestSettings(c.model), seed, { budgetS, curveEveryS: evalEveryS })
                : await runTorch(run.dir, run.dataset, torchFlags(c.model as 'transe' | 'distmult' | 'complex'), seed, {
                    budgetS,
                    evalEvery: c.evalEvery,
                  });
            out[side] = r;
            o.log(
              `  time: ${side} ${c.model} ${c.data}: ` +
                `MRR ${marks.map((m) => `${atTime(r.curve!, m, 'mrr') ?? '—'} @${m}s`).join(', ')}; ` +
                `final Hits@10 ${r.hits10.toFixed(4)}, MR ${r.mr.toFixed(0)} after ${r.epochs} epochs`,
            );
          });
        }
        for (const side of sides) {
          const r = out[side];
          if (r === undefined) continue;
          const at = marks.map((m) => atTime(r.curve!, m, 'mrr'));
          caseOf(`${side} ${c.model} ${c.data}, MRR after ${budgetS} s`, 'time', [at[at.length - 1] ?? r.mrr], {
            settings:
              side === 'kgshard'
                ? bestSettings(c.model)
                : torchFlags(c.model as 'transe' | 'distmult' | 'complex').join(' '),
            threads: THREADS,
            mrr_at: Object.fromEntries(marks.map((m, i) => [`${m}s`, at[i]])),
            hits10_at: Object.fromEntries(marks.map((m) => [`${m}s`, atTime(r.curve!, m, 'hits10')])),
            final: {
              epochs: r.epochs,
              train_s: r.train_s,
              mrr: round4(r.mrr),
              hits10: round4(r.hits10),
              mr: Math.round(r.mr),
            },
            curve: r.curve,
          });
          marks.forEach((m, i) => (figures[`time_${side}_${key}_mrr_${m}s`] = at[i] ?? null));
          figures[`time_${side}_${key}_hits10_${budgetS}s`] = atTime(r.curve!, budgetS, 'hits10');
          figures[`time_${side}_${key}_final_mr`] = Math.round(r.mr);
        }
        const k = out.kgshard;
        const t = out.torch;
        if (k !== undefined && t !== undefined) {
          const refMrr = atTime(t.curve!, budgetS, 'mrr');
          const reach = refMrr === null ? null : timeToReach(k.curve!, refMrr);
          ttr[key] = reach === null ? null : round2(reach / budgetS);
          figures[`time_${key}_reference_mrr_${budgetS}s`] = refMrr;
          if (c.data === 'wordnet-lf' && (c.model === 'complex' || c.model === 'transe')) {
            targets[`time_to_reference_mrr_${key}`] = target(
              `training time kgshard needs to reach the reference's ${budgetS}-s MRR (${refMrr}), / ${budgetS} s`,
              ttr[key] ?? null,
              '<=',
              0.5,
            );
          }
        }
        if (k !== undefined && c.model === 'complex' && c.data === 'wordnet') {
          targets['wn18rr_style_complex_mrr'] = target(
            `kgshard ComplEx on wordnet, MRR after ${budgetS} s`,
            atTime(k.curve!, budgetS, 'mrr'),
            '>=',
            0.55,
          );
          targets['wn18rr_style_complex_hits10'] = target(
            `kgshard ComplEx on wordnet, Hits@10 after ${budgetS} s`,
            atTime(k.curve!, budgetS, 'hits10'),
            '>=',
            0.65,
          );
          targets['wn18rr_style_complex_mr'] = target(
            'kgshard ComplEx on wordnet, mean rank at the end of the budget',
            Math.round(k.mr),
            '<=',
            2000,
          );
        }
      }
      ratios['time_to_reference_mrr'] = ttr;
      notes.push(
        `time: MRR at ${marks.join(', ')} s of training is interpolated linearly between the evaluations ` +
          `around each mark; kgshard evaluates after the epochs that pass every ${evalEveryS} s, ` +
          'the reference every few epochs; mean rank is reported at the end of the budget ' +
          "(the reference's intermediate evaluations do not report it)",
      );
    }
    notes.push(
      'test metrics are filtered (train + valid + test), ties counted as the mean rank, over heads and tails; ' +
        `${THREADS} threads for both trainers`,
    );
    return { cases, ratios, figures, targets, notes };
  } finally {
    await evalPool.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}
