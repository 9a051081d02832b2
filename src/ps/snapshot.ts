/**
 * Copies of a parameter server's tables in `entityIds` order: the fenced
 * snapshot a running training takes (`snapshotTables`: each table fenced in
 * turn while it is copied, see `Seqlock.fenceAsync`), the unfenced copy and
 * overwrite used between epochs, and their checks.
 */
import { dimMismatch, lockTimeout } from '../errors.js';
import { SEQ_OK, SEQ_RECOVERED } from '../shm/seqlock.js';
import type { Tables } from './tables.js';
import { locShard, locSlot, NO_LOC } from './placement.js';

/** Where a snapshot copies the tables to (or an overwrite reads them from). */
export interface SnapshotTarget {
  /** Entity rows in the order of the server's `entityIds` (entityIds.length * dim floats). */
  readonly entities: Float32Array;
  /** Relation rows (relationIds.length * relationDim floats). */
  readonly relations: Float32Array;
  /**
   * The optimizer state in `entityIds` order: each entity's accumulators
   * (one per value under `adagrad`, one per row under `adagrad-row`), then
   * each relation's (`ParameterServer.optimizerStateFloats()` floats); omit to skip it.
   */
  readonly optimizer?: Float32Array;
}

/** What a snapshot did: how long each table was fenced (ms), and each table's step in the copy. */
export interface SnapshotReport {
  /** Per table (shards in order, then the relation table): ms from raising its fence to lowering it. */
  readonly fencedMs: number[];
  readonly steps: number[];
}

/**
 * Where each shard's rows sit in `entityIds` order at one placement
 * version, and how many accumulator floats each row has.
 */
export interface GlobalLayout {
  /** The placement version this layout follows. */
  readonly version: number;
  /** Per shard, the `entityIds` index of each of its rows (-1: a row holding no entity). */
  readonly rows: Int32Array[];
  /** Per shard, whether its rows are one contiguous run of `entityIds` (range assignment, no move yet). */
  readonly contiguous: boolean[];
  /** Accumulator floats per entity row and per relation row (0 under SGD). */
  readonly accPerEntity: number;
  readonly accPerRelation: number;
}

/**
 * The layout of the latest placement. The optimizer state of a snapshot
 * is in `entityIds` order too (each entity's accumulators, then each
 * relation's), so it does not depend on where chunks are.
 */
export function globalLayout(tables: Tables, version: number): GlobalLayout {
  const p = tables.placement;
  const v = version;
  const C = p.chunkRows;
  const rows: Int32Array[] = [];
  const extent = new Int32Array(tables.numShards);
  const n = p.chunks();
  for (let c = 0; c < n; c++) {
    const loc = p.locAt(v, c);
    if (loc === NO_LOC) continue;
    const end = locSlot(loc) * C + p.chunkLen[c]!;
    if (end > extent[locShard(loc)]!) extent[locShard(loc)] = end;
  }
  for (let t = 0; t < tables.numShards; t++) rows.push(new Int32Array(extent[t]!).fill(-1));
  for (let c = 0; c < n; c++) {
    const loc = p.locAt(v, c);
    if (loc === NO_LOC) continue;
    const r = rows[locShard(loc)]!;
    const base = locSlot(loc) * C;
    const len = p.chunkLen[c]!;
    for (let j = 0; j < len; j++) r[base + j] = p.chunkEntity[c * C + j]!;
  }
  const contiguous = rows.map((r) => {
    for (let i = 1; i < r.length; i++) if (r[i] !== r[0]! + i || r[i]! < 0) return false;
    return r.length === 0 || r[0]! >= 0;
  });
  const opt = tables.config.optimizer;
  const accPerEntity = opt === 'sgd' ? 0 : opt === 'adagrad' ? tables.dim : 1;
  const accPerRelation = opt === 'sgd' ? 0 : opt === 'adagrad' ? tables.relationDim : 1;
  return { version: v, rows, contiguous, accPerEntity, accPerRelation };
}

/** Floats of a snapshot's optimizer state: every entity's and every relation's accumulators. */
export function optimizerFloats(tables: Tables, g: GlobalLayout): number {
  return tables.placement.entities() * g.accPerEntity + tables.handle.relationIds.length * g.accPerRelation;
}

/** Fence, copy and release each table in turn (see `ParameterServer.snapshotInto`). */
export async function snapshotTables(tables: Tables, g: GlobalLayout, dst: SnapshotTarget): Promise<SnapshotReport> {
  const where = 'ParameterServer.snapshotInto';
  checkTarget(tables, g, where, dst);
  const fencedMs: number[] = [];
  const steps: number[] = [];
  for (let t = 0; t <= tables.numShards; t++) {
    const lock = tables.locks[t]!;
    const s = await lock.fenceAsync(2 * lock.leaseMs);
    if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, tables.tableName(t), 2 * lock.leaseMs);
    const started = performance.now();
    try {
      copyTableOut(tables, g, t, dst);
      steps.push(tables.step(t));
    } finally {
      lock.unfence();
      fencedMs.push(performance.now() - started);
    }
  }
  return { fencedMs, steps };
}

/** Copy every table into `dst` without fencing (exact only while no thread writes). */
export function copyTables(tables: Tables, g: GlobalLayout, where: string, dst: SnapshotTarget): void {
  checkTarget(tables, g, where, dst);
  for (let t = 0; t <= tables.numShards; t++) copyTableOut(tables, g, t, dst);
}

/** Overwrite every table (and the optimizer state, when given) from `src`, in place, without any lock. */
export function overwriteTables(tables: Tables, g: GlobalLayout, src: SnapshotTarget): void {
  checkTarget(tables, g, 'ParameterServer.overwrite', src);
  const dim = tables.dim;
  const entities = tables.placement.entities();
  for (let t = 0; t <= tables.numShards; t++) {
    const data = tables.locks[t]!.data;
    const acc = tables.accs[t]!;
    const opt = src.optimizer;
    if (t === tables.rel) {
      data.set(src.relations);
      if (opt !== undefined) {
        const from = entities * g.accPerEntity;
        acc.set(opt.subarray(from, from + (src.relations.length / tables.relationDim) * g.accPerRelation));
      }
      continue;
    }
    const rows = g.rows[t]!;
    const a = g.accPerEntity;
    if (g.contiguous[t]! && rows.length > 0) {
      const from = rows[0]! * dim;
      data.set(src.entities.subarray(from, from + rows.length * dim));
      if (opt !== undefined && a > 0) acc.set(opt.subarray(rows[0]! * a, (rows[0]! + rows.length) * a));
      continue;
    }
    for (let r = 0; r < rows.length; r++) {
      const e = rows[r]!;
      if (e < 0) continue;
      for (let q = 0; q < dim; q++) data[r * dim + q] = src.entities[e * dim + q]!;
      if (opt !== undefined) for (let q = 0; q < a; q++) acc[r * a + q] = opt[e * a + q]!;
    }
  }
}

/** Copy table `t`'s rows (in entityIds order for a shard) and its optimizer state into `dst`. */
function copyTableOut(tables: Tables, g: GlobalLayout, t: number, dst: SnapshotTarget): void {
  const data = tables.locks[t]!.data;
  const acc = tables.accs[t]!;
  const opt = dst.optimizer;
  if (t === tables.rel) {
    dst.relations.set(data.subarray(0, dst.relations.length));
    if (opt !== undefined) {
      const n = (dst.relations.length / tables.relationDim) * g.accPerRelation;
      opt.set(acc.subarray(0, n), tables.placement.entities() * g.accPerEntity);
    }
    return;
  }
  const rows = g.rows[t]!;
  const dim = tables.dim;
  const a = g.accPerEntity;
  const out = dst.entities;
  if (g.contiguous[t]! && rows.length > 0) {
    out.set(data.subarray(0, rows.length * dim), rows[0]! * dim);
    if (opt !== undefined && a > 0) opt.set(acc.subarray(0, rows.length * a), rows[0]! * a);
    return;
  }
  for (let r = 0; r < rows.length; r++) {
    const e = rows[r]!;
    if (e < 0) continue;
    for (let q = 0; q < dim; q++) out[e * dim + q] = data[r * dim + q]!;
    if (opt !== undefined) for (let q = 0; q < a; q++) opt[e * a + q] = acc[r * a + q]!;
  }
}

function checkTarget(tables: Tables, g: GlobalLayout, where: string, d: SnapshotTarget): void {
  const e = tables.placement.entities() * tables.dim;
  const r = tables.handle.relationIds.length * tables.relationDim;
  if (!(d.entities instanceof Float32Array) || d.entities.length !== e)
    throw dimMismatch(where, 'entities', e, lengthOf(d.entities));
  if (!(d.relations instanceof Float32Array) || d.relations.length !== r)
    throw dimMismatch(where, 'relations', r, lengthOf(d.relations));
  const o = optimizerFloats(tables, g);
  if (d.optimizer !== undefined && (!(d.optimizer instanceof Float32Array) || d.optimizer.length !== o))
    throw dimMismatch(where, 'optimizer', o, lengthOf(d.optimizer));
}

function lengthOf(x: unknown): number {
  return x instanceof Float32Array ? x.length : -1;
}
