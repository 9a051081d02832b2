/**
 * A parameter server's attached state: the views of its shared regions, per
 * table, and the update rule applied to one row. Every part of the server
 * (pull, Hogwild apply, sync step, repair) works on a `Tables`.
 *
 * Tables by index: shards 0..numShards-1, then the relation table at index
 * `numShards` (`rel`). The relation table is updated exactly like a shard:
 * its own writer lock, pending sums, step barrier and optimizer state.
 */
import { badHandle } from '../errors.js';
import { checkHeader, indexOf, psPendingLayout, type RegionLayout } from '../../native-layout/index.js';
import { Seqlock } from '../shm/seqlock.js';
import { Barrier } from '../shm/barrier.js';
import { attachClock, type Clock } from '../shm/clock.js';
import type { PsConfig } from './config.js';
import type { PsHandle } from './handle.js';
import { ShardManager } from './shard-manager.js';
import { applyRule, projectRow } from './update-rules.js';
import { UpdateKernel } from './wasm/kernel.js';
import { locShard, locSlot, NO_LOC, Placement } from './placement.js';

/** Warnings the server raises. */
export type PsWarningCode = 'KGSHARD_BARRIER_TIMEOUT' | 'KGSHARD_STALENESS' | 'KGSHARD_PUSH_INTERRUPTED';
/** Called for warnings (barrier timeouts, staleness); defaults to `process.emitWarning`. */
export type PsWarningHandler = (code: PsWarningCode, message: string) => void;

/** Indices of one table's control words (in the Int32Array view; `lastNorm` in the Float64Array view). */
export interface TableFields {
  step: number;
  staleness: number;
  /** Sync mode: pushes added to the pending sums in this step. */
  pushedCount: number;
  touchedCount: number;
  /** worker + 1 while a sync push is being added under the lock, 0 otherwise. */
  pushing: number;
  lastNorm: number;
  /** Sync mode: the workers who pushed in this step, `pushedCount` of them. */
  pushedWorkers: number;
}

/** A table's sync-mode pending step: float64 gradient sums, the touched rows and a flag per row. */
export interface Pending {
  sums: Float64Array;
  touched: Int32Array;
  flags: Uint8Array;
  /** Byte address of `sums` in the table's WebAssembly memory (where the kernels reach it), or -1. */
  sumsPtr: number;
}

export interface StatFields {
  pulls: number;
  pushes: number;
  barriers: number;
  maxStaleness: number;
  warnings: number;
  lastNormShard: number;
  relationPushes: number;
}

export class Tables {
  readonly handle: PsHandle;
  readonly config: PsConfig;
  readonly numShards: number;
  readonly dim: number;
  readonly relationDim: number;
  /** Table index of the relation table. */
  readonly rel: number;
  /** The initial assignment of entities to shards (the placement's version 1). */
  readonly shardManager: ShardManager;
  /** The versioned chunk placement: where each entity's row is now. */
  readonly placement: Placement;
  readonly ctl: Int32Array;
  readonly ctlF64: Float64Array;
  readonly clock: Clock;
  /** Each table's writer lock and rows. */
  readonly locks: Seqlock[];
  /** Each table's sync step barrier. */
  readonly barriers: Barrier[];
  readonly fields: TableFields[];
  readonly pendings: Pending[];
  /** Each table's optimizer accumulators (empty under SGD). */
  readonly accs: Float32Array[];
  /** One averaged row, reused by every sync step. */
  readonly avgRow: Float32Array;
  readonly stat: StatFields;
  /** Raise a warning: count it, then call the server's handler. */
  readonly warn: PsWarningHandler;
  // Each shard's rows in use (`rowsOf`), computed for one placement version.
  private readonly extent: Int32Array;
  private extentVersion = -1;
  /** Each table's WebAssembly update kernels in this thread: made on first use; null where they cannot run. */
  private readonly kernels: (UpdateKernel | null | undefined)[];

  constructor(handle: PsHandle, layout: RegionLayout, onWarning: PsWarningHandler, onRecover: (t: number) => void) {
    this.handle = handle;
    this.config = handle.config;
    this.numShards = handle.config.numShards;
    this.dim = handle.config.dim;
    this.relationDim = handle.config.relationDim || handle.config.dim;
    this.rel = this.numShards;
    this.shardManager = new ShardManager(
      handle.entityIds,
      this.config.activeShards || this.numShards,
      this.config.strategy,
    );
    this.placement = Placement.attach(handle.placement);
    this.ctl = new Int32Array(handle.control);
    this.ctlF64 = new Float64Array(handle.control);
    this.clock = attachClock(handle.clock, 'ParameterServer.attach');
    this.locks = [...handle.shards, handle.relations].map((h) => Seqlock.attach(h));
    // A table's recovery hook: after the seqlock's own repair, finish what a
    // dead sync push left half-done (see repair.ts).
    this.locks.forEach((lock, t) => (lock.onRecover = () => onRecover(t)));
    this.barriers = handle.barriers.map((h) => Barrier.attach(h));
    this.stat = {
      pulls: indexOf(layout, 'pulls'),
      pushes: indexOf(layout, 'pushes'),
      barriers: indexOf(layout, 'barriers'),
      maxStaleness: indexOf(layout, 'maxStaleness'),
      warnings: indexOf(layout, 'warnings'),
      lastNormShard: indexOf(layout, 'lastNormShard'),
      relationPushes: indexOf(layout, 'relationPushes'),
    };
    this.fields = [];
    for (let t = 0; t <= this.numShards; t++) {
      const sfx = t === 0 ? '' : `#${t}`;
      this.fields.push({
        step: indexOf(layout, `step${sfx}`),
        staleness: indexOf(layout, `staleness${sfx}`),
        pushedCount: indexOf(layout, `pushedCount${sfx}`),
        touchedCount: indexOf(layout, `touchedCount${sfx}`),
        pushing: indexOf(layout, `pushing${sfx}`),
        lastNorm: indexOf(layout, `lastNorm${sfx}`),
        pushedWorkers: indexOf(layout, `pushedWorkers${sfx}`),
      });
    }
    this.pendings = [...handle.pending, handle.relationPending].map((sab, t) => {
      const rows = this.locks[t]!.rows;
      const width = this.widthOf(t);
      const l = psPendingLayout(rows, width);
      // Past the rows of a table in a WebAssembly memory (its buffer then
      // the memory's: `lock.handle.sab`, the buffer the kernels see).
      const at = handle.pendingAt[t]!;
      const memory = this.locks[t]!.handle.memory;
      const buf = at > 0 && memory !== undefined ? memory.buffer : sab;
      checkHeader(buf, l, at > 0 ? at : undefined);
      return {
        sums: new Float64Array(buf, at + indexOf(l, 'sums') * 8, rows * width),
        touched: new Int32Array(buf, at + indexOf(l, 'touched') * 4, rows),
        flags: new Uint8Array(buf, at + indexOf(l, 'flags'), rows),
        sumsPtr: at > 0 && memory !== undefined ? at + indexOf(l, 'sums') * 8 : -1,
      };
    });
    // Each table's accumulators: in its own memory (past the pending sums,
    // where the Adagrad kernel reaches them) or in the shared state buffer.
    this.accs = [];
    const perValue = this.config.optimizer === 'adagrad';
    let off = 0;
    for (let t = 0; t <= this.numShards; t++) {
      const n = this.config.optimizer === 'sgd' ? 0 : this.locks[t]!.rows * (perValue ? this.widthOf(t) : 1);
      const at = handle.accAt[t]!;
      const memory = this.locks[t]!.handle.memory;
      if (n > 0 && at >= 0) {
        if (memory === undefined || at + 4 * n > memory.buffer.byteLength)
          throw badHandle('ParameterServer.attach', `handle.accAt[${t}] must lie inside the table's memory`, at);
        this.accs.push(new Float32Array(memory.buffer, at, n));
      } else {
        this.accs.push(n === 0 ? new Float32Array(0) : new Float32Array(handle.optimizerState!, off * 4, n));
      }
      off += n;
    }
    this.avgRow = new Float32Array(Math.max(this.dim, this.relationDim));
    this.extent = new Int32Array(this.numShards);
    this.kernels = this.locks.map(() => undefined);
    this.warn = (code, message) => {
      Atomics.add(this.ctl, this.stat.warnings, 1);
      onWarning(code, message);
    };
  }

  /** Row length of table `t` (a shard's entity rows, or the relation rows). */
  widthOf(t: number): number {
    return t === this.rel ? this.relationDim : this.dim;
  }

  /** Table `t`'s name in messages. */
  tableName(t: number): string {
    return t === this.rel ? 'the relation table' : `shard ${t}`;
  }

  /**
   * Rows served by table `t`: the relations, or a shard's rows up to the
   * end of the last chunk the latest placement puts in it (its entities
   * before any chunk moved).
   */
  rowsOf(t: number): number {
    if (t === this.rel) return this.handle.relationIds.length;
    const p = this.placement;
    const v = p.version();
    if (v !== this.extentVersion) {
      this.extent.fill(0);
      const n = p.chunks();
      for (let c = 0; c < n; c++) {
        const loc = p.locAt(v, c);
        if (loc === NO_LOC) continue;
        const s = locShard(loc);
        const end = locSlot(loc) * p.chunkRows + p.chunkLen[c]!;
        if (end > this.extent[s]!) this.extent[s] = end;
      }
      this.extentVersion = v;
    }
    return this.extent[t]!;
  }

  /** Table `t`'s step (completed sync steps, or applied async pushes). */
  step(t: number): number {
    return Atomics.load(this.ctl, this.fields[t]!.step);
  }

  /**
   * Table `t`'s update kernels in this thread (src/ps/wasm/kernel.ts), or
   * null when its rows are not in a shared WebAssembly memory (a server
   * created with `kernels: 'js'`) or the kernels cannot run here.
   */
  kernel(t: number): UpdateKernel | null {
    let k = this.kernels[t];
    if (k === undefined) {
      const lock = this.locks[t]!;
      k = this.kernels[t] = UpdateKernel.forTable(lock.handle.memory, lock.data, this.widthOf(t));
    }
    return k;
  }

  /**
   * The edge's value check of a push to table `t`, vectorised: copy its
   * row indices and gradients into this thread's scratch beside the table
   * (where `applyRows` finds them) and return the float64 sum of the
   * squares of the gradients, finite exactly when every value is finite.
   * Returns -1 when there is no kernel or no room (nothing staged: the
   * caller checks the values itself).
   */
  stage(t: number, rowIdx: Int32Array, grads: Float32Array, count: number): number {
    const k = this.kernel(t);
    return k === null ? -1 : k.stage(rowIdx, grads, count);
  }

  /** Forget a push staged on table `t` that the check refused. */
  unstage(t: number): void {
    this.kernels[t]?.unstage();
  }

  /**
   * Apply a checked push (`count` rows `rowIdx[i]`, gradient row i at
   * `grads[i * width]`) to table `t`, row after row in order, each as
   * `updateRow` does; returns the sum of the gradients' squared norms.
   * With a rule kernel (`ruleKernel`), from the scratch copy `stage` made
   * (staged again when another push was staged meanwhile): the rule in
   * WebAssembly SIMD, bit for bit the float32 arithmetic of update-rules.ts.
   * Otherwise row by row in JavaScript. Under `t`'s lock (sync) or racing by
   * design (Hogwild).
   */
  applyRows(t: number, rowIdx: Int32Array, grads: Float32Array, count: number): number {
    const width = this.widthOf(t);
    const k = this.ruleKernel(t);
    if (k !== null && k.takeOrStage(rowIdx, grads, count)) {
      this.applyScratch(t, k, count);
      return k.stagedSq;
    }
    let sq = 0;
    for (let i = 0; i < count; i++) sq += this.applyRow(t, rowIdx[i]!, grads, i * width);
    return sq;
  }

  /**
   * Table `t`'s kernel when its rule runs in WebAssembly here: SGD, or
   * element-wise Adagrad with the accumulators in the table's memory. Null
   * otherwise (row-wise Adagrad, a server with `kernels: 'js'` or a given
   * optimizer buffer): the caller applies rows with `updateRow`.
   */
  ruleKernel(t: number): UpdateKernel | null {
    const opt = this.config.optimizer;
    if (opt === 'sgd') return this.kernel(t);
    if (opt === 'adagrad' && this.handle.accAt[t]! >= 0) return this.kernel(t);
    return null;
  }

  /**
   * The rule of the first `count` rows in `k`'s scratch (staged, or packed
   * by the caller), in order, each followed by the max-norm projection of an
   * entity row as in `updateRow` (a row pushed twice is projected between
   * its two updates). `k` is `ruleKernel(t)`.
   */
  applyScratch(t: number, k: UpdateKernel, count: number): void {
    const lr = this.config.learningRate;
    const maxNorm = t === this.rel ? 0 : this.config.maxNorm;
    const accPtr = this.config.optimizer === 'sgd' ? -1 : this.handle.accAt[t]!;
    if (maxNorm <= 0) {
      k.applyStaged(0, count, lr, accPtr);
      return;
    }
    const width = k.width;
    const data = this.locks[t]!.data;
    const rows = k.scratchRows;
    for (let i = 0; i < count; i++) {
      k.applyStaged(i, i + 1, lr, accPtr);
      projectRow(data, rows[i]! * width, width, maxNorm);
    }
  }

  /**
   * Apply one gradient row to row `r` of table `t` with the configured rule,
   * then project an entity row back to `maxNorm`. Returns the gradient's
   * squared norm. Under `t`'s lock (sync) or racing by design (Hogwild).
   */
  applyRow(t: number, r: number, g: Float32Array, go: number): number {
    const width = this.widthOf(t);
    let sq = 0;
    for (let k = 0; k < width; k++) sq += g[go + k]! * g[go + k]!;
    this.updateRow(t, r, g, go);
    return sq;
  }

  /**
   * The update of `applyRow` without the gradient's norm: the configured
   * rule (src/ps/update-rules.ts, the one home of SGD and Adagrad), then
   * the max-norm projection of an entity row.
   */
  updateRow(t: number, r: number, g: Float32Array, go: number): void {
    const width = t === this.rel ? this.relationDim : this.dim;
    const data = this.locks[t]!.data;
    const base = r * width;
    const lr = this.config.learningRate;
    const opt = this.config.optimizer;
    applyRule(opt, data, base, this.accs[t]!, opt === 'adagrad' ? base : r, g, go, width, lr);
    if (t !== this.rel && this.config.maxNorm > 0) projectRow(data, base, width, this.config.maxNorm);
  }
}
