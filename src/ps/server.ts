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
 * - Sync mode: `push` buffers the gradient in the shard's pending sums and,
 *   unless it completes the step, sleeps (`Atomics.wait`, worker threads
 *   only) until the step advances or the barrier timeout passes, in which
 *   case it applies what arrived and raises a warning. The main thread uses
 *   `pushAsync`, which awaits instead of sleeping. The barrier is per shard,
 *   and the relation table has one of its own (`pushRelation`): internally
 *   it is table `numShards`, updated exactly like a shard.
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
 *   hook repairs what the dead push left half-done (`repairShard`); a step
 *   short of the dead worker's push completes by the barrier timeout. An
 *   async (Hogwild) push holds no lock, so its death blocks nobody.
 * - The main thread never waits for a lock: `pushAsync` and
 *   `pushRelationAsync` park with `Atomics.waitAsync`.
 * - Leases and the sync barrier timeout run on the server's clock (`clock`
 *   option of `create`: the real clock by default, a `ManualClock` in tests).
 */
import { isMainThread } from 'node:worker_threads';
import {
  badHandle,
  dimMismatch,
  doublePush,
  invalidArgument,
  lockBusy,
  lockTimeout,
  nonFinite,
  outOfRange,
  unknownId,
  duplicateId,
} from '../errors.js';
import {
  allocate,
  checkHeader,
  indexOf,
  psControlLayout,
  psPendingLayout,
  type RegionLayout,
} from '../../native-layout/index.js';
import { Seqlock, SEQ_BUSY, SEQ_OK, SEQ_RECOVERED, type SeqlockHandle } from '../shm/seqlock.js';
import { waitAsync } from '../shm/wait.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from '../shm/clock.js';
import { validatePsConfig, type PsConfig, type PsOptimizer } from './config.js';
import { initRow } from './init.js';
import { adagradStep, projectRow, rowAdagradStep } from './update-rules.js';
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
   * Optimizer state (Adagrad accumulators) in shared memory, float32: each
   * shard's rows in shard order, then the relation rows; one float per value
   * (`adagrad`) or per row (`adagrad-row`). null under SGD.
   */
  readonly optimizerState: SharedArrayBuffer | null;
}

export interface PsOptions {
  /** Clock for lock leases and the sync barrier timeout (default `realClock`). Shared with every thread that attaches. */
  readonly clock?: Clock;
  /**
   * Use this buffer as the optimizer state instead of allocating one (it must
   * be exactly `psOptimizerStateFloats(...)` floats long): a trainer that keeps
   * the state in its own checkpoints hands it over.
   */
  readonly optimizerState?: SharedArrayBuffer;
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

export type PushResult =
  | { readonly state: 'applied'; readonly step: number; readonly staleness: number }
  | { readonly state: 'step-complete'; readonly step: number; readonly last: boolean }
  | { readonly state: 'timed-out'; readonly step: number; readonly arrived: number };

/** Called for warnings (barrier timeouts, staleness); defaults to `process.emitWarning`. */
export type PsWarningCode = 'KGSHARD_BARRIER_TIMEOUT' | 'KGSHARD_STALENESS' | 'KGSHARD_PUSH_INTERRUPTED';
export type PsWarningHandler = (code: PsWarningCode, message: string) => void;

const defaultWarn: PsWarningHandler = (code, message) => process.emitWarning(message, { code });

interface ShardFields {
  step: number;
  staleness: number;
  pushedCount: number;
  touchedCount: number;
  waiters: number;
  /** worker + 1 while a push is being applied under the lock, 0 otherwise. */
  pushing: number;
  lastNorm: number; // index in a Float64Array view
  pushedWorkers: number;
}

interface Pending {
  sums: Float64Array;
  touched: Int32Array;
  flags: Uint8Array;
}

/** Pull attempts that spin before the pull starts napping (workers) and checking for a dead pusher. */
const PULL_SPINS = 1024;
/** A worker-thread pull naps this long between attempts once a push has held the shard for a while. */
const PULL_NAP_MS = 0.05;
const napCell = new Int32Array(new SharedArrayBuffer(4));

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

  private readonly ctl: Int32Array;
  private readonly ctlF64: Float64Array;
  private readonly shardLocks: Seqlock[];
  private readonly relationLock: Seqlock;
  /**
   * Every table the server updates, by table index: shards 0..numShards-1,
   * then the relation table at index `numShards` (`REL`). The sync barrier,
   * the update rule and the interrupted-push repair work per table.
   */
  private readonly locks: Seqlock[];
  private readonly fields: ShardFields[];
  private readonly pendings: Pending[];
  /** Each table's optimizer accumulators (empty under SGD). */
  private readonly accs: Float32Array[];
  /** One averaged row, reused by every sync step. */
  private readonly avgRow: Float32Array;
  /** Table index of the relation table. */
  private readonly REL: number;
  private readonly statIdx: { pulls: number; pushes: number; barriers: number; maxStaleness: number; warnings: number; lastNormShard: number; relationPushes: number };
  private readonly relationIndex: Map<string, number>;
  private readonly clock: Clock;

  private constructor(handle: PsHandle, layout: RegionLayout) {
    this.handle = handle;
    this.config = handle.config;
    this.numShards = handle.config.numShards;
    this.dim = handle.config.dim;
    this.relationDim = handle.config.relationDim || handle.config.dim;
    this.ctl = new Int32Array(handle.control);
    this.ctlF64 = new Float64Array(handle.control);
    this.clock = attachClock(handle.clock, 'ParameterServer.attach');
    this.shardLocks = handle.shards.map((h) => Seqlock.attach(h));
    this.relationLock = Seqlock.attach(handle.relations);
    this.locks = [...this.shardLocks, this.relationLock];
    this.REL = this.numShards;
    // A table's recovery hook: after the seqlock's own repair, finish what a
    // dead sync push left half-done (see `repairTable`).
    this.locks.forEach((lock, t) => (lock.onRecover = () => this.repairTable(t)));
    this.shardManager = new ShardManager(handle.entityIds, this.numShards, this.config.strategy);
    this.relationIndex = new Map(handle.relationIds.map((id, i) => [id, i]));
    this.statIdx = {
      pulls: indexOf(layout, 'pulls'),
      pushes: indexOf(layout, 'pushes'),
      barriers: indexOf(layout, 'barriers'),
      maxStaleness: indexOf(layout, 'maxStaleness'),
      warnings: indexOf(layout, 'warnings'),
      lastNormShard: indexOf(layout, 'lastNormShard'),
      relationPushes: indexOf(layout, 'relationPushes'),
    };
    this.fields = [];
    for (let s = 0; s <= this.numShards; s++) {
      const sfx = s === 0 ? '' : `#${s}`;
      this.fields.push({
        step: indexOf(layout, `step${sfx}`),
        staleness: indexOf(layout, `staleness${sfx}`),
        pushedCount: indexOf(layout, `pushedCount${sfx}`),
        touchedCount: indexOf(layout, `touchedCount${sfx}`),
        waiters: indexOf(layout, `waiters${sfx}`),
        pushing: indexOf(layout, `pushing${sfx}`),
        lastNorm: indexOf(layout, `lastNorm${sfx}`),
        pushedWorkers: indexOf(layout, `pushedWorkers${sfx}`),
      });
    }
    this.pendings = [...handle.pending, handle.relationPending].map((sab, t) => {
      const rows = this.locks[t]!.rows;
      const width = this.widthOf(t);
      const l = psPendingLayout(rows, width);
      checkHeader(sab, l);
      return {
        sums: new Float64Array(sab, indexOf(l, 'sums') * 8, rows * width),
        touched: new Int32Array(sab, indexOf(l, 'touched') * 4, rows),
        flags: new Uint8Array(sab, indexOf(l, 'flags'), rows),
      };
    });
    this.accs = [];
    const perValue = this.config.optimizer === 'adagrad';
    let off = 0;
    for (let t = 0; t <= this.numShards; t++) {
      const n = this.config.optimizer === 'sgd' ? 0 : this.locks[t]!.rows * (perValue ? this.widthOf(t) : 1);
      this.accs.push(handle.optimizerState === null ? new Float32Array(0) : new Float32Array(handle.optimizerState, off * 4, n));
      off += n;
    }
    this.avgRow = new Float32Array(Math.max(this.dim, this.relationDim));
  }

  /** Row length of table `t` (a shard's entity rows, or the relation rows). */
  private widthOf(t: number): number {
    return t === this.numShards ? this.relationDim : this.dim;
  }

  /** Table `t`'s name in messages. */
  private tableName(t: number): string {
    return t === this.REL ? 'the relation table' : `shard ${t}`;
  }

  /**
   * Build a server on the allocating thread: assign `entityIds` to shards,
   * initialise every row from its id (deterministic, see `initRow`), and
   * allocate the shared regions. Send `handle` to other threads.
   */
  static create(config: Partial<PsConfig>, entityIds: readonly string[], relationIds: readonly string[], options: PsOptions = {}): ParameterServer {
    const c = validatePsConfig(config);
    const clock = clockOption('ParameterServer.create', options?.clock);
    checkIds('ParameterServer.create', 'entityIds', entityIds);
    checkIds('ParameterServer.create', 'relationIds', relationIds);
    const manager = new ShardManager(entityIds, c.numShards, c.strategy);
    const shards: SeqlockHandle[] = [];
    const pending: SharedArrayBuffer[] = [];
    for (let s = 0; s < c.numShards; s++) {
      const ids = manager.assignment.ids[s]!;
      // A shard that received no entity still gets one (unused) row, so its
      // regions exist and every shard id is valid; `entityIds` says it is empty.
      const rows = Math.max(1, ids.length);
      const lock = Seqlock.create({ rows, cols: c.dim, leaseMs: c.lockLeaseMs, clock });
      for (let r = 0; r < ids.length; r++) initRow(ids[r]!, c.dim, lock.data, r * c.dim);
      shards.push(lock.handle);
      const pl = psPendingLayout(rows, c.dim);
      const psab = allocate(pl);
      const u32 = new Uint32Array(psab, 0, 16);
      u32[indexOf(pl, 'rows')] = rows;
      u32[indexOf(pl, 'dim')] = c.dim;
      pending.push(psab);
    }
    const rdim = c.relationDim || c.dim;
    const relRows = Math.max(1, relationIds.length);
    const stateFloats = psOptimizerStateFloats(c, shards.map((h) => h.rows), relRows);
    const given = options.optimizerState;
    if (given !== undefined) {
      if (!(given instanceof SharedArrayBuffer)) throw invalidArgument('ParameterServer.create', 'optimizerState', given, 'a SharedArrayBuffer');
      if (given.byteLength !== stateFloats * 4) {
        throw dimMismatch('ParameterServer.create', 'optimizerState floats', stateFloats, given.byteLength / 4);
      }
    }
    const relations = Seqlock.create({ rows: relRows, cols: rdim, leaseMs: c.lockLeaseMs, clock });
    for (let r = 0; r < relationIds.length; r++) initRow(relationIds[r]!, rdim, relations.data, r * rdim);
    const rpl = psPendingLayout(relRows, rdim);
    const relationPending = allocate(rpl);
    const ru32 = new Uint32Array(relationPending, 0, 16);
    ru32[indexOf(rpl, 'rows')] = relRows;
    ru32[indexOf(rpl, 'dim')] = rdim;
    const optimizerState = c.optimizer === 'sgd' ? null : (given ?? new SharedArrayBuffer(Math.max(4, stateFloats * 4)));
    // One control block per shard, and one more for the relation table's barrier.
    const layout = psControlLayout(c.numShards + 1, c.expectedWorkers);
    const control = allocate(layout);
    const u32 = new Uint32Array(control);
    u32[indexOf(layout, 'shards')] = c.numShards;
    u32[indexOf(layout, 'expectedWorkers')] = c.expectedWorkers;
    u32[indexOf(layout, 'dim')] = c.dim;
    const handle: PsHandle = {
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
      optimizerState,
    };
    return new ParameterServer(handle, layout);
  }

  /** Wrap an existing server from its handle, on any thread. */
  static attach(handle: PsHandle): ParameterServer {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ps') {
      throw badHandle('ParameterServer.attach', "handle.kind must be 'ps'", (handle as { kind?: unknown } | null)?.kind);
    }
    const c = validatePsConfig(handle.config, 'ParameterServer.attach');
    const layout = psControlLayout(c.numShards + 1, c.expectedWorkers);
    checkHeader(handle.control, layout);
    if (!(handle.relationPending instanceof SharedArrayBuffer)) {
      throw badHandle('ParameterServer.attach', 'handle.relationPending must be a SharedArrayBuffer', handle.relationPending);
    }
    if (c.optimizer !== 'sgd' && !(handle.optimizerState instanceof SharedArrayBuffer)) {
      throw badHandle('ParameterServer.attach', `handle.optimizerState must be a SharedArrayBuffer under ${c.optimizer}`, handle.optimizerState);
    }
    if (!Array.isArray(handle.shards) || handle.shards.length !== c.numShards) {
      throw badHandle('ParameterServer.attach', `handle.shards must list ${c.numShards} shard regions`, handle.shards?.length);
    }
    if (!Array.isArray(handle.pending) || handle.pending.length !== c.numShards) {
      throw badHandle('ParameterServer.attach', `handle.pending must list ${c.numShards} regions`, handle.pending?.length);
    }
    return new ParameterServer({ ...handle, config: c }, layout);
  }

  // ------------------------------------------------------------ lookups

  /** Entity ids of `shard`, in row order. */
  entityIds(shard: number): readonly string[] {
    this.checkShard('ParameterServer.entityIds', shard);
    return this.shardManager.assignment.ids[shard]!;
  }

  /** Shard and row of an entity id (E_UNKNOWN_ID when it is not served). */
  locate(entityId: string): { shard: number; row: number } {
    return this.shardManager.locate(entityId);
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
    this.checkShard('ParameterServer.view', shard);
    return this.shardLocks[shard]!.data;
  }

  /** Zero-copy view of the relation table; racy by design, like `view`. */
  relationView(): Float32Array {
    return this.relationLock.data;
  }

  // ------------------------------------------------------------ pull

  /**
   * Consistent snapshot of `shard` (its rows and its step, copied inside one
   * seqlock read window) and of the relation table. Resets the shard's
   * staleness in async mode. Any thread.
   */
  pull(shard: number): ShardSnapshot {
    this.checkShard('ParameterServer.pull', shard);
    const ids = this.shardManager.assignment.ids[shard]!;
    const entities = new Float32Array(ids.length * this.dim);
    const step = this.pullInto(shard, entities);
    const relations = new Float32Array(this.handle.relationIds.length * this.relationDim);
    this.readRelations(relations);
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
    this.checkShard('ParameterServer.pullInto', shard);
    const n = this.shardManager.assignment.ids[shard]!.length * this.dim;
    if (dst.length < n) throw dimMismatch('ParameterServer.pullInto', 'dst', n, dst.length);
    const lock = this.shardLocks[shard]!;
    const src = n === lock.data.length ? lock.data : lock.data.subarray(0, n);
    const stepIdx = this.fields[shard]!.step;
    let step = 0;
    let deadline = 0;
    for (let attempt = 0; ; attempt++) {
      const seq = lock.readBegin();
      if (seq >= 0) {
        dst.set(src);
        step = Atomics.load(this.ctl, stepIdx);
        if (lock.readValidate(seq)) break;
      }
      if (attempt < PULL_SPINS) continue;
      // A push has held the shard through many attempts: its thread may be
      // descheduled (nap, on workers, to give it the core) or dead (take the
      // lock over once its lease has passed). Give up only after twice the
      // lease, when a live pusher would have lost the lock anyway.
      if (deadline === 0) deadline = performance.now() + 2 * lock.leaseMs;
      if (!isMainThread) Atomics.wait(napCell, 0, 0, PULL_NAP_MS);
      if ((attempt & 255) === 0) {
        lock.recoverIfStale();
        if (performance.now() > deadline) throw lockTimeout('ParameterServer.pullInto', `shard ${shard}`, 2 * lock.leaseMs);
      }
    }
    // Reset the staleness only when it is not already 0: a store would take
    // the shard's control line from the pushers for nothing.
    const stale = this.fields[shard]!.staleness;
    if (this.config.mode === 'async' && Atomics.load(this.ctl, stale) !== 0) Atomics.store(this.ctl, stale, 0);
    Atomics.add(this.ctl, this.statIdx.pulls, 1);
    return step;
  }

  private readRelations(dst: Float32Array): void {
    const n = this.handle.relationIds.length * this.relationDim;
    if (n === 0) return;
    const status = this.relationLock.read(dst, 0, this.handle.relationIds.length);
    if (status !== SEQ_OK && status !== SEQ_RECOVERED) {
      throw lockTimeout('ParameterServer.pull', 'the relation table', this.relationLock.leaseMs);
    }
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
  push(shard: number, worker: number, rows: ReadonlyArray<readonly [number, ArrayLike<number>]>): PushResult {
    const { rowIdx, grads } = this.packRows('ParameterServer.push', shard, worker, rows);
    return this.pushFlat(shard, worker, rowIdx, grads, rowIdx.length);
  }

  /** `push` that awaits instead of sleeping; any thread, including the main thread. */
  async pushAsync(shard: number, worker: number, rows: ReadonlyArray<readonly [number, ArrayLike<number>]>): Promise<PushResult> {
    const { rowIdx, grads } = this.packRows('ParameterServer.pushAsync', shard, worker, rows);
    return this.pushFlatAsync(shard, worker, rowIdx, grads, rowIdx.length);
  }

  /**
   * Allocation-free form of `push`: `count` rows, row indices in `rowIdx`,
   * gradients concatenated in `grads` (count * dim values).
   */
  pushFlat(shard: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    this.checkFlat('ParameterServer.pushFlat', shard, worker, rowIdx, grads, count);
    return this.pushTable('ParameterServer.push', shard, worker, rowIdx, grads, count);
  }

  /** `pushFlat` that awaits instead of sleeping (for the barrier and for the shard lock); any thread. */
  async pushFlatAsync(shard: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): Promise<PushResult> {
    this.checkFlat('ParameterServer.pushFlatAsync', shard, worker, rowIdx, grads, count);
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
  pushRelation(worker: number, rows: ReadonlyArray<readonly [number, ArrayLike<number>]>): PushResult {
    const { rowIdx, grads } = this.packRelationRows('ParameterServer.pushRelation', worker, rows);
    return this.pushTable('ParameterServer.pushRelation', this.REL, worker, rowIdx, grads, rowIdx.length);
  }

  /** `pushRelation` that awaits instead of sleeping; any thread, including the main thread. */
  async pushRelationAsync(worker: number, rows: ReadonlyArray<readonly [number, ArrayLike<number>]>): Promise<PushResult> {
    const { rowIdx, grads } = this.packRelationRows('ParameterServer.pushRelationAsync', worker, rows);
    return this.pushTableAsync('ParameterServer.pushRelationAsync', this.REL, worker, rowIdx, grads, rowIdx.length);
  }

  /** Allocation-free form of `pushRelation` (`count` rows; gradients `relationDim` long each). */
  pushRelationFlat(worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    this.checkFlatTable('ParameterServer.pushRelationFlat', this.REL, worker, rowIdx, grads, count);
    return this.pushTable('ParameterServer.pushRelation', this.REL, worker, rowIdx, grads, count);
  }

  /**
   * Table `t`, checked arguments: apply at once (async), or take the table's
   * lock, enter the step's barrier and sleep until it completes or times out
   * (sync, worker threads only).
   */
  private pushTable(where: string, t: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    if (this.config.mode === 'async') return this.applyAsync(t, worker, rowIdx, grads, count);
    if (isMainThread) {
      throw invalidArgument(where, 'thread', 'main', 'a worker thread in sync mode (use the Async form on the main thread)');
    }
    this.takeTableLock(t, where);
    const entered = this.enterSync(t, worker, rowIdx, grads, count);
    if (entered.done) return entered.result;
    const f = this.fields[t]!;
    const clock = this.clock;
    const deadline = clock.now() + this.config.barrierTimeoutMs;
    for (;;) {
      const now = Atomics.load(this.ctl, f.step);
      if (now !== entered.step) return { state: 'step-complete', step: now, last: false };
      const remaining = deadline - clock.now();
      if (remaining <= 0) {
        this.takeTableLock(t, where);
        return this.timeoutSync(t, entered.step);
      }
      // Announce, then sleep on the step word with the value we saw: an
      // applier bumps the step before it reads `waiters`, and Atomics.wait
      // re-checks the word, so a step completed in between is never missed.
      Atomics.add(this.ctl, f.waiters, 1);
      Atomics.wait(this.ctl, f.step, entered.step, clock.sliceMs(remaining));
      Atomics.sub(this.ctl, f.waiters, 1);
    }
  }

  /** `pushTable` that awaits instead of sleeping, for the barrier and for the lock; any thread. */
  private async pushTableAsync(where: string, t: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): Promise<PushResult> {
    if (this.config.mode === 'async') return this.applyAsync(t, worker, rowIdx, grads, count);
    // Enter at once when the lock is free, so the push joins the step before
    // this call returns; otherwise park until it is released.
    if (!this.tryTableLock(t)) await this.takeTableLockAsync(t, where);
    const entered = this.enterSync(t, worker, rowIdx, grads, count);
    if (entered.done) return entered.result;
    const f = this.fields[t]!;
    const clock = this.clock;
    const deadline = clock.now() + this.config.barrierTimeoutMs;
    for (;;) {
      const now = Atomics.load(this.ctl, f.step);
      if (now !== entered.step) return { state: 'step-complete', step: now, last: false };
      const remaining = deadline - clock.now();
      if (remaining <= 0) {
        await this.takeTableLockAsync(t, where);
        return this.timeoutSync(t, entered.step);
      }
      Atomics.add(this.ctl, f.waiters, 1);
      await waitAsync(this.ctl, f.step, entered.step, clock.sliceMs(remaining));
      Atomics.sub(this.ctl, f.waiters, 1);
    }
  }

  // ------------------------------------------------------------ statistics

  stats(): PsStats {
    const c = this.ctl;
    const s = this.statIdx;
    const normShard = Atomics.load(c, s.lastNormShard) - 1;
    return {
      pulls: Atomics.load(c, s.pulls),
      pushes: Atomics.load(c, s.pushes),
      barriersCompleted: Atomics.load(c, s.barriers),
      maxStalenessObserved: Atomics.load(c, s.maxStaleness),
      lastGradNorm: normShard >= 0 ? this.ctlF64[this.fields[normShard]!.lastNorm]! : 0,
      relationPushes: Atomics.load(c, s.relationPushes),
      warnings: Atomics.load(c, s.warnings),
    };
  }

  /** Every shard's step (completed sync steps, or applied async pushes). */
  shardSteps(): number[] {
    return this.fields.slice(0, this.numShards).map((f) => Atomics.load(this.ctl, f.step));
  }

  /** The relation table's step (completed sync steps, or applied async relation pushes). */
  relationStep(): number {
    return Atomics.load(this.ctl, this.fields[this.REL]!.step);
  }

  /** Current staleness of every shard (async mode: pushes since its last pull). */
  staleness(): number[] {
    return this.fields.slice(0, this.numShards).map((f) => Atomics.load(this.ctl, f.staleness));
  }

  /**
   * Take over the writer locks held by a thread that is known to have exited
   * (call from a worker's `exit` handler). Returns how many were recovered.
   */
  recoverDeadThread(threadId: number): number {
    let n = 0;
    for (const lock of [...this.shardLocks, this.relationLock]) if (lock.recoverDeadOwner(threadId)) n++;
    return n;
  }

  // ------------------------------------------------------------ internals

  /**
   * Apply one gradient row to row `r` of table `t` with the configured rule,
   * then project an entity row back to `maxNorm`. Returns the gradient's
   * squared norm. Under `t`'s lock (sync) or racing by design (Hogwild).
   */
  private applyRow(t: number, r: number, g: Float32Array, go: number): number {
    const width = this.widthOf(t);
    const data = this.locks[t]!.data;
    const base = r * width;
    const lr = this.config.learningRate;
    const opt = this.config.optimizer;
    let sq = 0;
    for (let k = 0; k < width; k++) sq += g[go + k]! * g[go + k]!;
    if (opt === 'sgd') {
      const flr = Math.fround(lr);
      for (let k = 0; k < width; k++) data[base + k] = data[base + k]! - Math.fround(flr * g[go + k]!);
    } else if (opt === 'adagrad') {
      adagradStep(data, base, this.accs[t]!, base, g, go, width, lr);
    } else {
      rowAdagradStep(data, base, this.accs[t]!, r, g, go, width, lr);
    }
    if (t !== this.REL && this.config.maxNorm > 0) projectRow(data, base, width, this.config.maxNorm);
    return sq;
  }

  /*
   * Hogwild: apply in place with no lock and no seqlock write window. Each
   * element update is a plain float32 read-modify-write; a racing pusher
   * may interleave with it (and one of two racing updates of one element
   * may be lost), and a racing pull may copy part of it. The counters are
   * atomic adds, so every completed push is counted exactly once in the
   * step, the staleness and the stats. The step is counted after the rows
   * are written, so a reader that sees step n sees every element of the
   * first n pushes (unless a racing update overwrote it). The relation
   * table (t = REL) counts its step and `relationPushes`, no staleness (it
   * is never pulled on its own).
   */
  private applyAsync(t: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): PushResult {
    const f = this.fields[t]!;
    const width = this.widthOf(t);
    let sq = 0;
    for (let i = 0; i < count; i++) sq += this.applyRow(t, rowIdx[i]!, grads, i * width);
    if (t === this.REL) {
      const step = Atomics.add(this.ctl, f.step, 1) + 1;
      Atomics.add(this.ctl, this.statIdx.relationPushes, 1);
      return { state: 'applied', step, staleness: 0 };
    }
    const staleness = Atomics.add(this.ctl, f.staleness, 1) + 1;
    const step = Atomics.add(this.ctl, f.step, 1) + 1;
    // A statistic, racy by design: two pushes finishing together each store
    // their own norm and one of them is reported.
    if (count > 0) {
      this.ctlF64[f.lastNorm] = sq / count;
      Atomics.store(this.ctl, this.statIdx.lastNormShard, t + 1);
    }
    Atomics.add(this.ctl, this.statIdx.pushes, 1);
    atomicMax(this.ctl, this.statIdx.maxStaleness, staleness);
    if (staleness > this.config.maxStaleness) {
      Atomics.add(this.ctl, this.statIdx.warnings, 1);
      this.onWarning(
        'KGSHARD_STALENESS',
        `worker ${worker} pushed to shard ${t} with staleness ${staleness}, above the maximum ${this.config.maxStaleness}`,
      );
    }
    return { state: 'applied', step, staleness };
  }

  /**
   * Sync mode, with table `t`'s lock held (the caller took it): refuse a
   * second push by the same worker in this step, add the gradients to the
   * pending float64 sums, and apply the step if this push completes it.
   * Releases the lock.
   */
  private enterSync(
    t: number,
    worker: number,
    rowIdx: Int32Array,
    grads: Float32Array,
    count: number,
  ): { done: true; result: PushResult } | { done: false; step: number } {
    const lock = this.locks[t]!;
    const f = this.fields[t]!;
    const p = this.pendings[t]!;
    const c = this.ctl;
    const step = Atomics.load(c, f.step);
    const pushed = Atomics.load(c, f.pushedCount);
    for (let i = 0; i < pushed; i++) {
      if (Atomics.load(c, f.pushedWorkers + i) === worker) {
        lock.unlock();
        const rel = t === this.REL;
        throw doublePush(rel ? 'ParameterServer.pushRelation' : 'ParameterServer.push', worker, rel ? this.tableName(t) : t, step);
      }
    }
    const width = this.widthOf(t);
    // Mark the push in progress: if this thread dies before the mark is
    // cleared, the next lock holder knows the pending sums hold part of it.
    Atomics.store(c, f.pushing, worker + 1);
    let touched = Atomics.load(c, f.touchedCount);
    for (let i = 0; i < count; i++) {
      const r = rowIdx[i]!;
      if (p.flags[r] === 0) {
        p.flags[r] = 1;
        p.touched[touched++] = r;
      }
      const base = r * width;
      const g = i * width;
      // Each float32 gradient is exact in float64, and float64 addition is
      // commutative: with two workers the sum does not depend on who came first.
      for (let k = 0; k < width; k++) p.sums[base + k] = p.sums[base + k]! + grads[g + k]!;
    }
    Atomics.store(c, f.touchedCount, touched);
    Atomics.store(c, f.pushedWorkers + pushed, worker);
    Atomics.store(c, f.pushedCount, pushed + 1);
    Atomics.store(c, f.pushing, 0);
    if (pushed + 1 >= this.config.expectedWorkers) {
      this.applyPending(t);
      lock.unlock();
      this.wakeWaiters(t);
      return { done: true, result: { state: 'step-complete', step: step + 1, last: true } };
    }
    lock.unlock();
    return { done: false, step };
  }

  /** Barrier timeout, with table `t`'s lock held (released here): apply whatever arrived for `step` (if nobody has), and warn. */
  private timeoutSync(t: number, step: number): PushResult {
    const lock = this.locks[t]!;
    const f = this.fields[t]!;
    const now = Atomics.load(this.ctl, f.step);
    if (now !== step) {
      lock.unlock();
      return { state: 'step-complete', step: now, last: false };
    }
    const arrived = Atomics.load(this.ctl, f.pushedCount);
    this.applyPending(t);
    lock.unlock();
    this.wakeWaiters(t);
    Atomics.add(this.ctl, this.statIdx.warnings, 1);
    this.onWarning(
      'KGSHARD_BARRIER_TIMEOUT',
      `${this.tableName(t)} step ${step}: ${arrived} of ${this.config.expectedWorkers} workers pushed within ${this.config.barrierTimeoutMs} ms; applied what arrived`,
    );
    return { state: 'timed-out', step: step + 1, arrived };
  }

  /**
   * Under table `t`'s lock: apply the average of the pending sums (sum /
   * number of pushes, as the reference averages over pushes) to the touched
   * rows with the configured rule, clear the pending step, advance the step,
   * all inside one seqlock write.
   */
  private applyPending(t: number): void {
    const lock = this.locks[t]!;
    const f = this.fields[t]!;
    const p = this.pendings[t]!;
    const c = this.ctl;
    const rel = t === this.REL;
    const n = Math.max(1, Atomics.load(c, f.pushedCount));
    const touched = Atomics.load(c, f.touchedCount);
    const width = this.widthOf(t);
    const avg = this.avgRow;
    let sq = 0;
    lock.beginWrite(0, lock.rows);
    for (let i = 0; i < touched; i++) {
      const r = p.touched[i]!;
      const base = r * width;
      for (let k = 0; k < width; k++) {
        avg[k] = p.sums[base + k]! / n;
        p.sums[base + k] = 0;
      }
      sq += this.applyRow(t, r, avg, 0);
      p.flags[r] = 0;
    }
    if (touched > 0 && !rel) this.ctlF64[f.lastNorm] = sq / touched;
    Atomics.store(c, f.touchedCount, 0);
    Atomics.store(c, f.pushedCount, 0);
    Atomics.add(c, f.step, 1);
    lock.endWrite();
    if (rel) {
      Atomics.add(c, this.statIdx.relationPushes, 1);
      return;
    }
    if (touched > 0) Atomics.store(c, this.statIdx.lastNormShard, t + 1);
    Atomics.add(c, this.statIdx.pushes, 1);
    Atomics.add(c, this.statIdx.barriers, 1);
  }

  private wakeWaiters(t: number): void {
    const f = this.fields[t]!;
    if (Atomics.load(this.ctl, f.waiters) > 0) Atomics.notify(this.ctl, f.step);
  }

  /**
   * Take `lock` or throw: E_LOCK_TIMEOUT on a worker after twice the lease,
   * E_LOCK_BUSY at once on the main thread (it never waits for a lock).
   */
  private takeLock(lock: Seqlock, where: string, what: string): void {
    const timeout = lock.leaseMs * 2;
    const s = lock.lock(timeout);
    if (s === SEQ_OK || s === SEQ_RECOVERED) return;
    if (s === SEQ_BUSY) throw lockBusy(where, what, lock.owner());
    throw lockTimeout(where, what, timeout);
  }

  /** Take table `t`'s writer lock (see `takeLock`), then finish a dead push's repair if its recoverer could not. */
  private takeTableLock(t: number, where: string): void {
    this.takeLock(this.locks[t]!, where, this.tableName(t));
    this.repairTable(t);
  }

  /** One attempt at table `t`'s writer lock, never waiting; on success, as `takeTableLock`. */
  private tryTableLock(t: number): boolean {
    const s = this.locks[t]!.tryLock();
    if (s !== SEQ_OK && s !== SEQ_RECOVERED) return false;
    this.repairTable(t);
    return true;
  }

  /** `takeTableLock` that parks with `Atomics.waitAsync` instead of sleeping or refusing; any thread. */
  private async takeTableLockAsync(t: number, where: string): Promise<void> {
    const lock = this.locks[t]!;
    const timeout = lock.leaseMs * 2;
    const s = await lock.lockAsync(timeout);
    if (s !== SEQ_OK && s !== SEQ_RECOVERED) throw lockTimeout(where, this.tableName(t), timeout);
    this.repairTable(t);
  }

  /**
   * Table `t`'s recovery hook, under its writer lock. A sync push marks
   * itself in `pushing` (its intent record) before it adds to the pending
   * sums and clears the mark when done, both under the lock; a mark still
   * set means its pusher died half-way. Its gradient is partly added to the
   * pending sums and cannot be separated from the pushes that arrived
   * before it in this step, so the whole pending step is discarded (the
   * workers who pushed it are waiting; their step completes by the barrier
   * timeout with what arrives after the discard) and a
   * KGSHARD_PUSH_INTERRUPTED warning is raised. The seqlock's own hook has
   * already made the counter even (a death inside `applyPending`, whose
   * rows may then be torn, is reported by `Seqlock.lastTorn`).
   *
   * Runs from the seqlock's recovery hook when this server's object took
   * the lock over, and again after every acquisition (`takeTableLock`) in
   * case the takeover happened through an object without the hook (a bare
   * `Seqlock.attach`); with the mark clear it does nothing.
   */
  private repairTable(t: number): void {
    const f = this.fields[t]!;
    const mark = Atomics.load(this.ctl, f.pushing);
    if (mark === 0) return;
    Atomics.store(this.ctl, f.pushing, 0);
    const discarded = Atomics.load(this.ctl, f.pushedCount);
    this.clearPending(t);
    Atomics.add(this.ctl, this.statIdx.warnings, 1);
    this.onWarning(
      'KGSHARD_PUSH_INTERRUPTED',
      `${this.tableName(t)}: worker ${mark - 1} died in the middle of a push; discarded the pending step (${discarded} complete pushes and the partial one)`,
    );
  }

  /** Under table `t`'s lock: forget the pending sync step without applying it. */
  private clearPending(t: number): void {
    const f = this.fields[t]!;
    const p = this.pendings[t]!;
    // The dead push may have flagged rows after touchedCount was last
    // stored, so clear every flag and sum rather than the listed rows.
    p.flags.fill(0);
    p.sums.fill(0);
    Atomics.store(this.ctl, f.touchedCount, 0);
    Atomics.store(this.ctl, f.pushedCount, 0);
  }

  private packRelationRows(
    where: string,
    worker: number,
    rows: ReadonlyArray<readonly [number, ArrayLike<number>]>,
  ): { rowIdx: Int32Array; grads: Float32Array } {
    checkWorker(where, worker);
    if (!Array.isArray(rows)) throw invalidArgument(where, 'rows', rows, 'an array of [relation row, gradient] pairs');
    const nRel = this.handle.relationIds.length;
    const rdim = this.relationDim;
    const rowIdx = new Int32Array(rows.length);
    const grads = new Float32Array(rows.length * rdim);
    rows.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument(where, `rows[${i}]`, pair, 'a [relation row, gradient] pair');
      const [r, g] = pair;
      if (!Number.isInteger(r) || r < 0 || r >= nRel) throw outOfRange(where, `rows[${i}] relation row`, r, 0, nRel - 1);
      this.checkGradient(where, `rows[${i}] gradient`, g, rdim);
      rowIdx[i] = r;
      grads.set(g, i * rdim);
    });
    return { rowIdx, grads };
  }

  private checkShard(where: string, shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.numShards) {
      throw outOfRange(where, 'shard', shard, 0, this.numShards - 1);
    }
  }

  private checkGradient(where: string, field: string, g: ArrayLike<number>, width: number = this.dim): void {
    if (g === null || typeof g !== 'object' || typeof g.length !== 'number') {
      throw invalidArgument(where, field, g, `an array of ${width} numbers`);
    }
    if (g.length !== width) throw dimMismatch(where, field, width, g.length);
    for (let k = 0; k < g.length; k++) {
      const v = g[k]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw nonFinite(where, field, k, v);
    }
  }

  private packRows(
    where: string,
    shard: number,
    worker: number,
    rows: ReadonlyArray<readonly [number, ArrayLike<number>]>,
  ): { rowIdx: Int32Array; grads: Float32Array } {
    this.checkShard(where, shard);
    checkWorker(where, worker);
    if (!Array.isArray(rows)) throw invalidArgument(where, 'rows', rows, 'an array of [row, gradient] pairs');
    const nRows = this.shardManager.assignment.ids[shard]!.length;
    const rowIdx = new Int32Array(rows.length);
    const grads = new Float32Array(rows.length * this.dim);
    rows.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalidArgument(where, `rows[${i}]`, pair, 'a [row, gradient] pair');
      const [r, g] = pair;
      if (!Number.isInteger(r) || r < 0 || r >= nRows) throw outOfRange(where, `rows[${i}] row`, r, 0, nRows - 1);
      this.checkGradient(where, `rows[${i}] gradient`, g);
      rowIdx[i] = r;
      grads.set(g, i * this.dim);
    });
    return { rowIdx, grads };
  }

  private checkFlat(where: string, shard: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): void {
    this.checkShard(where, shard);
    this.checkFlatTable(where, shard, worker, rowIdx, grads, count);
  }

  /** Checks of a flat push to table `t` (a shard, or the relation table), before any change. */
  private checkFlatTable(where: string, t: number, worker: number, rowIdx: Int32Array, grads: Float32Array, count: number): void {
    checkWorker(where, worker);
    if (!Number.isInteger(count) || count < 0 || count > rowIdx.length) {
      throw outOfRange(where, 'count', count, 0, rowIdx.length);
    }
    const width = this.widthOf(t);
    if (grads.length < count * width) throw dimMismatch(where, 'grads', count * width, grads.length);
    const nRows = t === this.REL ? this.handle.relationIds.length : this.shardManager.assignment.ids[t]!.length;
    for (let i = 0; i < count; i++) {
      const r = rowIdx[i]!;
      if (r < 0 || r >= nRows) throw outOfRange(where, `rowIdx[${i}]`, r, 0, nRows - 1);
    }
    const n = count * width;
    for (let k = 0; k < n; k++) {
      const v = grads[k]!;
      if (!Number.isFinite(v)) throw nonFinite(where, 'grads', k, v);
    }
  }

}

function checkWorker(where: string, worker: number): void {
  if (!Number.isInteger(worker) || worker < 0 || worker > 0x7fffffff) {
    throw invalidArgument(where, 'worker', worker, 'a non-negative 31-bit integer');
  }
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

/** Raise `arr[i]` to at least `v` (compare-and-swap loop). */
function atomicMax(arr: Int32Array, i: number, v: number): void {
  let cur = Atomics.load(arr, i);
  while (v > cur) {
    const seen = Atomics.compareExchange(arr, i, cur, v);
    if (seen === cur) return;
    cur = seen;
  }
}

