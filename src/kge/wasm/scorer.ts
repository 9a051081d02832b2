/**
 * One thread's WebAssembly SIMD128 scorer for evaluation: one set of query
 * vectors against every entity row, with the kernels of `kernels.wat`
 * (compiled at build time into `kernels.wasm`, next to this file in dist/)
 * and a model's {@link QueryPlan} (see `plan.ts`).
 *
 * ## Arithmetic
 * Queries are formed in float64 from the float32 tables (as the JS kernels
 * do) and rounded to float32; the kernels compute in float32 with four lanes
 * of four-way partial sums and write float32 scores. They therefore agree
 * with the models' float64 block kernels to float32 rounding, not exactly,
 * and two candidates whose float64 scores differ by less than that may tie
 * here. (The PyTorch reference evaluates in float32 too.) A ranking must
 * compare scores from one kernel, which `Ranker` does.
 *
 * ## Memory
 * One private (unshared) `WebAssembly.Memory` per `WasmScorer`, laid out as
 *
 *   [0, 64)          two int32 counts written by `count`
 *   entities         numEntities rows padded to a multiple of 4 rows, each
 *                    row `rowFloats` floats (its parts padded to multiples of 4
 *                    floats with zeros, which add 0 to every kernel's sum)
 *   queries          maxQueries rows of `rowFloats` floats
 *   scores           maxQueries rows of `scoreStride` floats (int32 in two passes)
 *
 * and, for a `dot` plan (two passes, see the class comment):
 *
 *   int16 entities   scoreStride rows of `row16` int16 (rowFloats rounded up to 8)
 *   int16 queries    maxQueries rows of `row16` int16
 *   band indices     scoreStride + 4 int32
 *   band scores      scoreStride + 4 float32
 *
 * and last, for every plan, the entities that `listAbove` lists (scoreStride
 * int32).
 *
 * The entity table is copied in once (`loadEntities`), so each thread
 * scores from its own copy: no sharing, no races, and the copy is a
 * snapshot of a table that training may go on changing.
 *
 * ## The modules
 * `kernels.wasm`, `ranker.wasm` and `select.wasm` are read and compiled once
 * per thread, on first use, and instantiated over the scorer's memory. The
 * score functions and `count` are described in `kernels.wat`, the two-pass
 * kernels (`dot16`, `band`, `rescore`) in `ranker.wat`, the kernels that list
 * the entries above a threshold for top-k selection in `select.wat`.
 */
import type { QueryPlan, WasmKernel } from './plan.js';
import type { WasmModule } from '../../shm/wasm-memory.js';
import { wasmBytes, wasmInstance, wasmMemory, wasmModule, type WasmMemory } from './module.js';

/** Query rows per register tile, per kernel: the tiles `kernels.wat` is written for. */
export const QUERY_TILE: Readonly<Record<WasmKernel, 1 | 2>> = { dot: 2, l1: 1, l2: 2, rotate: 1 };
/** Candidate rows per register tile (the horizontal sum packs four). */
const CAND_TILE = 4;

/**
 * The kernels' module bytes (`kernels.wasm`), read once per thread.
 * Throws when the file is missing (a build without `npm run build`'s wasm step).
 */
export function wasmKernelBytes(): Uint8Array {
  return wasmBytes('kernels.wasm');
}

/** The two-pass ranker's module bytes (`ranker.wasm`), read once per thread. */
export function wasmRankerBytes(): Uint8Array {
  return wasmBytes('ranker.wasm');
}

function rankerModule(): WasmModule | null {
  return wasmModule('ranker.wasm');
}

/** The compiled module, or null when this runtime lacks WebAssembly SIMD128. */
function kernelModule(): WasmModule | null {
  return wasmModule('kernels.wasm');
}

/** Whether the WebAssembly SIMD kernels can run here (Node 20 has SIMD128 without flags). */
export function wasmSimdSupported(): boolean {
  return kernelModule() !== null;
}

/** A score function of `kernels.wat` (its signature there). */
export type ScoreExport = (
  qPtr: number,
  nq: number,
  qStride: number,
  cPtr: number,
  nc: number,
  cStride: number,
  kBytes: number,
  outPtr: number,
  outStride: number,
  imOff: number,
) => void;
type CountExport = (ptr: number, n: number, t: number, res: number) => void;

type Dot16Export = (
  qPtr: number,
  nq: number,
  qStride: number,
  cPtr: number,
  nc: number,
  cStride: number,
  kBytes: number,
  outPtr: number,
  outStride: number,
) => void;
type BandExport = (ptr: number, n: number, lo: number, hi: number, res: number, idx: number) => number;
type AboveExport = (ptr: number, n: number, t: number, idx: number, first: number) => number;
type RescoreExport = (
  qPtr: number,
  cPtr: number,
  rowBytes: number,
  kBytes: number,
  idx: number,
  m: number,
  outPtr: number,
) => void;

/** Largest memory a scorer asks for: 4 GiB less a page (wasm32). */
const MAX_BYTES = 65535 * 65536;
/** The int32 compares of `band` hold thresholds in [I32_MIN, I32_MAX]. */
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
/** Unit roundoff of float32, and (generously) the absolute error of an operation that underflows. */
const F32_U = 2 ** -24;
const F32_TINY = 2 ** -126;
/** The bound on |Q.X| that two passes aim for (below 2^31, checked per query). */
const INT_BUDGET = 0.9 * 2 ** 31;
/** Two-pass only while every float32 partial sum stays far from overflow. */
const SUM_LIMIT = 1e30;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Bytes of the scorer's memory: see the layout in the module comment. */
function layoutBytes(rowFloats: number, row16: number, stride: number, maxQueries: number, twoPass: boolean): number {
  let bytes = 64 + 4 * rowFloats * (stride + maxQueries) + 4 * maxQueries * stride;
  if (twoPass) bytes += 2 * row16 * (stride + maxQueries) + 2 * roundUp(4 * (stride + 4), 16);
  return bytes + roundUp(4 * stride, 16);
}

/** The top-k kernels' module (`select.wasm`): see `select.wat`. */
function selectModule(): WasmModule | null {
  return wasmModule('select.wasm');
}

/**
 * One thread's WASM scoring state: a private memory holding a padded copy of
 * the entity table, `maxQueries` query rows and as many score rows over all
 * entities. Not thread-safe (one per thread); allocation-free after `create`.
 *
 * For a `dot` plan it also holds an int16 copy of the table and runs the
 * exact two-pass ranking of `ranker.wat` ({@link WasmScorer.prepareTwoPass},
 * {@link WasmScorer.scoreTwoPass}, {@link WasmScorer.rankRow},
 * {@link WasmScorer.classify}); see "Two passes" below.
 *
 * ## Two passes
 * With x = sx X + ex and q = sq Q + eq (X, Q integers in [-32767, 32767],
 * |ex| <= sx / 2, |eq| <= sq / 2; sx = max|x| / Mx over the table, sq =
 * max|q| / Mq per query row, Mq chosen so that ||Q||_2 max_j ||X_j||_2 <
 * 2^31, which keeps every int32 dot product exact), the exact real q.x
 * differs from sq sx (Q.X) by at most the smaller of
 *
 *   B = sx/2 ||q||_1 + sq/2 max_j ||x_j||_1 + 3/4 K sq sx
 *   B = ||q||_2 max_j ||ex_j||_2 + ||eq||_2 max_j ||sx X_j||_2
 *
 * and the float32 score s that `rescore` computes differs from q.x by at
 * most rho = (K/4 + 3) u ||q||_1 max|x| (+ underflow). So an entity whose
 * integer score puts it more than delta = B + rho (with 1% to spare) from the
 * target's float32 score t lies on that side of t in float32 too; only the
 * others (a band of width 2 delta) are scored in float32, by the same
 * arithmetic as t. The ranks are those of float32 scores of one kernel, as
 * with `scoreAll`; the two differ only where two float32 kernels differ.
 * Tables or queries with a non-finite value, or large enough to overflow a
 * float32 sum, are not for two passes (`prepareTwoPass` returns false).
 */
export class WasmScorer {
  readonly plan: QueryPlan;
  readonly numEntities: number;
  readonly dim: number;
  readonly maxQueries: number;
  /** Floats per padded row (entity copies and queries). */
  readonly rowFloats: number;
  /** Where a query row's imaginary parts start (complex-valued models). */
  readonly imFloats: number;
  /** Query rows: write row i at `q[i * rowFloats ..]` (the padding stays zero). */
  readonly q: Float32Array;
  /** Score rows: entity j's score for query i is `scores[i * scoreStride + j]` after `scoreAll`. */
  readonly scores: Float32Array;
  /** Floats per score row: numEntities rounded up to a multiple of 4. */
  readonly scoreStride: number;
  /** Whether this scorer has the two-pass kernels (a `dot` plan); `prepareTwoPass` says whether they apply. */
  readonly twoPass: boolean;
  /** The counts of the last `count` or `rankRow`: scores below, and equal to, the threshold. */
  lt = 0;
  eq = 0;
  /** The target's float32 score of the last `rankRow`. */
  tgt = 0;
  /** Entities scored in float32 by `rankRow` and `classify` since creation (the band), and rows ranked. */
  banded = 0;
  bandRows = 0;

  private readonly memory: WasmMemory;
  private readonly scoreFn: ScoreExport;
  private readonly countFn: CountExport;
  private readonly counts: Int32Array;
  private readonly entPtr: number;
  private readonly qPtr: number;
  private readonly sPtr: number;
  private readonly kBytes: number;
  private readonly imBytes: number;
  private readonly tile: number;
  private readonly width: number;
  private readonly partFloats: number;
  // two passes (null / 0 without)
  private readonly dot16Fn: Dot16Export | null = null;
  private readonly bandFn: BandExport | null = null;
  private readonly rescoreFn: RescoreExport | null = null;
  /** int16 per padded row. */
  private readonly row16: number = 0;
  private readonly ent16Ptr: number = 0;
  private readonly q16Ptr: number = 0;
  private readonly idxPtr: number = 0;
  private readonly outPtr: number = 0;
  private readonly raw: Int32Array;
  private readonly aboveF32Fn: AboveExport;
  private readonly aboveI32Fn: AboveExport;
  private readonly listPtr: number;
  private readonly list: Int32Array;
  private readonly q16: Int16Array;
  private readonly idx: Int32Array;
  private readonly out: Float32Array;
  private readonly qScale: Float64Array;
  private readonly qDelta: Float64Array;
  /** The table's stats, set by `loadEntities`; tableOk false when it has a non-finite value. */
  private tableOk = false;
  private xScale = 1;
  private xMax = 0;
  private x1Max = 0;
  /** max_j ||X_j||_2 (integers). */
  private x2Int = 0;
  /** max_j ||x_j - sx X_j||_2 and max_j ||sx X_j||_2. */
  private e2Max = 0;
  private xq2Max = 0;
  // the row `rankRow` ranked last: its band [lo, hi] and where its raw scores start
  private curLo = 0;
  private curHi = 0;
  private curRaw = 0;
  private curQ = 0;

  private constructor(
    plan: QueryPlan,
    numEntities: number,
    dim: number,
    width: number,
    maxQueries: number,
    module: WasmModule,
    twoPassModule: WasmModule | null,
    select: WasmModule,
    pages: number,
  ) {
    this.plan = plan;
    this.numEntities = numEntities;
    this.dim = dim;
    this.width = width;
    this.tile = QUERY_TILE[plan.kernel];
    this.maxQueries = roundUp(maxQueries, this.tile);
    this.partFloats = width / plan.parts;
    const partPad = roundUp(this.partFloats, 4);
    this.rowFloats = plan.parts * partPad;
    this.imFloats = plan.parts === 2 ? partPad : dim;
    this.scoreStride = roundUp(numEntities, CAND_TILE);
    this.kBytes = 4 * (plan.parts === 2 ? partPad : this.rowFloats);
    this.imBytes = plan.parts === 2 ? 4 * partPad : 0;
    this.entPtr = 64;
    this.qPtr = this.entPtr + 4 * this.scoreStride * this.rowFloats;
    this.sPtr = this.qPtr + 4 * this.maxQueries * this.rowFloats;
    this.memory = wasmMemory(pages);
    const instance = wasmInstance(module, this.memory);
    const ex = instance.exports;
    this.scoreFn = ex[plan.kernel] as ScoreExport;
    this.countFn = ex['count'] as CountExport;
    const buf = this.memory.buffer;
    this.counts = new Int32Array(buf, 0, 8);
    this.q = new Float32Array(buf, this.qPtr, this.maxQueries * this.rowFloats);
    this.scores = new Float32Array(buf, this.sPtr, this.maxQueries * this.scoreStride);
    this.raw = new Int32Array(buf, this.sPtr, this.maxQueries * this.scoreStride);
    this.twoPass = twoPassModule !== null;
    this.qScale = new Float64Array(this.twoPass ? this.maxQueries : 0);
    this.qDelta = new Float64Array(this.twoPass ? this.maxQueries : 0);
    if (twoPassModule !== null) {
      const tx = wasmInstance(twoPassModule, this.memory).exports;
      this.dot16Fn = tx['dot16'] as Dot16Export;
      this.bandFn = tx['band'] as BandExport;
      this.rescoreFn = tx['rescore'] as RescoreExport;
      this.row16 = roundUp(this.rowFloats, 8);
      this.ent16Ptr = this.sPtr + 4 * this.maxQueries * this.scoreStride;
      this.q16Ptr = this.ent16Ptr + 2 * this.row16 * this.scoreStride;
      this.idxPtr = this.q16Ptr + 2 * this.row16 * this.maxQueries;
      this.outPtr = this.idxPtr + roundUp(4 * (this.scoreStride + 4), 16);
    }
    this.q16 = new Int16Array(buf, this.q16Ptr, this.twoPass ? this.row16 * this.maxQueries : 0);
    this.idx = new Int32Array(buf, this.idxPtr, this.twoPass ? this.scoreStride + 4 : 0);
    this.out = new Float32Array(buf, this.outPtr, this.twoPass ? this.scoreStride + 4 : 0);
    this.listPtr = this.twoPass
      ? this.outPtr + roundUp(4 * (this.scoreStride + 4), 16)
      : this.sPtr + 4 * this.maxQueries * this.scoreStride;
    this.list = new Int32Array(buf, this.listPtr, this.scoreStride);
    const sx = wasmInstance(select, this.memory).exports;
    this.aboveF32Fn = sx['above_f32'] as AboveExport;
    this.aboveI32Fn = sx['above_i32'] as AboveExport;
  }

  /**
   * A scorer for `plan` over `numEntities` rows of `width` floats (the
   * model's entity width at rank `dim`), with room for `maxQueries` query
   * rows; null when WebAssembly SIMD is unavailable or the memory would
   * exceed 4 GiB or cannot be allocated. `twoPass: false` leaves out the
   * two-pass kernels of a `dot` plan (and their memory). Any thread.
   */
  static create(
    plan: QueryPlan,
    numEntities: number,
    dim: number,
    width: number,
    maxQueries: number,
    options: { readonly twoPass?: boolean } = {},
  ): WasmScorer | null {
    const module = kernelModule();
    const select = selectModule();
    if (module === null || select === null) return null;
    const twoPassModule =
      plan.kernel === 'dot' && plan.parts === 1 && options.twoPass !== false ? rankerModule() : null;
    const tile = QUERY_TILE[plan.kernel];
    const rowFloats = plan.parts * roundUp(width / plan.parts, 4);
    const stride = roundUp(numEntities, CAND_TILE);
    const bytes = layoutBytes(
      rowFloats,
      roundUp(rowFloats, 8),
      stride,
      roundUp(maxQueries, tile),
      twoPassModule !== null,
    );
    if (!(bytes <= MAX_BYTES)) return null;
    try {
      const pages = Math.ceil(bytes / 65536);
      return new WasmScorer(plan, numEntities, dim, width, maxQueries, module, twoPassModule, select, pages);
    } catch (e) {
      if (e instanceof RangeError) return null; // the memory could not be allocated
      throw e;
    }
  }

  /**
   * Copy the entity table (numEntities rows of `width` floats) into the
   * scorer's memory, padding each part to a multiple of 4 floats, and (two
   * passes) its int16 image. The copy is what later scores read: call again
   * after the table changes.
   */
  loadEntities(table: Float32Array): void {
    const n = this.numEntities;
    const w = this.width;
    const base = this.entPtr / 4;
    const dst = new Float32Array(this.memory.buffer, this.entPtr, this.scoreStride * this.rowFloats);
    if (this.rowFloats === w) {
      dst.set(table.subarray(0, n * w));
    } else {
      const f32 = new Float32Array(this.memory.buffer);
      const parts = this.plan.parts;
      const pf = this.partFloats;
      const pad = this.rowFloats / parts;
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < parts; p++)
          f32.set(table.subarray(i * w + p * pf, i * w + (p + 1) * pf), base + i * this.rowFloats + p * pad);
      }
    }
    if (this.twoPass) this.quantiseTable(dst);
  }

  /** The int16 image of the (padded) float32 table `x`, and its scale and norms. */
  private quantiseTable(x: Float32Array): void {
    const n = this.numEntities;
    const rf = this.rowFloats;
    const r16 = this.row16;
    let xMax = 0;
    let x1Max = 0;
    let x2Max = 0;
    let finite = true;
    for (let j = 0; j < n; j++) {
      let s1 = 0;
      let s2 = 0;
      for (let k = j * rf, e = k + rf; k < e; k++) {
        const v = Math.abs(x[k]!);
        s1 += v;
        s2 += v * v;
        if (v > xMax) xMax = v;
      }
      // A NaN or an infinity makes s1 NaN or infinite.
      if (!(s1 < Infinity)) finite = false;
      if (s1 > x1Max) x1Max = s1;
      if (s2 > x2Max) x2Max = s2;
    }
    this.tableOk = finite && x2Max < Infinity;
    if (!this.tableOk) return;
    // Split the int32 budget |Q.X| <= ||Q||_2 ||X||_2 < 2^31 evenly, as if queries had the rows' shape
    // (||x||_2 / max|x|): M = sqrt(budget) / that ratio, at most 32767.
    const shape = xMax > 0 ? Math.sqrt(x2Max) / xMax : 1;
    const mx = Math.max(1, Math.min(32767, Math.floor(Math.sqrt(INT_BUDGET) / shape)));
    const sx = xMax > 0 ? xMax / mx : 1;
    this.xScale = sx;
    this.xMax = xMax;
    this.x1Max = x1Max;
    const x16 = new Int16Array(this.memory.buffer, this.ent16Ptr, r16 * this.scoreStride);
    // X = round(x / sx) through a multiplication: whatever its rounding, |X| <= mx and the
    // bounds use the actual errors x - sx X.
    const inv = 1 / sx;
    let e2Max = 0;
    let x2Int = 0;
    for (let j = 0; j < n; j++) {
      const o = j * rf;
      const o16 = j * r16;
      let e2 = 0;
      let X2 = 0;
      for (let k = 0; k < rf; k++) {
        const v = x[o + k]!;
        const X = Math.round(v * inv);
        x16[o16 + k] = X;
        const d = v - sx * X;
        e2 += d * d;
        X2 += X * X;
      }
      if (e2 > e2Max) e2Max = e2;
      if (X2 > x2Int) x2Int = X2;
    }
    this.e2Max = Math.sqrt(e2Max);
    this.x2Int = Math.sqrt(x2Int);
    this.xq2Max = sx * this.x2Int;
  }

  /** Score query rows [0, nq) against every entity into `scores`. nq in [1, maxQueries]. */
  scoreAll(nq: number): void {
    const rowBytes = 4 * this.rowFloats;
    const n = roundUp(nq, this.tile);
    this.scoreFn(
      this.qPtr,
      n,
      rowBytes,
      this.entPtr,
      this.scoreStride,
      rowBytes,
      this.kBytes,
      this.sPtr,
      4 * this.scoreStride,
      this.imBytes,
    );
  }

  /**
   * Get query rows [0, nq) ready for `scoreTwoPass`: their int16 images,
   * scales and bounds. False (nothing else to do but `scoreAll`) when this
   * scorer has no two passes, or the table or a query row has a non-finite
   * value or could overflow a float32 sum.
   */
  prepareTwoPass(nq: number): boolean {
    if (!this.twoPass || !this.tableOk) return false;
    const { q, q16, rowFloats: rf, row16: r16, xScale: sx, xMax, x1Max, e2Max, xq2Max, x2Int } = this;
    const K = r16;
    for (let i = 0; i < nq; i++) {
      const o = i * rf;
      let qMax = 0;
      let q1 = 0;
      let q2 = 0;
      for (let k = o; k < o + rf; k++) {
        const v = Math.abs(q[k]!);
        q1 += v;
        q2 += v * v;
        if (v > qMax) qMax = v;
      }
      // A NaN or an infinity makes q1 NaN or infinite.
      if (!(q1 * xMax < SUM_LIMIT) || !(q2 < Infinity)) return false;
      // The largest M (<= 32767) with ||Q||_2 max_j ||X_j||_2 within the int32 budget.
      const shape = qMax > 0 ? Math.sqrt(q2) / qMax : 1;
      const mq = Math.min(32767, Math.floor(INT_BUDGET / (Math.max(1, x2Int) * shape)));
      if (mq < 1) return false;
      const sq = qMax > 0 ? qMax / mq : 1;
      const o16 = i * r16;
      let e2 = 0;
      let Q2 = 0;
      for (let k = 0; k < rf; k++) {
        const v = q[o + k]!;
        const Q = Math.round(v / sq);
        q16[o16 + k] = Q;
        e2 += (v - sq * Q) * (v - sq * Q);
        Q2 += Q * Q;
      }
      // Every int32 sum Q.X is then exact: |Q.X| <= ||Q||_2 ||X||_2 < 2^31
      // (the kernel's adds wrap, so only the total must fit).
      if (!(Math.sqrt(Q2) * x2Int < I32_MAX)) return false;
      this.qScale[i] = sq * sx;
      // q.x - sq sx Q.X = q.(x - sx X) + (q - sq Q).(sx X): Hoelder (l1, max) or Cauchy-Schwarz, the smaller.
      const bound = Math.min(
        0.5 * sx * q1 + 0.5 * sq * x1Max + 0.75 * K * sq * sx,
        Math.sqrt(q2) * e2Max + Math.sqrt(e2) * xq2Max,
      );
      const rho = (K / 4 + 3) * F32_U * q1 * xMax + 4 * K * F32_TINY;
      this.qDelta[i] = 1.01 * (bound + rho);
    }
    return true;
  }

  /** Pass 1: the int32 scores of query rows [0, nq) (after `prepareTwoPass`) against every entity. */
  scoreTwoPass(nq: number): void {
    const b16 = 2 * this.row16;
    this.dot16Fn!(
      this.q16Ptr,
      roundUp(nq, 2),
      b16,
      this.ent16Ptr,
      this.scoreStride,
      b16,
      b16,
      this.sPtr,
      4 * this.scoreStride,
    );
  }

  /**
   * Pass 2 for query row `row` and its target entity: the target's float32
   * score into `tgt`, and into `lt` and `eq` the entities (of all, the
   * target included) whose float32 score is below, and equal to, it;
   * entities outside the band are counted from their int32 scores. Sets the
   * row that `classify` answers for.
   */
  rankRow(row: number, target: number): void {
    const n = this.numEntities;
    const rowBytes = 4 * this.rowFloats;
    const qRow = this.qPtr + row * rowBytes;
    const idx = this.idx;
    const out = this.out;
    idx[0] = target;
    this.rescoreFn!(qRow, this.entPtr, rowBytes, this.kBytes, this.idxPtr, 1, this.outPtr);
    const t = out[0]!;
    const scale = this.qScale[row]!;
    const d = this.qDelta[row]!;
    const lo = Math.max(I32_MIN, Math.min(I32_MAX, Math.ceil((t - d) / scale) - 1));
    const hi = Math.max(I32_MIN, Math.min(I32_MAX, Math.floor((t + d) / scale) + 1));
    const rawOff = row * this.scoreStride;
    const n4 = n & ~3;
    let m = this.bandFn!(this.sPtr + 4 * rawOff, n4, lo, hi, 16, this.idxPtr);
    let lt = this.counts[4]!;
    const raw = this.raw;
    for (let j = n4; j < n; j++) {
      const v = raw[rawOff + j]!;
      if (v < lo) lt++;
      else if (v <= hi) idx[m++] = j;
    }
    this.rescoreFn!(qRow, this.entPtr, rowBytes, this.kBytes, this.idxPtr, m, this.outPtr);
    let eq = 0;
    for (let p = 0; p < m; p++) {
      const v = out[p]!;
      lt += +(v < t);
      eq += +(v === t);
    }
    this.lt = lt;
    this.eq = eq;
    this.tgt = t;
    this.banded += m;
    this.bandRows++;
    this.curLo = lo;
    this.curHi = hi;
    this.curRaw = rawOff;
    this.curQ = qRow;
  }

  /**
   * Pass 2 for top-k (predictions): given `floor`, the int32 first-pass
   * score of the k-th best candidate of query row `row` (after
   * `scoreTwoPass`), list every entity whose float32 score can reach the
   * k-th best float32 score, and score those in float32. An entity j of
   * the float32 top k has s_j >= s_(k) >= scale floor - delta, and
   * s_j <= scale X_j + delta, so X_j >= floor - 2 delta / scale: the list
   * is every j with X_j at or above that (rounded down, less one). Returns
   * the count m; the ids (ascending) are `bandIds[0 .. m)` and their
   * float32 scores, from the arithmetic of `scoreAll`, `bandScores[0 .. m)`.
   */
  scoreFrom(row: number, floor: number): number {
    const n = this.numEntities;
    const rowBytes = 4 * this.rowFloats;
    const scale = this.qScale[row]!;
    const d = this.qDelta[row]!;
    const lo = Math.max(I32_MIN, Math.min(I32_MAX, Math.floor(floor - (2 * d) / scale) - 1));
    const rawOff = row * this.scoreStride;
    const n4 = n & ~3;
    let m = this.bandFn!(this.sPtr + 4 * rawOff, n4, lo, I32_MAX, 16, this.idxPtr);
    const raw = this.raw;
    const idx = this.idx;
    for (let j = n4; j < n; j++) if (raw[rawOff + j]! >= lo) idx[m++] = j;
    this.rescoreFn!(this.qPtr + row * rowBytes, this.entPtr, rowBytes, this.kBytes, this.idxPtr, m, this.outPtr);
    this.banded += m;
    this.bandRows++;
    return m;
  }

  /**
   * List the entities j in [from, numEntities) whose score in query row
   * `row` is above `t`: the float32 scores of `scoreAll`, or with `raw` the
   * int32 scores of `scoreTwoPass` (t an int32). `from` is a multiple of 4.
   * The ids, ascending, go to `listIds[0 .. m)`; returns m. A NaN score is
   * above nothing, and nothing is above a NaN t. Hot path.
   */
  listAbove(row: number, from: number, t: number, raw: boolean): number {
    const n = this.numEntities;
    const n4 = n & ~3;
    const off = row * this.scoreStride;
    let m = 0;
    if (from < n4)
      m = (raw ? this.aboveI32Fn : this.aboveF32Fn)(this.sPtr + 4 * (off + from), n4 - from, t, this.listPtr, from);
    const list = this.list;
    const s = raw ? this.raw : this.scores;
    for (let j = Math.max(from, n4); j < n; j++) if (s[off + j]! > t) list[m++] = j;
    return m;
  }

  /** The ids listed by the last `listAbove`. */
  get listIds(): Int32Array {
    return this.list;
  }

  /** The int32 first-pass scores after `scoreTwoPass`: entity j of query row i at `i * scoreStride + j`. */
  get rawScores(): Int32Array {
    return this.raw;
  }

  /** The ids listed by the last `scoreFrom`. */
  get bandIds(): Int32Array {
    return this.idx;
  }

  /** Their float32 scores. */
  get bandScores(): Float32Array {
    return this.out;
  }

  /**
   * Entity x against the target of the last `rankRow`: -1 if its float32
   * score is below the target's, 0 if equal, 1 if above.
   */
  classify(x: number): -1 | 0 | 1 {
    const v = this.raw[this.curRaw + x]!;
    if (v < this.curLo) return -1;
    if (v > this.curHi) return 1;
    this.idx[0] = x;
    const rowBytes = 4 * this.rowFloats;
    this.rescoreFn!(this.curQ, this.entPtr, rowBytes, this.kBytes, this.idxPtr, 1, this.outPtr);
    this.banded++;
    const s = this.out[0]!;
    return s < this.tgt ? -1 : s === this.tgt ? 0 : 1;
  }

  /**
   * Count the scores of row `row` (entities 0 .. numEntities-1) below `t`
   * into `lt` and equal to `t` into `eq`. A NaN score counts in neither.
   */
  count(row: number, t: number): void {
    const n = this.numEntities;
    const n4 = n & ~3;
    const off = row * this.scoreStride;
    this.countFn(this.sPtr + 4 * off, n4, t, 0);
    let lt = this.counts[0]!;
    let eq = this.counts[1]!;
    const s = this.scores;
    for (let j = n4; j < n; j++) {
      const v = s[off + j]!;
      lt += +(v < t);
      eq += +(v === t);
    }
    this.lt = lt;
    this.eq = eq;
  }
}
