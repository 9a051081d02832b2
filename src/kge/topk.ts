/**
 * Top-k selection over a row of scores, for predictions and nearest
 * neighbours: the k best entries of n in O(n + m log k) for m heap
 * replacements (a bounded heap; for a row in random order m is about
 * k ln(n / k)), never sorting the row, and allocating nothing per row.
 *
 * ## The order
 * Higher scores first; equal scores by ascending id; a NaN score after every
 * number (NaNs among themselves by ascending id). The order is total, so the
 * selection is deterministic and equals "sort everything, take k".
 *
 * Candidates are offered in ascending id order, so a candidate that ties
 * with the heap's worst entry never displaces it (its id is larger): the
 * hot loop is one comparison against a threshold for nearly every entry.
 *
 * ## Leaving entities out
 * A row may leave out a sorted list of ids (`skip[from .. to)`, ascending):
 * the known tails of (h, r, ?) from a `FilterIndex` group, or the query
 * entity itself. The list is walked in step with the candidates, and only
 * when a candidate would enter the heap, so a long list costs nothing for
 * candidates below the threshold.
 */
import type { WasmScorer } from './wasm/scorer.js';

/** A score row: float32 (WASM kernels), float64 (JS kernels) or int32 (the first of two passes). */
export type ScoreRow = Float32Array | Float64Array | Int32Array;

/**
 * A bounded heap of (score, id) holding the best `k` offered so far, its
 * root the worst of them. One per thread; reuse it for every row.
 */
export class TopK {
  /** Largest k this selector holds. */
  readonly capacity: number;
  /** Entries held after the last selection (at most k). */
  size = 0;
  private readonly ids: Int32Array;
  private readonly vals: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ids = new Int32Array(Math.max(1, capacity));
    this.vals = new Float64Array(Math.max(1, capacity));
  }

  /**
   * Select the best `k` (1 <= k <= capacity) of `s[base + j]`, j in [0, n),
   * leaving out the ids in `skip[from .. to)` (ascending; ids outside
   * [0, n) are ignored). Hot path: no checks, no allocation.
   */
  selectRow(s: ScoreRow, base: number, n: number, k: number, skip: Int32Array, from: number, to: number): void {
    const ids = this.ids;
    const vals = this.vals;
    let size = 0;
    let p = from;
    let next = p < to ? skip[p]! : n;
    let j = 0;
    // Fill: the first k candidates that are not left out.
    for (; j < n && size < k; j++) {
      while (next < j) next = ++p < to ? skip[p]! : n;
      if (next === j) continue;
      this.push(s[base + j]!, j, size++);
    }
    let thr = vals[0]!;
    let thrNaN = thr !== thr;
    for (; j < n; j++) {
      const v = s[base + j]!;
      // Better than the worst held: strictly higher (a tie loses on id), or a number against a NaN.
      if (v > thr || (thrNaN && v === v)) {
        while (next < j) next = ++p < to ? skip[p]! : n;
        if (next === j) continue;
        ids[0] = j;
        vals[0] = v;
        this.siftDown(0, size);
        thr = vals[0]!;
        thrNaN = thr !== thr;
      }
    }
    this.size = size;
  }

  /**
   * As `selectRow` over a list of candidates: entry p is id `idx[p]` with
   * score `s[p]`, for p in [0, m), ids ascending. Hot path.
   */
  selectList(
    s: ScoreRow,
    idx: Int32Array,
    m: number,
    k: number,
    skip: Int32Array,
    from: number,
    to: number,
    n: number,
  ): void {
    const ids = this.ids;
    const vals = this.vals;
    let size = 0;
    let p = from;
    let next = p < to ? skip[p]! : n;
    let thr = 0;
    let thrNaN = false;
    for (let u = 0; u < m; u++) {
      const j = idx[u]!;
      const v = s[u]!;
      if (size === k && !(v > thr || (thrNaN && v === v))) continue;
      while (next < j) next = ++p < to ? skip[p]! : n;
      if (next === j) continue;
      if (size < k) {
        this.push(v, j, size++);
      } else {
        ids[0] = j;
        vals[0] = v;
        this.siftDown(0, size);
      }
      thr = vals[0]!;
      thrNaN = thr !== thr;
    }
    this.size = size;
  }

  /**
   * Go on selecting from a list of candidates after a `selectRow` that left
   * k entries: entry p is id `idx[p]` with score `s[base + idx[p]]`, for p
   * in [0, m), ids ascending and above every id held. Hot path.
   */
  addListed(
    s: ScoreRow,
    base: number,
    idx: Int32Array,
    m: number,
    skip: Int32Array,
    from: number,
    to: number,
    n: number,
  ): void {
    const ids = this.ids;
    const vals = this.vals;
    const size = this.size;
    let p = from;
    let next = p < to ? skip[p]! : n;
    let thr = vals[0]!;
    let thrNaN = thr !== thr;
    for (let u = 0; u < m; u++) {
      const j = idx[u]!;
      const v = s[base + j]!;
      if (v > thr || (thrNaN && v === v)) {
        while (next < j) next = ++p < to ? skip[p]! : n;
        if (next === j) continue;
        ids[0] = j;
        vals[0] = v;
        this.siftDown(0, size);
        thr = vals[0]!;
        thrNaN = thr !== thr;
      }
    }
  }

  /** The score of the worst entry held (the k-th best when size is k); NaN when empty. */
  worst(): number {
    return this.size === 0 ? NaN : this.vals[0]!;
  }

  /**
   * Write the entries held, best first, to `outIds[off ..]` and
   * `outScores[off ..]`, and empty the heap. Returns how many were written.
   * Hot path.
   */
  drain(outIds: Int32Array, outScores: Float64Array, off: number): number {
    const ids = this.ids;
    const vals = this.vals;
    const count = this.size;
    // Heap sort: the root is the worst, so pop it into the last free slot.
    for (let size = count; size > 0; size--) {
      outIds[off + size - 1] = ids[0]!;
      outScores[off + size - 1] = vals[0]!;
      ids[0] = ids[size - 1]!;
      vals[0] = vals[size - 1]!;
      this.siftDown(0, size - 1);
    }
    this.size = 0;
    return count;
  }

  /** Add (v, id) as entry `size` of a heap of `size` entries, and restore the heap. */
  private push(v: number, id: number, size: number): void {
    const ids = this.ids;
    const vals = this.vals;
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pv = vals[parent]!;
      const pid = ids[parent]!;
      // Stop once the parent is worse than (v, id).
      if (before(v, id, pv, pid)) break;
      ids[i] = pid;
      vals[i] = pv;
      i = parent;
    }
    ids[i] = id;
    vals[i] = v;
  }

  /** Move entry i down a heap of `size` entries until both children come before it. */
  private siftDown(i: number, size: number): void {
    const ids = this.ids;
    const vals = this.vals;
    const v = vals[i]!;
    const id = ids[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      let c = l;
      let cv = vals[l]!;
      let cid = ids[l]!;
      const r = l + 1;
      if (r < size) {
        const rv = vals[r]!;
        const rid = ids[r]!;
        // The worse child goes up.
        if (before(cv, cid, rv, rid)) {
          c = r;
          cv = rv;
          cid = rid;
        }
      }
      if (before(cv, cid, v, id)) break;
      ids[i] = cid;
      vals[i] = cv;
      i = c;
    }
    ids[i] = id;
    vals[i] = v;
  }
}

/**
 * Whether (a, ia) comes before (b, ib) in the order of the module comment:
 * a higher score, an equal score and a smaller id, or a number against a NaN.
 */
export function before(a: number, ia: number, b: number, ib: number): boolean {
  if (a > b) return true;
  if (a === b) return ia < ib;
  if (b !== b) return a === a || ia < ib;
  return false;
}

/** The int32 floor that lets `WasmScorer.scoreFrom` list every entity. */
const ALL = -2147483648;
/** A row's prefix taken in JavaScript before the SIMD scan: at least this many entries, or 64 per result. */
const PREFIX_MIN = 1024;
const PREFIX_PER_K = 64;

/**
 * The top `k` of a score row of `sc` (float32 after `scoreAll`, or with
 * `raw` int32 after `scoreTwoPass`): the heap takes a prefix of the row,
 * its k-th best is a threshold, and `sc.listAbove` lists only the rest of
 * the row's entries above it, which the heap is then offered. The same
 * selection as `topk.selectRow` over the whole row (a later entry that ties
 * with the threshold loses on id). Hot path.
 */
function selectAbove(
  sc: WasmScorer,
  raw: boolean,
  row: number,
  k: number,
  topk: TopK,
  skip: Int32Array,
  from: number,
  to: number,
): void {
  const n = sc.numEntities;
  const s = raw ? sc.rawScores : sc.scores;
  const base = row * sc.scoreStride;
  const prefix = Math.min(n, (Math.max(PREFIX_MIN, PREFIX_PER_K * k) + 3) & ~3);
  topk.selectRow(s, base, prefix, k, skip, from, to);
  if (prefix === n) return;
  const worst = topk.worst();
  // A prefix left short by the filter, or holding a NaN: the whole row in JavaScript.
  if (topk.size < k || worst !== worst) {
    topk.selectRow(s, base, n, k, skip, from, to);
    return;
  }
  const m = sc.listAbove(row, prefix, worst, raw);
  topk.addListed(s, base, sc.listIds, m, skip, from, to, n);
}

/**
 * Select the top `k` of query row `row` of `sc`, after `sc.scoreAll` (one
 * pass: every float32 score) or `sc.scoreTwoPass` (`twoPass`: the int32
 * scores give the k-th best candidate's floor, and only the entities that
 * can reach it are scored in float32, by the same arithmetic as
 * `scoreAll`, so both give the same selection). Leaves the selection in
 * `topk`; returns the entities scored in float32 (all of them in one pass).
 * Hot path.
 */
export function selectScored(
  sc: WasmScorer,
  twoPass: boolean,
  row: number,
  k: number,
  topk: TopK,
  skip: Int32Array,
  from: number,
  to: number,
): number {
  const n = sc.numEntities;
  if (!twoPass) {
    selectAbove(sc, false, row, k, topk, skip, from, to);
    return n;
  }
  selectAbove(sc, true, row, k, topk, skip, from, to);
  const floor = topk.size < k ? ALL : topk.worst();
  const m = sc.scoreFrom(row, floor);
  topk.selectList(sc.bandScores, sc.bandIds, m, k, skip, from, to, n);
  return m;
}
