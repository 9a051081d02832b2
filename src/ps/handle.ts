/**
 * The parameter server's shared regions: what a handle holds, how `create`
 * allocates and initialises them, and how `attach` checks them.
 */
import { badHandle, dimMismatch, duplicateId, invalidArgument } from '../errors.js';
import {
  allocate,
  checkHeader,
  indexOf,
  psControlLayout,
  psAccumulatorOffset,
  psPendingLayout,
  writeHeader,
  type RegionLayout,
} from '../../native-layout/index.js';
import { Seqlock, type SeqlockHandle } from '../shm/seqlock.js';
import { Barrier, type BarrierHandle } from '../shm/barrier.js';
import { clockOption, type Clock, type ClockHandle } from '../shm/clock.js';
import {
  PS_PLACEMENT_READERS,
  PS_PLACEMENT_VERSIONS,
  PS_PLACEMENT_WORKERS,
  validatePsConfig,
  type PsConfig,
  type PsOptimizer,
} from './config.js';
import { locOf, Placement, SLOT_LIVE, type PlacementHandle } from './placement.js';
import { initRow } from './init.js';
import { ShardManager } from './shard-manager.js';

export interface PsHandle {
  readonly kind: 'ps';
  readonly config: PsConfig;
  readonly entityIds: readonly string[];
  readonly relationIds: readonly string[];
  readonly control: SharedArrayBuffer;
  readonly shards: readonly SeqlockHandle[];
  readonly pending: readonly SharedArrayBuffer[];
  readonly relations: SeqlockHandle;
  /** The server's clock (absent: the real clock). */
  readonly clock?: ClockHandle;
  /** Sync mode: the relation table's pending sums (relations meet at their own barrier, like a shard). */
  readonly relationPending: SharedArrayBuffer;
  /**
   * Where each table's pending region starts in its buffer (shards, then
   * the relation table): 0 for a buffer of its own; past the rows when the
   * table lives in a WebAssembly memory (`kernels: 'wasm'`), whose buffer
   * then holds both, so the kernels reach the pending sums too.
   */
  readonly pendingAt: readonly number[];
  /**
   * Sync mode: each table's step barrier (`expectedWorkers` parties), the
   * shards' in shard order, then the relation table's.
   */
  readonly barriers: readonly BarrierHandle[];
  /**
   * Optimizer state (Adagrad accumulators) in shared memory, float32, for
   * the tables whose `accAt` is -1: each shard's rows in shard order, then
   * the relation rows; one float per value (`adagrad`) or per row
   * (`adagrad-row`). null under SGD, and when every table keeps its own.
   */
  readonly optimizerState: SharedArrayBuffer | null;
  /**
   * Where each table's accumulators start (shards, then the relation
   * table): a byte offset in the table's WebAssembly memory, past its
   * pending region, so the update kernels reach them; or -1, in
   * `optimizerState`. All -1 under SGD.
   */
  readonly accAt: readonly number[];
  /** The versioned chunk placement (src/ps/placement.ts). */
  readonly placement: PlacementHandle;
}

export interface PsOptions {
  /**
   * Clock for lock leases and the sync barrier timeout (default `realClock`). Shared with every thread that attaches.
   */
  readonly clock?: Clock;
  /**
   * Use this buffer as the optimizer state instead of allocating it (it must
   * be exactly `psOptimizerStateFloats(...)` floats long), for a caller that
   * owns the state. The update rule then runs in JavaScript; without it, a
   * table in a WebAssembly memory keeps its accumulators in that memory,
   * where the Adagrad kernel updates them in place.
   */
  readonly optimizerState?: SharedArrayBuffer;
  /**
   * Where the update rule runs: `'wasm'` (default) allocates each table's
   * rows at the start of its own shared `WebAssembly.Memory`, so pushes are
   * checked and (under SGD and element-wise Adagrad) applied by WebAssembly SIMD kernels in place
   * (src/ps/wasm/); `'js'` keeps the tables in plain `SharedArrayBuffer`s
   * and runs everything in JavaScript. The results are the same bit for bit.
   */
  readonly kernels?: 'wasm' | 'js';
}

/** The control region's layout: one control block per shard, and one more for the relation table. */
export function controlLayout(c: PsConfig): RegionLayout {
  return psControlLayout(c.numShards + 1, c.expectedWorkers);
}

/**
 * Allocate and initialise a server's regions on the allocating thread:
 * assign `entityIds` to shards, initialise every row from its id
 * (deterministic, see `initRow`).
 */
export function createHandle(
  config: Partial<PsConfig>,
  entityIds: readonly string[],
  relationIds: readonly string[],
  options: PsOptions,
): PsHandle {
  const where = 'ParameterServer.create';
  const c = validatePsConfig(config);
  const clock = clockOption(where, options?.clock);
  checkIds(where, 'entityIds', entityIds);
  checkIds(where, 'relationIds', relationIds);
  const kernels = options.kernels ?? 'wasm';
  if (kernels !== 'wasm' && kernels !== 'js') throw invalidArgument(where, 'kernels', kernels, "'wasm' or 'js'");
  const wasmMemory = kernels === 'wasm';
  // Accumulators inside each table's memory, unless the caller hands over a buffer.
  const accInTable = wasmMemory && c.optimizer !== 'sgd' && options.optimizerState === undefined;
  const accPerValue = c.optimizer === 'adagrad';
  const accAt: number[] = [];
  const active = c.activeShards || c.numShards;
  const manager = new ShardManager(entityIds, active, c.strategy);
  const C = c.chunkRows;
  // Every region holds its initial rows, and at least the capacity asked
  // for (whole chunks): room for chunks that move in.
  const capacity = Math.ceil(c.shardCapacityRows / C) * C;
  const regionRows = Array.from({ length: c.numShards }, (_, s) =>
    // A shard that received no entity still gets one (unused) row, so its
    // regions exist and every shard id is valid; `entityIds` says it is empty.
    Math.max(1, manager.assignment.ids[s]?.length ?? 0, capacity),
  );
  const placement = initialPlacement(c, entityIds.length, manager, regionRows);
  const shards: SeqlockHandle[] = [];
  const pending: SharedArrayBuffer[] = [];
  const pendingAt: number[] = [];
  for (let s = 0; s < c.numShards; s++) {
    const ids = manager.assignment.ids[s] ?? [];
    const rows = regionRows[s]!;
    const accFloats = accInTable ? (accPerValue ? rows * c.dim : rows) : 0;
    const lock = tableRegion(rows, c.dim, c.lockLeaseMs, clock, wasmMemory, accFloats);
    for (let r = 0; r < ids.length; r++) initRow(ids[r]!, c.dim, lock.data, r * c.dim);
    shards.push(lock.handle);
    const p = pendingRegion(lock, rows, c.dim);
    pending.push(p.sab);
    pendingAt.push(p.at);
    accAt.push(accFloats > 0 && p.at > 0 ? psAccumulatorOffset(p.at, rows, c.dim) : -1);
  }
  const rdim = c.relationDim || c.dim;
  const relRows = Math.max(1, relationIds.length);
  const stateFloats = psOptimizerStateFloats(
    c,
    shards.map((h) => h.rows),
    relRows,
  );
  const given = options.optimizerState;
  if (given !== undefined) {
    if (!(given instanceof SharedArrayBuffer))
      throw invalidArgument(where, 'optimizerState', given, 'a SharedArrayBuffer');
    if (given.byteLength !== stateFloats * 4) {
      throw dimMismatch(where, 'optimizerState floats', stateFloats, given.byteLength / 4);
    }
  }
  const relAccFloats = accInTable ? (accPerValue ? relRows * rdim : relRows) : 0;
  const relations = tableRegion(relRows, rdim, c.lockLeaseMs, clock, wasmMemory, relAccFloats);
  for (let r = 0; r < relationIds.length; r++) initRow(relationIds[r]!, rdim, relations.data, r * rdim);
  const rp = pendingRegion(relations, relRows, rdim);
  const relationPending = rp.sab;
  pendingAt.push(rp.at);
  accAt.push(relAccFloats > 0 && rp.at > 0 ? psAccumulatorOffset(rp.at, relRows, rdim) : -1);
  // A buffer for the tables that keep no accumulators of their own (every
  // table under 'js' kernels, or a runtime without WebAssembly memories).
  const optimizerState =
    c.optimizer === 'sgd' || accAt.every((a) => a >= 0)
      ? null
      : (given ?? new SharedArrayBuffer(Math.max(4, stateFloats * 4)));
  const barriers: BarrierHandle[] = [];
  for (let t = 0; t <= c.numShards; t++) barriers.push(Barrier.create({ parties: c.expectedWorkers, clock }).handle);
  const layout = controlLayout(c);
  const control = allocate(layout);
  const u32 = new Uint32Array(control);
  u32[indexOf(layout, 'shards')] = c.numShards;
  u32[indexOf(layout, 'expectedWorkers')] = c.expectedWorkers;
  u32[indexOf(layout, 'dim')] = c.dim;
  return {
    kind: 'ps',
    config: c,
    entityIds: [...entityIds],
    relationIds: [...relationIds],
    control,
    shards,
    pending,
    relations: relations.handle,
    clock: clock.handle,
    relationPending,
    pendingAt,
    barriers,
    optimizerState,
    accAt,
    placement: placement.handle,
  };
}

/**
 * The placement a server starts with: each shard's rows, in order, cut into
 * chunks of `chunkRows` rows (the last one of a shard possibly shorter),
 * chunk k of a shard in its slot k, so row r of a shard is row r of its
 * region, as without chunks. Published as version 1.
 */
function initialPlacement(
  c: PsConfig,
  entities: number,
  manager: ShardManager,
  regionRows: readonly number[],
): Placement {
  const C = c.chunkRows;
  const a = manager.assignment;
  const slots = Math.ceil(Math.max(...regionRows) / C);
  let chunks = 0;
  for (const ids of a.ids) chunks += Math.ceil(ids.length / C);
  const maxEntities = Math.max(entities, c.entityCapacity, 1);
  const grown = maxEntities - entities;
  // Grown entities come in batches, each its own chunks: room for 16 partial ones.
  const maxChunks = Math.max(1, chunks + (grown > 0 ? Math.ceil(grown / C) + 16 : 0));
  const p = Placement.create(
    {
      chunkRows: C,
      shards: c.numShards,
      slots,
      maxChunks,
      maxEntities,
      versions: PS_PLACEMENT_VERSIONS,
      workers: PS_PLACEMENT_WORKERS,
      readers: PS_PLACEMENT_READERS,
    },
    { quorum: c.confirmQuorum, graceMs: c.graceMs, workerTimeoutMs: c.workerTimeoutMs, pinLeaseMs: c.pinLeaseMs },
  );
  // Entity index of each shard row.
  const rowsOf = a.ids.map((ids) => new Int32Array(ids.length));
  for (let i = 0; i < entities; i++) rowsOf[a.shardOf[i]!]![a.rowOf[i]!] = i;
  const changes: number[] = [];
  let chunk = 0;
  for (let s = 0; s < rowsOf.length; s++) {
    const rows = rowsOf[s]!;
    for (let k = 0; k * C < rows.length; k++, chunk++) {
      const len = Math.min(C, rows.length - k * C);
      for (let j = 0; j < len; j++) p.setEntity(rows[k * C + j]!, chunk, j);
      p.chunkLen[chunk] = len;
      const i = p.slotIndex(s, k);
      p.slotChunk[i] = chunk;
      p.slotState[i] = SLOT_LIVE;
      changes.push(chunk, locOf(s, k));
    }
  }
  p.setCounts(entities, chunk);
  p.publish(changes, a.shards);
  return p;
}

/**
 * A table's rows: a Seqlock region of its own, or at the start of a shared
 * WebAssembly memory with room past it for the table's pending region and
 * `accFloats` accumulators (zeroed, as Adagrad starts them).
 */
function tableRegion(
  rows: number,
  width: number,
  leaseMs: number,
  clock: Clock,
  wasmMemory: boolean,
  accFloats: number,
): Seqlock {
  const at = Seqlock.regionBytes(rows, width);
  const end =
    accFloats > 0 ? psAccumulatorOffset(at, rows, width) + 4 * accFloats : at + psPendingLayout(rows, width).byteLength;
  const extra = wasmMemory ? end - at : 0;
  return Seqlock.create({ rows, cols: width, leaseMs, clock, wasmMemory, wasmMemoryExtraBytes: extra });
}

/**
 * A table's pending-sums region, its header filled in: in the table's
 * memory right after its rows when the table has one, else a buffer of its own.
 */
function pendingRegion(lock: Seqlock, rows: number, width: number): { sab: SharedArrayBuffer; at: number } {
  const l = psPendingLayout(rows, width);
  let sab: SharedArrayBuffer;
  let at = 0;
  if (lock.handle.memory !== undefined) {
    sab = lock.handle.sab;
    at = Seqlock.regionBytes(rows, width);
    writeHeader(sab, l, at);
  } else {
    sab = allocate(l);
  }
  const u32 = new Uint32Array(sab, at, 16);
  u32[indexOf(l, 'rows')] = rows;
  u32[indexOf(l, 'dim')] = width;
  return { sab, at };
}

/**
 * Check a handle received from another thread (its kind, config, control
 * region and region counts); the regions themselves are checked as they
 * are attached. Returns the handle with its config validated.
 */
export function checkHandle(handle: PsHandle): PsHandle {
  const where = 'ParameterServer.attach';
  if (handle === null || typeof handle !== 'object' || handle.kind !== 'ps') {
    throw badHandle(where, "handle.kind must be 'ps'", (handle as { kind?: unknown } | null)?.kind);
  }
  const c = validatePsConfig(handle.config, where);
  checkHeader(handle.control, controlLayout(c));
  if (!(handle.relationPending instanceof SharedArrayBuffer)) {
    throw badHandle(where, 'handle.relationPending must be a SharedArrayBuffer', handle.relationPending);
  }
  if (
    !Array.isArray(handle.accAt) ||
    handle.accAt.length !== c.numShards + 1 ||
    !handle.accAt.every((x) => Number.isInteger(x) && x >= -1)
  ) {
    throw badHandle(where, `handle.accAt must list ${c.numShards + 1} byte offsets or -1`, handle.accAt?.length);
  }
  if (
    c.optimizer !== 'sgd' &&
    handle.accAt.some((x) => x < 0) &&
    !(handle.optimizerState instanceof SharedArrayBuffer)
  ) {
    throw badHandle(
      where,
      `handle.optimizerState must be a SharedArrayBuffer under ${c.optimizer}`,
      handle.optimizerState,
    );
  }
  if (!Array.isArray(handle.shards) || handle.shards.length !== c.numShards) {
    throw badHandle(where, `handle.shards must list ${c.numShards} shard regions`, handle.shards?.length);
  }
  if (!Array.isArray(handle.pending) || handle.pending.length !== c.numShards) {
    throw badHandle(where, `handle.pending must list ${c.numShards} regions`, handle.pending?.length);
  }
  if (
    !Array.isArray(handle.pendingAt) ||
    handle.pendingAt.length !== c.numShards + 1 ||
    !handle.pendingAt.every((x) => Number.isInteger(x) && x >= 0)
  ) {
    throw badHandle(where, `handle.pendingAt must list ${c.numShards + 1} byte offsets`, handle.pendingAt?.length);
  }
  if (handle.placement === null || typeof handle.placement !== 'object') {
    throw badHandle(where, 'handle.placement must be a placement handle', handle.placement);
  }
  if (!Array.isArray(handle.barriers) || handle.barriers.length !== c.numShards + 1) {
    throw badHandle(where, `handle.barriers must list ${c.numShards + 1} barriers`, handle.barriers?.length);
  }
  return { ...handle, config: c };
}

function checkIds(where: string, field: string, ids: readonly string[]): void {
  if (!Array.isArray(ids)) throw invalidArgument(where, field, ids, 'an array of strings');
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== 'string') throw invalidArgument(where, `${field}[${i}]`, id, 'a string');
    const prev = seen.get(id);
    if (prev !== undefined) throw duplicateId(where, field, id, prev, i);
    seen.set(id, i);
  });
}

/**
 * Floats of optimizer state a server with `config` holds: per table (each
 * shard's `rows`, then the relation table's `relationRows`), one float per
 * value under `adagrad`, one per row under `adagrad-row`, none under `sgd`.
 */
export function psOptimizerStateFloats(
  config: Pick<PsConfig, 'dim' | 'relationDim'> & { readonly optimizer: PsOptimizer },
  shardRows: readonly number[],
  relationRows: number,
): number {
  if (config.optimizer === 'sgd') return 0;
  const rdim = config.relationDim || config.dim;
  const rows = shardRows.reduce((a, b) => a + b, 0);
  return config.optimizer === 'adagrad' ? rows * config.dim + relationRows * rdim : rows + relationRows;
}
