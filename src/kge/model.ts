/**
 * The model interface of kgshard's knowledge-graph embeddings: what a model
 * is to the trainer and the evaluator, and `defineModel` for user-defined
 * models.
 *
 * A model is a score function of a triple (head, relation, tail) of
 * embedding rows, its gradient, and the widths of those rows. Higher scores
 * mean more plausible triples (the distance models return minus a distance),
 * as in the PyTorch reference `torch_kge.py`.
 *
 * ## Rows and `dim`
 * Rows are addressed as (buffer, element offset), never copied: a head row is
 * `E[h .. h + entityWidth)`. The buffers may be parameter-server shard views,
 * scratch copies, or anything else; the model neither knows nor cares.
 *
 * `dim` is the model's rank, as `--dim` is in the reference: the number of
 * real coordinates for TransE and DistMult, and the number of *complex*
 * coordinates for ComplEx and RotatE. `shapes(dim)` gives the floats per row:
 *
 * | model    | entity row                  | relation row                 |
 * | -------- | --------------------------- | ---------------------------- |
 * | TransE   | dim reals                   | dim reals                    |
 * | DistMult | dim reals                   | dim reals                    |
 * | ComplEx  | 2*dim: dim real parts, then dim imaginary parts | the same |
 * | RotatE   | 2*dim: real parts, then imaginary parts | dim phases θ (radians), r = e^{iθ} |
 *
 * ## Blocked kernels
 * Training scores a chunk of positives against shared negatives, and
 * evaluation scores queries against every entity. The four block methods do
 * this for n queries × m candidates at once: a model computes what depends
 * on the query alone (h + r, h ∘ r, h ∘ e^{iθ}) once per query, not once per
 * pair. A {@link Block} names the rows; `newBlock()` makes one to reuse.
 * Block scores equal `score` up to float64 rounding (summation order may
 * differ), so a ranking should compare scores from the same kernel: take the
 * true entity's score from the block's output, not from `score`.
 *
 * ## The hot-path contract
 * `score`, `accumulateGrad` and the four block methods allocate nothing per
 * call (a built-in model grows one scratch buffer when it first sees a larger
 * `dim`), never throw, and do not validate: offsets, counts and buffer
 * lengths are the caller's to check once, at the edge, with `shapes(dim)`.
 * Gradient buffers must not overlap the rows being read (they may share a
 * layout and offsets with them: gradients are *added*, so rows appearing
 * twice, such as h = t, or a negative equal to a positive, accumulate both
 * contributions). A model is not thread-safe state: each thread uses its own
 * model object (models hold scratch buffers).
 */
import { invalidArgument, outOfRange, show } from '../errors.js';
import { checkQueryPlan, type QueryPlan } from './wasm/plan.js';

/** Largest `dim` a model accepts (the parameter server's bound). */
export const MAX_DIM = 65536;

/** Floats per row for a given `dim`. */
export interface ModelShapes {
  /** Floats per entity row. */
  readonly entityWidth: number;
  /** Floats per relation row. */
  readonly relationWidth: number;
}

/**
 * n queries against m candidate entity rows. Each query is an entity row
 * (`ent`, at `entOffs[i]`) and a relation row (`rel`, at `relOffs[i]`); the
 * entity is the head when tails are scored (`scoreTails`) and the tail when
 * heads are scored (`scoreHeads`). Candidate j is the row of `cand` at
 * `candOffs[j]`. Offsets are element offsets; only the first n (m) entries
 * of the offset arrays are read.
 *
 * A block is a plain mutable record: make one with `newBlock()` and refill
 * it for every chunk, so that scoring allocates nothing.
 */
export interface Block {
  /** The model rank (see the module comment). */
  dim: number;
  /** Number of queries. */
  n: number;
  ent: Float32Array;
  entOffs: Int32Array;
  rel: Float32Array;
  relOffs: Int32Array;
  /** Number of candidates. */
  m: number;
  cand: Float32Array;
  candOffs: Int32Array;
}

/**
 * Where the gradients of a {@link Block} go: query i's entity gradient is
 * added at `ent[entOffs[i]..]`, its relation gradient at `rel[relOffs[i]..]`,
 * candidate j's at `cand[candOffs[j]..]`. The buffers may be the same one
 * (a single entity-gradient table) and offsets may repeat.
 */
export interface BlockGrad {
  ent: Float32Array;
  entOffs: Int32Array;
  rel: Float32Array;
  relOffs: Int32Array;
  cand: Float32Array;
  candOffs: Int32Array;
}

/**
 * A knowledge-graph embedding model: the score of a triple, its gradients and
 * its row widths. Built-in models come from `createModel`, user-defined ones
 * from `defineModel`.
 *
 * In every method, `(E, h)` is the head row (buffer, element offset), `(R, r)`
 * the relation row and `(T, t)` the tail row; `E` and `T` may be the same
 * buffer, and `h` may equal `t`.
 */
export interface KgeModel {
  /** The model's name; for built-in models, `createModel(model.name)` rebuilds it. */
  readonly name: string;

  /**
   * Floats per entity and relation row for rank `dim`. Validates `dim`
   * (a positive integer up to {@link MAX_DIM}) and throws a KgError
   * otherwise; call it once at the edge.
   */
  shapes(dim: number): ModelShapes;

  /**
   * Initialise one relation row in place, for models whose relations need
   * something other than the caller's generic initialisation (RotatE: phases
   * uniform in [-π, π]). `rand` returns uniform numbers in [0, 1). When
   * absent, the caller's own initialisation applies.
   */
  initRelation?(row: Float32Array, offset: number, dim: number, rand: () => number): void;

  /**
   * Initialise one entity row in place, for models whose entities need
   * something other than the parameter server's deterministic ±0.05 rows
   * (TransE: Bordes et al.'s uniform ±6/√dim, scaled to unit L2 norm).
   */
  initEntity?(row: Float32Array, offset: number, dim: number, rand: () => number): void;

  /**
   * Add the gradient of the N3 regulariser λ·Σ|x|³ of one row (`width`
   * floats at `row[offset]`) to `g[go ..]`, for models whose rows are not
   * plain reals. ComplEx takes |x| as the modulus of each complex coordinate
   * (Lacroix et al. 2018): ∂/∂re = 3λ|z|·re, ∂/∂im = 3λ|z|·im. When
   * absent, every float is a coordinate: 3λ|x|·x.
   */
  n3Grad?(row: Float32Array, offset: number, width: number, lambda: number, g: Float32Array, go: number): void;

  /**
   * How the evaluator's WebAssembly kernels score this model's queries (see
   * `wasm/plan.ts`). When absent, evaluation ranks with the block kernels.
   */
  readonly queryPlan?: QueryPlan;

  /** The score of (head, relation, tail), computed in float64. Higher is more plausible. */
  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number;

  /**
   * Add `coef` × ∂score/∂row to the gradient buffers: the head's gradient at
   * `gH[gh ..]`, the relation's at `gR[gr ..]`, the tail's at `gT[gt ..]`.
   * `coef` is typically ∂loss/∂score (times −1 and a learning rate for a
   * plain SGD step). Where the score is not differentiable (an L1 or L2
   * distance of exactly 0) a subgradient is used: the zero vector.
   */
  accumulateGrad(
    E: Float32Array,
    h: number,
    R: Float32Array,
    r: number,
    T: Float32Array,
    t: number,
    dim: number,
    coef: number,
    gH: Float32Array,
    gh: number,
    gR: Float32Array,
    gr: number,
    gT: Float32Array,
    gt: number,
  ): void;

  /** `out[i*m + j] = score(ent_i, rel_i, cand_j)`: candidates replace the tail. */
  scoreTails(b: Block, out: Float64Array): void;

  /** `out[i*m + j] = score(cand_j, rel_i, ent_i)`: candidates replace the head. */
  scoreHeads(b: Block, out: Float64Array): void;

  /**
   * For every pair (i, j), `accumulateGrad` of the triple (ent_i, rel_i,
   * cand_j) with coefficient `coef[i*m + j]`, gradients going where `g`
   * says. Pairs whose coefficient is exactly 0 may be skipped.
   */
  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void;

  /** As `accumulateGradTails`, for the triples (cand_j, rel_i, ent_i). */
  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void;
}

/** An empty block, to be filled for each chunk and reused. */
export function newBlock(): Block {
  const f = new Float32Array(0);
  const o = new Int32Array(0);
  return { dim: 0, n: 0, ent: f, entOffs: o, rel: f, relOffs: o, m: 0, cand: f, candOffs: o };
}

/** An empty gradient target for a block, to be filled and reused. */
export function newBlockGrad(): BlockGrad {
  const f = new Float32Array(0);
  const o = new Int32Array(0);
  return { ent: f, entOffs: o, rel: f, relOffs: o, cand: f, candOffs: o };
}

/**
 * Check a model rank at the edge: a positive integer up to {@link MAX_DIM}.
 * `where` names the API, e.g. `complex.shapes`.
 */
export function checkDim(where: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw invalidArgument(where, 'dim', dim, 'a positive integer');
  if (dim < 1 || dim > MAX_DIM) throw outOfRange(where, 'dim', dim, 1, MAX_DIM);
  return dim;
}

// ---------------------------------------------------------------- default block kernels

/**
 * `scoreTails` as a loop over `model.score`: the default for user-defined
 * models, and the reference the built-in fast kernels are tested against.
 */
export function loopScoreTails(model: Pick<KgeModel, 'score'>, b: Block, out: Float64Array): void {
  const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
  for (let i = 0; i < n; i++) {
    const e = entOffs[i]!;
    const r = relOffs[i]!;
    const row = i * m;
    for (let j = 0; j < m; j++) out[row + j] = model.score(ent, e, rel, r, cand, candOffs[j]!, dim);
  }
}

/** `scoreHeads` as a loop over `model.score`. */
export function loopScoreHeads(model: Pick<KgeModel, 'score'>, b: Block, out: Float64Array): void {
  const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
  for (let i = 0; i < n; i++) {
    const e = entOffs[i]!;
    const r = relOffs[i]!;
    const row = i * m;
    for (let j = 0; j < m; j++) out[row + j] = model.score(cand, candOffs[j]!, rel, r, ent, e, dim);
  }
}

/** `accumulateGradTails` as a loop over `model.accumulateGrad` (pairs with coefficient 0 skipped). */
export function loopGradTails(
  model: Pick<KgeModel, 'accumulateGrad'>,
  b: Block,
  coef: Float64Array,
  g: BlockGrad,
): void {
  const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
  for (let i = 0; i < n; i++) {
    const e = entOffs[i]!;
    const r = relOffs[i]!;
    const ge = g.entOffs[i]!;
    const gr = g.relOffs[i]!;
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const c = coef[row + j]!;
      if (c === 0) continue;
      model.accumulateGrad(ent, e, rel, r, cand, candOffs[j]!, dim, c, g.ent, ge, g.rel, gr, g.cand, g.candOffs[j]!);
    }
  }
}

/** `accumulateGradHeads` as a loop over `model.accumulateGrad` (pairs with coefficient 0 skipped). */
export function loopGradHeads(
  model: Pick<KgeModel, 'accumulateGrad'>,
  b: Block,
  coef: Float64Array,
  g: BlockGrad,
): void {
  const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
  for (let i = 0; i < n; i++) {
    const e = entOffs[i]!;
    const r = relOffs[i]!;
    const ge = g.entOffs[i]!;
    const gr = g.relOffs[i]!;
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const c = coef[row + j]!;
      if (c === 0) continue;
      model.accumulateGrad(cand, candOffs[j]!, rel, r, ent, e, dim, c, g.cand, g.candOffs[j]!, g.rel, gr, g.ent, ge);
    }
  }
}

// ---------------------------------------------------------------- user-defined models

/**
 * What a user supplies to `defineModel`: a name, the row widths, the score
 * and its gradient. The block kernels are optional; without them the model
 * loops over `score` and `accumulateGrad`, which is correct and merely
 * slower. A `queryPlan` lets evaluation use the WebAssembly kernels.
 * Methods are called with `this` bound to the spec, so a spec may keep its
 * own scratch state.
 */
export interface ModelSpec {
  readonly name: string;
  /** Floats per row for rank `dim` (already checked to be a positive integer). */
  shapes(dim: number): ModelShapes;
  score: KgeModel['score'];
  accumulateGrad: KgeModel['accumulateGrad'];
  initRelation?: KgeModel['initRelation'];
  initEntity?: KgeModel['initEntity'];
  n3Grad?: KgeModel['n3Grad'];
  queryPlan?: QueryPlan;
  scoreTails?: KgeModel['scoreTails'];
  scoreHeads?: KgeModel['scoreHeads'];
  accumulateGradTails?: KgeModel['accumulateGradTails'];
  accumulateGradHeads?: KgeModel['accumulateGradHeads'];
}

const REQUIRED_METHODS = ['shapes', 'score', 'accumulateGrad'] as const;
const OPTIONAL_METHODS = [
  'initRelation',
  'initEntity',
  'n3Grad',
  'scoreTails',
  'scoreHeads',
  'accumulateGradTails',
  'accumulateGradHeads',
] as const;

/**
 * Turn a {@link ModelSpec} into a {@link KgeModel} the trainer and evaluator
 * accept like a built-in one. The spec is validated here (a non-empty name,
 * the required methods present, optional ones functions if given), and the
 * model's `shapes` checks `dim` and the widths the spec returns.
 *
 * ```ts
 * // TransE with a squared L2 distance: score = -||h + r - t||^2
 * const squaredTransE = defineModel({
 *   name: 'transe-squared',
 *   shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
 *   score(E, h, R, r, T, t, dim) {
 *     let s = 0;
 *     for (let k = 0; k < dim; k++) { const u = E[h + k]! + R[r + k]! - T[t + k]!; s += u * u; }
 *     return -s;
 *   },
 *   accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
 *     for (let k = 0; k < dim; k++) {
 *       const g = -2 * coef * (E[h + k]! + R[r + k]! - T[t + k]!);   // coef * dscore/du
 *       gH[gh + k] = gH[gh + k]! + g;
 *       gR[gr + k] = gR[gr + k]! + g;
 *       gT[gt + k] = gT[gt + k]! - g;
 *     }
 *   },
 * });
 * ```
 */
export function defineModel(spec: ModelSpec): KgeModel {
  if (spec === null || typeof spec !== 'object') throw invalidArgument('defineModel', 'spec', spec, 'an object');
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw invalidArgument('defineModel', 'spec.name', spec.name, 'a non-empty string');
  }
  const where = `defineModel(${show(spec.name)})`;
  for (const key of REQUIRED_METHODS) {
    if (typeof spec[key] !== 'function')
      // eslint-disable-next-line @typescript-eslint/unbound-method -- the value is only shown, never called
      throw invalidArgument(where, `spec.${key}`, spec[key], 'a function');
  }
  for (const key of OPTIONAL_METHODS) {
    if (spec[key] !== undefined && typeof spec[key] !== 'function') {
      throw invalidArgument(where, `spec.${key}`, spec[key], 'a function or undefined');
    }
  }
  if (spec.queryPlan !== undefined) checkQueryPlan(where, 'spec.queryPlan', spec.queryPlan);
  return new DefinedModel(spec);
}

class DefinedModel implements KgeModel {
  readonly name: string;
  readonly initRelation?: KgeModel['initRelation'];
  readonly initEntity?: KgeModel['initEntity'];
  readonly n3Grad?: KgeModel['n3Grad'];
  readonly queryPlan?: QueryPlan;
  private readonly spec: ModelSpec;

  constructor(spec: ModelSpec) {
    this.spec = spec;
    this.name = spec.name;
    const init = spec.initRelation;
    if (init !== undefined) this.initRelation = (row, offset, dim, rand) => init.call(spec, row, offset, dim, rand);
    const initE = spec.initEntity;
    if (initE !== undefined) this.initEntity = (row, offset, dim, rand) => initE.call(spec, row, offset, dim, rand);
    const n3 = spec.n3Grad;
    if (n3 !== undefined)
      this.n3Grad = (row, offset, width, lambda, g, go) => n3.call(spec, row, offset, width, lambda, g, go);
    if (spec.queryPlan !== undefined) this.queryPlan = spec.queryPlan;
  }

  shapes(dim: number): ModelShapes {
    const where = `${this.name}.shapes`;
    checkDim(where, dim);
    const s = this.spec.shapes(dim);
    if (s === null || typeof s !== 'object')
      throw invalidArgument(where, `shapes(${dim})`, s, 'an object { entityWidth, relationWidth }');
    for (const key of ['entityWidth', 'relationWidth'] as const) {
      const w = s[key];
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 1) {
        throw invalidArgument(where, `shapes(${dim}).${key}`, w, 'a positive integer');
      }
    }
    return { entityWidth: s.entityWidth, relationWidth: s.relationWidth };
  }

  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number {
    return this.spec.score(E, h, R, r, T, t, dim);
  }

  accumulateGrad(
    E: Float32Array,
    h: number,
    R: Float32Array,
    r: number,
    T: Float32Array,
    t: number,
    dim: number,
    coef: number,
    gH: Float32Array,
    gh: number,
    gR: Float32Array,
    gr: number,
    gT: Float32Array,
    gt: number,
  ): void {
    this.spec.accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt);
  }

  scoreTails(b: Block, out: Float64Array): void {
    if (this.spec.scoreTails !== undefined) this.spec.scoreTails(b, out);
    else loopScoreTails(this, b, out);
  }

  scoreHeads(b: Block, out: Float64Array): void {
    if (this.spec.scoreHeads !== undefined) this.spec.scoreHeads(b, out);
    else loopScoreHeads(this, b, out);
  }

  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void {
    if (this.spec.accumulateGradTails !== undefined) this.spec.accumulateGradTails(b, coef, g);
    else loopGradTails(this, b, coef, g);
  }

  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void {
    if (this.spec.accumulateGradHeads !== undefined) this.spec.accumulateGradHeads(b, coef, g);
    else loopGradHeads(this, b, coef, g);
  }
}
