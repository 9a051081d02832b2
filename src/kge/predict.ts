/**
 * Predictions: for a query (h, r, ?) the entities ranked as its tail, for
 * (?, r, t) the entities ranked as its head, best first, top k.
 *
 * ## Queries
 * Queries are (head, relation, tail) triplets of ids in an `Int32Array`,
 * with the side asked for written {@link ASKED} (-1): `(h, r, -1)` asks for
 * tails, `(-1, r, t)` for heads. A batch may mix both.
 *
 * ## Scores and order
 * The scores are the evaluation's (see `eval/ranker.ts`): the WebAssembly
 * SIMD kernels of `wasm/kernels.wat` through the model's query plan
 * (`'wasm'`, float32; for the `dot` plans of DistMult and ComplEx in two
 * exact passes, as the ranker does: int16 scores of every entity, then
 * float32 scores of only the entities that can reach the top k), or the
 * model's JavaScript block kernels (`'js'`, float64, any model). `'auto'`
 * picks `'wasm'` when the model has a query plan and the runtime has SIMD.
 * The two agree to float32 rounding.
 *
 * Higher scores come first; equal scores by ascending entity id; NaN
 * scores last (see `topk.ts`). The top k is selected with a bounded heap,
 * without sorting every entity.
 *
 * ## The filter ("remove known triples")
 * With a {@link FilterIndex} (normally a dataset's train + valid + test,
 * `FilterIndex.fromDataset`; or any splits, `FilterIndex.build`), every
 * entity that completes the query to a known triple is left out, as
 * PyKEEN's `remove_known` does: what is left is what the model predicts
 * beyond what the data already says. Nothing else is left out: the query's
 * own entity stays a candidate ((h, r, h) is a prediction like any other
 * unless it is known), and there is no target to keep, unlike in
 * evaluation. `filtered[i]` counts the entities left out of query i; to
 * hold out a split (say, to see which test triples a model would have
 * predicted), build the filter without it.
 *
 * ## Threads and allocation
 * A {@link Predictor} holds its tables (the WASM backend copies the entity
 * table at creation: a predictor serves one snapshot), its scratch and its
 * heap; one per thread, not thread-safe. `predictInto` allocates nothing.
 */
import { dimMismatch, invalidArgument, outOfRange } from '../errors.js';
import { FilterIndex } from './filter.js';
import { newBlock, type Block, type KgeModel } from './model.js';
import { TopK, selectScored } from './topk.js';
import { WasmScorer } from './wasm/scorer.js';

/** The id that marks the side a query asks for. */
export const ASKED = -1;

export type PredictBackend = 'auto' | 'js' | 'wasm';

/** Default query rows per block: WASM (scores of 64 rows over every entity) and JS. */
const WASM_ROWS = 64;
const JS_ROWS = 16;
/** Candidate rows per JS chunk, as in evaluation. */
const JS_CHUNK = 256;
/** Largest score scratch per predictor: rows are lowered so that they fit. */
const SCRATCH_BYTES = 64 * 1024 * 1024;
const MAX_ROWS = 4096;
/** Largest k. */
export const MAX_TOPK = 1 << 20;
/** Two passes only while they score at most 1 / MAX_BAND_DIV of the entities per query. */
const MAX_BAND_DIV = 10;

export interface PredictorOptions {
  /** The model; each thread needs its own model object (models hold scratch). */
  readonly model: KgeModel;
  /** The model rank (see `model.ts`). */
  readonly dim: number;
  /**
   * Entity rows of the model's entity width; their count is the number of
   * entities. Copied once (WASM) or read in place (JS).
   */
  readonly entities: Float32Array;
  /** Relation rows of the model's relation width. Read in place. */
  readonly relations: Float32Array;
  /** Known triples to leave out (see the module comment); its counts must be the tables'. */
  readonly filter?: FilterIndex | null;
  /** Default `'auto'`. */
  readonly backend?: PredictBackend;
  /** Query rows per block (default 64 WASM, 16 JS; lowered to keep the score scratch within 64 MiB). */
  readonly batch?: number;
}

/**
 * The top k of each query: query i's p-th best entity is
 * `ids[i * k + p]` with score `scores[i * k + p]`, for p < `counts[i]`;
 * slots beyond hold -1 and NaN. A query has fewer than k results only
 * when fewer entities are left to rank.
 */
export interface TopKResult {
  /** Number of queries. */
  readonly queries: number;
  /** Slots per query. */
  readonly k: number;
  readonly ids: Int32Array;
  readonly scores: Float64Array;
  readonly counts: Int32Array;
}

export interface Predictions extends TopKResult {
  /** Entities the filter left out, per query (0 without a filter). */
  readonly filtered: Int32Array;
}

/** Room for `queries` queries of `k` results, for `predictInto`. */
export function allocatePredictions(queries: number, k: number): Predictions {
  return {
    queries,
    k,
    ids: new Int32Array(queries * k).fill(-1),
    scores: new Float64Array(queries * k).fill(NaN),
    counts: new Int32Array(queries),
    filtered: new Int32Array(queries),
  };
}

interface Checked {
  readonly model: KgeModel;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
  readonly numEntities: number;
  readonly numRelations: number;
  readonly filter: FilterIndex | null;
  readonly backend: PredictBackend;
  readonly batch: number | undefined;
}

export function checkInt(where: string, field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'an integer');
  if (v < min || v > max) throw outOfRange(where, field, v, min, max);
  return v;
}

export function checkBackend(where: string, backend: unknown): PredictBackend {
  const b = backend ?? 'auto';
  if (b !== 'auto' && b !== 'js' && b !== 'wasm') throw invalidArgument(where, 'backend', b, "'auto', 'js' or 'wasm'");
  return b;
}

/** Every check `createPredictor` makes, before anything is allocated. */
function checkOptions(where: string, o: PredictorOptions): Checked {
  if (o === null || typeof o !== 'object') throw invalidArgument(where, 'options', o, 'an object');
  const model = o.model;
  if (
    model === null ||
    typeof model !== 'object' ||
    typeof model.shapes !== 'function' ||
    typeof model.scoreTails !== 'function' ||
    typeof model.scoreHeads !== 'function'
  ) {
    throw invalidArgument(where, 'model', model, 'a KgeModel (createModel or defineModel)');
  }
  const { entityWidth, relationWidth } = model.shapes(o.dim);
  if (!(o.entities instanceof Float32Array)) throw invalidArgument(where, 'entities', o.entities, 'a Float32Array');
  if (!(o.relations instanceof Float32Array)) throw invalidArgument(where, 'relations', o.relations, 'a Float32Array');
  const shape = `${model.name} at dim ${o.dim}`;
  if (o.entities.length === 0 || o.entities.length % entityWidth !== 0)
    throw invalidArgument(
      where,
      'entities.length',
      o.entities.length,
      `a positive multiple of ${entityWidth} (${shape})`,
    );
  if (o.relations.length === 0 || o.relations.length % relationWidth !== 0) {
    throw invalidArgument(
      where,
      'relations.length',
      o.relations.length,
      `a positive multiple of ${relationWidth} (${shape})`,
    );
  }
  const numEntities = o.entities.length / entityWidth;
  const numRelations = o.relations.length / relationWidth;
  const filter = o.filter ?? null;
  if (filter !== null) {
    if (!(filter instanceof FilterIndex))
      throw invalidArgument(where, 'filter', filter, 'a FilterIndex (FilterIndex.build or fromDataset) or null');
    if (filter.numEntities !== numEntities)
      throw dimMismatch(
        `${where} (${shape})`,
        `entities (filter.numEntities x ${entityWidth} floats)`,
        filter.numEntities * entityWidth,
        o.entities.length,
      );
    if (filter.numRelations !== numRelations) {
      throw dimMismatch(
        `${where} (${shape})`,
        `relations (filter.numRelations x ${relationWidth} floats)`,
        filter.numRelations * relationWidth,
        o.relations.length,
      );
    }
  }
  const backend = checkBackend(where, o.backend);
  const plan = model.queryPlan;
  if (backend === 'wasm' && plan === undefined) {
    throw invalidArgument(
      where,
      'backend',
      backend,
      `'auto' or 'js' for model ${JSON.stringify(model.name)} (the WASM kernels need a queryPlan)`,
    );
  }
  if (plan !== undefined && entityWidth % plan.parts !== 0) {
    throw invalidArgument(
      where,
      'model.queryPlan.parts',
      plan.parts,
      `a divisor of the entity width (${entityWidth} floats at dim ${o.dim})`,
    );
  }
  const batch = o.batch === undefined ? undefined : checkInt(where, 'batch', o.batch, 1, MAX_ROWS);
  return { model, dim: o.dim, entityWidth, relationWidth, numEntities, numRelations, filter, backend, batch };
}

const EMPTY: Int32Array = new Int32Array(0);

/**
 * One thread's prediction state: the tables, the filter, the scorer (WASM)
 * or the block scratch (JS), and the heap. Make one with
 * {@link createPredictor}; not thread-safe.
 */
export class Predictor {
  /** The backend in use. */
  readonly backend: 'js' | 'wasm';
  readonly model: KgeModel;
  readonly dim: number;
  readonly numEntities: number;
  readonly numRelations: number;
  readonly filter: FilterIndex | null;
  /** Query rows per block. */
  readonly batch: number;
  /** Entities scored in float32 in the second of two passes, and query rows so scored (WASM, `dot` plans). */
  get banded(): number {
    return this.scorer === null ? 0 : this.scorer.banded;
  }

  private readonly E: Float32Array;
  private readonly R: Float32Array;
  private readonly ew: number;
  private readonly rw: number;
  private readonly scorer: WasmScorer | null;
  private twoPass: boolean;
  private topk: TopK;
  // JS backend
  private readonly tailBlock: Block;
  private readonly headBlock: Block;
  /** Block slot of each tail (head) block query. */
  private readonly tailSlot: Int32Array;
  private readonly headSlot: Int32Array;
  private readonly out: Float64Array;
  private readonly rows: Float64Array;
  private readonly chunk: number;

  /** @internal use {@link createPredictor}. */
  constructor(o: PredictorOptions, c: Checked) {
    this.model = c.model;
    this.dim = c.dim;
    this.E = o.entities;
    this.R = o.relations;
    this.ew = c.entityWidth;
    this.rw = c.relationWidth;
    this.numEntities = c.numEntities;
    this.numRelations = c.numRelations;
    this.filter = c.filter;
    const n = c.numEntities;
    const plan = c.backend === 'js' ? undefined : c.model.queryPlan;
    let scorer: WasmScorer | null = null;
    let batch = 0;
    if (plan !== undefined) {
      batch = Math.max(1, Math.min(c.batch ?? WASM_ROWS, Math.floor(SCRATCH_BYTES / (4 * n))));
      scorer = WasmScorer.create(plan, n, c.dim, c.entityWidth, batch);
      if (scorer === null && c.backend === 'wasm') {
        throw invalidArgument(
          'createPredictor',
          'backend',
          'wasm',
          "'auto' or 'js' here: WebAssembly SIMD is unavailable or the tables exceed a 4 GiB memory",
        );
      }
      scorer?.loadEntities(o.entities);
    }
    if (scorer === null) batch = Math.max(1, Math.min(c.batch ?? JS_ROWS, Math.floor(SCRATCH_BYTES / (8 * n))));
    this.scorer = scorer;
    this.twoPass = scorer?.twoPass ?? false;
    this.backend = scorer === null ? 'js' : 'wasm';
    this.batch = batch;
    this.topk = new TopK(Math.min(n, 16));
    const jsRows = scorer === null ? batch : 0;
    this.chunk = Math.min(JS_CHUNK, n);
    const tb = newBlock();
    const hb = newBlock();
    const candOffs = new Int32Array(jsRows > 0 ? this.chunk : 0);
    for (const b of [tb, hb]) {
      b.dim = c.dim;
      b.ent = o.entities;
      b.entOffs = new Int32Array(jsRows);
      b.rel = o.relations;
      b.relOffs = new Int32Array(jsRows);
      b.cand = o.entities;
      b.candOffs = candOffs;
    }
    this.tailBlock = tb;
    this.headBlock = hb;
    this.tailSlot = new Int32Array(jsRows);
    this.headSlot = new Int32Array(jsRows);
    this.out = new Float64Array(jsRows > 0 ? jsRows * this.chunk : 0);
    this.rows = new Float64Array(jsRows * n);
  }

  /**
   * The top `k` entities of every query of `queries` (see the module
   * comment), `k` at most the number of entities (a larger k is lowered to
   * it). Checks every query first: `E_INVALID_ARGUMENT` for a query that
   * asks for neither or both sides, `E_OUT_OF_RANGE` naming the query and
   * the id.
   */
  predict(queries: Int32Array, k: number): Predictions {
    const where = 'Predictor.predict';
    const count = checkQueries(where, queries, this.numEntities, this.numRelations);
    const kk = Math.min(checkInt(where, 'k', k, 1, MAX_TOPK), this.numEntities);
    const out = allocatePredictions(count, kk);
    this.predictUnchecked(queries, 0, count, out);
    return out;
  }

  /**
   * Predict queries [start, end) of `queries` into `out` (slots of query i
   * at `i * out.k`, absolute indices), `out.k` results each. Checks the
   * range, `out` and the queries of the range, then predicts without
   * allocating (but for a heap larger than any before).
   */
  predictInto(queries: Int32Array, start: number, end: number, out: Predictions): void {
    const where = 'Predictor.predictInto';
    const count = checkQueries(where, queries, this.numEntities, this.numRelations, start, end);
    if (!Number.isInteger(start) || start < 0 || start > count) throw outOfRange(where, 'start', start, 0, count);
    if (!Number.isInteger(end) || end < start || end > count) throw outOfRange(where, 'end', end, start, count);
    checkResult(where, out, end, this.numEntities);
    this.predictUnchecked(queries, start, end, out);
  }

  /** The loop: checked by the callers, never throws. */
  private predictUnchecked(queries: Int32Array, start: number, end: number, out: Predictions): void {
    if (this.topk.capacity < out.k) this.topk = new TopK(out.k);
    for (let s = start; s < end; s += this.batch) {
      const rows = Math.min(this.batch, end - s);
      if (this.scorer !== null) this.wasmBlock(queries, s, rows, out);
      else this.jsBlock(queries, s, rows, out);
    }
  }

  private wasmBlock(queries: Int32Array, s: number, rows: number, out: Predictions): void {
    const sc = this.scorer!;
    const { E, R, ew, rw, dim } = this;
    const plan = sc.plan;
    const q = sc.q;
    const rf = sc.rowFloats;
    const im = sc.imFloats;
    for (let u = 0; u < rows; u++) {
      const x = 3 * (s + u);
      const tails = queries[x + 2] === ASKED;
      const e = tails ? queries[x]! : queries[x + 2]!;
      plan.query(tails, E, e * ew, R, queries[x + 1]! * rw, dim, q, u * rf, im);
    }
    const twoPass = this.twoPass && sc.prepareTwoPass(rows);
    if (twoPass) sc.scoreTwoPass(rows);
    else sc.scoreAll(rows);
    let scored = 0;
    for (let u = 0; u < rows; u++) {
      const i = s + u;
      const x = 3 * i;
      const tails = queries[x + 2] === ASKED;
      const r = queries[x + 1]!;
      const e = tails ? queries[x]! : queries[x + 2]!;
      let skip = EMPTY;
      let from = 0;
      let to = 0;
      const f = this.filter;
      if (f !== null) {
        const side = tails ? f.tails : f.heads;
        const g = side.find(r, e);
        if (g >= 0) {
          skip = side.values;
          from = side.start[g]!;
          to = side.start[g + 1]!;
        }
      }
      scored += selectScored(sc, twoPass, u, out.k, this.topk, skip, from, to);
      this.emit(out, i, to - from);
    }
    // A band wider than a tenth of the entities (scores that the int16 image cannot tell apart)
    // makes the second pass cost more than it saves: score in one pass from now on.
    if (twoPass && scored * MAX_BAND_DIV > rows * this.numEntities) this.twoPass = false;
  }

  private jsBlock(queries: Int32Array, s: number, rows: number, out: Predictions): void {
    const { model, ew, rw, tailBlock: tb, headBlock: hb, tailSlot, headSlot, rows: scores } = this;
    const n = this.numEntities;
    let nt = 0;
    let nh = 0;
    for (let u = 0; u < rows; u++) {
      const x = 3 * (s + u);
      const r = queries[x + 1]! * rw;
      if (queries[x + 2] === ASKED) {
        tb.entOffs[nt] = queries[x]! * ew;
        tb.relOffs[nt] = r;
        tailSlot[nt++] = u;
      } else {
        hb.entOffs[nh] = queries[x + 2]! * ew;
        hb.relOffs[nh] = r;
        headSlot[nh++] = u;
      }
    }
    tb.n = nt;
    hb.n = nh;
    const candOffs = tb.candOffs;
    const o = this.out;
    for (let c0 = 0; c0 < n; c0 += this.chunk) {
      const m = Math.min(this.chunk, n - c0);
      for (let j = 0; j < m; j++) candOffs[j] = (c0 + j) * ew;
      tb.m = m;
      hb.m = m;
      if (nt > 0) {
        model.scoreTails(tb, o);
        for (let i = 0; i < nt; i++) {
          const d = tailSlot[i]! * n + c0;
          for (let j = 0; j < m; j++) scores[d + j] = o[i * m + j]!;
        }
      }
      if (nh > 0) {
        model.scoreHeads(hb, o);
        for (let i = 0; i < nh; i++) {
          const d = headSlot[i]! * n + c0;
          for (let j = 0; j < m; j++) scores[d + j] = o[i * m + j]!;
        }
      }
    }
    for (let u = 0; u < rows; u++) {
      const i = s + u;
      const x = 3 * i;
      const tails = queries[x + 2] === ASKED;
      const r = queries[x + 1]!;
      const e = tails ? queries[x]! : queries[x + 2]!;
      let skip = EMPTY;
      let from = 0;
      let to = 0;
      const f = this.filter;
      if (f !== null) {
        const side = tails ? f.tails : f.heads;
        const g = side.find(r, e);
        if (g >= 0) {
          skip = side.values;
          from = side.start[g]!;
          to = side.start[g + 1]!;
        }
      }
      this.topk.selectRow(scores, u * n, n, out.k, skip, from, to);
      this.emit(out, i, to - from);
    }
  }

  /** Write the heap's selection as query i's results. */
  private emit(out: Predictions, i: number, filtered: number): void {
    const k = out.k;
    const off = i * k;
    const got = this.topk.drain(out.ids, out.scores, off);
    for (let p = got; p < k; p++) {
      out.ids[off + p] = -1;
      out.scores[off + p] = NaN;
    }
    out.counts[i] = got;
    out.filtered[i] = filtered;
  }
}

/**
 * Check prediction queries (see the module comment) [from, to) and return
 * how many `queries` holds. `E_INVALID_ARGUMENT` for a query asking for
 * neither side or both, `E_OUT_OF_RANGE` naming the id.
 */
export function checkQueries(
  where: string,
  queries: Int32Array,
  numEntities: number,
  numRelations: number,
  from = 0,
  to?: number,
): number {
  if (!(queries instanceof Int32Array))
    throw invalidArgument(where, 'queries', queries, 'an Int32Array of (head, relation, tail) triplets');
  if (queries.length % 3 !== 0) throw invalidArgument(where, 'queries.length', queries.length, 'a multiple of 3');
  const count = queries.length / 3;
  const end = Math.max(0, Math.min(to ?? count, count));
  for (let i = Math.max(0, from); i < end; i++) {
    const h = queries[3 * i]!;
    const r = queries[3 * i + 1]!;
    const t = queries[3 * i + 2]!;
    if ((h === ASKED) === (t === ASKED)) {
      throw invalidArgument(
        where,
        `queries[${3 * i}..${3 * i + 2}] (query ${i})`,
        [h, r, t],
        `(head, relation, -1) or (-1, relation, tail): exactly one side asked`,
      );
    }
    if (h !== ASKED && (h < 0 || h >= numEntities))
      throw outOfRange(where, `queries[${3 * i}] (head of query ${i})`, h, 0, numEntities - 1);
    if (r < 0 || r >= numRelations)
      throw outOfRange(where, `queries[${3 * i + 1}] (relation of query ${i})`, r, 0, numRelations - 1);
    if (t !== ASKED && (t < 0 || t >= numEntities))
      throw outOfRange(where, `queries[${3 * i + 2}] (tail of query ${i})`, t, 0, numEntities - 1);
  }
  return count;
}

/** Check a result record's shape for `end` queries. */
export function checkResult(where: string, out: TopKResult, end: number, maxK: number): void {
  if (out === null || typeof out !== 'object')
    throw invalidArgument(where, 'out', out, 'a result (allocatePredictions)');
  checkInt(where, 'out.k', out.k, 1, maxK);
  for (const [field, a, len, type] of [
    ['ids', out.ids, end * out.k, Int32Array],
    ['scores', out.scores, end * out.k, Float64Array],
    ['counts', out.counts, end, Int32Array],
    ['filtered', (out as Partial<Predictions>).filtered, end, Int32Array],
  ] as const) {
    if (a === undefined && field === 'filtered') continue;
    if (!(a instanceof type)) throw invalidArgument(where, `out.${field}`, a, `a ${type.name}`);
    if (a.length < len) throw invalidArgument(where, `out.${field}.length`, a.length, `at least ${len}`);
  }
}

/**
 * A predictor over `options.entities` and `options.relations` for
 * `options.model` at rank `options.dim`. Validates everything here: a
 * table whose length is not a multiple of the model's row width, or a
 * filter whose counts differ from the tables', throws naming the table;
 * a bad `backend` or `batch` throws naming the value.
 */
export function createPredictor(options: PredictorOptions): Predictor {
  return new Predictor(options, checkOptions('createPredictor', options));
}

/**
 * One call: a predictor for `options`, then the top `options.k` (default
 * 10) of every query of `options.queries`.
 */
export function predict(
  options: PredictorOptions & { readonly queries: Int32Array; readonly k?: number },
): Predictions {
  return createPredictor(options).predict(options.queries, options.k ?? 10);
}
