/**
 * Parameter server in shared memory.
 *
 * The entity table is split into shards; each shard's rows live in a
 * `Seqlock` region, so a pull is a consistent copy and a Hogwild reader can
 * use a zero-copy view. The relation table is one more `Seqlock` region,
 * shared by every shard (replicated in the reference; here one copy serves
 * every thread). Control words (steps, staleness, sync bookkeeping, stats)
 * sit in one control region laid out in native-layout.
 *
 * Concurrency contract
 * - Any thread holding the handle may `pull`, `push`, `pushRelation` and read
 *   `stats`/`shardSteps`.
 * - Sync-mode pushes to one shard are serialised by that shard's writer
 *   lock (the seqlock's owner lock); pushes to different shards proceed in
 *   parallel. A pull never takes a lock: it copies rows and the step inside
 *   one seqlock read window and retries when a locked write overlapped.
 * - Sync mode: `push` buffers the gradient in the shard's pending sums and
 *   arrives at the shard's step barrier (a `Barrier` of src/shm); unless it
 *   completes the step, it sleeps (`Atomics.wait`, worker threads only)
 *   until the step completes or the barrier timeout passes, in which case
 *   it applies what arrived and raises a warning (see sync-step.ts). The
 *   main thread uses `pushAsync`, which awaits instead of sleeping. The
 *   barrier is per shard, and the relation table has one of its own
 *   (`pushRelation`): internally it is table `numShards`, updated exactly
 *   like a shard.
 * - Every update (an async push, a sync step's average) goes through the
 *   configured rule (`optimizer`: SGD or Adagrad, state in shared memory)
 *   and entity rows are projected back to `maxNorm` when it is set.
 * - Async mode is Hogwild: `push` applies its gradient in place without any
 *   lock and counts the shard's step and staleness (pushes since its last
 *   pull) with atomic adds. Racing pushes may interleave element by element
 *   (an update is `row[k] -= lr * g[k]`, a read and a write that another
 *   pusher can slip between, so one of two racing updates of the same
 *   element can be lost: the Hogwild trade). A pull in async mode is not
 *   fenced against these writes: each value it returns is a whole float32
 *   that the element held at some instant during the copy, but a row may
 *   show part of a push in flight, and the step it returns counts the pushes
 *   completed by the end of the copy (the copy may also hold part of the
 *   next one). Sync-mode pulls are exact (see `pull`).
 * - Every argument is checked before any state changes: a rejected push
 *   leaves the server exactly as it was.
 * - A thread that dies mid-push cannot wedge the server: the shard's writer
 *   lock is taken over after its lease (see `OwnerLock`) and the recovery
 *   hook repairs what the dead push left half-done (repair.ts); a step
 *   short of the dead worker's push completes by the barrier timeout. An
 *   async (Hogwild) push holds no lock, so its death blocks nobody.
 * - The main thread never waits for a lock: `pushAsync` and
 *   `pushRelationAsync` park with `Atomics.waitAsync`.
 * Where the parts live: handle.ts (regions, create/attach checks),
 * tables.ts (the attached views, the update of one row), pull.ts,
 * hogwild.ts (async pushes), sync-step.ts (the sync step on the barrier),
 * repair.ts (after a dead pusher), checks.ts (argument checks), wasm/ (the
 * SIMD update kernels that check and apply pushes on the tables in place,
 * when the tables live in WebAssembly memories: `kernels` option).
 *
 * - Leases and the sync barrier timeout run on the server's clock (`clock`
 *   option of `create`: the real clock by default, a `ManualClock` in tests).
 */
import { isMainThread } from 'node:worker_threads';
import { invalidArgument, lockBusy, lockTimeout, unknownId } from '../errors.js';
import { LOCK_OK } from '../shm/owner-lock.js';
import { SEQ_BUSY } from '../shm/seqlock.js';
import type { PsConfig } from './config.js';
import type { ShardManager } from './shard-manager.js';
import {
  checkHandle,
  controlLayout,
  createHandle,
  psOptimizerStateFloats,
  type PsHandle,
  type PsOptions,
} from './handle.js';
import { Tables, type PsWarningCode, type PsWarningHandler } from './tables.js';
import { checkFlatTable, checkShard, checkWorker, packRelationRows, packRows } from './checks.js';
import { pullRelations, pullShard } from './pull.js';
import { applyHogwild } from './hogwild.js';
import { pushSync, pushSyncAsync, type PushResult } from './sync-step.js';
import { repairTable } from './repair.js';
import { PsClient } from './client.js';
import { locShard, locSlot } from './placement.js';
import {
  checkSyncQuiescent,
  correctChunk,
  growTables,
  pendingChunks,
  pendingCorrections,
  placementStep,
  previewCorrection,
  publishPlacedEntities,
  registerCorrection,
  registerEntities,
  reshardTables,
  type PendingCorrectionInfo,
  type PlacementStepResult,
  type CorrectionRecord,
  type GrowthReport,
  type LiveReshardOptions,
  type ReshardReport,
} from './mover.js';
import { initRow } from './init.js';
import {
  copyTables,
  globalLayout,
  optimizerFloats,
  overwriteTables,
  snapshotTables,
  type GlobalLayout,
  type SnapshotReport,
  type SnapshotTarget,
} from './snapshot.js';

export { psOptimizerStateFloats };
export type { PsHandle, PsOptions, PushResult, PsWarningCode, PsWarningHandler };
export { PsClient, PAUSE_SAMPLES, type ClientStats } from './client.js';
export type { SnapshotTarget, SnapshotReport } from './snapshot.js';
export type {
  CorrectionRecord,
  GrowthReport,
  LiveReshardOptions,
  PendingCorrectionInfo,
  PlacementStepResult,
  ReshardReport,
  ReshardStepReport,
} from './mover.js';

/** A reader's pin of one placement version (`ParameterServer.pinPlacement`). */
export interface PlacementPin {
  readonly reader: number;
  readonly version: number;
  /** Entity index `e`'s shard and row at the pinned version (shard and row -1 when that version does not place it). */
  locate(e: number): { shard: number; row: number };
  unpin(): void;
}

/** A consistent copy of one shard, as `pull` returns it. */
export interface ShardSnapshot {
  readonly shardId: number;
  /** `entityIds.length` rows of `dim` values, row-major. */
  readonly entities: Float32Array;
  readonly entityIds: readonly string[];
  /** `relationIds.length` rows of `dim` values. */
  readonly relations: Float32Array;
  readonly relationIds: readonly string[];
  /** The shard's step when the rows were copied. */
  readonly step: number;
}

export interface PsStats {
  readonly pulls: number;
  /** Applied updates: an async push, or one averaged sync step. */
  readonly pushes: number;
  readonly barriersCompleted: number;
  readonly maxStalenessObserved: number;
  /** Mean over touched rows of the squared L2 norm of the last applied (averaged) gradient. */
  readonly lastGradNorm: number;
  readonly relationPushes: number;
  /** Barrier timeouts and staleness warnings raised so far. */
  readonly warnings: number;
}

const defaultWarn: PsWarningHandler = (code, message) => process.emitWarning(message, { code });

type GradientRows = ReadonlyArray<readonly [number, ArrayLike<number>]>;

export class ParameterServer {
  readonly handle: PsHandle;
  readonly config: PsConfig;
  readonly numShards: number;
  readonly dim: number;
  /** Length of a relation row (`config.relationDim`, or `dim` when that is 0). */
  readonly relationDim: number;
  readonly shardManager: ShardManager;
  /** Called on barrier timeouts and staleness above the maximum. */
  onWarning: PsWarningHandler = defaultWarn;

  private readonly tables: Tables;
  private readonly relationIndex: Map<string, number>;
  /** Entities this object added (`addEntities`), after `handle.entityIds`, and their indices. */
  private readonly grown: string[] = [];
  private readonly grownIndex = new Map<string, number>();
  /** Audit records of the corrections made through this object. */
  readonly corrections: CorrectionRecord[] = [];
  /** Where each shard's rows sit in `entityIds` order (built on first use). */
  private globalLayout: GlobalLayout | null = null;

  private constructor(handle: PsHandle) {
    this.handle = handle;
    this.config = handle.config;
    this.numShards = handle.config.numShards;
    this.dim = handle.config.dim;
    this.relationDim = handle.config.relationDim || handle.config.dim;
    this.tables = new Tables(
      handle,
      controlLayout(handle.config),
      (code, message) => this.onWarning(code, message),
      (t) => repairTable(this.tables, t),
    );
    this.shardManager = this.tables.shardManager;
    this.relationIndex = new Map(handle.relationIds.map((id, i) => [id, i]));
  }

  /**
   * Build a server on the allocating thread: assign `entityIds` to shards,
   * initialise every row from its id (deterministic, see `initRow`), and
   * allocate the shared regions. Send `handle` to other threads.
   */
  static create(
    config: Partial<PsConfig>,
    entityIds: readonly string[],
    relationIds: readonly string[],
    options: PsOptions = {},
  ): ParameterServer {
    return new ParameterServer(createHandle(config, entityIds, relationIds, options));
  }

  /** Wrap an existing server from its handle, on any thread. */
  static attach(handle: PsHandle): ParameterServer {
    return new ParameterServer(checkHandle(handle));
  }

  // ------------------------------------------------------------ lookups

  /**
   * Entity ids of `shard`'s rows in row order, by the latest placement (an
   * empty string for a row that holds no entity, once chunks have moved).
   */
  entityIds(shard: number): readonly string[] {
    checkShard(this.tables, 'ParameterServer.entityIds', shard);
    const g = this.layout();
    if (g.version === 1) return this.shardManager.assignment.ids[shard] ?? [];
    const ids = this.handle.entityIds;
    return Array.from(g.rows[shard]!, (e) => (e < 0 ? '' : (ids[e] ?? this.grown[e - ids.length] ?? '')));
  }

  /** Shard and row of an entity id by the latest placement (E_UNKNOWN_ID when it is not served). */
  locate(entityId: string): { shard: number; row: number } {
    const e = this.entityIndex(entityId);
    if (e < 0) throw unknownId('ParameterServer.locate', 'entity', entityId);
    return this.locateIndex(e);
  }

  /** Index of an entity id (those the server was created with, then those this object added), or -1. */
  entityIndex(entityId: string): number {
    const e = this.shardManager.indexOf(entityId);
    return e >= 0 ? e : (this.grownIndex.get(entityId) ?? -1);
  }

  /** Entities served: those of `entityIds`, then those added since (`addEntities`). */
  entityCount(): number {
    return this.tables.placement.entities();
  }

  /** The chunk that holds entity index `e`'s row. */
  chunkOf(e: number): number {
    return this.tables.placement.chunkOf[e]!;
  }

  /** Shard and row of the entity at index `e` of `entityIds`, by the latest placement. */
  locateIndex(e: number): { shard: number; row: number } {
    const p = this.tables.placement;
    if (!Number.isInteger(e) || e < 0 || e >= p.entities())
      throw invalidArgument('ParameterServer.locateIndex', 'entity', e, `an index below ${p.entities()}`);
    const c = p.chunkOf[e]!;
    const loc = p.locAt(p.version(), c);
    return { shard: locShard(loc), row: locSlot(loc) * p.chunkRows + p.offsetOf[e]! };
  }

  /** Row of a relation id (E_UNKNOWN_ID when it is not served). */
  relationRow(relationId: string): number {
    const r = this.relationIndex.get(relationId);
    if (r === undefined) throw unknownId('ParameterServer.relationRow', 'relation', relationId);
    return r;
  }

  /**
   * Zero-copy view of a shard's rows, for Hogwild readers and writers.
   * RACY BY DESIGN: a read may mix rows of two pushes and a write bypasses
   * the lock, the step and the sync barrier. Use `pull` for a consistent copy.
   */
  view(shard: number): Float32Array {
    checkShard(this.tables, 'ParameterServer.view', shard);
    return this.tables.locks[shard]!.data;
  }

  /** Zero-copy view of the relation table; racy by design, like `view`. */
  relationView(): Float32Array {
    return this.tables.locks[this.tables.rel]!.data;
  }

  /**
   * Zero-copy view of a shard's Adagrad accumulators (one float per value
   * under `adagrad`, one per row under `adagrad-row`; empty under SGD), for
   * a Hogwild writer that applies the rule itself; racy by design, like `view`.
   */
  optimizerView(shard: number): Float32Array {
    checkShard(this.tables, 'ParameterServer.optimizerView', shard);
    return this.tables.accs[shard]!;
  }

  /** Zero-copy view of the relation table's accumulators, as `optimizerView`. */
  relationOptimizerView(): Float32Array {
    return this.tables.accs[this.tables.rel]!;
  }

  // ------------------------------------------------------------ pull

  /**
   * Consistent snapshot of `shard` (its rows and its step, copied inside one
   * seqlock read window) and of the relation table. Resets the shard's
   * staleness in async mode. Any thread.
   */
  pull(shard: number): ShardSnapshot {
    checkShard(this.tables, 'ParameterServer.pull', shard);
    const ids = this.entityIds(shard);
    const entities = new Float32Array(ids.length * this.dim);
    const step = pullShard(this.tables, shard, entities);
    const relations = new Float32Array(this.handle.relationIds.length * this.relationDim);
    pullRelations(this.tables, relations);
    return {
      shardId: shard,
      entities,
      entityIds: ids,
      relations,
      relationIds: this.handle.relationIds,
      step,
    };
  }

  /**
   * Copy `shard`'s rows into `dst` (at least rows * dim long) consistently and
   * return the shard's step at that instant. Allocates nothing. Counts as a
   * pull (stats, async staleness reset).
   */
  pullInto(shard: number, dst: Float32Array): number {
    checkShard(this.tables, 'ParameterServer.pullInto', shard);
    return pullShard(this.tables, shard, dst);
  }

  // ------------------------------------------------------------ push

  /**
   * Push entity-row gradients to `shard` as `[row in shard, gradient]` pairs.
   * Checked before any state changes: shard and rows in range, each gradient
   * `dim` long and finite, `worker` a non-negative integer, and in sync mode
   * no earlier push by `worker` in the current step.
   * Sync mode blocks the calling worker thread until the step completes (use
   * `pushAsync` on the main thread); async mode applies at once.
   */
  push(shard: number, worker: number, rows: GradientRows): PushResult {
    const { rowIdx, grads } = packRows(this.tables, 'ParameterServer.push', shard, worker, rows);
    return this.pushFlat(shard, worker, rowIdx, grads, rowIdx.length);
  }

  /** `push` that awaits instead of sleeping; any thread, including the main thread. */
  async pushAsync(shard: number, worker: number, rows: GradientRows): Promise<PushResult> {
    const { rowIdx, grads } = packRows(this.tables, 'ParameterServer.pushAsync', shard, worker, rows);
    return this.pushFlatAsync(shard, worker, rowIdx, grads, rowIdx.length);
  }

  /**
   * Allocation-free form of `push`: `count` rows, row indices in `rowIdx`,
   * gradients concatenated in `grads` (count * dim values).
   */
  pushFlat(shard: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    checkShard(this.tables, 'ParameterServer.pushFlat', shard);
    checkFlatTable(this.tables, 'ParameterServer.pushFlat', shard, worker, rowIdx, grads, count);
    return this.pushTable('ParameterServer.push', shard, worker, rowIdx, grads, count);
  }

  /** `pushFlat` that awaits instead of sleeping (for the barrier and for the shard lock); any thread. */
  async pushFlatAsync(
    shard: number,
    worker: number,
    rowIdx: Int32Array,
    grads: Float32Array,
    count: number,
  ): Promise<PushResult> {
    checkShard(this.tables, 'ParameterServer.pushFlatAsync', shard);
    checkFlatTable(this.tables, 'ParameterServer.pushFlatAsync', shard, worker, rowIdx, grads, count);
    return this.pushTableAsync('ParameterServer.pushAsync', shard, worker, rowIdx, grads, count);
  }

  /**
   * Push relation-row gradients as `[relation row, gradient]` pairs, checked
   * before any change. The relation table is replicated, not sharded, but it
   * is updated like a shard: async mode applies at once (Hogwild); sync mode
   * adds the push to the relation table's own barrier, which averages the
   * step's pushes (one per worker, possibly empty) and applies them once, so
   * relations move as far per step as entities do. Sync mode blocks the
   * calling worker thread (use `pushRelationAsync` on the main thread).
   */
  pushRelation(worker: number, rows: GradientRows): PushResult {
    const { rowIdx, grads } = packRelationRows(this.tables, 'ParameterServer.pushRelation', worker, rows);
    return this.pushTable('ParameterServer.pushRelation', this.tables.rel, worker, rowIdx, grads, rowIdx.length);
  }

  /** `pushRelation` that awaits instead of sleeping; any thread, including the main thread. */
  async pushRelationAsync(worker: number, rows: GradientRows): Promise<PushResult> {
    const { rowIdx, grads } = packRelationRows(this.tables, 'ParameterServer.pushRelationAsync', worker, rows);
    return this.pushTableAsync(
      'ParameterServer.pushRelationAsync',
      this.tables.rel,
      worker,
      rowIdx,
      grads,
      rowIdx.length,
    );
  }

  /** Allocation-free form of `pushRelation` (`count` rows; gradients `relationDim` long each). */
  pushRelationFlat(worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    checkFlatTable(this.tables, 'ParameterServer.pushRelationFlat', this.tables.rel, worker, rowIdx, grads, count);
    return this.pushTable('ParameterServer.pushRelation', this.tables.rel, worker, rowIdx, grads, count);
  }

  /** Table `t`, checked arguments: apply at once (async), or the sync step, sleeping (worker threads only). */
  private pushTable(
    where: string,
    t: number,
    worker: number,
    rowIdx: Int32Array,
    grads: Float32Array,
    count: number,
  ): PushResult {
    if (this.config.mode === 'async') {
      const r = applyHogwild(this.tables, t, worker, rowIdx, grads, count);
      if (typeof r === 'object') return r;
      const lock = this.tables.locks[t]!;
      if (r === SEQ_BUSY) throw lockBusy(where, this.tables.tableName(t), lock.owner());
      throw lockTimeout(where, this.tables.tableName(t), 2 * lock.leaseMs);
    }
    if (isMainThread) {
      throw invalidArgument(
        where,
        'thread',
        'main',
        'a worker thread in sync mode (use the Async form on the main thread)',
      );
    }
    return pushSync(this.tables, where, t, worker, rowIdx, grads, count);
  }

  /** `pushTable` that awaits instead of sleeping; any thread. */
  private async pushTableAsync(
    where: string,
    t: number,
    worker: number,
    rowIdx: Int32Array,
    grads: Float32Array,
    count: number,
  ): Promise<PushResult> {
    if (this.config.mode === 'async') {
      // The main thread never waits at a gate: it parks until the fence is lowered, then tries again.
      const lock = this.tables.locks[t]!;
      for (;;) {
        const r = applyHogwild(this.tables, t, worker, rowIdx, grads, count);
        if (typeof r === 'object') return r;
        if (r !== SEQ_BUSY || (await lock.writerLock.awaitFreeAsync(2 * lock.leaseMs)) !== LOCK_OK)
          throw lockTimeout(where, this.tables.tableName(t), 2 * lock.leaseMs);
      }
    }
    return pushSyncAsync(this.tables, where, t, worker, rowIdx, grads, count);
  }

  // ------------------------------------------------------------ training clients and snapshots

  /**
   * A training worker's client (see client.ts): row reads by entity index
   * across shards, Hogwild pushes through each shard's shared-writer gate,
   * sync pushes to every shard's barrier. `maxRows`: the most entity rows
   * one push carries. One per worker thread.
   */
  client(worker: number, maxRows: number): PsClient {
    checkWorker('ParameterServer.client', worker);
    if (!Number.isInteger(maxRows) || maxRows < 1)
      throw invalidArgument('ParameterServer.client', 'maxRows', maxRows, 'a positive integer');
    return new PsClient(this.tables, worker, maxRows);
  }

  /**
   * A point-in-time copy of every table, while training runs. Each table in
   * turn is fenced (`Seqlock.fenceAsync`: its writer lock taken, then the
   * Hogwild writers inside it waited out; new ones wait at its gate), copied
   * with its optimizer state, and released: each table is one consistent
   * state, every push is wholly in the copy or wholly out, and writers to a
   * table pause only while that one table is copied. Any thread; never
   * blocks the thread. Throws E_LOCK_TIMEOUT when a fence cannot be raised
   * within twice the lock lease.
   */
  async snapshotInto(dst: SnapshotTarget): Promise<SnapshotReport> {
    // Pinned: chunks that move while the snapshot runs are read where this
    // version put them (their old copies are kept while the pin holds).
    const pin = this.pinPlacement();
    try {
      return await snapshotTables(this.tables, this.layoutAt(pin.version), dst);
    } finally {
      pin.unpin();
    }
  }

  /**
   * Copy every table (and the optimizer state) into `dst` without fencing:
   * exact only while no thread writes (between training epochs); racy by
   * design otherwise. Synchronous.
   */
  copyInto(dst: SnapshotTarget): void {
    copyTables(this.tables, this.layout(), 'ParameterServer.copyInto', dst);
  }

  /**
   * Overwrite every table (and the optimizer state, when given) from `src`,
   * laid out as `snapshotInto` writes it. Only while no thread writes
   * (before training, between epochs): the rows are written in place
   * without any lock.
   */
  overwrite(src: SnapshotTarget): void {
    overwriteTables(this.tables, this.layout(), src);
  }

  // ------------------------------------------------------------ placement

  /**
   * Move the entity tables onto shards 0 .. `shards`-1 while workers keep
   * pushing (src/ps/mover.ts): chunks move in scheduler steps of at most
   * `maxMovesPerStep`, each copied while only its shard's writers wait, and
   * no update is lost. `shards` may not exceed the shard regions the server
   * was created with (`numShards`); regions need room for the chunks they
   * receive (`shardCapacityRows`). Any thread; never blocks the thread.
   */
  async reshard(shards: number, options: LiveReshardOptions = {}): Promise<ReshardReport> {
    const r = await reshardTables(this.tables, shards, options);
    this.globalLayout = null;
    return r;
  }

  /**
   * Add entities while workers run: their rows are initialised as the
   * server initialises rows (`initRow` of each id), grouped into new chunks
   * and placed all-or-nothing by the scheduler; the entities are published
   * (`entityCount`) only once every new chunk is placed. They take the next
   * indices; ids must be new. Other threads address them by index (their
   * names are known to this server object). Needs room: `entityCapacity`.
   */
  async addEntities(ids: readonly string[], options: LiveReshardOptions = {}): Promise<GrowthReport> {
    const names = this.checkNewIds('ParameterServer.addEntities', ids);
    const dim = this.dim;
    const r = await growTables(this.tables, names.length, (i, out, off) => initRow(names[i]!, dim, out, off), options);
    names.forEach((id, i) => {
      this.grown.push(id);
      this.grownIndex.set(id, r.firstEntity + i);
    });
    this.globalLayout = null;
    return r;
  }

  /** `ids` as new entity ids: a non-empty array of distinct non-empty strings the server does not hold. */
  private checkNewIds(where: string, ids: readonly string[]): readonly string[] {
    const given: unknown = ids;
    if (!Array.isArray(given) || given.length === 0) throw invalidArgument(where, 'ids', ids, 'a non-empty array');
    const seen = new Set<string>();
    ids.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || id === '') throw invalidArgument(where, `ids[${i}]`, id, 'a non-empty string');
      if (seen.has(id) || this.entityIndex(id) >= 0)
        throw invalidArgument(where, `ids[${i}]`, id, 'an entity id the server does not hold yet');
      seen.add(id);
    });
    return ids;
  }

  /**
   * Replace the rows of chunk `chunk` (all its rows: `chunkOf` names an
   * entity's chunk) with `values`, while workers run, in one visibility
   * cycle; pushes made meanwhile carry over (src/ps/mover.ts
   * `correctChunk`). The audit record is kept in `corrections`.
   */
  async correct(chunk: number, values: Float32Array, options: LiveReshardOptions = {}): Promise<CorrectionRecord> {
    const r = await correctChunk(this.tables, chunk, values, options);
    this.corrections.push(r);
    this.globalLayout = null;
    return r;
  }

  // ---------------------------------------------------------- step-wise placement

  /**
   * Step-wise control of the placement, for a caller that drives the
   * scheduler itself (a simulation, a control loop): set the target
   * shards, register entities, then call `placementStep` until it reports
   * `atIdeal`. `reshard` and `addEntities` do exactly this in a loop. One
   * coordinating caller at a time (E_INVALID_ARGUMENT when another runs).
   */
  setTargetShards(shards: number): number {
    const where = 'ParameterServer.setTargetShards';
    if (!Number.isInteger(shards) || shards < 1 || shards > this.numShards)
      throw invalidArgument(where, 'shards', shards, `an integer in [1, ${this.numShards}] (the shard regions)`);
    const p = this.tables.placement;
    if (!p.tryCoordinate()) throw invalidArgument(where, 'coordinator', 'busy', 'one placement change at a time');
    try {
      return p.publish([], shards);
    } finally {
      p.endCoordinate();
    }
  }

  /** Register new entities (rows from `initRow` of each id) without placing them: see `setTargetShards`. */
  registerEntities(ids: readonly string[]): { firstEntity: number; chunks: number[] } {
    const names = this.checkNewIds('ParameterServer.registerEntities', ids);
    const dim = this.dim;
    const r = registerEntities(this.tables, names.length, (i, out, off) => initRow(names[i]!, dim, out, off));
    names.forEach((id, i) => {
      this.grown.push(id);
      this.grownIndex.set(id, r.firstEntity + i);
    });
    return r;
  }

  /**
   * Register a correction of chunk `chunk` (`values`: its rows x dim
   * floats) without waiting for it: later `placementStep`s place the
   * replacement (one of their moves), then swap it in once the workers'
   * watermark covers the version that placed it, in one visibility cycle.
   * Pushes made after this call carry over; earlier ones are replaced.
   * Refuses, in this order: E_RESHARD_UNKNOWN_CHUNK, E_RESHARD_CHUNK_BUSY
   * (a chunk not placed yet, or one with a correction pending),
   * E_RESHARD_SHAPE, E_INVALID_ARGUMENT (a value that is not finite). The
   * swap's audit record is kept in `corrections`. One coordinating caller
   * at a time (see `setTargetShards`).
   */
  async registerCorrection(chunk: number, values: Float32Array): Promise<PendingCorrectionInfo> {
    const where = 'ParameterServer.registerCorrection';
    const p = this.tables.placement;
    if (!p.tryCoordinate()) throw invalidArgument(where, 'coordinator', 'busy', 'one placement change at a time');
    try {
      return await registerCorrection(this.tables, chunk, values, where);
    } finally {
      p.endCoordinate();
    }
  }

  /** Corrections registered through this object and not swapped in yet, in chunk order. */
  pendingCorrections(): PendingCorrectionInfo[] {
    return pendingCorrections(this.tables);
  }

  /**
   * The rows chunk `chunk` would hold if its pending correction were
   * swapped in now (the replacement's rows plus the pushes made since it
   * was registered), into `out` (rows x dim floats). False when no
   * correction of it is pending. Racy under Hogwild writers.
   */
  previewCorrection(chunk: number, out: Float32Array): boolean {
    return previewCorrection(this.tables, chunk, out);
  }

  /**
   * Change how many live workers must confirm a placement before the
   * copies it dropped may go: -1 every live worker, 0 none, or a count (as
   * `confirmQuorum`). A coordinator that wants a share of the live workers
   * sets the count as they come and go.
   */
  setConfirmQuorum(quorum: number): void {
    if (!Number.isInteger(quorum) || quorum < -1 || quorum > this.tables.placement.shape.workers)
      throw invalidArgument(
        'ParameterServer.setConfirmQuorum',
        'quorum',
        quorum,
        `-1 (every live worker), 0 (none) or a count up to ${this.tables.placement.shape.workers}`,
      );
    this.tables.placement.setQuorum(quorum);
  }

  /**
   * One scheduler step (at most `maxMoves` chunks moved or placed,
   * replacements of pending corrections included; corrections the
   * watermark has confirmed are swapped in), then the entities whose
   * chunks are all placed are published.
   */
  async placementStep(maxMoves = 4, options: { readonly quiescent?: boolean } = {}): Promise<PlacementStepResult> {
    const where = 'ParameterServer.placementStep';
    if (!Number.isInteger(maxMoves) || maxMoves < 1)
      throw invalidArgument(where, 'maxMoves', maxMoves, 'a positive integer');
    checkSyncQuiescent(this.tables, where, options);
    const p = this.tables.placement;
    if (!p.tryCoordinate()) throw invalidArgument(where, 'coordinator', 'busy', 'one placement change at a time');
    try {
      const r = await placementStep(this.tables, maxMoves, pendingChunks(this.tables));
      publishPlacedEntities(this.tables);
      this.corrections.push(...r.swapped);
      this.globalLayout = null;
      return r;
    } finally {
      p.endCoordinate();
    }
  }

  /** Worker `worker` (0 .. 63) has applied placement `version` (at most the latest); for callers without a client. */
  confirmPlacement(worker: number, version: number): void {
    const p = this.tables.placement;
    if (!Number.isInteger(worker) || worker < 0 || worker >= p.shape.workers)
      throw invalidArgument(
        'ParameterServer.confirmPlacement',
        'worker',
        worker,
        `an integer in [0, ${p.shape.workers})`,
      );
    if (!Number.isInteger(version) || version < 1 || version > p.version())
      throw invalidArgument('ParameterServer.confirmPlacement', 'version', version, `in [1, ${p.version()}]`);
    p.confirm(worker, version, this.tables.clock.now());
  }

  /** Copies that stopped being current and still hold their slot. */
  drainingCopies(): number {
    return this.tables.placement.draining();
  }

  /** Shards the latest placement targets. */
  activeShards(): number {
    return this.tables.placement.activeShards();
  }

  /** The latest placement version (1 at creation; one more per published change). */
  placementVersion(): number {
    return this.tables.placement.version();
  }

  /**
   * Pin the latest placement for reading. Until `unpin` (or the grace
   * window after the copies it names stop being current), every entity
   * stays readable where that version placed it (`locate`), even while
   * chunks move. Throws E_INVALID_ARGUMENT when every reader slot is taken.
   */
  pinPlacement(): PlacementPin {
    const p = this.tables.placement;
    // Chunks registered after the pinned version keep -1: that version does not place them.
    const shard = new Int32Array(p.shape.maxChunks).fill(-1);
    const base = new Int32Array(p.shape.maxChunks).fill(-1);
    const reader = p.pin(this.tables.clock.now(), shard, base);
    if (reader < 0)
      throw invalidArgument('ParameterServer.pinPlacement', 'readers', p.shape.readers, 'a free reader slot');
    const version = p.pinned(reader);
    return {
      reader,
      version,
      locate: (e: number) => {
        const c = p.chunkOf[e]!;
        return shard[c]! < 0 ? { shard: -1, row: -1 } : { shard: shard[c]!, row: base[c]! + p.offsetOf[e]! };
      },
      unpin: () => p.unpin(reader),
    };
  }

  /** Free the slots of old copies that may be dropped now; returns how many. */
  reclaim(): number {
    return this.tables.placement.reclaim(this.tables.clock.now());
  }

  /** Chunk moves and the longest writer pause of one (µs) since creation. */
  moveStats(): { moves: number; maxPauseUs: number } {
    return this.tables.placement.moveStats();
  }

  /** Floats of optimizer state in a snapshot (every entity's and relation's accumulators; 0 under SGD). */
  optimizerStateFloats(): number {
    return optimizerFloats(this.tables, this.layout());
  }

  /** Where each shard's rows sit in `entityIds` order, by the latest placement. */
  private layout(): GlobalLayout {
    return this.layoutAt(this.tables.placement.version());
  }

  private layoutAt(version: number): GlobalLayout {
    const g = this.globalLayout;
    if (g !== null && g.version === version) return g;
    return (this.globalLayout = globalLayout(this.tables, version));
  }

  // ------------------------------------------------------------ statistics

  stats(): PsStats {
    const c = this.tables.ctl;
    const s = this.tables.stat;
    const normShard = Atomics.load(c, s.lastNormShard) - 1;
    return {
      pulls: Atomics.load(c, s.pulls),
      pushes: Atomics.load(c, s.pushes),
      barriersCompleted: Atomics.load(c, s.barriers),
      maxStalenessObserved: Atomics.load(c, s.maxStaleness),
      lastGradNorm: normShard >= 0 ? this.tables.ctlF64[this.tables.fields[normShard]!.lastNorm]! : 0,
      relationPushes: Atomics.load(c, s.relationPushes),
      warnings: Atomics.load(c, s.warnings),
    };
  }

  /** Every shard's step (completed sync steps, or applied async pushes). */
  shardSteps(): number[] {
    const steps: number[] = [];
    for (let t = 0; t < this.numShards; t++) steps.push(this.tables.step(t));
    return steps;
  }

  /** The relation table's step (completed sync steps, or applied async relation pushes). */
  relationStep(): number {
    return this.tables.step(this.tables.rel);
  }

  /** Current staleness of every shard (async mode: pushes since its last pull). */
  staleness(): number[] {
    return this.tables.fields.slice(0, this.numShards).map((f) => Atomics.load(this.tables.ctl, f.staleness));
  }

  /**
   * Take over the writer locks held by a thread that is known to have exited
   * (call from a worker's `exit` handler). Returns how many were recovered.
   */
  recoverDeadThread(threadId: number): number {
    let n = 0;
    for (const lock of this.tables.locks) if (lock.recoverDeadOwner(threadId)) n++;
    return n;
  }
}
