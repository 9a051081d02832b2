/**
 * Copies of a parameter server's tables in `entityIds` order: the fenced
 * snapshot a running training takes (`snapshotTables`: each table fenced in
 * turn while it is copied, see `Seqlock.fenceAsync`), the unfenced copy and
 * overwrite used between epochs, and their checks.
 */
import { dimMismatch, lockTimeout } from '../errors.js';
import { SEQ_OK, SEQ_RECOVERED } from '../shm/seqlock.js';
import type { Tables } from './tables.js';

/** Where a snapshot copies the tables to (or an overwrite reads them from). */
export interface SnapshotTarget {
  /** Entity rows in the order of the server's `entityIds` (entityIds.length * dim floats). */
  readonly entities: Float32Array;
  /** Relation rows (relationIds.length * relationDim floats). */
  readonly relations: Float32Array;
  /** The optimizer state, in the server's layout (`psOptimizerStateFloats`); omit to skip it. */
  readonly optimizer?: Float32Array;
}

/** What a snapshot did: how long each table was fenced (ms), and each table's step in the copy. */
export interface SnapshotReport {
  /** Per table (shards in order, then the relation table): ms from raising its fence to lowering it. */
  readonly fencedMs: number[];
  readonly steps: number[];
}

/** Where each shard's rows sit in `entityIds` order, and where its optimizer state starts. */
export interface GlobalLayout {
  /** Per shard, the `entityIds` index of each of its rows. */
  readonly rows: Int32Array[];
  /** Per shard, whether its rows are one contiguous run of `entityIds` (range assignment). */
  readonly contiguous: boolean[];
  /** Per table, the offset of its optimizer state in the server's layout. */
  readonly accOffset: number[];
}

export function globalLayout(tables: Tables): GlobalLayout {
  const a = tables.shardManager.assignment;
  const rows = a.ids.map((ids) => new Int32Array(ids.length));
  for (let i = 0; i < a.shardOf.length; i++) rows[a.shardOf[i]!]![a.rowOf[i]!] = i;
  const contiguous = rows.map((r) => r.length === 0 || r[r.length - 1]! - r[0]! === r.length - 1);
  const accOffset: number[] = [];
  let off = 0;
  for (const acc of tables.accs) {
    accOffset.push(off);
    off += acc.length;
  }
  return { rows, contiguous, accOffset };
}

/** Fence, copy and release each table in turn (see `ParameterServer.snapshotInto`). */
export async function snapshotTables(tables: Tables, g: GlobalLayout, dst: SnapshotTarget): Promise<SnapshotReport> {
  const where = 'ParameterServer.snapshotInto';
  checkTarget(tables, where, dst);
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
  checkTarget(tables, where, dst);
  for (let t = 0; t <= tables.numShards; t++) copyTableOut(tables, g, t, dst);
}

/** Overwrite every table (and the optimizer state, when given) from `src`, in place, without any lock. */
export function overwriteTables(tables: Tables, g: GlobalLayout, src: SnapshotTarget): void {
  checkTarget(tables, 'ParameterServer.overwrite', src);
  const dim = tables.dim;
  for (let t = 0; t <= tables.numShards; t++) {
    const data = tables.locks[t]!.data;
    if (t === tables.rel) {
      data.set(src.relations);
    } else if (g.contiguous[t]! && g.rows[t]!.length > 0) {
      const from = g.rows[t]![0]! * dim;
      data.set(src.entities.subarray(from, from + g.rows[t]!.length * dim));
    } else {
      const rows = g.rows[t]!;
      for (let r = 0; r < rows.length; r++) {
        const from = rows[r]! * dim;
        for (let q = 0; q < dim; q++) data[r * dim + q] = src.entities[from + q]!;
      }
    }
    const acc = tables.accs[t]!;
    const from = g.accOffset[t] ?? 0;
    if (src.optimizer !== undefined) acc.set(src.optimizer.subarray(from, from + acc.length));
  }
}

/** Copy table `t`'s rows (in entityIds order for a shard) and its optimizer state into `dst`. */
function copyTableOut(tables: Tables, g: GlobalLayout, t: number, dst: SnapshotTarget): void {
  const data = tables.locks[t]!.data;
  if (t === tables.rel) {
    dst.relations.set(data.subarray(0, dst.relations.length));
  } else {
    const rows = g.rows[t]!;
    const dim = tables.dim;
    const out = dst.entities;
    if (g.contiguous[t]! && rows.length > 0) {
      out.set(data.subarray(0, rows.length * dim), rows[0]! * dim);
    } else {
      for (let r = 0; r < rows.length; r++) {
        const to = rows[r]! * dim;
        for (let q = 0; q < dim; q++) out[to + q] = data[r * dim + q]!;
      }
    }
  }
  if (dst.optimizer !== undefined) dst.optimizer.set(tables.accs[t]!, g.accOffset[t] ?? 0);
}

function checkTarget(tables: Tables, where: string, d: SnapshotTarget): void {
  const e = tables.handle.entityIds.length * tables.dim;
  const r = tables.handle.relationIds.length * tables.relationDim;
  if (!(d.entities instanceof Float32Array) || d.entities.length !== e)
    throw dimMismatch(where, 'entities', e, lengthOf(d.entities));
  if (!(d.relations instanceof Float32Array) || d.relations.length !== r)
    throw dimMismatch(where, 'relations', r, lengthOf(d.relations));
  const o = tables.accs.reduce((n, a) => n + a.length, 0);
  if (d.optimizer !== undefined && (!(d.optimizer instanceof Float32Array) || d.optimizer.length !== o))
    throw dimMismatch(where, 'optimizer', o, lengthOf(d.optimizer));
}

function lengthOf(x: unknown): number {
  return x instanceof Float32Array ? x.length : -1;
}
