/**
 * The `eval` suite: filtered link prediction (src/kge/eval.ts).
 *
 * 1. Kernel throughput, one thread (GFLOP/s): 64 query rows against all
 *    38,189 entity rows of the built-in WordNet graph at dim 200, per WASM
 *    kernel (`WasmScorer.scoreAll`: dot at 200 and 400 floats, i.e. DistMult
 *    and ComplEx; TransE L1 and L2; RotatE), and the models' own JS blocked
 *    kernels (`scoreTails`, 16 queries against chunks of 256 rows) for
 *    DistMult and ComplEx. Flops per coordinate: dot 2 (mul, add), L1 and L2
 *    3 (sub, abs or mul, add), RotatE 7 per complex coordinate (2 sub,
 *    2 mul, add, sqrt, add).
 * 2. The full filtered evaluation of the built-in test split (3,000 triples,
 *    both directions, filter train + valid + test) at dim 200 with random
 *    embeddings, for DistMult, ComplEx and TransE (L1), on 2 worker threads
 *    (`evaluate`, backend 'auto'): seconds of the whole call, pool start-up
 *    and filter building included. Target: <= 10 s each.
 *
 * 3. Beside the PyTorch reference (group `torch`): the full filtered
 *    evaluation of the leak-free built-in graph's test split (`wordnet-lf`,
 *    3,000 triples, both directions, filter train + valid + test) at the
 *    reference's dimension, 100 (ComplEx: 100 complex coordinates, 200
 *    floats per row on both sides), for TransE (L1) and ComplEx, on 1 and 2
 *    threads. kgshard: `evaluate` (backend 'auto', `workers` 1: the calling
 *    thread; 2: a pool whose start-up is included) over random tables, the
 *    seconds of the whole call. The reference: `torch_kge.py --data DIR
 *    --model M --dim 100 --threads T --epochs 1 --eval-every 0` (+ `--p 1`
 *    for TransE) on the same split written as TSV, its `eval_s` (the wall
 *    time of its final filtered evaluation of test; one epoch of training
 *    is enough, its evaluation time does not depend on the weights). Every
 *    (model, threads, side) runs once per round in a shuffled order, so
 *    both sides sample the same stretch of time. `eval_vs_torch` is kgshard
 *    seconds / reference seconds (ratio of medians; `paired` is the median
 *    of same-round ratios); target <= 1.0. The GFLOP/s per thread of each
 *    kgshard run counts the float32 work of scoring every query against
 *    every entity (2 flops per float for ComplEx, 3 for TransE L1) over
 *    seconds x threads, beside the kernel's peak measured in this run (the
 *    `wasm kernel ... dim 100` cases; for ComplEx also the int16 first pass,
 *    `wasm kernel dot16`, in GOP/s: 2 integer ops per coordinate).
 *
 * 4. Predictions (group `predict`, `bench/predict.ts`): top-10 predictions
 *    for 10,000 queries on the built-in graph, one thread, beside the
 *    evaluation's ranking of the same query rows and brute force in
 *    JavaScript; the figure `predict_queries_per_s`.
 *
 * Checks: every rank is in [1, entities], the evaluation is the same in
 * every run, the WASM scores of the kernel cases equal the JS kernel's to
 * float32 rounding (relative 1e-4), and the reference read the same
 * entity, relation and triple counts.
 *
 *   node dist/bench/eval.js [--quick] [--runs N] [--only kernel,full,torch,predict]   # bench/results/eval.json
 *
 * Environment (group `torch`): KGSHARD_TORCH_SCRIPT, the path of the
 * reference (`torch_kge.py`; without it the reference runs are skipped and
 * the JSON says so), and KGSHARD_TORCH_PYTHON, an interpreter that can
 * `import torch` (on Debian `/usr/bin/python3` with python3-torch).
 *
 * (`runEval` and `DEFAULT_RUNS` have the shape bench/main.ts's SUITES expect.)
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSplit } from '../src/data/split-writer.js';
import { loadWordnet } from '../src/data/wordnet.js';
import { evaluate, type EvaluationResult } from '../src/kge/eval.js';
import { FilterIndex } from '../src/kge/filter.js';
import { WasmScorer } from '../src/kge/wasm/scorer.js';
import { createModel, newBlock, type KgeModel } from '../src/kge/models/index.js';
import type { Dataset } from '../src/data/dataset.js';
import {
  completed,
  loadavg,
  machineInfo,
  renderReport,
  target,
  writeJsonAtomic,
  type CaseResult,
  type SuiteReport,
  type Target,
} from './lib/report.js';
import { check, guarded, medianOf, mulberry32, pairedRatio, ratio, round2, settle, shuffled } from './lib/suite.js';
import { probeTorch, runTorchScript } from './lib/torch.js';
import { runPredict } from './predict.js';

export const DEFAULT_RUNS = 3;

interface Options {
  readonly quick: boolean;
  readonly runs: number | undefined;
  /** Case groups: `kernel`, `full` (dim 200), `torch` (beside the reference); undefined: all. */
  readonly only?: readonly string[] | undefined;
  readonly log: (message: string) => void;
}

const DIM = 200;
const KERNEL_QUERIES = 64;
/** The reference's dimension (`torch_kge.py --dim 100`), and the models and thread counts compared there. */
const TORCH_DIM = 100;
const TORCH_MODELS = ['transe', 'complex'] as const;
const TORCH_THREADS = [1, 2] as const;
const TORCH_TIMEOUT_S = 300;

function randomTables(
  model: KgeModel,
  dataset: Dataset,
  seed: number,
  dim = DIM,
): { entities: Float32Array; relations: Float32Array } {
  const { entityWidth, relationWidth } = model.shapes(dim);
  const rand = mulberry32(seed);
  const entities = new Float32Array(new SharedArrayBuffer(4 * dataset.entities.length * entityWidth));
  const relations = new Float32Array(new SharedArrayBuffer(4 * dataset.relations.length * relationWidth));
  for (let i = 0; i < entities.length; i++) entities[i] = rand() - 0.5;
  for (let i = 0; i < relations.length; i++) relations[i] = rand() - 0.5;
  return { entities, relations };
}

/** Flops per entity-row coordinate (float) of each kernel, as the module comment says. */
function flopsPerFloat(model: KgeModel): number {
  switch (model.queryPlan?.kernel) {
    case 'dot':
      return 2;
    case 'rotate':
      return 3.5;
    default:
      return 3;
  }
}

function wasmKernelCase(name: string, dataset: Dataset, runs: number, dim: number = DIM): CaseResult[] {
  const model = createModel(name);
  const plan = model.queryPlan!;
  const { entityWidth, relationWidth } = model.shapes(dim);
  const { entities, relations } = randomTables(model, dataset, 7, dim);
  const n = dataset.entities.length;
  const sc = WasmScorer.create(plan, n, dim, entityWidth, KERNEL_QUERIES);
  check(sc !== null, 'WebAssembly SIMD available');
  sc!.loadEntities(entities);
  for (let i = 0; i < KERNEL_QUERIES; i++)
    plan.query(
      i % 2 === 0,
      entities,
      i * 97 * entityWidth,
      relations,
      (i % dataset.relations.length) * relationWidth,
      dim,
      sc!.q,
      i * sc!.rowFloats,
      sc!.imFloats,
    );
  // Check a few scores against the model's JS block kernel.
  const b = newBlock();
  b.dim = dim;
  b.n = 1;
  b.ent = entities;
  b.entOffs = Int32Array.of(0);
  b.rel = relations;
  b.relOffs = Int32Array.of(0);
  b.m = 8;
  b.cand = entities;
  b.candOffs = Int32Array.from({ length: 8 }, (_, j) => j * 1000 * entityWidth);
  const js = new Float64Array(8);
  model.scoreTails(b, js);
  sc!.scoreAll(KERNEL_QUERIES);
  for (let j = 0; j < 8; j++) {
    const w = sc!.scores[j * 1000]!;
    check(Math.abs(w - js[j]!) <= 1e-4 * Math.max(1, Math.abs(js[j]!)), `${name}: WASM score ${w} vs JS ${js[j]}`);
  }
  const flops = KERNEL_QUERIES * n * entityWidth * flopsPerFloat(model);
  const samples: number[] = [];
  for (let r = 0; r < Math.max(3, runs); r++) {
    const t0 = performance.now();
    sc!.scoreAll(KERNEL_QUERIES);
    samples.push(round2(flops / ((performance.now() - t0) * 1e6)));
  }
  const out = [
    completed(
      `wasm kernel ${plan.kernel} (${name}, dim ${dim})`,
      'kernel',
      'GFLOP/s',
      'higher',
      samples,
      {
        queries: KERNEL_QUERIES,
        entities: n,
        floatsPerRow: entityWidth,
        flopsPerFloat: flopsPerFloat(model),
      },
      { matchesJsKernel: true },
    ),
  ];
  if (sc!.prepareTwoPass(KERNEL_QUERIES)) {
    // The int16 first pass of the two-pass ranker over the same queries: 2 integer ops per coordinate.
    const ops = KERNEL_QUERIES * n * sc!.rowFloats * 2;
    const s16: number[] = [];
    for (let r = 0; r < Math.max(3, runs); r++) {
      const t0 = performance.now();
      sc!.scoreTwoPass(KERNEL_QUERIES);
      s16.push(round2(ops / ((performance.now() - t0) * 1e6)));
    }
    out.push(
      completed(
        `wasm kernel dot16 (${name}, dim ${dim})`,
        'kernel',
        'GOP/s',
        'higher',
        s16,
        { queries: KERNEL_QUERIES, entities: n, int16PerRow: sc!.rowFloats, opsPerInt16: 2 },
        {},
      ),
    );
  }
  return out;
}

function jsKernelCase(name: string, dataset: Dataset, runs: number): CaseResult[] {
  const model = createModel(name);
  const { entityWidth } = model.shapes(DIM);
  const { entities, relations } = randomTables(model, dataset, 7);
  const n = dataset.entities.length;
  const q = 16;
  const chunk = 256;
  const b = newBlock();
  b.dim = DIM;
  b.n = q;
  b.ent = entities;
  b.entOffs = Int32Array.from({ length: q }, (_, i) => i * 97 * entityWidth);
  b.rel = relations;
  b.relOffs = new Int32Array(q);
  b.cand = entities;
  b.candOffs = new Int32Array(chunk);
  const out = new Float64Array(q * chunk);
  const flops = q * n * entityWidth * flopsPerFloat(model);
  const samples: number[] = [];
  for (let r = 0; r < Math.max(3, runs); r++) {
    const t0 = performance.now();
    for (let c0 = 0; c0 < n; c0 += chunk) {
      const m = Math.min(chunk, n - c0);
      for (let j = 0; j < m; j++) b.candOffs[j] = (c0 + j) * entityWidth;
      b.m = m;
      model.scoreTails(b, out);
    }
    samples.push(round2(flops / ((performance.now() - t0) * 1e6)));
  }
  return [
    completed(
      `js kernel (${name}, dim ${DIM})`,
      'kernel',
      'GFLOP/s',
      'higher',
      samples,
      { queries: q, chunk, entities: n, floatsPerRow: entityWidth },
      {},
    ),
  ];
}

async function fullEvalCase(
  name: string,
  dataset: Dataset,
  filter: FilterIndex,
  runs: number,
  log: (m: string) => void,
): Promise<CaseResult[]> {
  const model = createModel(name);
  const { entities, relations } = randomTables(model, dataset, 11);
  const samples: number[] = [];
  let first: EvaluationResult | undefined;
  let backend = '';
  for (let r = 0; r < runs; r++) {
    await settle();
    const res = await evaluate({ model, dim: DIM, entities, relations, dataset, filter, workers: 2 });
    samples.push(round2(res.seconds));
    backend = res.backend;
    log(
      `  ${name}: ${res.seconds.toFixed(2)} s (${res.backend}, ${res.threads} threads), MRR ${res.both.mrr.toFixed(5)}`,
    );
    const ranks = [...res.ranks.tail, ...res.ranks.head];
    check(ranks.length === 2 * dataset.test.count, 'one tail and one head rank per test triple');
    check(
      ranks.every((x) => x >= 1 && x <= dataset.entities.length),
      'every rank in [1, entities]',
    );
    if (first === undefined) first = res;
    else check(res.both.mrr === first.both.mrr && res.both.mr === first.both.mr, 'the same metrics in every run');
  }
  return [
    completed(
      `full filtered eval ${name} (dim ${DIM}, 2 workers)`,
      'full-eval',
      's',
      'lower',
      samples,
      {
        queries: dataset.test.count,
        entities: dataset.entities.length,
        knownTriples: filter.count,
        backend,
        ties: 'mean',
      },
      { mrr: first!.both.mrr, mr: first!.both.mr, hits10: first!.both.hits10 },
    ),
  ];
}

// ------------------------------------------------------------------ beside the reference

type TorchModel = (typeof TORCH_MODELS)[number];

function torchCaseName(side: 'kgshard' | 'torch', model: TorchModel, threads: number): string {
  const t = `${threads} thread${threads === 1 ? '' : 's'}`;
  return `${side === 'torch' ? 'torch ' : ''}full filtered eval ${model} (dim ${TORCH_DIM}, wordnet-lf, ${t})`;
}

function torchArgs(dir: string, model: TorchModel, threads: number, seed: number): string[] {
  const args = ['--data', dir, '--model', model, '--dim', String(TORCH_DIM), '--threads', String(threads)];
  args.push('--epochs', '1', '--eval-every', '0', '--seed', String(seed));
  if (model === 'transe') args.push('--p', '1');
  return args;
}

interface TorchEvalJson {
  readonly eval_s: number;
  readonly n_entities: number;
  readonly n_relations: number;
  readonly n_train: number;
  readonly threads: number;
  readonly dim: number;
  readonly mrr: number;
  readonly other_procs_cores: number;
  readonly torch: string;
}

/** Float32 work of scoring every test query (both directions) against every entity. */
function evalFlops(model: KgeModel, dataset: Dataset): number {
  return 2 * dataset.test.count * dataset.entities.length * model.shapes(TORCH_DIM).entityWidth * flopsPerFloat(model);
}

async function torchComparison(
  runs: number,
  log: (m: string) => void,
  notes: string[],
): Promise<{ cases: CaseResult[]; perThread: Record<string, number[]> }> {
  const dataset = loadWordnet({ variant: 'wordnet-lf' });
  const filter = FilterIndex.fromDataset(dataset);
  const root = mkdtempSync(join(tmpdir(), 'bench-eval-kgshard-'));
  const torch = probeTorch();
  if (!torch.ok) {
    notes.push(`REFERENCE NOT RUN: ${torch.why}. Only kgshard's own figures are reported; there is no eval_vs_torch.`);
    log(`reference not run: ${torch.why}`);
  }
  const sides = torch.ok ? (['kgshard', 'torch'] as const) : (['kgshard'] as const);
  const specs = TORCH_MODELS.flatMap((model) =>
    TORCH_THREADS.flatMap((threads) => sides.map((side) => ({ model, threads, side }))),
  );
  const samples = new Map<string, number[]>();
  const perThread: Record<string, number[]> = {};
  const extra = new Map<string, Record<string, unknown>>();
  const errors = new Map<string, string>();
  const tables = new Map<TorchModel, { entities: Float32Array; relations: Float32Array; mrr?: number }>();
  try {
    const dir = writeSplit(dataset, join(root, 'split')).dir;
    const rand = mulberry32(20261206);
    for (let round = 0; round < runs; round++) {
      for (const spec of shuffled(specs, rand)) {
        const name = torchCaseName(spec.side, spec.model, spec.threads);
        if (errors.has(name)) continue;
        await settle();
        try {
          if (spec.side === 'kgshard') {
            const model = createModel(spec.model);
            let t = tables.get(spec.model);
            if (t === undefined) {
              t = randomTables(model, dataset, 11, TORCH_DIM);
              tables.set(spec.model, t);
            }
            const res = await evaluate({
              model,
              dim: TORCH_DIM,
              entities: t.entities,
              relations: t.relations,
              dataset,
              filter,
              workers: spec.threads,
            });
            check(
              [...res.ranks.tail, ...res.ranks.head].every((x) => x >= 1 && x <= dataset.entities.length),
              'every rank in [1, entities]',
            );
            if (t.mrr === undefined) t.mrr = res.both.mrr;
            else check(t.mrr === res.both.mrr, 'the same MRR in every run and on any number of threads');
            const gflops = evalFlops(model, dataset) / (res.seconds * spec.threads * 1e9);
            (perThread[name] ??= []).push(round2(gflops));
            (samples.get(name) ?? samples.set(name, []).get(name)!).push(round2(res.seconds));
            extra.set(name, { backend: res.backend, threads: res.threads, mrr: res.both.mrr });
            log(`  ${name}: ${res.seconds.toFixed(3)} s (${res.backend}), ${gflops.toFixed(1)} GFLOP/s per thread`);
          } else {
            const { json: j } = await runTorchScript<TorchEvalJson>(
              torchArgs(dir, spec.model, spec.threads, round + 1),
              TORCH_TIMEOUT_S,
            );
            check(
              j.n_entities === dataset.entities.length &&
                j.n_relations === dataset.relations.length &&
                j.n_train === dataset.train.count,
              `reference read ${j.n_entities} entities, ${j.n_relations} relations, ${j.n_train} train triples`,
            );
            check(j.threads === spec.threads && j.dim === TORCH_DIM, 'reference threads and dim');
            (samples.get(name) ?? samples.set(name, []).get(name)!).push(j.eval_s);
            extra.set(name, { torch: j.torch, otherProcsCores: j.other_procs_cores });
            log(`  ${name}: ${j.eval_s.toFixed(3)} s (other processes ${j.other_procs_cores} cores)`);
          }
        } catch (e) {
          errors.set(name, e instanceof Error ? e.message : String(e));
          log(`  ${name}: ERROR ${errors.get(name)}`);
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const cases: CaseResult[] = [];
  for (const spec of specs) {
    const name = torchCaseName(spec.side, spec.model, spec.threads);
    const err = errors.get(name);
    if (err !== undefined) {
      cases.push({ state: 'errored', name, group: 'torch', error: err });
      continue;
    }
    const params: Record<string, unknown> = {
      side: spec.side,
      model: spec.model,
      dim: TORCH_DIM,
      threads: spec.threads,
      dataset: 'wordnet-lf',
      queries: dataset.test.count,
      entities: dataset.entities.length,
      knownTriples: filter.count,
      ...(spec.side === 'torch'
        ? {
            command:
              '$KGSHARD_TORCH_PYTHON $KGSHARD_TORCH_SCRIPT ' + torchArgs('DIR', spec.model, spec.threads, 1).join(' '),
          }
        : { gflopsPerThread: perThread[name] }),
    };
    cases.push(completed(name, 'torch', 's', 'lower', samples.get(name) ?? [], params, extra.get(name) ?? {}));
  }
  return { cases, perThread };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function runEval(o: Options): Promise<{
  cases: CaseResult[];
  ratios: SuiteReport['ratios'];
  figures: Record<string, number | null>;
  targets: Record<string, Target>;
  notes: string[];
}> {
  const runs = o.runs ?? (o.quick ? 1 : DEFAULT_RUNS);
  const groups = o.only ?? ['kernel', 'full', 'torch', 'predict'];
  for (const g of groups)
    if (!['kernel', 'full', 'torch', 'predict'].includes(g))
      throw new Error(`eval: unknown --only group ${g} (kernel, full, torch, predict)`);
  const dataset = loadWordnet();
  const filter = FilterIndex.fromDataset(dataset);
  const cases: CaseResult[] = [];
  const notes = ['random embeddings: the metrics are those of chance (MRR ~ 1e-4)'];
  if (groups.includes('kernel') || groups.includes('torch')) {
    for (const name of ['distmult', 'complex', 'transe-l1', 'transe-l2', 'rotate']) {
      o.log(`kernel ${name}`);
      cases.push(...(await guarded(`wasm kernel ${name}`, 'kernel', () => wasmKernelCase(name, dataset, runs))));
    }
    for (const name of ['complex', 'transe-l1']) {
      o.log(`kernel ${name} dim ${TORCH_DIM}`);
      cases.push(
        ...(await guarded(`wasm kernel ${name} dim ${TORCH_DIM}`, 'kernel', () =>
          wasmKernelCase(name, dataset, runs, TORCH_DIM),
        )),
      );
    }
  }
  if (groups.includes('kernel')) {
    for (const name of ['distmult', 'complex']) {
      o.log(`js kernel ${name}`);
      cases.push(
        ...(await guarded(`js kernel ${name}`, 'kernel', () => jsKernelCase(name, dataset, o.quick ? 1 : runs))),
      );
    }
  }
  const full = groups.includes('full') ? ['distmult', 'complex', 'transe'] : [];
  for (const name of full) {
    o.log(`full evaluation ${name}`);
    cases.push(
      ...(await guarded(`full filtered eval ${name}`, 'full-eval', () =>
        fullEvalCase(name, dataset, filter, runs, o.log),
      )),
    );
  }
  let perThread: Record<string, number[]> = {};
  if (groups.includes('torch')) {
    o.log(`beside the reference (dim ${TORCH_DIM}, wordnet-lf)`);
    const t = await torchComparison(runs, o.log, notes);
    cases.push(...t.cases);
    perThread = t.perThread;
  }
  let predicted: Awaited<ReturnType<typeof runPredict>> | null = null;
  if (groups.includes('predict')) {
    predicted = await runPredict(dataset, filter, runs, o.log);
    cases.push(...predicted.cases);
    notes.push(...predicted.notes);
  }
  const figures: Record<string, number | null> = {};
  const targets: Record<string, Target> = {};
  for (const c of cases) if (c.state === 'completed') figures[c.name] = c.median;
  if (predicted !== null) Object.assign(figures, predicted.figures);
  for (const name of full) {
    const key = `full filtered eval ${name} (dim ${DIM}, 2 workers)`;
    targets[`eval-${name}`] = target(
      `full filtered evaluation of the WordNet test split, ${name}, dim ${DIM}, 2 workers (s)`,
      medianOf(cases, key),
      '<=',
      10,
    );
  }
  const dot = medianOf(cases, `wasm kernel dot (distmult, dim ${DIM})`);
  const js = medianOf(cases, `js kernel (distmult, dim ${DIM})`);
  const ratios: SuiteReport['ratios'] = {
    'wasm dot / js distmult kernel': dot !== null && js !== null ? round2(dot / js) : null,
  };
  if (predicted !== null) Object.assign(ratios, predicted.ratios);
  if (groups.includes('torch')) {
    const vs: Record<string, number | null> = {};
    const paired: Record<string, number | null> = {};
    const peak: Record<string, number | null> = {};
    for (const model of TORCH_MODELS) {
      const kernel =
        model === 'complex'
          ? `wasm kernel dot (complex, dim ${TORCH_DIM})`
          : `wasm kernel l1 (transe-l1, dim ${TORCH_DIM})`;
      const kPeak = medianOf(cases, kernel);
      for (const threads of TORCH_THREADS) {
        const key = `${model}, ${threads} thread${threads === 1 ? '' : 's'}`;
        const ours = torchCaseName('kgshard', model, threads);
        const ref = torchCaseName('torch', model, threads);
        const r = ratio(medianOf(cases, ours), medianOf(cases, ref));
        vs[key] = r === null ? null : round2(r);
        const p = pairedRatio(cases, ours, ref);
        paired[key] = p === null ? null : round2(p);
        const g = median(perThread[ours] ?? []);
        figures[`GFLOP/s per thread, ${key}`] = g;
        peak[key] = g !== null && kPeak !== null ? round2(g / kPeak) : null;
        targets[`eval_vs_torch ${key}`] = target(
          `full filtered evaluation, kgshard seconds / reference seconds, ${key}, dim ${TORCH_DIM}, wordnet-lf`,
          vs[key],
          '<=',
          1.0,
        );
      }
      figures[`kernel peak GFLOP/s, ${model} dim ${TORCH_DIM}`] = kPeak;
    }
    figures[`kernel peak GOP/s, dot16 (complex dim ${TORCH_DIM})`] = medianOf(
      cases,
      `wasm kernel dot16 (complex, dim ${TORCH_DIM})`,
    );
    ratios['eval_vs_torch'] = vs;
    ratios['eval_vs_torch_paired'] = paired;
    ratios['eval GFLOP/s per thread / kernel peak'] = peak;
  }
  return { cases, ratios, figures, targets, notes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  const only = values.only === undefined ? undefined : values.only.split(',');
  const start = loadavg();
  const t0 = performance.now();
  const out = await runEval({ quick: values.quick ?? false, runs, only, log: (m) => console.error(m) });
  const report: SuiteReport = {
    suite: 'eval',
    timestamp: new Date().toISOString(),
    quick: values.quick ?? false,
    runs: runs ?? (values.quick ? 1 : DEFAULT_RUNS),
    durationS: (performance.now() - t0) / 1000,
    machine: machineInfo(start),
    ...out,
    ok: out.cases.every((c) => c.state === 'completed'),
  };
  writeJsonAtomic(values.out ?? fileURLToPath(new URL('../../bench/results/eval.json', import.meta.url)), report);
  console.log(renderReport(report));
  if (!report.ok) process.exitCode = 1;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
