/**
 * One training thread's WebAssembly SIMD kernels for a chunk's negatives:
 * the n positives' queries (a model's {@link QueryPlan}) scored against the
 * k shared negatives by the evaluation kernels of `kernels.wat`, and the
 * gradients of every (positive, negative) pair added back by the kernels of
 * `train.wat`, in float32.
 *
 * ## Memory
 * One private `WebAssembly.Memory`, laid out (every region 16-byte aligned,
 * a row being `width` floats, the model's entity width) as
 *
 *   tile    the chunk's entity rows as training lays them out: positive i's
 *           fixed entity at row 2i, its other entity at 2i + 1, then the
 *           negatives from row 2n; 3 spare rows so the negatives can be
 *           scored in tiles of 4
 *   G       the rows' gradients, at the tile's offsets
 *   Q, GQ   one query row per positive (and one spare for an even count),
 *           then its gradient
 *   S, C    scores and loss coefficients, one row of kPad floats per query
 *
 * `tile` and `G` are Float32Array views the trainer reads and writes
 * directly: the parameter server's client gathers rows into `tile` and
 * pushes from `G`, so the kernels run on a contiguous, cache-resident copy
 * of the chunk's rows and its gradients go out in one scatter.
 *
 * ## What a model needs
 * A query plan with `queryGrad`, an entity width that is a multiple of 4
 * floats (for `rotate`, dim a multiple of 4: each half is scored in
 * vectors of 4), and WebAssembly SIMD128. `create` says why not otherwise,
 * and training then uses the model's JavaScript block kernels.
 *
 * ## Gradients (c = C[i][j], q = query i, x = negative j)
 * - dot:    gQ += C X, gX += Cᵀ Q (two blocked products, `matAcc`)
 * - l2:     score = -|q - x|: the same two products with c / |q - x|, minus
 *           the diagonal terms (row sums × q, column sums × x)
 * - l1:     s = c·sign(q - x): gX += s, gQ -= s (`l1Grad`)
 * - rotate: s = c·(q - x)/|q - x| per complex coordinate (`rotateGrad`)
 * then `queryGrad` takes gQ back to each positive's fixed entity and its
 * relation.
 */
import type { QueryPlan } from './plan.js';
import { QUERY_TILE, type ScoreExport } from './scorer.js';
import { wasmInstance, wasmMemory, wasmModule, type WasmMemory } from './module.js';

type MatAccFn = (
  aPtr: number,
  rows: number,
  aRow: number,
  aCol: number,
  bPtr: number,
  inner: number,
  bStride: number,
  kBytes: number,
  outPtr: number,
  outStride: number,
) => void;
type L1GradFn = (
  qPtr: number,
  nq: number,
  qStride: number,
  xPtr: number,
  nx: number,
  xStride: number,
  kBytes: number,
  cPtr: number,
  cStride: number,
  gqPtr: number,
  gxPtr: number,
) => void;
type LogisticFn = (
  sPtr: number,
  n: number,
  k: number,
  kPad: number,
  gamma: number,
  invK: number,
  cPtr: number,
  lossPtr: number,
) => void;
type RotateGradFn = (
  qPtr: number,
  nq: number,
  qStride: number,
  xPtr: number,
  nx: number,
  xStride: number,
  kBytes: number,
  imOff: number,
  cPtr: number,
  cStride: number,
  gqPtr: number,
  gxPtr: number,
) => void;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Why a model cannot train on the SIMD kernels at this width, or null when it can. */
export function simdTrainBlocker(plan: QueryPlan | undefined, dim: number, width: number): string | null {
  if (plan === undefined) return 'the model has no query plan';
  if (typeof plan.queryGrad !== 'function') return 'its query plan has no queryGrad';
  if (plan.kernel === 'rotate' ? dim % 4 !== 0 : width % 4 !== 0)
    return `its rows are not in vectors of 4 floats (dim ${dim})`;
  if (wasmModule('kernels.wasm') === null || wasmModule('train.wasm') === null)
    return 'this runtime has no WebAssembly SIMD128';
  return null;
}

export class SimdChunkKernels {
  readonly plan: QueryPlan;
  readonly dim: number;
  /** Floats per entity row (tile, G, Q and GQ rows alike). */
  readonly width: number;
  /** The chunk's entity rows, gathered by the caller (see the module comment). */
  readonly tile: Float32Array;
  /** Their gradients, at the tile's offsets; the caller zeroes the rows it uses (`rowsUsed`). */
  readonly G: Float32Array;
  private readonly Q: Float32Array;
  private readonly GQ: Float32Array;
  private readonly S: Float32Array;
  private readonly C: Float32Array;
  private readonly k: number;
  /** k rounded up to the candidate tile of 4. */
  private readonly kPad: number;
  private readonly im: number;
  private readonly memory: WasmMemory;
  private readonly tilePtr: number;
  private readonly gPtr: number;
  private readonly qPtr: number;
  private readonly gqPtr: number;
  private readonly sPtr: number;
  private readonly cPtr: number;
  private readonly score: ScoreExport;
  private readonly matAcc: MatAccFn;
  private readonly l1Grad: L1GradFn;
  private readonly rotateGrad: RotateGradFn;
  private readonly logisticFn: LogisticFn;
  private readonly lossPtr: number;
  private readonly L: Float32Array;
  private readonly rowSum: Float64Array;
  private readonly colSum: Float64Array;

  /**
   * Kernels for chunks of up to `chunk` positives against `k` negatives, rows
   * of `width` floats at rank `dim`. Call only when `simdTrainBlocker` says
   * null. Allocates its memory once.
   */
  constructor(plan: QueryPlan, dim: number, width: number, chunk: number, k: number) {
    this.plan = plan;
    this.dim = dim;
    this.width = width;
    this.k = k;
    this.kPad = roundUp(k, 4);
    // Imaginary parts start `dim` floats into a row (ComplEx and RotatE; unused by the others).
    this.im = dim;
    const rowBytes = 4 * width;
    const tileRows = 2 * chunk + this.kPad;
    const qRows = roundUp(chunk, 2);
    this.tilePtr = 0;
    this.gPtr = this.tilePtr + tileRows * rowBytes;
    this.qPtr = this.gPtr + tileRows * rowBytes;
    this.gqPtr = this.qPtr + qRows * rowBytes;
    this.sPtr = this.gqPtr + qRows * rowBytes;
    this.cPtr = this.sPtr + qRows * this.kPad * 4;
    this.lossPtr = this.cPtr + qRows * this.kPad * 4;
    const bytes = this.lossPtr + roundUp(qRows, 4) * 4;
    this.memory = wasmMemory(Math.max(1, Math.ceil(bytes / 65536)));
    const buf = this.memory.buffer;
    this.tile = new Float32Array(buf, this.tilePtr, tileRows * width);
    this.G = new Float32Array(buf, this.gPtr, tileRows * width);
    this.Q = new Float32Array(buf, this.qPtr, qRows * width);
    this.GQ = new Float32Array(buf, this.gqPtr, qRows * width);
    this.S = new Float32Array(buf, this.sPtr, qRows * this.kPad);
    this.C = new Float32Array(buf, this.cPtr, qRows * this.kPad);
    this.L = new Float32Array(buf, this.lossPtr, qRows);
    const scoreEx = wasmInstance(wasmModule('kernels.wasm')!, this.memory).exports;
    const trainEx = wasmInstance(wasmModule('train.wasm')!, this.memory).exports;
    this.score = scoreEx[plan.kernel] as ScoreExport;
    this.matAcc = trainEx['matAcc'] as MatAccFn;
    this.l1Grad = trainEx['l1Grad'] as L1GradFn;
    this.rotateGrad = trainEx['rotateGrad'] as RotateGradFn;
    this.logisticFn = trainEx['logistic'] as LogisticFn;
    this.rowSum = new Float64Array(qRows);
    this.colSum = new Float64Array(this.kPad);
  }

  /** Tile rows a chunk of n positives uses (its positives, its negatives and their padding): zero these in `G`. */
  rowsUsed(n: number): number {
    return 2 * n + this.kPad;
  }

  /**
   * Score each of the n positives' queries against the chunk's negatives:
   * `out[i*k + j]`, the score of positive i with negative j in place of its
   * other entity (its tail when `tails`). Positive i's fixed entity is the
   * tile row at element offset `fixedOffs[i]`, its relation `R[relOffs[i]..]`.
   * With `out` null the scores stay in the kernels' memory, for `logistic`.
   */
  scoreNegatives(
    tails: boolean,
    n: number,
    R: Float32Array,
    relOffs: Int32Array,
    fixedOffs: Int32Array,
    out: Float64Array | null,
  ): void {
    const w = this.width;
    const plan = this.plan;
    const dim = this.dim;
    const Q = this.Q;
    const im = this.im;
    for (let i = 0; i < n; i++) plan.query(tails, this.tile, fixedOffs[i]!, R, relOffs[i]!, dim, Q, i * w, im);
    const nq = roundUp(n, QUERY_TILE[plan.kernel]);
    if (nq > n) Q.fill(0, n * w, nq * w);
    const rowBytes = 4 * w;
    const rotate = plan.kernel === 'rotate';
    this.score(
      this.qPtr,
      nq,
      rowBytes,
      this.tilePtr + 2 * n * rowBytes,
      this.kPad,
      rowBytes,
      rotate ? 4 * dim : rowBytes,
      this.sPtr,
      4 * this.kPad,
      rotate ? 4 * dim : 0,
    );
    if (out === null) return;
    const k = this.k;
    const kPad = this.kPad;
    const S = this.S;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      const s = i * kPad;
      for (let j = 0; j < k; j++) out[o + j] = S[s + j]!;
    }
  }

  /**
   * Score each positive with the queries `scoreNegatives` formed: `out[i]`
   * is the kernel of query i against its other entity, the tile row at
   * `otherOffs[i]` (its tail when the chunk corrupts tails), which is the
   * positive triple's score. Float64 arithmetic on the float32 query.
   */
  scorePositives(n: number, otherOffs: Int32Array, out: Float64Array): void {
    const w = this.width;
    const Q = this.Q;
    const X = this.tile;
    const kernel = this.plan.kernel;
    const dim = this.dim;
    for (let i = 0; i < n; i++) {
      const q = i * w;
      const x = otherOffs[i]!;
      let sum = 0;
      if (kernel === 'dot') {
        for (let f = 0; f < w; f++) sum += Q[q + f]! * X[x + f]!;
      } else if (kernel === 'l1') {
        for (let f = 0; f < w; f++) sum -= Math.abs(Q[q + f]! - X[x + f]!);
      } else if (kernel === 'l2') {
        for (let f = 0; f < w; f++) {
          const d = Q[q + f]! - X[x + f]!;
          sum += d * d;
        }
        sum = -Math.sqrt(sum);
      } else {
        for (let f = 0; f < dim; f++) {
          const re = Q[q + f]! - X[x + f]!;
          const im = Q[q + dim + f]! - X[x + dim + f]!;
          sum -= Math.sqrt(re * re + im * im);
        }
      }
      out[i] = sum;
    }
  }

  /**
   * The logistic loss of the negatives `scoreNegatives` last scored, with
   * uniform weights (no self-adversarial weights, no masked pairs): with
   * z = gamma + score, the coefficient of pair (i, j) is sigmoid(z) / k (set
   * for `addPairGradients`) and `rowLoss[i]` the mean over j of softplus(z),
   * in float32 (see `logistic` in train.wat).
   */
  logistic(n: number, gamma: number, rowLoss: Float64Array): void {
    this.logisticFn(this.sPtr, n, this.k, this.kPad, gamma, 1 / this.k, this.cPtr, this.lossPtr);
    const L = this.L;
    for (let i = 0; i < n; i++) rowLoss[i] = L[i]!;
  }

  /** Set the pair coefficients `coef[i*k + j]` (any loss) for `addPairGradients`, rounded to float32. */
  setCoefficients(n: number, coef: Float64Array): void {
    const k = this.k;
    const kPad = this.kPad;
    const C = this.C;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      const c = i * kPad;
      for (let j = 0; j < k; j++) C[c + j] = coef[o + j]!;
      for (let j = k; j < kPad; j++) C[c + j] = 0;
    }
  }

  /**
   * Add the gradients of every (positive, negative) pair of the chunk that
   * `scoreNegatives` last scored, with the coefficients `logistic` or
   * `setCoefficients` last set: the negatives' into `G` (their tile rows),
   * each query's through `queryGrad` into `G` at `fixedG[i]` and into `gRel`
   * at `relG[i]`. With `posCoef`, each positive's own pair too (coefficient
   * `posCoef[i]`, its other entity's gradient into `G` at `otherG[i]`, read
   * from the tile at `otherOffs[i]`), so that one `queryGrad` per positive
   * carries both.
   */
  addPairGradients(
    tails: boolean,
    n: number,
    R: Float32Array,
    relOffs: Int32Array,
    fixedOffs: Int32Array,
    fixedG: Int32Array,
    gRel: Float32Array,
    relG: Int32Array,
    posCoef: Float64Array | null = null,
    otherOffs: Int32Array | null = null,
    otherG: Int32Array | null = null,
  ): void {
    const w = this.width;
    const k = this.k;
    const kPad = this.kPad;
    const kernel = this.plan.kernel;
    const nq = roundUp(n, 2);
    const C = this.C;
    const S = this.S;
    const l2 = kernel === 'l2';
    // A padding query row (odd n) adds nothing.
    if (nq > n) C.fill(0, n * kPad, nq * kPad);
    // TransE L2: the products take the coefficients divided by the distance.
    if (l2) {
      for (let i = 0; i < n; i++) {
        const c = i * kPad;
        for (let j = 0; j < k; j++) {
          const dist = -S[c + j]!;
          C[c + j] = dist > 0 ? C[c + j]! / dist : 0;
        }
      }
    }
    this.GQ.fill(0, 0, nq * w);
    const rowBytes = 4 * w;
    const xPtr = this.tilePtr + 2 * n * rowBytes;
    const gxPtr = this.gPtr + 2 * n * rowBytes;
    const cStride = 4 * kPad;
    if (kernel === 'dot' || l2) {
      this.matAcc(this.cPtr, nq, cStride, 4, xPtr, kPad, rowBytes, rowBytes, this.gqPtr, rowBytes);
      this.matAcc(this.cPtr, kPad, 4, cStride, this.qPtr, nq, rowBytes, rowBytes, gxPtr, rowBytes);
      if (l2) this.l2Diagonal(n, 2 * n * w);
    } else if (kernel === 'l1') {
      this.l1Grad(this.qPtr, n, rowBytes, xPtr, kPad, rowBytes, rowBytes, this.cPtr, cStride, this.gqPtr, gxPtr);
    } else {
      const half = 4 * this.dim;
      this.rotateGrad(this.qPtr, n, rowBytes, xPtr, k, rowBytes, half, half, this.cPtr, cStride, this.gqPtr, gxPtr);
    }
    if (posCoef !== null) this.addPositiveGradients(n, posCoef, otherOffs!, otherG!);
    const plan = this.plan;
    for (let i = 0; i < n; i++) {
      plan.queryGrad!(
        tails,
        this.tile,
        fixedOffs[i]!,
        R,
        relOffs[i]!,
        this.dim,
        this.GQ,
        i * w,
        this.im,
        this.G,
        fixedG[i]!,
        gRel,
        relG[i]!,
      );
    }
  }

  /** Positive i's pair gradient: c·∂K/∂q into GQ row i, c·∂K/∂x into `G` at `otherG[i]`. */
  private addPositiveGradients(n: number, posCoef: Float64Array, otherOffs: Int32Array, otherG: Int32Array): void {
    const w = this.width;
    const Q = this.Q;
    const GQ = this.GQ;
    const X = this.tile;
    const G = this.G;
    const kernel = this.plan.kernel;
    const dim = this.dim;
    for (let i = 0; i < n; i++) {
      const c = posCoef[i]!;
      if (c === 0) continue;
      const q = i * w;
      const x = otherOffs[i]!;
      const gx = otherG[i]!;
      if (kernel === 'dot') {
        for (let f = 0; f < w; f++) {
          GQ[q + f] = GQ[q + f]! + c * X[x + f]!;
          G[gx + f] = G[gx + f]! + c * Q[q + f]!;
        }
      } else if (kernel === 'l1') {
        // K = -Σ|q - x|: ∂K/∂x = sign(q - x) = -∂K/∂q (0 where equal).
        for (let f = 0; f < w; f++) {
          const d = Q[q + f]! - X[x + f]!;
          const sg = d > 0 ? c : d < 0 ? -c : 0;
          G[gx + f] = G[gx + f]! + sg;
          GQ[q + f] = GQ[q + f]! - sg;
        }
      } else if (kernel === 'l2') {
        let ss = 0;
        for (let f = 0; f < w; f++) {
          const d = Q[q + f]! - X[x + f]!;
          ss += d * d;
        }
        if (ss === 0) continue;
        const scale = c / Math.sqrt(ss);
        for (let f = 0; f < w; f++) {
          const d = scale * (Q[q + f]! - X[x + f]!);
          G[gx + f] = G[gx + f]! + d;
          GQ[q + f] = GQ[q + f]! - d;
        }
      } else {
        for (let f = 0; f < dim; f++) {
          const re = Q[q + f]! - X[x + f]!;
          const im = Q[q + dim + f]! - X[x + dim + f]!;
          const m = Math.sqrt(re * re + im * im);
          if (m === 0) continue;
          const s = c / m;
          G[gx + f] = G[gx + f]! + s * re;
          G[gx + dim + f] = G[gx + dim + f]! + s * im;
          GQ[q + f] = GQ[q + f]! - s * re;
          GQ[q + dim + f] = GQ[q + dim + f]! - s * im;
        }
      }
    }
  }

  /**
   * TransE L2's diagonal terms: gQ_i -= (Σ_j c'_ij) q_i and
   * gX_j -= (Σ_i c'_ij) x_j, with c' the scaled coefficients in C.
   */
  private l2Diagonal(n: number, negBase: number): void {
    const w = this.width;
    const kPad = this.kPad;
    const C = this.C;
    const rowSum = this.rowSum;
    const colSum = this.colSum;
    colSum.fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const c = i * kPad;
      for (let j = 0; j < kPad; j++) {
        const v = C[c + j]!;
        s += v;
        colSum[j] = colSum[j]! + v;
      }
      rowSum[i] = s;
    }
    const Q = this.Q;
    const GQ = this.GQ;
    for (let i = 0; i < n; i++) {
      const s = rowSum[i]!;
      if (s === 0) continue;
      const o = i * w;
      for (let q = 0; q < w; q++) GQ[o + q] = GQ[o + q]! - s * Q[o + q]!;
    }
    const X = this.tile;
    const G = this.G;
    for (let j = 0; j < this.k; j++) {
      const s = colSum[j]!;
      if (s === 0) continue;
      const o = negBase + j * w;
      for (let q = 0; q < w; q++) G[o + q] = G[o + q]! - s * X[o + q]!;
    }
  }
}
