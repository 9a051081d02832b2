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
 * Checks: every rank is in [1, entities], the evaluation is the same in
 * every run, and the WASM scores of the kernel cases equal the JS kernel's
 * to float32 rounding (relative 1e-4).
 *
 *   node dist/bench/eval.js [--quick] [--runs N]      # writes bench/results/eval.json
 *
 * (`runEval` and `DEFAULT_RUNS` have the shape bench/main.ts's SUITES expect.)
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
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
import { check, guarded, medianOf, mulberry32, round2, settle } from './lib/suite.js';

export const DEFAULT_RUNS = 3;

interface Options {
  readonly quick: boolean;
  readonly runs: number | undefined;
  readonly log: (message: string) => void;
}

const DIM = 200;
const KERNEL_QUERIES = 64;

function randomTables(
  model: KgeModel,
  dataset: Dataset,
  seed: number,
): { entities: Float32Array; relations: Float32Array } {
  const { entityWidth, relationWidth } = model.shapes(DIM);
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

function wasmKernelCase(name: string, dataset: Dataset, runs: number): CaseResult[] {
  const model = createModel(name);
  const plan = model.queryPlan!;
  const { entityWidth, relationWidth } = model.shapes(DIM);
  const { entities, relations } = randomTables(model, dataset, 7);
  const n = dataset.entities.length;
  const sc = WasmScorer.create(plan, n, DIM, entityWidth, KERNEL_QUERIES);
  check(sc !== null, 'WebAssembly SIMD available');
  sc!.loadEntities(entities);
  for (let i = 0; i < KERNEL_QUERIES; i++)
    plan.query(
      i % 2 === 0,
      entities,
      i * 97 * entityWidth,
      relations,
      (i % dataset.relations.length) * relationWidth,
      DIM,
      sc!.q,
      i * sc!.rowFloats,
      sc!.imFloats,
    );
  // Check a few scores against the model's JS block kernel.
  const b = newBlock();
  b.dim = DIM;
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
  return [
    completed(
      `wasm kernel ${plan.kernel} (${name}, dim ${DIM})`,
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

export async function runEval(o: Options): Promise<{
  cases: CaseResult[];
  ratios: SuiteReport['ratios'];
  figures: Record<string, number | null>;
  targets: Record<string, Target>;
  notes: string[];
}> {
  const runs = o.runs ?? (o.quick ? 1 : DEFAULT_RUNS);
  const dataset = loadWordnet();
  const filter = FilterIndex.fromDataset(dataset);
  const cases: CaseResult[] = [];
  for (const name of ['distmult', 'complex', 'transe-l1', 'transe-l2', 'rotate']) {
    o.log(`kernel ${name}`);
    cases.push(...(await guarded(`wasm kernel ${name}`, 'kernel', () => wasmKernelCase(name, dataset, runs))));
  }
  for (const name of ['distmult', 'complex']) {
    o.log(`js kernel ${name}`);
    cases.push(
      ...(await guarded(`js kernel ${name}`, 'kernel', () => jsKernelCase(name, dataset, o.quick ? 1 : runs))),
    );
  }
  const full = ['distmult', 'complex', 'transe'];
  for (const name of full) {
    o.log(`full evaluation ${name}`);
    cases.push(
      ...(await guarded(`full filtered eval ${name}`, 'full-eval', () =>
        fullEvalCase(name, dataset, filter, runs, o.log),
      )),
    );
  }
  const figures: Record<string, number | null> = {};
  const targets: Record<string, Target> = {};
  for (const c of cases) if (c.state === 'completed') figures[c.name] = c.median;
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
  return {
    cases,
    ratios: { 'wasm dot / js distmult kernel': dot !== null && js !== null ? round2(dot / js) : null },
    figures,
    targets,
    notes: ['random embeddings: the metrics are those of chance (MRR ~ 1e-4)'],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, out: { type: 'string' } },
  });
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  const start = loadavg();
  const t0 = performance.now();
  const out = await runEval({ quick: values.quick ?? false, runs, log: (m) => console.error(m) });
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
