/**
 * Nearest neighbours among the rows of one embedding table (entities, or
 * relations): the top k rows by cosine similarity or by L2 distance to a
 * row of the same table.
 *
 * ## Metrics
 * - `cosine`: <a, b> / (|a| |b|) over the rows as saved (all their floats:
 *   ComplEx and RotatE rows hold real parts then imaginary parts, so this is
 *   the real part of the Hermitian product over the moduli). Highest first.
 *   A row of zeros has cosine 0 with every row.
 * - `l2`: the Euclidean distance |a - b|. Smallest first.
 *
 * Both are scored by the same WebAssembly SIMD kernels as predictions and
 * evaluation (`wasm/kernels.wat`): `dot` over a copy of the table whose
 * rows are scaled to unit length (in two exact passes, as for DistMult),
 * and `l2`; or in JavaScript (float64 over the same float32 rows) when
 * SIMD is unavailable or `backend` is `'js'`. Ties go to the lower id, as
 * in `topk.ts`; the row itself is left out unless `includeSelf`.
 *
 * A {@link NeighbourIndex} holds a copy of the table (a snapshot), its
 * scratch and its heap; one per thread, not thread-safe.
 */
import { invalidArgument, outOfRange } from '../errors.js';
import { checkBackend, checkInt, MAX_TOPK, type PredictBackend, type TopKResult } from './predict.js';
import { TopK, selectScored } from './topk.js';
import type { QueryPlan } from './wasm/plan.js';
import { WasmScorer } from './wasm/scorer.js';

export type SimilarityMetric = 'cosine' | 'l2';
export const SIMILARITY_METRICS: readonly SimilarityMetric[] = ['cosine', 'l2'];

export interface NeighbourOptions {
  /** Rows of `width` floats, row-major; row i is id i. */
  readonly table: Float32Array;
  readonly width: number;
  /** Default `'cosine'`. */
  readonly metric?: SimilarityMetric;
  /** Default `'auto'`: WASM when the runtime has SIMD. */
  readonly backend?: PredictBackend;
  /** Query rows per block (default 64). */
  readonly batch?: number;
}

/**
 * The neighbours of each query row, as a {@link TopKResult}: `scores` hold
 * the cosine similarity (highest first) or the L2 distance (smallest
 * first) of each neighbour to its query row.
 */
export type Neighbours = TopKResult;

const ROWS = 64;
const MAX_ROWS = 4096;
const SCRATCH_BYTES = 64 * 1024 * 1024;
const MAX_BAND_DIV = 10;
const EMPTY: Int32Array = new Int32Array(0);

/** Query rows are rows of the scorer's own table: copy row e of `ent` (the table the scorer holds). */
function copyRow(width: number) {
  return (
    _tails: boolean,
    ent: Float32Array,
    e: number,
    _rel: Float32Array,
    _r: number,
    _dim: number,
    q: Float32Array,
    o: number,
  ): void => {
    for (let k = 0; k < width; k++) q[o + k] = ent[e + k]!;
  };
}

/** Rows of `table` scaled to unit L2 length (in float64, then rounded), zero rows left zero. */
function unitRows(table: Float32Array, width: number): Float32Array {
  const out = new Float32Array(table.length);
  for (let o = 0; o < table.length; o += width) {
    let s = 0;
    for (let k = o; k < o + width; k++) s += table[k]! * table[k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = o; k < o + width; k++) out[k] = table[k]! * inv;
  }
  return out;
}

export class NeighbourIndex {
  readonly metric: SimilarityMetric;
  readonly backend: 'js' | 'wasm';
  readonly rows: number;
  readonly width: number;
  readonly batch: number;

  /** The rows scored: unit rows for cosine, the table's for l2 (a copy either way). */
  private readonly T: Float32Array;
  private readonly scorer: WasmScorer | null;
  private twoPass: boolean;
  private topk: TopK;
  private readonly self = new Int32Array(1);
  private readonly row: Float64Array;

  /** @internal use {@link createNeighbourIndex}. */
  constructor(table: Float32Array, width: number, metric: SimilarityMetric, backend: PredictBackend, batch?: number) {
    this.metric = metric;
    this.width = width;
    const n = table.length / width;
    this.rows = n;
    this.T = metric === 'cosine' ? unitRows(table, width) : Float32Array.from(table);
    let scorer: WasmScorer | null = null;
    let rows = 0;
    if (backend !== 'js') {
      const plan: QueryPlan = { kernel: metric === 'cosine' ? 'dot' : 'l2', parts: 1, query: copyRow(width) };
      rows = Math.max(1, Math.min(batch ?? ROWS, Math.floor(SCRATCH_BYTES / (4 * n))));
      scorer = WasmScorer.create(plan, n, width, width, rows);
      if (scorer === null && backend === 'wasm') {
        throw invalidArgument(
          'createNeighbourIndex',
          'backend',
          'wasm',
          "'auto' or 'js' here: WebAssembly SIMD is unavailable or the table exceeds a 4 GiB memory",
        );
      }
      scorer?.loadEntities(this.T);
    }
    this.scorer = scorer;
    this.twoPass = scorer?.twoPass ?? false;
    this.backend = scorer === null ? 'js' : 'wasm';
    this.batch = scorer === null ? 1 : rows;
    this.topk = new TopK(Math.min(n, 16));
    this.row = new Float64Array(scorer === null ? n : 0);
  }

  /**
   * The `k` nearest rows to each row of `ids` (k at most the rows left to
   * rank: a larger k is lowered). Checks `ids` (`E_OUT_OF_RANGE` naming the
   * position) and `k` first.
   */
  nearest(ids: Int32Array, k: number, options: { readonly includeSelf?: boolean } = {}): Neighbours {
    const where = 'NeighbourIndex.nearest';
    if (!(ids instanceof Int32Array)) throw invalidArgument(where, 'ids', ids, 'an Int32Array of row ids');
    for (let i = 0; i < ids.length; i++)
      if (ids[i]! < 0 || ids[i]! >= this.rows) throw outOfRange(where, `ids[${i}]`, ids[i], 0, this.rows - 1);
    const self = options.includeSelf === true;
    const kk = Math.min(checkInt(where, 'k', k, 1, MAX_TOPK), this.rows - (self ? 0 : 1));
    const count = ids.length;
    const out: Neighbours = {
      queries: count,
      k: Math.max(kk, 1),
      ids: new Int32Array(count * Math.max(kk, 1)).fill(-1),
      scores: new Float64Array(count * Math.max(kk, 1)).fill(NaN),
      counts: new Int32Array(count),
    };
    if (kk < 1) return out;
    if (this.topk.capacity < kk) this.topk = new TopK(kk);
    for (let s = 0; s < count; s += this.batch) {
      const rows = Math.min(this.batch, count - s);
      if (this.scorer !== null) this.wasmBlock(ids, s, rows, kk, self, out);
      else for (let u = 0; u < rows; u++) this.jsRow(ids[s + u]!, s + u, kk, self, out);
    }
    return out;
  }

  private wasmBlock(ids: Int32Array, s: number, rows: number, k: number, self: boolean, out: Neighbours): void {
    const sc = this.scorer!;
    const w = this.width;
    for (let u = 0; u < rows; u++)
      sc.plan.query(true, this.T, ids[s + u]! * w, this.T, 0, w, sc.q, u * sc.rowFloats, 0);
    const twoPass = this.twoPass && sc.prepareTwoPass(rows);
    if (twoPass) sc.scoreTwoPass(rows);
    else sc.scoreAll(rows);
    let scored = 0;
    for (let u = 0; u < rows; u++) {
      this.self[0] = ids[s + u]!;
      scored += selectScored(sc, twoPass, u, k, this.topk, self ? EMPTY : this.self, 0, self ? 0 : 1);
      this.emit(out, s + u);
    }
    if (twoPass && scored * MAX_BAND_DIV > rows * this.rows) this.twoPass = false;
  }

  /** One query row in JavaScript: float64 sums over the float32 rows (minus the distance for l2). */
  private jsRow(id: number, i: number, k: number, self: boolean, out: Neighbours): void {
    const T = this.T;
    const w = this.width;
    const n = this.rows;
    const row = this.row;
    const q = id * w;
    const cosine = this.metric === 'cosine';
    for (let j = 0; j < n; j++) {
      const c = j * w;
      let s = 0;
      if (cosine) for (let d = 0; d < w; d++) s += T[q + d]! * T[c + d]!;
      else {
        for (let d = 0; d < w; d++) {
          const x = T[q + d]! - T[c + d]!;
          s += x * x;
        }
        s = -Math.sqrt(s);
      }
      row[j] = s;
    }
    this.self[0] = id;
    this.topk.selectRow(row, 0, n, k, self ? EMPTY : this.self, 0, self ? 0 : 1);
    this.emit(out, i);
  }

  private emit(out: Neighbours, i: number): void {
    const off = i * out.k;
    const got = this.topk.drain(out.ids, out.scores, off);
    // l2 was selected on minus the distance: report the distance.
    if (this.metric === 'l2') for (let p = off; p < off + got; p++) out.scores[p] = -out.scores[p]!;
    out.counts[i] = got;
  }
}

/**
 * A neighbour index over `options.table` (rows of `options.width`
 * floats). Checks the table's length against the width, the metric, the
 * backend and the batch, naming the bad value.
 */
export function createNeighbourIndex(options: NeighbourOptions): NeighbourIndex {
  const where = 'createNeighbourIndex';
  if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
  const width = checkInt(where, 'width', options.width, 1, 1 << 20);
  if (!(options.table instanceof Float32Array)) throw invalidArgument(where, 'table', options.table, 'a Float32Array');
  if (options.table.length === 0 || options.table.length % width !== 0)
    throw invalidArgument(where, 'table.length', options.table.length, `a positive multiple of width (${width})`);
  const metric = options.metric ?? 'cosine';
  if (!SIMILARITY_METRICS.includes(metric))
    throw invalidArgument(where, 'metric', metric, `one of ${SIMILARITY_METRICS.join(', ')}`);
  const backend = checkBackend(where, options.backend);
  const batch = options.batch === undefined ? undefined : checkInt(where, 'batch', options.batch, 1, MAX_ROWS);
  return new NeighbourIndex(options.table, width, metric, backend, batch);
}

/** One call: an index over the table, then the `k` (default 10) nearest rows to each of `ids`. */
export function similar(
  options: NeighbourOptions & { readonly ids: Int32Array; readonly k?: number; readonly includeSelf?: boolean },
): Neighbours {
  return createNeighbourIndex(options).nearest(options.ids, options.k ?? 10, {
    includeSelf: options.includeSelf === true,
  });
}
