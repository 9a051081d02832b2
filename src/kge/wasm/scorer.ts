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
 *   scores           maxQueries rows of `scoreStride` floats
 *
 * The entity table is copied in once (`loadEntities`), so each thread
 * scores from its own copy: no sharing, no races, and the copy is a
 * snapshot of a table that training may go on changing.
 *
 * ## The module
 * `kernels.wasm` is read and compiled once per thread, on first use. Its
 * score functions and `count` are described in `kernels.wat`.
 */
import { readFileSync } from 'node:fs';
import type { QueryPlan, WasmKernel } from './plan.js';

// The project's lib settings carry no WebAssembly types (they live in the DOM
// libs): declare the little this module uses of the global.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
};

/** Query rows per register tile, per kernel: the tiles `kernels.wat` is written for. */
const QUERY_TILE: Readonly<Record<WasmKernel, 1 | 2>> = { dot: 2, l1: 1, l2: 2, rotate: 1 };
/** Candidate rows per register tile (the horizontal sum packs four). */
const CAND_TILE = 4;

/** Where the build puts the compiled kernels: next to this file's JavaScript. */
const KERNELS_URL = new URL('./kernels.wasm', import.meta.url);

let cachedBytes: Uint8Array | undefined;
let cachedModule: WasmModule | null | undefined;

/**
 * The kernels' module bytes, read once per thread from `kernels.wasm`.
 * Throws when the file is missing (a build without `npm run build`'s wasm step).
 */
export function wasmKernelBytes(): Uint8Array {
  if (cachedBytes === undefined) {
    try {
      cachedBytes = new Uint8Array(readFileSync(KERNELS_URL));
    } catch (e) {
      throw new Error(
        `kgshard: cannot read the WebAssembly kernels at ${KERNELS_URL.pathname}` +
          ` (built by \`npm run build\`): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return cachedBytes;
}

/** The compiled module, or null when this runtime lacks WebAssembly SIMD128. */
function kernelModule(): WasmModule | null {
  if (cachedModule === undefined) {
    const bytes = wasmKernelBytes();
    try {
      cachedModule =
        typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      cachedModule = null;
    }
  }
  return cachedModule;
}

/** Whether the WebAssembly SIMD kernels can run here (Node 20 has SIMD128 without flags). */
export function wasmSimdSupported(): boolean {
  return kernelModule() !== null;
}

type ScoreExport = (
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

/** Largest memory a scorer asks for: 4 GiB less a page (wasm32). */
const MAX_BYTES = 65535 * 65536;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/**
 * One thread's WASM scoring state: a private memory holding a padded copy of
 * the entity table, `maxQueries` query rows and as many score rows over all
 * entities. Not thread-safe (one per thread); allocation-free after `create`.
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
  /** The counts of the last `count`: scores below, and equal to, the threshold. */
  lt = 0;
  eq = 0;

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

  private constructor(
    plan: QueryPlan,
    numEntities: number,
    dim: number,
    width: number,
    maxQueries: number,
    module: WasmModule,
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
    this.memory = new WebAssembly.Memory({ initial: pages });
    const instance = new WebAssembly.Instance(module, { env: { mem: this.memory } });
    const ex = instance.exports;
    this.scoreFn = ex[plan.kernel] as ScoreExport;
    this.countFn = ex['count'] as CountExport;
    const buf = this.memory.buffer;
    this.counts = new Int32Array(buf, 0, 2);
    this.q = new Float32Array(buf, this.qPtr, this.maxQueries * this.rowFloats);
    this.scores = new Float32Array(buf, this.sPtr, this.maxQueries * this.scoreStride);
  }

  /**
   * A scorer for `plan` over `numEntities` rows of `width` floats (the
   * model's entity width at rank `dim`), with room for `maxQueries` query
   * rows; null when WebAssembly SIMD is unavailable or the memory would
   * exceed 4 GiB or cannot be allocated. Any thread.
   */
  static create(
    plan: QueryPlan,
    numEntities: number,
    dim: number,
    width: number,
    maxQueries: number,
  ): WasmScorer | null {
    const module = kernelModule();
    if (module === null) return null;
    const tile = QUERY_TILE[plan.kernel];
    const rowFloats = plan.parts * roundUp(width / plan.parts, 4);
    const stride = roundUp(numEntities, CAND_TILE);
    const bytes = 64 + 4 * rowFloats * (stride + roundUp(maxQueries, tile)) + 4 * roundUp(maxQueries, tile) * stride;
    if (!(bytes <= MAX_BYTES)) return null;
    try {
      return new WasmScorer(plan, numEntities, dim, width, maxQueries, module, Math.ceil(bytes / 65536));
    } catch (e) {
      if (e instanceof RangeError) return null; // the memory could not be allocated
      throw e;
    }
  }

  /**
   * Copy the entity table (numEntities rows of `width` floats) into the
   * scorer's memory, padding each part to a multiple of 4 floats. The copy
   * is what later scores read: call again after the table changes.
   */
  loadEntities(table: Float32Array): void {
    const n = this.numEntities;
    const w = this.width;
    const base = this.entPtr / 4;
    const dst = new Float32Array(this.memory.buffer, this.entPtr, this.scoreStride * this.rowFloats);
    if (this.rowFloats === w) {
      dst.set(table.subarray(0, n * w));
      return;
    }
    const f32 = new Float32Array(this.memory.buffer);
    const parts = this.plan.parts;
    const pf = this.partFloats;
    const pad = this.rowFloats / parts;
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < parts; p++)
        f32.set(table.subarray(i * w + p * pf, i * w + (p + 1) * pf), base + i * this.rowFloats + p * pad);
    }
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
