/**
 * Argument checks of the parameter server's calls. Every argument is checked
 * here, before any state changes, so a rejected call leaves the server
 * exactly as it was.
 */
import { dimMismatch, invalidArgument, nonFinite, outOfRange } from '../errors.js';
import type { Tables } from './tables.js';

type GradientRows = ReadonlyArray<readonly [number, ArrayLike<number>]>;

export function checkWorker(where: string, worker: number): void {
  if (!Number.isInteger(worker) || worker < 0 || worker > 0x7fffffff) {
    throw invalidArgument(where, 'worker', worker, 'a non-negative 31-bit integer');
  }
}

export function checkShard(tables: Tables, where: string, shard: number): void {
  if (!Number.isInteger(shard) || shard < 0 || shard >= tables.numShards) {
    throw outOfRange(where, 'shard', shard, 0, tables.numShards - 1);
  }
}

function checkGradient(where: string, field: string, g: ArrayLike<number>, width: number): void {
  if (g === null || typeof g !== 'object' || typeof g.length !== 'number') {
    throw invalidArgument(where, field, g, `an array of ${width} numbers`);
  }
  if (g.length !== width) throw dimMismatch(where, field, width, g.length);
  for (let k = 0; k < g.length; k++) {
    const v = g[k]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw nonFinite(where, field, k, v);
  }
}

/** Check `[row in shard, gradient]` pairs for `shard` and pack them flat. */
export function packRows(
  tables: Tables,
  where: string,
  shard: number,
  worker: number,
  rows: GradientRows,
): { rowIdx: Int32Array; grads: Float32Array } {
  checkShard(tables, where, shard);
  return packTableRows(tables, where, shard, worker, rows, 'row');
}

/** Check `[relation row, gradient]` pairs and pack them flat. */
export function packRelationRows(
  tables: Tables,
  where: string,
  worker: number,
  rows: GradientRows,
): { rowIdx: Int32Array; grads: Float32Array } {
  return packTableRows(tables, where, tables.rel, worker, rows, 'relation row');
}

function packTableRows(
  tables: Tables,
  where: string,
  t: number,
  worker: number,
  rows: GradientRows,
  rowName: string,
): { rowIdx: Int32Array; grads: Float32Array } {
  checkWorker(where, worker);
  const list: unknown = rows; // checked as unknown: Array.isArray would narrow `rows` to any[]
  if (!Array.isArray(list)) throw invalidArgument(where, 'rows', rows, `an array of [${rowName}, gradient] pairs`);
  const nRows = tables.rowsOf(t);
  const width = tables.widthOf(t);
  const rowIdx = new Int32Array(rows.length);
  const grads = new Float32Array(rows.length * width);
  rows.forEach((pair, i) => {
    const item: unknown = pair;
    if (!Array.isArray(item) || pair.length !== 2)
      throw invalidArgument(where, `rows[${i}]`, pair, `a [${rowName}, gradient] pair`);
    const [r, g] = pair;
    if (!Number.isInteger(r) || r < 0 || r >= nRows) throw outOfRange(where, `rows[${i}] ${rowName}`, r, 0, nRows - 1);
    checkGradient(where, `rows[${i}] gradient`, g, width);
    rowIdx[i] = r;
    grads.set(g, i * width);
  });
  return { rowIdx, grads };
}

/** Checks of a flat push to table `t` (a shard, or the relation table), before any change. */
export function checkFlatTable(
  tables: Tables,
  where: string,
  t: number,
  worker: number,
  rowIdx: Int32Array,
  grads: Float32Array,
  count: number,
): void {
  checkWorker(where, worker);
  if (!Number.isInteger(count) || count < 0 || count > rowIdx.length) {
    throw outOfRange(where, 'count', count, 0, rowIdx.length);
  }
  const width = tables.widthOf(t);
  if (grads.length < count * width) throw dimMismatch(where, 'grads', count * width, grads.length);
  const nRows = tables.rowsOf(t);
  for (let i = 0; i < count; i++) {
    const r = rowIdx[i]!;
    if (r < 0 || r >= nRows) throw outOfRange(where, `rowIdx[${i}]`, r, 0, nRows - 1);
  }
  // The values: one vectorised pass that also stages the push for the
  // update kernels (a sum of squares, finite exactly when every value is);
  // the element-wise loop names the first bad value, and checks the values
  // itself when nothing was staged.
  const sq = tables.stage(t, rowIdx, grads, count);
  if (sq >= 0 && sq !== Infinity) return;
  tables.unstage(t);
  const n = count * width;
  for (let k = 0; k < n; k++) {
    const v = grads[k]!;
    if (!Number.isFinite(v)) throw nonFinite(where, 'grads', k, v);
  }
}
