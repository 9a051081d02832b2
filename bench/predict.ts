/**
 * The `predict` group of the `eval` suite: top-k predictions
 * (src/kge/predict.ts) for a batch of 10,000 queries on the built-in
 * WordNet graph (38,189 entities), half (h, r, ?) and half (?, r, t), made
 * from its triples (test, valid, then train), k = 10, known triples
 * (train + valid + test) left out, one thread, at the defaults of
 * `kgshard train` (ComplEx, dim 100) and for TransE (L1, dim 100), over
 * random tables (as the rest of the suite; the timing of the one-pass
 * kernels does not depend on the weights, that of the two passes a little:
 * with KGSHARD_BENCH_EMBEDDINGS=DIR, embeddings saved by `kgshard train
 * --out DIR` on this graph are measured too).
 *
 * Beside it, in the same run, over the same tables and the same 10,000
 * query rows (as 5,000 triples, each a tail and a head query):
 *
 * - the evaluation's filtered ranking (`rankQueries`, one thread): the work
 *   evaluation does for the same query rows, which scores every entity with
 *   the same kernels, to rank one target instead of selecting k;
 * - brute force in JavaScript: the model's JS block kernels score every
 *   entity, the known ones are dropped, and the rest sorted, over a sample
 *   of the queries (per-query cost times 10,000).
 *
 * Figures: `predict_queries_per_s` (ComplEx; the others under their case
 * names), and ratios to each baseline. Checks: every run gives the same
 * predictions; on a sample, they equal the brute-force top k to float32
 * rounding (each position the same entity, or one whose float64 score is
 * within rounding of it); no prediction is a known triple.
 */
import { alignEmbeddings, openEmbeddings } from '../src/kge/embeddings-io.js';
import { createRanker, rankQueries } from '../src/kge/eval.js';
import type { FilterIndex } from '../src/kge/filter.js';
import { ASKED, createPredictor, type Predictions } from '../src/kge/predict.js';
import { createModel, newBlock, type KgeModel } from '../src/kge/models/index.js';
import type { Dataset } from '../src/data/dataset.js';
import { completed, type CaseResult } from './lib/report.js';
import { check, mulberry32, round2, settle } from './lib/suite.js';

export const PREDICT_QUERIES = 10_000;
const K = 10;
const DIM = 100;
const BRUTE_SAMPLE = 60;

interface Tables {
  readonly entities: Float32Array;
  readonly relations: Float32Array;
}

function randomTables(model: KgeModel, dataset: Dataset, seed: number): Tables {
  const { entityWidth, relationWidth } = model.shapes(DIM);
  const rand = mulberry32(seed);
  const entities = new Float32Array(dataset.entities.length * entityWidth);
  const relations = new Float32Array(dataset.relations.length * relationWidth);
  for (let i = 0; i < entities.length; i++) entities[i] = rand() - 0.5;
  for (let i = 0; i < relations.length; i++) relations[i] = rand() - 0.5;
  return { entities, relations };
}

/** 10,000 queries from the graph's triples (test, valid, train): even ones ask tails, odd ones heads. */
function makeQueries(dataset: Dataset): { queries: Int32Array; triples: Int32Array } {
  const all = [dataset.test.triples, dataset.valid.triples, dataset.train.triples];
  const triples = new Int32Array(3 * (PREDICT_QUERIES / 2));
  let n = 0;
  for (const t of all) {
    const take = Math.min(t.length, triples.length - n);
    triples.set(t.subarray(0, take), n);
    n += take;
    if (n === triples.length) break;
  }
  const queries = new Int32Array(3 * PREDICT_QUERIES);
  for (let i = 0; i < PREDICT_QUERIES; i++) {
    const x = 3 * (i >> 1);
    const tails = i % 2 === 0;
    queries[3 * i] = tails ? triples[x]! : ASKED;
    queries[3 * i + 1] = triples[x + 1]!;
    queries[3 * i + 2] = tails ? ASKED : triples[x + 2]!;
  }
  return { queries, triples };
}

/** Brute force for query i: JS block kernels over every entity, known ones dropped, sorted (ties by id). */
function bruteForce(
  model: KgeModel,
  tables: Tables,
  filter: FilterIndex,
  queries: Int32Array,
  i: number,
  scratch: { readonly out: Float64Array; readonly candOffs: Int32Array },
): { ids: number[]; scores: Float64Array } {
  const { entityWidth: ew, relationWidth: rw } = model.shapes(DIM);
  const n = filter.numEntities;
  const h = queries[3 * i]!;
  const r = queries[3 * i + 1]!;
  const t = queries[3 * i + 2]!;
  const tails = t === ASKED;
  const b = newBlock();
  b.dim = DIM;
  b.n = 1;
  b.ent = tables.entities;
  b.entOffs = Int32Array.of((tails ? h : t) * ew);
  b.rel = tables.relations;
  b.relOffs = Int32Array.of(r * rw);
  b.cand = tables.entities;
  b.candOffs = scratch.candOffs;
  b.m = n;
  if (tails) model.scoreTails(b, scratch.out);
  else model.scoreHeads(b, scratch.out);
  const known = new Set(tails ? filter.knownTails(h, r) : filter.knownHeads(r, t));
  const s = scratch.out;
  const ids: number[] = [];
  for (let j = 0; j < n; j++) if (!known.has(j)) ids.push(j);
  ids.sort((a, c) => s[c]! - s[a]! || a - c);
  return { ids, scores: s };
}

function samePredictions(a: Predictions, b: Predictions): boolean {
  if (a.k !== b.k || a.ids.length !== b.ids.length) return false;
  for (let i = 0; i < a.ids.length; i++)
    if (a.ids[i] !== b.ids[i] || !Object.is(a.scores[i], b.scores[i])) return false;
  return true;
}

async function predictCases(
  label: string,
  model: KgeModel,
  tables: Tables,
  dataset: Dataset,
  filter: FilterIndex,
  runs: number,
  log: (m: string) => void,
): Promise<{ cases: CaseResult[]; perSecond: number | null }> {
  const { queries, triples } = makeQueries(dataset);
  const cases: CaseResult[] = [];
  const params = {
    model: model.name,
    dim: DIM,
    queries: PREDICT_QUERIES,
    k: K,
    entities: dataset.entities.length,
    knownTriples: filter.count,
    threads: 1,
    tables: label,
  };
  // Top k, and the evaluation's ranking of the same query rows, in alternating order round by round.
  const samples: number[] = [];
  const rankS: number[] = [];
  let first: Predictions | undefined;
  let backend = '';
  let banded = 0;
  const tailRanks = new Float64Array(triples.length / 3);
  const headRanks = new Float64Array(triples.length / 3);
  const topK = (): void => {
    const t0 = performance.now();
    const predictor = createPredictor({ model, dim: DIM, ...tables, filter });
    const p = predictor.predict(queries, K);
    const s = (performance.now() - t0) / 1000;
    samples.push(round2(PREDICT_QUERIES / s));
    backend = predictor.backend;
    banded = predictor.banded / PREDICT_QUERIES;
    log(`  predict ${model.name} (${label}): ${s.toFixed(2)} s, ${(PREDICT_QUERIES / s).toFixed(0)} queries/s`);
    if (first === undefined) first = p;
    else check(samePredictions(p, first), 'the same predictions in every run');
  };
  const rank = (): void => {
    const t0 = performance.now();
    const ranker = createRanker({ model, dim: DIM, ...tables, filter });
    rankQueries(ranker, triples, 0, triples.length / 3, tailRanks, headRanks);
    const s = (performance.now() - t0) / 1000;
    rankS.push(round2(PREDICT_QUERIES / s));
    log(`  rank ${model.name} (${label}): ${s.toFixed(2)} s`);
  };
  for (let r = 0; r < runs; r++) {
    for (const f of r % 2 === 0 ? [topK, rank] : [rank, topK]) {
      await settle();
      f();
    }
  }
  // Against brute force on a sample; and never a known triple.
  const n = filter.numEntities;
  const ew = model.shapes(DIM).entityWidth;
  const scratch = { out: new Float64Array(n), candOffs: Int32Array.from({ length: n }, (_, j) => j * ew) };
  const bruteS: number[] = [];
  const t0 = performance.now();
  for (let u = 0; u < BRUTE_SAMPLE; u++) {
    const i = Math.floor((u * PREDICT_QUERIES) / BRUTE_SAMPLE);
    const b = bruteForce(model, tables, filter, queries, i, scratch);
    for (let j = 0; j < K; j++) {
      const id = first!.ids[i * K + j]!;
      const want = b.ids[j]!;
      const tol = 1e-4 * Math.max(1, Math.abs(b.scores[want]!));
      check(
        id === want || Math.abs(b.scores[id]! - b.scores[want]!) <= 2 * tol,
        `${model.name} query ${i} slot ${j}: ${id}, brute force ${want}`,
      );
    }
  }
  bruteS.push(round2((BRUTE_SAMPLE / (performance.now() - t0)) * 1000));
  for (let i = 0; i < PREDICT_QUERIES; i++) {
    for (let j = 0; j < first!.counts[i]!; j++) {
      const e = first!.ids[i * K + j]!;
      const h = queries[3 * i]!;
      const t = queries[3 * i + 2]!;
      check(!filter.has(h === ASKED ? e : h, queries[3 * i + 1]!, t === ASKED ? e : t), 'no known triple predicted');
    }
  }
  const name = `predict top ${K} ${model.name} (dim ${DIM}, ${label}, 1 thread)`;
  cases.push(
    completed(
      name,
      'predict',
      'queries/s',
      'higher',
      samples,
      { ...params, backend },
      {
        sameEveryRun: true,
        matchesBruteForce: BRUTE_SAMPLE,
        bandedPerQuery: round2(banded),
      },
    ),
  );
  cases.push(
    completed(
      `filtered ranking ${model.name} (dim ${DIM}, ${label}, 1 thread)`,
      'predict',
      'queries/s',
      'higher',
      rankS,
      { ...params, queries: PREDICT_QUERIES, triples: triples.length / 3, as: 'rankQueries, tail and head per triple' },
      {},
    ),
  );
  cases.push(
    completed(
      `brute-force JS top ${K} ${model.name} (dim ${DIM}, ${label}, 1 thread)`,
      'predict',
      'queries/s',
      'higher',
      bruteS,
      { ...params, queries: BRUTE_SAMPLE, as: 'JS block kernels over every entity, known dropped, full sort' },
      {},
    ),
  );
  return { cases, perSecond: cases[0]!.state === 'completed' ? cases[0]!.median : null };
}

/** The group's cases and figures (see the module comment). */
export async function runPredict(
  dataset: Dataset,
  filter: FilterIndex,
  runs: number,
  log: (m: string) => void,
): Promise<{
  cases: CaseResult[];
  figures: Record<string, number | null>;
  ratios: Record<string, number | null>;
  notes: string[];
}> {
  const cases: CaseResult[] = [];
  const notes: string[] = [];
  const figures: Record<string, number | null> = {};
  const ratios: Record<string, number | null> = {};
  const sets: { label: string; model: KgeModel; tables: Tables; figure: string }[] = [];
  for (const name of ['complex', 'transe-l1']) {
    const model = createModel(name);
    sets.push({ label: 'random tables', model, tables: randomTables(model, dataset, 13), figure: name });
  }
  const dir = process.env['KGSHARD_BENCH_EMBEDDINGS'];
  if (dir !== undefined && dir !== '') {
    const emb = openEmbeddings(dir);
    check(emb.dim === DIM, `KGSHARD_BENCH_EMBEDDINGS: dim ${emb.dim}, the group measures dim ${DIM}`);
    const a = alignEmbeddings(emb, dataset.entities, dataset.relations);
    const on = emb.config.dataset?.name ?? 'an unrecorded dataset';
    const epochs = (emb.config['training'] as { epochs?: unknown } | undefined)?.epochs;
    notes.push(
      `predict, trained tables (KGSHARD_BENCH_EMBEDDINGS): ${emb.model} dim ${emb.dim} trained on ${on}` +
        `${typeof epochs === 'number' ? ` for ${epochs} epochs` : ''}, rows matched to ${dataset.name} by name`,
    );
    sets.push({
      label: 'trained tables',
      model: createModel(emb.model),
      tables: { entities: a.entityTable, relations: a.relationTable },
      figure: `${emb.model} trained`,
    });
  }
  for (const s of sets) {
    log(`predict ${s.model.name} (${s.label})`);
    const out = await predictCases(s.label, s.model, s.tables, dataset, filter, runs, log);
    cases.push(...out.cases);
    const [top, rank, brute] = out.cases.map((c) => (c.state === 'completed' ? c.median : null));
    const key = s.figure === 'complex' ? 'predict_queries_per_s' : `predict_queries_per_s ${s.figure}`;
    figures[key] = out.perSecond;
    ratios[`predict / filtered ranking, ${s.figure}`] = top && rank ? round2(top / rank) : null;
    ratios[`predict / brute-force JS, ${s.figure}`] = top && brute ? round2(top / brute) : null;
  }
  return { cases, figures, ratios, notes };
}
