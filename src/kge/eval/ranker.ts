/**
 * The ranker: scores each query's candidates and turns the target's score
 * into a filtered rank. For a query triple (h, r, t) it ranks the true tail
 * among all entities for (h, r, ?) and the true head among all entities for
 * (?, r, t), leaving out every *other* entity that forms a known true triple
 * (a {@link FilterIndex}, normally train + valid + test).
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
 * - `'wasm'`: the WebAssembly SIMD128 kernels of `../wasm/kernels.wat`,
 *   float32, for a model with a query plan (`model.queryPlan`: every
 *   built-in model has one, see `../wasm/plan.ts`): the tail and head
 *   queries of `batch` triples against every entity in one call, over a
 *   copy of the entity table made when the ranker is created. For the `dot`
 *   plans (DistMult, ComplEx) in two exact passes: int16 scores of every
 *   query against every entity bound each float32 score, and only the
 *   entities that the bound cannot place against the target's float32 score
 *   are scored in float32 (see `WasmScorer`). The filter is applied after
 *   scoring: the counts over the whole row are corrected for the known true
 *   triples by placing each of them against the target.
 *
 * `'auto'` (the default) picks `'wasm'` when the model has a query plan and
 * the runtime has WebAssembly SIMD, else `'js'`. The two agree to float32
 * rounding; ranks agree unless two scores are closer than that.
 *
 * `rankQueries` is what every thread runs, each with its own ranker
 * (`pool.ts` runs it over worker threads).
 */
import { dimMismatch, invalidArgument, outOfRange } from '../../errors.js';
import { checkTriples, FilterIndex, type FilterSide } from '../filter.js';
import { newBlock, type Block, type KgeModel } from '../model.js';
import { WasmScorer } from '../wasm/scorer.js';

export type TieRule = 'mean' | 'pessimistic' | 'optimistic';
export type EvalBackend = 'auto' | 'js' | 'wasm';

const TIE_FACTOR: Readonly<Record<TieRule, number>> = { mean: 0.5, pessimistic: 1, optimistic: 0 };

/** Default triples per block: 32 for WASM (64 query rows), 16 for JS. */
export const WASM_BATCH = 32;
const JS_BATCH = 16;
/** Default candidate rows per JS chunk (256 rows of dim 200 floats: 200 KB, in L2). */
const JS_CHUNK = 256;
/** Two passes only while the band holds at most 1 / MAX_BAND_DIV of the entities per query row. */
const MAX_BAND_DIV = 10;
/** Largest score scratch per ranker: batch is lowered so that 2 × batch rows of all entities fit. */
const SCRATCH_BYTES = 64 * 1024 * 1024;
const MAX_BATCH = 4096;
const MAX_CHUNK = 1 << 20;

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

export function checkOptionalInt(where: string, field: string, v: unknown, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'a positive integer');
  if (v < 1 || v > max) throw outOfRange(where, field, v, 1, max);
  return v;
}

/** Every check `createRanker` makes, without allocating anything: shared with `evaluate`. */
export function checkRankerOptions(where: string, o: RankerOptions): Checked {
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
  if (!(o.filter instanceof FilterIndex))
    throw invalidArgument(where, 'filter', o.filter, 'a FilterIndex (FilterIndex.build, fromDataset or attach)');
  const ne = o.filter.numEntities;
  const nr = o.filter.numRelations;
  if (!(o.entities instanceof Float32Array)) throw invalidArgument(where, 'entities', o.entities, 'a Float32Array');
  if (!(o.relations instanceof Float32Array)) throw invalidArgument(where, 'relations', o.relations, 'a Float32Array');
  const shape = `${model.name} at dim ${o.dim}`;
  if (o.entities.length !== ne * entityWidth) {
    throw dimMismatch(
      `${where} (${shape})`,
      `entities (${ne} entities x ${entityWidth} floats)`,
      ne * entityWidth,
      o.entities.length,
    );
  }
  if (o.relations.length !== nr * relationWidth) {
    throw dimMismatch(
      `${where} (${shape})`,
      `relations (${nr} relations x ${relationWidth} floats)`,
      nr * relationWidth,
      o.relations.length,
    );
  }
  const ties = o.ties ?? 'mean';
  if (!Object.hasOwn(TIE_FACTOR, ties))
    throw invalidArgument(where, 'ties', ties, "'mean', 'pessimistic' or 'optimistic'");
  const backend = o.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'js' && backend !== 'wasm')
    throw invalidArgument(where, 'backend', backend, "'auto', 'js' or 'wasm'");
  const plan = model.queryPlan;
  if (backend === 'wasm' && plan === undefined) {
    throw invalidArgument(
      where,
      'backend',
      backend,
      `'auto' or 'js' for model ${JSON.stringify(model.name)} ` +
        '(the WASM kernels need a queryPlan, which the built-in models have)',
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
  /** Whether blocks may use the scorer's two passes (turned off for good when the band is too wide). */
  private twoPass = true;
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
        throw invalidArgument(
          'createRanker',
          'backend',
          'wasm',
          "'auto' or 'js' here: WebAssembly SIMD is unavailable or the tables exceed a 4 GiB memory",
        );
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
    for (const [b, entOffs] of [
      [tb, new Int32Array(jsBatch)],
      [hb, new Int32Array(jsBatch)],
    ] as const) {
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
   * checked by `rankQueries` first; this loop never throws, and allocates
   * only the range's (WASM) query order, once per call.
   */
  rankUnchecked(
    queries: Int32Array,
    start: number,
    end: number,
    tailRanks: Float64Array,
    headRanks: Float64Array,
  ): void {
    if (this.scorer !== null) {
      this.wasmRange(queries, start, end, tailRanks, headRanks);
      return;
    }
    for (let s = start; s < end; s += this.batch) {
      const b = Math.min(this.batch, end - s);
      this.jsBlock(queries, s, b, tailRanks, headRanks);
    }
  }

  /**
   * The WASM backend over a range. Its 2 (end - start) query rows (a tail
   * query (h, r) and a head query (r, t) per triple) are sorted by (relation,
   * entity, direction), and each distinct one is scored once, in blocks of
   * up to 2 × batch rows, for every triple that asks it (test triples often
   * share a head and relation, or a relation and tail).
   */
  private wasmRange(
    queries: Int32Array,
    start: number,
    end: number,
    tailRanks: Float64Array,
    headRanks: Float64Array,
  ): void {
    const sc = this.scorer!;
    const { E, R, ew, rw, dim } = this;
    const plan = sc.plan;
    const ne = this.numEntities;
    const rows = 2 * (end - start);
    const keys = new Float64Array(rows);
    const order = new Int32Array(rows);
    // A row m is triple start + (m >> 1), its tail query when m is even. Distinct keys for distinct
    // queries while 2 ne nr stays exact in a double; otherwise every row is its own key.
    const exact = 2 * ne * this.numRelations <= Number.MAX_SAFE_INTEGER;
    for (let m = 0; m < rows; m++) {
      const x = 3 * (start + (m >> 1));
      const e = (m & 1) === 0 ? queries[x]! : queries[x + 2]!;
      keys[m] = exact ? (queries[x + 1]! * ne + e) * 2 + (m & 1) : m;
      order[m] = m;
    }
    order.sort((a, b) => keys[a]! - keys[b]!);
    const slots = sc.maxQueries - (sc.maxQueries % 2);
    const first = new Int32Array(slots + 1);
    const q = sc.q;
    const rf = sc.rowFloats;
    const im = sc.imFloats;
    let p = 0;
    while (p < rows) {
      // Fill a block with distinct query rows; first[slot] is where slot's triples start in `order`.
      let nq = 0;
      while (p < rows && nq < slots) {
        const m = order[p]!;
        const x = 3 * (start + (m >> 1));
        const tails = (m & 1) === 0;
        const e = tails ? queries[x]! : queries[x + 2]!;
        plan.query(tails, E, e * ew, R, queries[x + 1]! * rw, dim, q, nq * rf, im);
        first[nq++] = p;
        const k = keys[m]!;
        do p++;
        while (p < rows && keys[order[p]!] === k);
      }
      first[nq] = p;
      const twoPass = this.twoPass && sc.prepareTwoPass(nq);
      const banded = sc.banded;
      const ranked = sc.bandRows;
      if (twoPass) sc.scoreTwoPass(nq);
      else sc.scoreAll(nq);
      const scores = sc.scores;
      const stride = sc.scoreStride;
      for (let slot = 0; slot < nq; slot++) {
        for (let u = first[slot]!; u < first[slot + 1]!; u++) {
          const m = order[u]!;
          const i = start + (m >> 1);
          const x = 3 * i;
          const h = queries[x]!;
          const r = queries[x + 1]!;
          const t = queries[x + 2]!;
          const tails = (m & 1) === 0;
          const target = tails ? t : h;
          const key = tails ? h : t;
          const side = tails ? this.filter.tails : this.filter.heads;
          let rank: number;
          if (twoPass) {
            sc.rankRow(slot, target);
            rank = this.rankClassified(sc, target, side, r, key);
          } else {
            const base = slot * stride;
            const tgt = scores[base + target]!;
            sc.count(slot, tgt);
            rank = this.rankOf(scores, base, target, tgt, sc.lt, sc.eq, side, r, key);
          }
          if (tails) tailRanks[i] = rank;
          else headRanks[i] = rank;
        }
      }
      // A band wider than a tenth of the entities (a table whose scale one outlier row sets, say) makes
      // the second pass cost more than the first saves: rank the rest of this evaluation in one pass.
      if (twoPass && (sc.banded - banded) * MAX_BAND_DIV > (sc.bandRows - ranked) * ne) this.twoPass = false;
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
   * `rankOf` after the scorer's two-pass `rankRow` of this query row: its
   * `lt`, `eq` and `tgt`, and each filtered entity placed by `classify`.
   */
  private rankClassified(sc: WasmScorer, target: number, side: FilterSide, r: number, key: number): number {
    let lt = sc.lt;
    let eq = sc.eq;
    let removed = 0;
    const g = side.find(r, key);
    if (g >= 0) {
      const values = side.values;
      const end = side.start[g + 1]!;
      for (let p = side.start[g]!; p < end; p++) {
        const x = values[p]!;
        if (x === target) continue;
        const c = sc.classify(x);
        lt -= +(c < 0);
        eq -= +(c === 0);
        removed++;
      }
    }
    // Two passes run on finite scores only: the target equals itself.
    eq--;
    const above = this.numEntities - 1 - removed - lt - eq;
    return 1 + above + this.tieFactor * eq;
  }

  /**
   * The rank of `target` given `lt` and `eq`, the scores below and equal to
   * its score `tgt` among *all* entities of the row (itself included): take
   * out the filtered entities (the known group of (r, key), except the
   * target) and the target itself, and count the rest as competitors.
   */
  private rankOf(
    s: Float32Array | Float64Array,
    base: number,
    target: number,
    tgt: number,
    lt: number,
    eq: number,
    side: FilterSide,
    r: number,
    key: number,
  ): number {
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
export function rankQueries(
  ranker: Ranker,
  queries: Int32Array,
  start: number,
  end: number,
  tailRanks: Float64Array,
  headRanks: Float64Array,
): void {
  const where = 'rankQueries';
  if (!(ranker instanceof Ranker)) throw invalidArgument(where, 'ranker', ranker, 'a Ranker (createRanker)');
  if (!(queries instanceof Int32Array))
    throw invalidArgument(where, 'queries', queries, 'an Int32Array of (head, relation, tail) triplets');
  if (queries.length % 3 !== 0) throw invalidArgument(where, 'queries.length', queries.length, 'a multiple of 3');
  const count = queries.length / 3;
  if (!Number.isInteger(start) || start < 0 || start > count) throw outOfRange(where, 'start', start, 0, count);
  if (!Number.isInteger(end) || end < start || end > count) throw outOfRange(where, 'end', end, start, count);
  for (const [field, a] of [
    ['tailRanks', tailRanks],
    ['headRanks', headRanks],
  ] as const) {
    if (!(a instanceof Float64Array)) throw invalidArgument(where, field, a, 'a Float64Array');
    if (a.length < end) throw invalidArgument(where, `${field}.length`, a.length, `at least end (${end})`);
  }
  checkTriples(where, 'queries', queries, ranker.numEntities, ranker.numRelations, start, end);
  ranker.rankUnchecked(queries, start, end, tailRanks, headRanks);
}
