/**
 * Filtered link prediction: for every query triple (h, r, t), rank the true
 * tail among all entities for (h, r, ?) and the true head among all entities
 * for (?, r, t), leaving out every *other* entity that forms a known true
 * triple (a {@link FilterIndex}, normally train + valid + test), and report
 * MRR, MR and Hits@1/3/10 for tails, heads and both (the mean over the
 * 2 × |queries| ranks, as the PyTorch reference `torch_kge.py` does).
 *
 * ## The rank and its ties
 * Among the competitors (all entities except the target and the filtered
 * ones), let `above` count the scores higher than the target's and `tied`
 * those equal to it. The default tie rule, `'mean'`, is the reference's and
 * PyKEEN's "realistic" rank, the mean of the optimistic and the pessimistic
 * rank (the expected rank under a random order of the tied entities):
 *
 *   mean:        rank = 1 + above + tied / 2
 *   pessimistic: rank = 1 + above + tied
 *   optimistic:  rank = 1 + above          (flatters a model that scores everything alike; offered for comparison only)
 *
 * A NaN score is never in the target's favour: a NaN competitor counts as
 * above the target, and a NaN target is ranked last among its competitors.
 * Ranks are float64 (the mean rule gives halves).
 *
 * ## Scores
 * The target's score is read from the same block output its competitors'
 * scores come from, so a ranking compares numbers from one kernel. Two
 * backends compute them:
 *
 * - `'js'`: the model's own blocked kernels (`scoreTails` / `scoreHeads`),
 *   float64, for any model: `batch` queries per block against chunks of
 *   `chunk` candidate rows, so a chunk of entity rows is reused from cache
 *   by every query of the block.
 * - `'wasm'`: the WebAssembly SIMD128 kernels of `wasm/kernels.wat`,
 *   float32, for a model with a query plan (`model.queryPlan`: every
 *   built-in model has one, see `wasm/plan.ts`): the tail and head queries of `batch` triples against every entity in one
 *   call, over a copy of the entity table made when the ranker is created.
 *
 * `'auto'` (the default) picks `'wasm'` when the model has a query plan and
 * the runtime has WebAssembly SIMD, else `'js'`. The two agree to float32
 * rounding; ranks agree unless two scores are closer than that.
 *
 * ## Threads
 * `rankQueries` is what every thread runs. `evaluate` runs it over a Piscina
 * pool: tasks are ranges of queries; workers attach the entity and relation
 * tables, the filter, the queries and the output ranks in place from
 * SharedArrayBuffers named by an {@link EvalHandle} (in `workerData` of a
 * pool `evaluate` creates, in each task for a pool the caller passes), and
 * write their ranks into a shared Float64Array. With `workers` 0 or 1 (and
 * no `pool`) it runs in the calling thread, with the same code.
 *
 * ## Speed
 * Measured on the 2-core EPYC, Node 20 (`node dist/bench/eval.js`, medians
 * of 3 on a quiet machine): the full filtered evaluation of the built-in
 * WordNet test split (3,000 triples, both directions, 38,189 entities,
 * 112,912 known triples) at dim 200 with random embeddings, 2 workers, takes
 * 2.1 s for DistMult, 3.4 s for ComplEx and 2.9 s for TransE (L1), pool
 * start-up included. The WASM kernels reach 32-37 GFLOP/s per thread (dot,
 * L1, L2; RotatE 19), the models' JS kernels about 1.6, which would need
 * 35-100 s for the same evaluation.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { badHandle, dimMismatch, invalidArgument, outOfRange } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { checkTriples, FilterIndex, type FilterHandle, type FilterSide } from './filter.js';
import { newBlock, type Block, type KgeModel } from './model.js';
import { createModel } from './models/index.js';
import { WasmScorer } from './wasm/scorer.js';

export type TieRule = 'mean' | 'pessimistic' | 'optimistic';
export type EvalBackend = 'auto' | 'js' | 'wasm';

const TIE_FACTOR: Readonly<Record<TieRule, number>> = { mean: 0.5, pessimistic: 1, optimistic: 0 };

/** Default triples per block: 32 for WASM (64 query rows), 16 for JS. */
const WASM_BATCH = 32;
const JS_BATCH = 16;
/** Default candidate rows per JS chunk (256 rows of dim 200 floats: 200 KB, in L2). */
const JS_CHUNK = 256;
/** Largest score scratch per ranker: batch is lowered so that 2 × batch rows of all entities fit. */
const SCRATCH_BYTES = 64 * 1024 * 1024;
const MAX_BATCH = 4096;
const MAX_CHUNK = 1 << 20;

// ---------------------------------------------------------------- ranker

export interface RankerOptions {
  /** The model; each thread needs its own model object (models hold scratch). */
  readonly model: KgeModel;
  /** The model rank (see `model.ts`). */
  readonly dim: number;
  /** filter.numEntities rows of the model's entity width. Read in place (JS) or copied once at creation (WASM). */
  readonly entities: Float32Array;
  /** filter.numRelations rows of the model's relation width. Read in place. */
  readonly relations: Float32Array;
  /** The known true triples; also fixes the entity and relation counts. */
  readonly filter: FilterIndex;
  /** Default `'mean'`. */
  readonly ties?: TieRule;
  /** Default `'auto'`. */
  readonly backend?: EvalBackend;
  /** Triples per block (default 32 for WASM, 16 for JS; lowered to keep the score scratch within 64 MiB). */
  readonly batch?: number;
  /** Candidate rows per chunk, JS backend (default 256). */
  readonly chunk?: number;
}

interface Checked {
  readonly model: KgeModel;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
  readonly ties: TieRule;
  readonly backend: EvalBackend;
  readonly batch: number | undefined;
  readonly chunk: number;
}

function checkOptionalInt(where: string, field: string, v: unknown, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'a positive integer');
  if (v < 1 || v > max) throw outOfRange(where, field, v, 1, max);
  return v;
}

/** Every check `createRanker` makes, without allocating anything: shared with `evaluate`. */
function checkRankerOptions(where: string, o: RankerOptions): Checked {
  if (o === null || typeof o !== 'object') throw invalidArgument(where, 'options', o, 'an object');
  const model = o.model;
  if (model === null || typeof model !== 'object' || typeof model.shapes !== 'function' || typeof model.scoreTails !== 'function' || typeof model.scoreHeads !== 'function') {
    throw invalidArgument(where, 'model', model, 'a KgeModel (createModel or defineModel)');
  }
  const { entityWidth, relationWidth } = model.shapes(o.dim);
  if (!(o.filter instanceof FilterIndex)) throw invalidArgument(where, 'filter', o.filter, 'a FilterIndex (FilterIndex.build, fromDataset or attach)');
  const ne = o.filter.numEntities;
  const nr = o.filter.numRelations;
  if (!(o.entities instanceof Float32Array)) throw invalidArgument(where, 'entities', o.entities, 'a Float32Array');
  if (!(o.relations instanceof Float32Array)) throw invalidArgument(where, 'relations', o.relations, 'a Float32Array');
  const shape = `${model.name} at dim ${o.dim}`;
  if (o.entities.length !== ne * entityWidth) {
    throw dimMismatch(`${where} (${shape})`, `entities (${ne} entities x ${entityWidth} floats)`, ne * entityWidth, o.entities.length);
  }
  if (o.relations.length !== nr * relationWidth) {
    throw dimMismatch(`${where} (${shape})`, `relations (${nr} relations x ${relationWidth} floats)`, nr * relationWidth, o.relations.length);
  }
  const ties = o.ties ?? 'mean';
  if (!Object.hasOwn(TIE_FACTOR, ties)) throw invalidArgument(where, 'ties', ties, "'mean', 'pessimistic' or 'optimistic'");
  const backend = o.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'js' && backend !== 'wasm') throw invalidArgument(where, 'backend', backend, "'auto', 'js' or 'wasm'");
  const plan = model.queryPlan;
  if (backend === 'wasm' && plan === undefined) {
    throw invalidArgument(where, 'backend', backend, `'auto' or 'js' for model ${JSON.stringify(model.name)} (the WASM kernels need a queryPlan, which the built-in models have)`);
  }
  if (plan !== undefined && entityWidth % plan.parts !== 0) {
    throw invalidArgument(where, 'model.queryPlan.parts', plan.parts, `a divisor of the entity width (${entityWidth} floats at dim ${o.dim})`);
  }
  const batch = checkOptionalInt(where, 'batch', o.batch, MAX_BATCH);
  const chunk = checkOptionalInt(where, 'chunk', o.chunk, MAX_CHUNK) ?? JS_CHUNK;
  return { model, dim: o.dim, entityWidth, relationWidth, ties, backend, batch, chunk };
}

/**
 * The per-thread ranking state: the tables, the filter and every scratch
 * buffer, so that ranking allocates nothing per query. Make one per thread
 * and per evaluation with {@link createRanker}; not thread-safe.
 */
export class Ranker {
  /** The backend in use. */
  readonly backend: 'js' | 'wasm';
  readonly ties: TieRule;
  /** Triples per block. */
  readonly batch: number;
  readonly numEntities: number;
  readonly numRelations: number;
  readonly model: KgeModel;
  readonly dim: number;

  private readonly E: Float32Array;
  private readonly R: Float32Array;
  private readonly ew: number;
  private readonly rw: number;
  private readonly filter: FilterIndex;
  private readonly tieFactor: number;
  // WASM backend
  private readonly scorer: WasmScorer | null;
  // JS backend
  private readonly chunk: number;
  private readonly tailBlock: Block;
  private readonly headBlock: Block;
  private readonly out: Float64Array;
  private readonly rows: Float64Array;

  /** @internal use {@link createRanker}. */
  constructor(o: RankerOptions, c: Checked) {
    this.model = c.model;
    this.dim = c.dim;
    this.E = o.entities;
    this.R = o.relations;
    this.ew = c.entityWidth;
    this.rw = c.relationWidth;
    this.filter = o.filter;
    this.numEntities = o.filter.numEntities;
    this.numRelations = o.filter.numRelations;
    this.ties = c.ties;
    this.tieFactor = TIE_FACTOR[c.ties];
    const n = this.numEntities;
    const plan = c.backend === 'js' ? undefined : c.model.queryPlan;
    let scorer: WasmScorer | null = null;
    let batch = 0;
    if (plan !== undefined) {
      batch = Math.max(1, Math.min(c.batch ?? WASM_BATCH, Math.floor(SCRATCH_BYTES / (8 * n))));
      scorer = WasmScorer.create(plan, n, c.dim, c.entityWidth, 2 * batch);
      if (scorer === null && c.backend === 'wasm') {
        throw invalidArgument('createRanker', 'backend', 'wasm', "'auto' or 'js' here: WebAssembly SIMD is unavailable or the tables exceed a 4 GiB memory");
      }
      scorer?.loadEntities(o.entities);
    }
    if (scorer === null) batch = Math.max(1, Math.min(c.batch ?? JS_BATCH, Math.floor(SCRATCH_BYTES / (16 * n))));
    this.scorer = scorer;
    this.backend = scorer === null ? 'js' : 'wasm';
    this.batch = batch;
    this.chunk = Math.min(c.chunk, n);
    const jsBatch = scorer === null ? batch : 0;
    const tb = newBlock();
    const hb = newBlock();
    const relOffs = new Int32Array(jsBatch);
    const candOffs = new Int32Array(scorer === null ? this.chunk : 0);
    for (const [b, entOffs] of [[tb, new Int32Array(jsBatch)], [hb, new Int32Array(jsBatch)]] as const) {
      b.dim = c.dim;
      b.ent = o.entities;
      b.entOffs = entOffs;
      b.rel = o.relations;
      b.relOffs = relOffs;
      b.cand = o.entities;
      b.candOffs = candOffs;
    }
    this.tailBlock = tb;
    this.headBlock = hb;
    this.out = new Float64Array(jsBatch * (scorer === null ? this.chunk : 0));
    this.rows = new Float64Array(2 * jsBatch * (scorer === null ? n : 0));
  }

  /**
   * Rank queries [start, end) of `queries`; write query i's tail rank to
   * `tailRanks[i]` and its head rank to `headRanks[i]`. Everything is
   * checked by `rankQueries` first; this loop allocates nothing and never throws.
   */
  rankUnchecked(queries: Int32Array, start: number, end: number, tailRanks: Float64Array, headRanks: Float64Array): void {
    for (let s = start; s < end; s += this.batch) {
      const b = Math.min(this.batch, end - s);
      if (this.scorer !== null) this.wasmBlock(queries, s, b, tailRanks, headRanks);
      else this.jsBlock(queries, s, b, tailRanks, headRanks);
    }
  }

  private wasmBlock(queries: Int32Array, s: number, b: number, tailRanks: Float64Array, headRanks: Float64Array): void {
    const sc = this.scorer!;
    const { E, R, ew, rw, dim } = this;
    const plan = sc.plan;
    const q = sc.q;
    const rf = sc.rowFloats;
    const im = sc.imFloats;
    for (let i = 0; i < b; i++) {
      const x = 3 * (s + i);
      const h = queries[x]!;
      const r = queries[x + 1]!;
      const t = queries[x + 2]!;
      plan.query(true, E, h * ew, R, r * rw, dim, q, i * rf, im);
      plan.query(false, E, t * ew, R, r * rw, dim, q, (b + i) * rf, im);
    }
    sc.scoreAll(2 * b);
    const scores = sc.scores;
    const stride = sc.scoreStride;
    for (let i = 0; i < b; i++) {
      const x = 3 * (s + i);
      const h = queries[x]!;
      const r = queries[x + 1]!;
      const t = queries[x + 2]!;
      let base = i * stride;
      let tgt = scores[base + t]!;
      sc.count(i, tgt);
      tailRanks[s + i] = this.rankOf(scores, base, t, tgt, sc.lt, sc.eq, this.filter.tails, r, h);
      base = (b + i) * stride;
      tgt = scores[base + h]!;
      sc.count(b + i, tgt);
      headRanks[s + i] = this.rankOf(scores, base, h, tgt, sc.lt, sc.eq, this.filter.heads, r, t);
    }
  }

  private jsBlock(queries: Int32Array, s: number, b: number, tailRanks: Float64Array, headRanks: Float64Array): void {
    const { model, ew, rw, tailBlock: tb, headBlock: hb, out, rows } = this;
    const n = this.numEntities;
    for (let i = 0; i < b; i++) {
      const x = 3 * (s + i);
      tb.entOffs[i] = queries[x]! * ew;
      tb.relOffs[i] = queries[x + 1]! * rw;
      hb.entOffs[i] = queries[x + 2]! * ew;
    }
    tb.n = b;
    hb.n = b;
    const candOffs = tb.candOffs;
    const headBase = b * n;
    for (let c0 = 0; c0 < n; c0 += this.chunk) {
      const m = Math.min(this.chunk, n - c0);
      for (let j = 0; j < m; j++) candOffs[j] = (c0 + j) * ew;
      tb.m = m;
      hb.m = m;
      model.scoreTails(tb, out);
      for (let i = 0; i < b; i++) {
        const o = i * m;
        const d = i * n + c0;
        for (let j = 0; j < m; j++) rows[d + j] = out[o + j]!;
      }
      model.scoreHeads(hb, out);
      for (let i = 0; i < b; i++) {
        const o = i * m;
        const d = headBase + i * n + c0;
        for (let j = 0; j < m; j++) rows[d + j] = out[o + j]!;
      }
    }
    for (let i = 0; i < b; i++) {
      const x = 3 * (s + i);
      const h = queries[x]!;
      const r = queries[x + 1]!;
      const t = queries[x + 2]!;
      let base = i * n;
      tailRanks[s + i] = this.rankRow(rows, base, t, this.filter.tails, r, h);
      base = headBase + i * n;
      headRanks[s + i] = this.rankRow(rows, base, h, this.filter.heads, r, t);
    }
  }

  /** Count a float64 row against its target, then rank. */
  private rankRow(rows: Float64Array, base: number, target: number, side: FilterSide, r: number, key: number): number {
    const tgt = rows[base + target]!;
    const end = base + this.numEntities;
    let lt = 0;
    let eq = 0;
    for (let j = base; j < end; j++) {
      const v = rows[j]!;
      lt += +(v < tgt);
      eq += +(v === tgt);
    }
    return this.rankOf(rows, base, target, tgt, lt, eq, side, r, key);
  }

  /**
   * The rank of `target` given `lt` and `eq`, the scores below and equal to
   * its score `tgt` among *all* entities of the row (itself included): take
   * out the filtered entities (the known group of (r, key), except the
   * target) and the target itself, and count the rest as competitors.
   */
  private rankOf(s: Float32Array | Float64Array, base: number, target: number, tgt: number, lt: number, eq: number, side: FilterSide, r: number, key: number): number {
    let removed = 0;
    const g = side.find(r, key);
    if (g >= 0) {
      const values = side.values;
      const end = side.start[g + 1]!;
      for (let p = side.start[g]!; p < end; p++) {
        const x = values[p]!;
        if (x === target) continue;
        const v = s[base + x]!;
        lt -= +(v < tgt);
        eq -= +(v === tgt);
        removed++;
      }
    }
    // The target equals itself, unless its score is NaN (then it was counted nowhere).
    if (tgt === tgt) eq--;
    const competitors = this.numEntities - 1 - removed;
    // Higher, or incomparable (NaN): never in the target's favour.
    const above = competitors - lt - eq;
    return 1 + above + this.tieFactor * eq;
  }
}

/**
 * A ranker over `options.entities` and `options.relations` for
 * `options.model` at rank `options.dim`, filtered by `options.filter`.
 * Validates everything here: a table whose length is not
 * numEntities (numRelations) × the model's row width throws
 * `E_DIM_MISMATCH` naming the table and both lengths; a bad `dim`, `ties`,
 * `backend`, `batch` or `chunk` throws `E_INVALID_ARGUMENT` or
 * `E_OUT_OF_RANGE` naming the value. With the WASM backend the entity table
 * is copied now: a ranker serves one evaluation of one snapshot.
 */
export function createRanker(options: RankerOptions): Ranker {
  return new Ranker(options, checkRankerOptions('createRanker', options));
}

/**
 * Rank queries [start, end) of `queries` ((head, relation, tail) triplets):
 * query i's filtered tail rank goes to `tailRanks[i]`, its head rank to
 * `headRanks[i]` (absolute indices, so threads can share output arrays).
 * Checks the range, the output lengths and every id of the range first
 * (`E_OUT_OF_RANGE` naming the triple and the value), then ranks without
 * allocating. Any thread, with that thread's own ranker.
 */
export function rankQueries(ranker: Ranker, queries: Int32Array, start: number, end: number, tailRanks: Float64Array, headRanks: Float64Array): void {
  const where = 'rankQueries';
  if (!(ranker instanceof Ranker)) throw invalidArgument(where, 'ranker', ranker, 'a Ranker (createRanker)');
  if (!(queries instanceof Int32Array)) throw invalidArgument(where, 'queries', queries, 'an Int32Array of (head, relation, tail) triplets');
  if (queries.length % 3 !== 0) throw invalidArgument(where, 'queries.length', queries.length, 'a multiple of 3');
  const count = queries.length / 3;
  if (!Number.isInteger(start) || start < 0 || start > count) throw outOfRange(where, 'start', start, 0, count);
  if (!Number.isInteger(end) || end < start || end > count) throw outOfRange(where, 'end', end, start, count);
  for (const [field, a] of [['tailRanks', tailRanks], ['headRanks', headRanks]] as const) {
    if (!(a instanceof Float64Array)) throw invalidArgument(where, field, a, 'a Float64Array');
    if (a.length < end) throw invalidArgument(where, `${field}.length`, a.length, `at least end (${end})`);
  }
  checkTriples(where, 'queries', queries, ranker.numEntities, ranker.numRelations, start, end);
  ranker.rankUnchecked(queries, start, end, tailRanks, headRanks);
}

// ---------------------------------------------------------------- metrics

export interface RankMetrics {
  /** Number of ranks. */
  readonly count: number;
  /** Mean reciprocal rank. */
  readonly mrr: number;
  /** Mean rank. */
  readonly mr: number;
  /** Fraction of ranks <= 1, <= 3, <= 10 (a mean-rule rank of 1.5 is not a hit at 1). */
  readonly hits1: number;
  readonly hits3: number;
  readonly hits10: number;
}

export interface LinkPredictionMetrics {
  /** Ranks of the true tails of (h, r, ?). */
  readonly tail: RankMetrics;
  /** Ranks of the true heads of (?, r, t). */
  readonly head: RankMetrics;
  /** Both lists together (2 × queries ranks): what the reference reports. */
  readonly both: RankMetrics;
}

/**
 * MRR, MR and Hits@1/3/10 of a list of ranks. Each rank must be a finite
 * number >= 1, else `E_INVALID_ARGUMENT` names the first bad one; an empty
 * list is refused the same way.
 */
export function metricsFromRanks(ranks: ArrayLike<number>): RankMetrics {
  const acc = newAcc();
  addRanks(acc, 'metricsFromRanks', 'ranks', ranks);
  return finish(acc, 'metricsFromRanks', 'ranks');
}

/** Metrics of tail ranks, head ranks and both (the same checks as `metricsFromRanks`). */
export function linkPredictionMetrics(tailRanks: ArrayLike<number>, headRanks: ArrayLike<number>): LinkPredictionMetrics {
  const where = 'linkPredictionMetrics';
  const tail = newAcc();
  const head = newAcc();
  addRanks(tail, where, 'tailRanks', tailRanks);
  addRanks(head, where, 'headRanks', headRanks);
  const both = { n: tail.n + head.n, rr: tail.rr + head.rr, sum: tail.sum + head.sum, h1: tail.h1 + head.h1, h3: tail.h3 + head.h3, h10: tail.h10 + head.h10 };
  return { tail: finish(tail, where, 'tailRanks'), head: finish(head, where, 'headRanks'), both: finish(both, where, 'ranks') };
}

interface Acc {
  n: number;
  rr: number;
  sum: number;
  h1: number;
  h3: number;
  h10: number;
}

function newAcc(): Acc {
  return { n: 0, rr: 0, sum: 0, h1: 0, h3: 0, h10: 0 };
}

function addRanks(acc: Acc, where: string, field: string, ranks: ArrayLike<number>): void {
  if (ranks === null || typeof ranks !== 'object' || typeof ranks.length !== 'number') throw invalidArgument(where, field, ranks, 'an array of ranks');
  for (let i = 0; i < ranks.length; i++) {
    const x = ranks[i]!;
    if (typeof x !== 'number' || !(x >= 1) || x === Infinity) throw invalidArgument(where, `${field}[${i}]`, x, 'a finite rank >= 1');
    acc.n++;
    acc.rr += 1 / x;
    acc.sum += x;
    if (x <= 1) acc.h1++;
    if (x <= 3) acc.h3++;
    if (x <= 10) acc.h10++;
  }
}

function finish(acc: Acc, where: string, field: string): RankMetrics {
  if (acc.n === 0) throw invalidArgument(where, field, [], 'a non-empty list of ranks');
  const n = acc.n;
  return { count: n, mrr: acc.rr / n, mr: acc.sum / n, hits1: acc.h1 / n, hits3: acc.h3 / n, hits10: acc.h10 / n };
}

// ---------------------------------------------------------------- handles

/** A typed array's place in shared memory: plain and structured-cloneable. */
export interface TableRef {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** In elements. */
  readonly length: number;
}

export const EVAL_HANDLE_VERSION = 1;

/**
 * Everything a worker needs to rank a range of queries, by reference: sent
 * once (in `workerData`, or in each task for a caller's pool; it is small).
 * `id` is unique per evaluation, so a worker attaches once per evaluation.
 */
export interface EvalHandle {
  readonly kind: 'kge-eval';
  readonly version: number;
  readonly id: string;
  /** A built-in model name: `createModel(model)` rebuilds it in the worker. */
  readonly model: string;
  readonly dim: number;
  /** Float32. */
  readonly entities: TableRef;
  /** Float32. */
  readonly relations: TableRef;
  readonly filter: FilterHandle;
  /** Int32 (head, relation, tail) triplets. */
  readonly queries: TableRef;
  /** Float64, 2 × queries: tail ranks, then head ranks. Written by the workers. */
  readonly ranks: TableRef;
  readonly ties: TieRule;
  readonly backend: EvalBackend;
  readonly batch?: number;
  readonly chunk?: number;
}

/** A Piscina task of the evaluation: rank queries [start, end). `handle` when the pool's `workerData` lacks it. */
export interface EvalTask {
  readonly start: number;
  readonly end: number;
  readonly handle?: EvalHandle;
}

/** dist/workers/eval-task.js as a file URL string: the `filename` of evaluation tasks. */
export const EVAL_TASK_FILENAME = new URL('../../workers/eval-task.js', import.meta.url).href;

function refOf(where: string, field: string, a: Float32Array | Float64Array | Int32Array): TableRef {
  if (!(a.buffer instanceof SharedArrayBuffer)) {
    throw invalidArgument(where, field, a, `a ${a.constructor.name} over a SharedArrayBuffer, so worker threads can read it in place (or run with workers: 0)`);
  }
  return { buffer: a.buffer, byteOffset: a.byteOffset, length: a.length };
}

function viewOf<T>(where: string, field: string, ref: TableRef, ctor: { new (b: SharedArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T {
  if (ref === null || typeof ref !== 'object' || !(ref.buffer instanceof SharedArrayBuffer)) {
    throw badHandle(where, `handle.${field}.buffer must be a SharedArrayBuffer`, (ref as { buffer?: unknown } | null)?.buffer);
  }
  const size = ctor.BYTES_PER_ELEMENT;
  const { byteOffset: off, length: len } = ref;
  if (!Number.isInteger(off) || off < 0 || off % size !== 0 || !Number.isInteger(len) || len < 0 || off + len * size > ref.buffer.byteLength) {
    throw badHandle(where, `handle.${field} must lie inside its buffer (${ref.buffer.byteLength} bytes), aligned to ${size}`, { byteOffset: off, length: len });
  }
  return new ctor(ref.buffer, off, len);
}

/** What a thread attached from an {@link EvalHandle}: its ranker and the shared arrays. */
export class EvalAttachment {
  readonly id: string;
  readonly ranker: Ranker;
  readonly queries: Int32Array;
  readonly tailRanks: Float64Array;
  readonly headRanks: Float64Array;

  private constructor(id: string, ranker: Ranker, queries: Int32Array, ranks: Float64Array) {
    this.id = id;
    this.ranker = ranker;
    this.queries = queries;
    const q = queries.length / 3;
    this.tailRanks = ranks.subarray(0, q);
    this.headRanks = ranks.subarray(q, 2 * q);
  }

  /**
   * Wrap an evaluation's shared state in this thread: check the handle
   * (`E_BAD_HANDLE` naming the field), attach the filter, rebuild the model
   * by name, and create this thread's ranker (copying the entity table for
   * the WASM backend).
   */
  static attach(handle: EvalHandle): EvalAttachment {
    const where = 'EvalAttachment.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'kge-eval') {
      throw badHandle(where, "handle.kind must be 'kge-eval'", (handle as { kind?: unknown } | null)?.kind);
    }
    if (handle.version !== EVAL_HANDLE_VERSION) throw badHandle(where, `handle.version must be ${EVAL_HANDLE_VERSION}`, handle.version);
    if (typeof handle.id !== 'string') throw badHandle(where, 'handle.id must be a string', handle.id);
    const queries = viewOf(where, 'queries', handle.queries, Int32Array);
    const ranks = viewOf(where, 'ranks', handle.ranks, Float64Array);
    if (queries.length % 3 !== 0 || ranks.length !== (2 * queries.length) / 3) {
      throw badHandle(where, 'handle.ranks must hold 2 ranks per query triple', { queries: queries.length, ranks: ranks.length });
    }
    const ranker = createRanker({
      model: createModel(handle.model),
      dim: handle.dim,
      entities: viewOf(where, 'entities', handle.entities, Float32Array),
      relations: viewOf(where, 'relations', handle.relations, Float32Array),
      filter: FilterIndex.attach(handle.filter),
      ties: handle.ties,
      backend: handle.backend,
      ...(handle.batch === undefined ? {} : { batch: handle.batch }),
      ...(handle.chunk === undefined ? {} : { chunk: handle.chunk }),
    });
    return new EvalAttachment(handle.id, ranker, queries, ranks);
  }

  /** Rank queries [start, end) into the shared ranks; returns the backend used. */
  rank(start: number, end: number): 'js' | 'wasm' {
    rankQueries(this.ranker, this.queries, start, end, this.tailRanks, this.headRanks);
    return this.ranker.backend;
  }
}

// ---------------------------------------------------------------- evaluate

export interface EvaluateOptions {
  /** A model; with worker threads it must be built-in (workers rebuild it by name). */
  readonly model: KgeModel;
  readonly dim: number;
  /** Entity table (SharedArrayBuffer-backed for worker threads), e.g. a parameter server's `view(0)`. */
  readonly entities: Float32Array;
  /** Relation table (SharedArrayBuffer-backed for worker threads), e.g. `relationView()`. */
  readonly relations: Float32Array;
  /** Source of the queries (its `split`) and, unless `filter` is given, of the filter (train + valid + test). */
  readonly dataset?: Dataset;
  /** Default `'test'`. */
  readonly split?: 'test' | 'valid' | 'train';
  /** The known true triples; default `FilterIndex.fromDataset(dataset)`. */
  readonly filter?: FilterIndex;
  /** Query triples; default `dataset[split].triples`. */
  readonly queries?: Int32Array;
  /**
   * Worker threads: 0 or 1 (without `pool`) runs in the calling thread.
   * Default: the pool's `maxThreads` when `pool` is given (then it only
   * sizes the tasks), else `os.availableParallelism()`.
   */
  readonly workers?: number;
  /**
   * An existing Piscina pool to run the tasks on (any `filename`: tasks name
   * the evaluation worker file and carry the handle). Not destroyed here.
   * Without it, `evaluate` creates a pool of `workers` threads and destroys it.
   */
  readonly pool?: Piscina;
  /** Tasks per worker thread (default 4): more balances better, fewer costs less. */
  readonly tasksPerWorker?: number;
  readonly ties?: TieRule;
  readonly backend?: EvalBackend;
  readonly batch?: number;
  readonly chunk?: number;
}

export interface EvaluationResult extends LinkPredictionMetrics {
  /** Per-query ranks, in query order. */
  readonly ranks: { readonly tail: Float64Array; readonly head: Float64Array };
  readonly ties: TieRule;
  /** The backend the rankers used. */
  readonly backend: 'js' | 'wasm';
  /** Threads that ranked (1 when in the calling thread). */
  readonly threads: number;
  /** Wall time of the whole call, filter building and pool start-up included. */
  readonly seconds: number;
}

/**
 * Filtered link prediction over `queries` (or a dataset split), in the
 * calling thread or over a Piscina pool. Every argument is checked on the
 * calling thread before any work starts: table sizes against the model's
 * shapes (`E_DIM_MISMATCH`), query ids (`E_OUT_OF_RANGE`), and for worker
 * threads shared-memory tables and a built-in model (`E_INVALID_ARGUMENT`).
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const where = 'evaluate';
  const t0 = performance.now();
  if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
  const { dataset, pool } = options;
  const split = options.split ?? 'test';
  if (split !== 'test' && split !== 'valid' && split !== 'train') throw invalidArgument(where, 'split', split, "'test', 'valid' or 'train'");
  if (dataset === undefined && (options.filter === undefined || options.queries === undefined)) {
    throw invalidArgument(where, 'dataset', dataset, 'a Dataset, unless both filter and queries are given');
  }
  const filter = options.filter ?? FilterIndex.fromDataset(dataset!);
  let queries = options.queries ?? dataset![split].triples;
  if (!(queries instanceof Int32Array)) throw invalidArgument(where, 'queries', queries, 'an Int32Array of (head, relation, tail) triplets');
  const rankerOptions: RankerOptions = { ...pick(options), filter };
  const checked = checkRankerOptions(where, rankerOptions);
  checkTriples(where, 'queries', queries, filter.numEntities, filter.numRelations);
  const count = queries.length / 3;
  if (count === 0) throw invalidArgument(where, 'queries', queries, 'at least one triple');
  const tasksPerWorker = checkOptionalInt(where, 'tasksPerWorker', options.tasksPerWorker, 1 << 16) ?? 4;
  const poolSize = pool === undefined ? undefined : pool.options.maxThreads;
  const workers = options.workers ?? poolSize ?? availableParallelism();
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0 || workers > 1024) throw invalidArgument(where, 'workers', workers, 'an integer in [0, 1024]');

  if (workers <= 1 && pool === undefined) {
    const ranker = new Ranker(rankerOptions, checked);
    const tail = new Float64Array(count);
    const head = new Float64Array(count);
    ranker.rankUnchecked(queries, 0, count, tail, head);
    return result(tail, head, checked.ties, ranker.backend, 1, t0);
  }

  let modelName: string;
  try {
    const rebuilt = createModel(checked.model.name);
    if (rebuilt.constructor !== checked.model.constructor) throw new Error('not built-in');
    modelName = checked.model.name;
  } catch {
    throw invalidArgument(where, 'model', checked.model.name, 'a built-in model (createModel) when ranking on worker threads: workers rebuild it by name; run a user-defined model with workers: 0');
  }
  if (!(queries.buffer instanceof SharedArrayBuffer)) {
    const shared = new Int32Array(new SharedArrayBuffer(queries.byteLength));
    shared.set(queries);
    queries = shared;
  }
  const ranks = new Float64Array(new SharedArrayBuffer(16 * count));
  const handle: EvalHandle = {
    kind: 'kge-eval',
    version: EVAL_HANDLE_VERSION,
    id: randomUUID(),
    model: modelName,
    dim: checked.dim,
    entities: refOf(where, 'entities', options.entities),
    relations: refOf(where, 'relations', options.relations),
    filter: filter.handle,
    queries: refOf(where, 'queries', queries),
    ranks: refOf(where, 'ranks', ranks),
    ties: checked.ties,
    backend: checked.backend,
    ...(options.batch === undefined ? {} : { batch: options.batch }),
    ...(options.chunk === undefined ? {} : { chunk: options.chunk }),
  };
  const threads = Math.max(1, workers);
  // Ranges in whole blocks: a task of a multiple of the batch wastes no block.
  const unit = checked.batch ?? WASM_BATCH;
  const size = Math.max(1, Math.ceil(count / (threads * tasksPerWorker) / unit)) * unit;
  const ranges: [number, number][] = [];
  for (let s = 0; s < count; s += size) ranges.push([s, Math.min(count, s + size)]);

  let own: Piscina | undefined;
  let runner: Piscina;
  if (pool !== undefined) runner = pool;
  else {
    own = new Piscina({ filename: EVAL_TASK_FILENAME, minThreads: threads, maxThreads: threads, workerData: { evalHandle: handle } });
    runner = own;
  }
  let backends: string[];
  try {
    // Each worker writes its ranks into `ranks` in place; a task's result
    // message is sent after its writes, so they are visible once it resolves.
    backends = await Promise.all(
      ranges.map(([start, end]) =>
        own !== undefined
          ? (runner.run({ start, end } satisfies EvalTask) as Promise<string>)
          : (runner.run({ start, end, handle } satisfies EvalTask, { filename: EVAL_TASK_FILENAME }) as Promise<string>),
      ),
    );
  } finally {
    if (own !== undefined) await own.destroy();
  }
  const backend = backends.every((b) => b === 'wasm') ? 'wasm' : 'js';
  return result(ranks.slice(0, count), ranks.slice(count), checked.ties, backend, threads, t0);
}

function pick(o: EvaluateOptions): Omit<RankerOptions, 'filter'> {
  return {
    model: o.model,
    dim: o.dim,
    entities: o.entities,
    relations: o.relations,
    ...(o.ties === undefined ? {} : { ties: o.ties }),
    ...(o.backend === undefined ? {} : { backend: o.backend }),
    ...(o.batch === undefined ? {} : { batch: o.batch }),
    ...(o.chunk === undefined ? {} : { chunk: o.chunk }),
  };
}

function result(tail: Float64Array, head: Float64Array, ties: TieRule, backend: 'js' | 'wasm', threads: number, t0: number): EvaluationResult {
  const m = linkPredictionMetrics(tail, head);
  return { ...m, ranks: { tail, head }, ties, backend, threads, seconds: (performance.now() - t0) / 1000 };
}
