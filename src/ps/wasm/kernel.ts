/**
 * One thread's WebAssembly SIMD128 update kernels for one table whose rows
 * sit in a shared `WebAssembly.Memory` (a `Seqlock` region created with
 * `wasmMemory`): the kernels of `update.wat` (compiled at build time into
 * `update.wasm`, next to this file in dist/), instantiated on the table's
 * memory, so they update the shared rows in place.
 *
 * A push is staged first: its row indices and gradients are copied into this
 * thread's scratch pages in the table's memory (`claimPages`: pages past the
 * region that only this thread uses), then checked (`stage` returns the
 * float64 sum of the squares of the gradients, finite exactly when every
 * value is), then applied from the scratch copy (`applyStaged`). The staging
 * is the only copy; the rule runs on the rows in place.
 *
 * Not thread-safe: one per thread and table (`Tables` makes them). Nothing
 * is allocated after the scratch has grown to the largest push, except one
 * view per push whose `rowIdx` or `grads` array is longer than the push.
 */
import {
  claimPages,
  instantiate,
  loadWasm,
  readWasm,
  WASM_PAGE_BYTES,
  type SharedWasmMemory,
  type WasmModule,
} from '../../shm/wasm-memory.js';

/** Where the build puts the compiled kernels: next to this file's JavaScript. */
const KERNELS_URL = new URL('./update.wasm', import.meta.url);

/** The kernels' module bytes, read once per thread (null when the file is missing: a build without its wasm step). */
export function updateKernelBytes(): Uint8Array | null {
  return readWasm(KERNELS_URL);
}

/** The compiled module, once per thread; null when it is missing or this runtime cannot run it. */
function updateModule(): WasmModule | null {
  return loadWasm(KERNELS_URL);
}

/** Whether the update kernels can run here (Node 20: yes, without flags). */
export function updateKernelsSupported(): boolean {
  return updateModule() !== null;
}

type SumSq = (g: number, n: number) => number;
type Sgd = (x: number, rows: number, count: number, width: number, g: number, lr: number) => void;
type Adagrad = (x: number, rows: number, count: number, width: number, g: number, lr: number, acc: number) => void;
type Accumulate = (sums: number, rows: number, count: number, width: number, g: number) => void;
type Average = (sums: number, rows: number, m: number, width: number, n: number, out: number) => number;

/** The fewest rows a scratch area holds (so small pushes never grow it twice). */
const MIN_SCRATCH_ROWS = 256;

function align16(n: number): number {
  return (n + 15) & ~15;
}

export class UpdateKernel {
  /** Floats per row. */
  readonly width: number;
  /** Byte address of the table's row 0 in the memory. */
  readonly dataPtr: number;
  private readonly memory: SharedWasmMemory;
  private readonly sumsqFn: SumSq;
  private readonly sgdFn: Sgd;
  private readonly adagradFn: Adagrad;
  private readonly accumulateFn: Accumulate;
  private readonly averageFn: Average;
  /** Rows the scratch holds (0: none claimed yet). */
  private capacity = 0;
  private rowsPtr = 0;
  private gradsPtr = 0;
  private rowsView: Int32Array = new Int32Array(0);
  private gradsView: Float32Array = new Float32Array(0);
  // The push in the scratch now: what `staged` compares against.
  private stagedRows: Int32Array | null = null;
  private stagedGrads: Float32Array | null = null;
  private stagedCount = -1;
  /** The staged push's sum of squares (`stage`'s result). */
  stagedSq = 0;

  private constructor(memory: SharedWasmMemory, dataPtr: number, width: number, exports: Record<string, unknown>) {
    this.memory = memory;
    this.dataPtr = dataPtr;
    this.width = width;
    this.sumsqFn = exports.sumsq as SumSq;
    this.sgdFn = exports.sgd as Sgd;
    this.adagradFn = exports.adagrad as Adagrad;
    this.accumulateFn = exports.accumulate as Accumulate;
    this.averageFn = exports.average as Average;
  }

  /**
   * Kernels for the table `data` (rows of `width` floats), or null when its
   * rows are not in a shared WebAssembly memory or the kernels cannot run.
   */
  static forTable(memory: SharedWasmMemory | undefined, data: Float32Array, width: number): UpdateKernel | null {
    if (memory === undefined) return null;
    const module = updateModule();
    if (module === null) return null;
    return new UpdateKernel(memory, data.byteOffset, width, instantiate(module, memory).exports);
  }

  /**
   * Copy `count` row indices and their gradients (`count * width` floats
   * from `grads[0]`) into the scratch, and return the float64 sum of the
   * squares of those gradients: finite exactly when every value is finite.
   * Returns -1 (nothing staged) when the scratch cannot grow to hold them.
   */
  stage(rowIdx: Int32Array, grads: Float32Array, count: number): number {
    if (count > this.capacity && !this.grow(count)) return -1;
    const n = count * this.width;
    this.rowsView.set(rowIdx.length === count ? rowIdx : rowIdx.subarray(0, count));
    this.gradsView.set(grads.length === n ? grads : grads.subarray(0, n));
    this.stagedRows = rowIdx;
    this.stagedGrads = grads;
    this.stagedCount = count;
    return (this.stagedSq = this.sumsqFn(this.gradsPtr, n));
  }

  /**
   * Whether the scratch holds exactly this push: staged last, from these
   * arrays, and not used since. Clears the mark either way, so a staged
   * push is used once: arrays that are filled again and pushed without a
   * new `stage` are staged again by their user.
   */
  takeStaged(rowIdx: Int32Array, grads: Float32Array, count: number): boolean {
    const hit = this.stagedRows === rowIdx && this.stagedGrads === grads && this.stagedCount === count;
    this.unstage();
    return hit;
  }

  /** `takeStaged`, or else `stage` these rows now (unchecked: the caller checked them); false when there is no room. */
  takeOrStage(rowIdx: Int32Array, grads: Float32Array, count: number): boolean {
    if (this.takeStaged(rowIdx, grads, count)) return true;
    const ok = this.stage(rowIdx, grads, count) >= 0;
    this.unstage();
    return ok;
  }

  /** Forget the staged push (its arrays may change before they are pushed again). */
  unstage(): void {
    this.stagedRows = this.stagedGrads = null;
    this.stagedCount = -1;
  }

  /**
   * The rule on the scratch's rows `from .. to` (in order; staged or
   * packed), in float32 arithmetic as update-rules.ts computes it: SGD when
   * `accPtr` is -1, else element-wise Adagrad with the table's accumulators
   * at byte address `accPtr` of the memory (rows of `width` floats).
   */
  applyStaged(from: number, to: number, lr: number, accPtr: number): void {
    const w = this.width;
    const rows = this.rowsPtr + 4 * from;
    const g = this.gradsPtr + 4 * w * from;
    if (accPtr < 0) this.sgdFn(this.dataPtr, rows, to - from, w, g, Math.fround(lr));
    else this.adagradFn(this.dataPtr, rows, to - from, w, g, Math.fround(lr), accPtr);
  }

  /**
   * Sync mode: add the staged push's gradients to the float64 pending sums
   * at byte address `sumsPtr` of the memory (rows of `width` float64), row
   * `rows[i]` for each staged row i, as sync-step.ts's loop does (the same
   * float64 additions).
   */
  accumulateStaged(sumsPtr: number, count: number): void {
    this.accumulateFn(sumsPtr, this.rowsPtr, count, this.width, this.gradsPtr);
  }

  /**
   * Sync mode: for the first `m` rows r in `scratchRows`, write the float32
   * average of pending sums row r (sum / n) into the scratch's gradient row
   * and zero the sums. Returns the sum of the averages' squares (float64).
   */
  averageInto(sumsPtr: number, m: number, n: number): number {
    return this.averageFn(sumsPtr, this.rowsPtr, m, this.width, n, this.gradsPtr);
  }

  /**
   * Make room in the scratch for `count` rows and forget the staged push,
   * for a caller that packs rows itself: it writes row indices into
   * `scratchRows` and gradients into `scratchGrads` (row i at i * width),
   * then calls `applyStaged`. False when the scratch cannot grow that far.
   */
  reserve(count: number): boolean {
    if (count > this.capacity && !this.grow(count)) return false;
    this.unstage();
    return true;
  }

  /** The scratch's row indices (valid until the next `stage` or `reserve`, which may grow it). */
  get scratchRows(): Int32Array {
    return this.rowsView;
  }

  /** The scratch's gradients, `width` floats per row (valid as `scratchRows`). */
  get scratchGrads(): Float32Array {
    return this.gradsView;
  }

  /**
   * Claim scratch for at least `rows` rows (twice the last, at least
   * MIN_SCRATCH_ROWS); false when the memory cannot grow that far.
   */
  private grow(rows: number): boolean {
    const cap = Math.max(rows, 2 * this.capacity, MIN_SCRATCH_ROWS);
    const idxBytes = align16(4 * cap);
    const gradBytes = align16(4 * cap * this.width);
    const bytes = idxBytes + gradBytes;
    const ptr = claimPages(this.memory, Math.ceil(bytes / WASM_PAGE_BYTES));
    if (ptr < 0) return false;
    const buf = this.memory.buffer;
    this.capacity = cap;
    this.rowsPtr = ptr;
    this.gradsPtr = ptr + idxBytes;
    this.rowsView = new Int32Array(buf, this.rowsPtr, cap);
    this.gradsView = new Float32Array(buf, this.gradsPtr, cap * this.width);
    this.unstage();
    return true;
  }
}
