/**
 * The filter of filtered link prediction: an index of every known true
 * triple (train + valid + test, or whatever splits the caller names), so
 * that ranking the true tail of (h, r, ?) can skip every other tail t' with
 * (h, r, t') known, and likewise for heads.
 *
 * ## Layout
 * Two compressed sparse rows (CSR) indexes over the distinct triples, each
 * in four `SharedArrayBuffer`s of int32, written once by `build` and read-only
 * afterwards (so readers need no protocol):
 *
 * | side    | group key | values       |
 * | ------- | --------- | ------------ |
 * | `tails` | (r, h)    | sorted tails |
 * | `heads` | (r, t)    | sorted heads |
 *
 * - `relStart` (numRelations + 1): the groups of relation r are
 *   `[relStart[r], relStart[r + 1])`;
 * - `keys` (groups): the group's entity (h for tails, t for heads),
 *   ascending within a relation;
 * - `start` (groups + 1): group g's values are `values[start[g] .. start[g + 1])`;
 * - `values` (distinct triples): ascending and distinct within a group.
 *
 * A lookup is a binary search of `keys` within the relation's range:
 * O(log groups-of-r), no hashing, nothing allocated. Memory is
 * 4 × (numRelations + 1 + 2 × groups + 1 + triples) bytes per side, linear in
 * the graph (no numEntities × numRelations table). `build` sorts with three
 * stable counting-sort passes per side: O(triples + entities + relations).
 *
 * Each array is its own `SharedArrayBuffer` holding exactly that array, so no
 * offset is computed anywhere; `attach` checks every byte length against the
 * counts in the handle and the CSR end points.
 *
 * ## Threads
 * `build` on any thread (normally the main one), then send `handle` once;
 * `attach` in any thread wraps the same bytes. The index is immutable, so any
 * thread may call any method at any time.
 */
import { badHandle, invalidArgument, outOfRange } from '../errors.js';

export const FILTER_LAYOUT_VERSION = 1;

/** One side of the index as plain shared buffers (see the module comment). */
export interface FilterSideHandle {
  readonly groups: number;
  readonly relStart: SharedArrayBuffer;
  readonly keys: SharedArrayBuffer;
  readonly start: SharedArrayBuffer;
  readonly values: SharedArrayBuffer;
}

/** What `FilterIndex.attach` needs: plain and structured-cloneable. */
export interface FilterHandle {
  readonly kind: 'kge-filter';
  readonly version: number;
  readonly numEntities: number;
  readonly numRelations: number;
  /** Distinct known triples. */
  readonly count: number;
  readonly tails: FilterSideHandle;
  readonly heads: FilterSideHandle;
}

/**
 * One side of the index: groups keyed by (relation, entity), each a sorted
 * list of entities. Read-only; any thread.
 */
export class FilterSide {
  readonly relStart: Int32Array;
  readonly keys: Int32Array;
  readonly start: Int32Array;
  readonly values: Int32Array;

  /** @internal */
  constructor(h: FilterSideHandle) {
    this.relStart = new Int32Array(h.relStart);
    this.keys = new Int32Array(h.keys);
    this.start = new Int32Array(h.start);
    this.values = new Int32Array(h.values);
  }

  /**
   * The group of (relation r, entity e), or -1 when no known triple has them.
   * Its entities are `values[start[g] .. start[g + 1])`. Hot path: no
   * checks, no allocation; r must be a valid relation id.
   */
  find(r: number, e: number): number {
    const keys = this.keys;
    let lo = this.relStart[r]!;
    let hi = this.relStart[r + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < e) lo = mid + 1;
      else if (k > e) hi = mid - 1;
      else return mid;
    }
    return -1;
  }
}

/** Triples with the name errors give them (e.g. `train`). */
export interface NamedTriples {
  /** Named in errors, e.g. `train`. */
  readonly name: string;
  /** (head, relation, tail) triplets. */
  readonly triples: Int32Array;
}

/**
 * The index of known true triples. `build` (or `fromDataset`) allocates it,
 * `attach` wraps it in another thread.
 */
export class FilterIndex {
  readonly handle: FilterHandle;
  readonly numEntities: number;
  readonly numRelations: number;
  /** Distinct known triples. */
  readonly count: number;
  /** Groups keyed by (r, h): the known tails of (h, r, ?). */
  readonly tails: FilterSide;
  /** Groups keyed by (r, t): the known heads of (?, r, t). */
  readonly heads: FilterSide;

  private constructor(handle: FilterHandle) {
    this.handle = handle;
    this.numEntities = handle.numEntities;
    this.numRelations = handle.numRelations;
    this.count = handle.count;
    this.tails = new FilterSide(handle.tails);
    this.heads = new FilterSide(handle.heads);
  }

  /**
   * Index the union of `splits` (duplicates within and across splits count
   * once). Every id is checked first: a head or tail outside
   * [0, numEntities) or a relation outside [0, numRelations) throws
   * `E_OUT_OF_RANGE` naming the split and the triple. Any thread.
   */
  static build(numEntities: number, numRelations: number, splits: readonly NamedTriples[]): FilterIndex {
    const where = 'FilterIndex.build';
    checkCount(where, 'numEntities', numEntities);
    checkCount(where, 'numRelations', numRelations);
    const list: unknown = splits; // checked as unknown: Array.isArray would narrow `splits` to any[]
    if (!Array.isArray(list)) throw invalidArgument(where, 'splits', splits, 'an array of { name, triples }');
    let total = 0;
    for (let s = 0; s < splits.length; s++) {
      const split = splits[s];
      const name = typeof split?.name === 'string' ? split.name : `splits[${s}]`;
      if (split === null || typeof split !== 'object' || !(split.triples instanceof Int32Array)) {
        throw invalidArgument(
          where,
          `${name}.triples`,
          split?.triples,
          'an Int32Array of (head, relation, tail) triplets',
        );
      }
      checkTriples(where, name, split.triples, numEntities, numRelations);
      total += split.triples.length / 3;
    }
    if (total > 0x7fffffff) throw outOfRange(where, 'total triples', total, 0, 0x7fffffff);
    const h = new Int32Array(total);
    const r = new Int32Array(total);
    const t = new Int32Array(total);
    let n = 0;
    for (const split of splits) {
      const tr = split.triples;
      for (let i = 0; i + 2 < tr.length; i += 3, n++) {
        h[n] = tr[i]!;
        r[n] = tr[i + 1]!;
        t[n] = tr[i + 2]!;
      }
    }
    // tails: order by (r, h, t); heads: order by (r, t, h). LSD radix: the
    // least significant key first, each pass a stable counting sort.
    const byTails = countingOrder(r, numRelations, countingOrder(h, numEntities, countingOrder(t, numEntities, null)));
    const byHeads = countingOrder(r, numRelations, countingOrder(t, numEntities, countingOrder(h, numEntities, null)));
    const tails = buildSide(byTails, r, h, t, numRelations);
    const heads = buildSide(byHeads, r, t, h, numRelations);
    const count = tails.values.byteLength / 4;
    return new FilterIndex({
      kind: 'kge-filter',
      version: FILTER_LAYOUT_VERSION,
      numEntities,
      numRelations,
      count,
      tails,
      heads,
    });
  }

  /** Index a dataset's train, valid and test triples: the standard filter. */
  static fromDataset(dataset: {
    readonly entities: readonly unknown[];
    readonly relations: readonly unknown[];
    readonly train: { readonly triples: Int32Array };
    readonly valid: { readonly triples: Int32Array };
    readonly test: { readonly triples: Int32Array };
  }): FilterIndex {
    return FilterIndex.build(dataset.entities.length, dataset.relations.length, [
      { name: 'train', triples: dataset.train.triples },
      { name: 'valid', triples: dataset.valid.triples },
      { name: 'test', triples: dataset.test.triples },
    ]);
  }

  /**
   * Wrap an index built elsewhere. Checks kind, version, every buffer's byte
   * length against the counts, and the CSR end points; throws `E_BAD_HANDLE`
   * (or `E_LAYOUT_VERSION`-style detail in the message) naming the field.
   */
  static attach(handle: FilterHandle): FilterIndex {
    const where = 'FilterIndex.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'kge-filter') {
      throw badHandle(where, "handle.kind must be 'kge-filter'", (handle as { kind?: unknown } | null)?.kind);
    }
    if (handle.version !== FILTER_LAYOUT_VERSION) {
      throw badHandle(where, `handle.version must be ${FILTER_LAYOUT_VERSION}`, handle.version);
    }
    for (const key of ['numEntities', 'numRelations', 'count'] as const) {
      const v = handle[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
        throw badHandle(where, `handle.${key} must be a non-negative int32`, v);
      }
    }
    for (const side of ['tails', 'heads'] as const) {
      const s = handle[side];
      if (s === null || typeof s !== 'object') throw badHandle(where, `handle.${side} must be an object`, s);
      if (typeof s.groups !== 'number' || !Number.isInteger(s.groups) || s.groups < 0 || s.groups > handle.count) {
        throw badHandle(where, `handle.${side}.groups must be an integer in [0, ${handle.count}]`, s.groups);
      }
      const sizes = {
        relStart: handle.numRelations + 1,
        keys: s.groups,
        start: s.groups + 1,
        values: handle.count,
      } as const;
      for (const [field, len] of Object.entries(sizes)) {
        const buf = (s as unknown as Record<string, unknown>)[field];
        if (!(buf instanceof SharedArrayBuffer) || buf.byteLength !== 4 * len) {
          throw badHandle(where, `handle.${side}.${field} must be a SharedArrayBuffer of ${4 * len} bytes`, buf);
        }
      }
      const relStart = new Int32Array(s.relStart);
      const start = new Int32Array(s.start);
      if (
        relStart[0] !== 0 ||
        relStart[handle.numRelations] !== s.groups ||
        start[0] !== 0 ||
        start[s.groups] !== handle.count
      ) {
        throw badHandle(
          where,
          `handle.${side}: CSR end points do not match the counts (not a filter built by FilterIndex.build?)`,
        );
      }
    }
    return new FilterIndex(handle);
  }

  /** Whether (h, r, t) is a known triple. Ids must be in range (not checked). */
  has(h: number, r: number, t: number): boolean {
    const side = this.tails;
    const g = side.find(r, h);
    if (g < 0) return false;
    return binarySearch(side.values, side.start[g]!, side.start[g + 1]!, t);
  }

  /** A copy of the known tails of (h, r, ?), ascending. Allocates: not for hot paths. */
  knownTails(h: number, r: number): number[] {
    return groupOf(this.tails, r, h);
  }

  /** A copy of the known heads of (?, r, t), ascending. Allocates: not for hot paths. */
  knownHeads(r: number, t: number): number[] {
    return groupOf(this.heads, r, t);
  }
}

// ---------------------------------------------------------------- checks

function checkCount(where: string, field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0x7fffffff) {
    throw invalidArgument(where, field, v, 'a positive int32');
  }
}

/**
 * Check (head, relation, tail) triplets against the id ranges: `E_INVALID_ARGUMENT`
 * for a length that is not a multiple of 3, `E_OUT_OF_RANGE` naming the
 * first bad id as `name[i]` with the triple's index. Shared with the evaluator.
 */
export function checkTriples(
  where: string,
  name: string,
  triples: Int32Array,
  numEntities: number,
  numRelations: number,
  from = 0,
  to = triples.length / 3,
): void {
  if (triples.length % 3 !== 0)
    throw invalidArgument(where, `${name}.length`, triples.length, 'a multiple of 3 (head, relation, tail triplets)');
  for (let i = from; i < to; i++) {
    const h = triples[3 * i]!;
    const r = triples[3 * i + 1]!;
    const t = triples[3 * i + 2]!;
    if (h < 0 || h >= numEntities)
      throw outOfRange(where, `${name}[${3 * i}] (head of triple ${i})`, h, 0, numEntities - 1);
    if (r < 0 || r >= numRelations)
      throw outOfRange(where, `${name}[${3 * i + 1}] (relation of triple ${i})`, r, 0, numRelations - 1);
    if (t < 0 || t >= numEntities)
      throw outOfRange(where, `${name}[${3 * i + 2}] (tail of triple ${i})`, t, 0, numEntities - 1);
  }
}

// ---------------------------------------------------------------- build

/**
 * Stable counting sort of `order` (or 0..n-1 when null) by `key[order[i]]`,
 * keys in [0, size). Returns the new order.
 */
function countingOrder(key: Int32Array, size: number, order: Int32Array | null): Int32Array {
  const n = key.length;
  const counts = new Int32Array(size + 1);
  for (let i = 0; i < n; i++) counts[key[i]! + 1] = counts[key[i]! + 1]! + 1;
  for (let k = 0; k < size; k++) counts[k + 1] = counts[k + 1]! + counts[k]!;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const idx = order === null ? i : order[i]!;
    const k = key[idx]!;
    const at = counts[k]!;
    counts[k] = at + 1;
    out[at] = idx;
  }
  return out;
}

/**
 * One CSR side from triples sorted by (r, key, value): duplicates dropped,
 * groups cut where (r, key) changes.
 */
function buildSide(
  order: Int32Array,
  r: Int32Array,
  key: Int32Array,
  value: Int32Array,
  numRelations: number,
): FilterSideHandle {
  const n = order.length;
  // First pass: count distinct triples and groups.
  let distinct = 0;
  let groups = 0;
  let pr = -1;
  let pk = -1;
  let pv = -1;
  for (let i = 0; i < n; i++) {
    const idx = order[i]!;
    const ri = r[idx]!;
    const ki = key[idx]!;
    const vi = value[idx]!;
    if (ri !== pr || ki !== pk) {
      groups++;
      distinct++;
    } else if (vi !== pv) distinct++;
    pr = ri;
    pk = ki;
    pv = vi;
  }
  const relStartBuf = new SharedArrayBuffer(4 * (numRelations + 1));
  const keysBuf = new SharedArrayBuffer(4 * groups);
  const startBuf = new SharedArrayBuffer(4 * (groups + 1));
  const valuesBuf = new SharedArrayBuffer(4 * distinct);
  const relStart = new Int32Array(relStartBuf);
  const keys = new Int32Array(keysBuf);
  const start = new Int32Array(startBuf);
  const values = new Int32Array(valuesBuf);
  let g = -1;
  let v = 0;
  pr = -1;
  pk = -1;
  pv = -1;
  for (let i = 0; i < n; i++) {
    const idx = order[i]!;
    const ri = r[idx]!;
    const ki = key[idx]!;
    const vi = value[idx]!;
    if (ri !== pr || ki !== pk) {
      g++;
      keys[g] = ki;
      start[g] = v;
      relStart[ri + 1] = relStart[ri + 1]! + 1;
      values[v++] = vi;
    } else if (vi !== pv) values[v++] = vi;
    pr = ri;
    pk = ki;
    pv = vi;
  }
  start[groups] = distinct;
  for (let k = 0; k < numRelations; k++) relStart[k + 1] = relStart[k + 1]! + relStart[k]!;
  return { groups, relStart: relStartBuf, keys: keysBuf, start: startBuf, values: valuesBuf };
}

function binarySearch(a: Int32Array, lo: number, end: number, x: number): boolean {
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid]!;
    if (v < x) lo = mid + 1;
    else if (v > x) hi = mid - 1;
    else return true;
  }
  return false;
}

function groupOf(side: FilterSide, r: number, e: number): number[] {
  const g = side.find(r, e);
  if (g < 0) return [];
  return Array.from(side.values.subarray(side.start[g], side.start[g + 1]));
}
