/**
 * `ReshardBackend`: the operations of live resharding that a simulation
 * walk (or a training run) drives, whatever holds the rows. The in-memory
 * model (`InMemoryReshardBackend`) implements it on one thread; a
 * shared-memory backend driven across worker threads implements the same
 * interface, so the same walks check both.
 *
 * Contract for every implementation:
 * - Methods are called from one driving thread, one at a time (each
 *   awaited before the next). A backend may do work on other threads
 *   inside a call, but the call's effects are complete when it resolves.
 * - Time is the `Clock` given at creation; the backend never sleeps on it.
 *   Tests advance a `ManualClock` between calls.
 * - Control-plane misuse (an unknown worker, pin or chunk, a replacement of
 *   the wrong shape) rejects with a `KgError` before any state changes.
 *   Data-plane calls (`push`, `read`, `readLatest`) never throw: they
 *   return a status.
 * - Row values are float32; the simulation pushes small integers so sums
 *   are exact.
 */
import type { Clock } from '../../shm/clock.js';
import type { CorrectionRecord, LifecycleStep } from './lifecycle.js';
import type { ReshardOptions } from './options.js';
import type { Assignment, ChunkId, RowBlock, ShardId } from './types.js';

export type { CorrectionRecord, LifecycleStep as StepReport } from './lifecycle.js';

/** A reader's pin: its id and the version it reads. */
export interface ReaderPin {
  readonly pin: number;
  readonly version: number;
}

export type ReadResult =
  /** `out` holds the row as the copy on `shard` has it. */
  | { readonly state: 'ok'; readonly chunk: ChunkId; readonly shard: ShardId; readonly version: number }
  /** The pin's lease is over; the reader must pin again. */
  | { readonly state: 'expired' }
  /** No visible chunk covers the row at that version (not placed yet, or no such row). */
  | { readonly state: 'no-row' }
  | { readonly state: 'unknown-pin' }
  /**
   * The shard that held the chunk at that version has freed it: possible
   * only for an unpinned read at a version older than the watermark and
   * superseded more than a grace window ago (for example a worker lagging
   * behind a quorum below 1).
   */
  | { readonly state: 'missing'; readonly chunk: ChunkId; readonly shard: ShardId };

export type PushResult =
  /** Applied to every live copy of the row's chunk (and of its pending replacement); `copies` counts them. */
  | { readonly state: 'ok'; readonly copies: number }
  /** The row is not placed yet (or does not exist): nothing changed. */
  | { readonly state: 'no-row' }
  /** `delta` does not have `dim` values: nothing changed. */
  | { readonly state: 'bad-length' };

/** A plain copy of a backend's state, for oracles and reports. Not a hot-path call. */
export interface ReshardState {
  readonly now: number;
  readonly latest: Assignment;
  /** Every version still kept (pinned or not older than the watermark), latest included. */
  readonly versions: readonly Assignment[];
  readonly watermark: number;
  readonly shards: number;
  readonly replication: number;
  readonly bonusReplicas: number;
  readonly rows: number;
  readonly blocks: readonly RowBlock[];
  readonly chunks: readonly {
    readonly id: ChunkId;
    readonly block: number;
    readonly bytes: number;
    readonly phase: 'unplaced' | 'standby' | 'visible' | 'retired' | 'gone';
    readonly replaces: ChunkId | undefined;
    readonly replacedBy: ChunkId | undefined;
    /**
     * The id the scheduler ranks this chunk by (its rendezvous key), when
     * it is not `id`: a backend that keeps a chunk's own id across a
     * correction schedules the replacement under that id.
     */
    readonly planKey?: number;
  }[];
  /** Copies physically present (live or draining) and their role. */
  readonly copies: readonly { readonly chunk: ChunkId; readonly shard: ShardId; readonly draining: boolean }[];
  /** Bytes physically held per shard. */
  readonly footprint: ReadonlyMap<ShardId, number>;
  readonly workers: readonly { readonly id: number; readonly confirmed: number; readonly lastSeenMs: number }[];
  readonly pins: readonly { readonly pin: number; readonly version: number; readonly atMs: number }[];
  readonly corrections: readonly CorrectionRecord[];
}

export interface ReshardBackend {
  /** The options the backend was created with (after defaults). */
  readonly options: ReshardOptions;

  // ---------------------------------------------------------------- control plane

  /** Target `shards` shards (ids 0 .. shards-1). Copies move over the next steps, at most K chunks per step. */
  reshard(shards: number): Promise<void>;
  /** Floor and bonus copies per chunk from the next step on. */
  setReplication(replication: number, bonusReplicas: number): Promise<void>;
  /** Append `count` entity rows as new chunks (initialised to zero); they are placed by later steps. */
  addEntities(count: number): Promise<readonly ChunkId[]>;
  /**
   * Register a replacement of `chunk`'s rows (`values`: rows x dim floats).
   * Pushes made after this call apply to the replacement too, so none is
   * lost by the swap. Rejects with E_RESHARD_UNKNOWN_CHUNK,
   * E_RESHARD_SHAPE, E_RESHARD_CHUNK_BUSY or E_RESHARD_CHUNK_REMOVED.
   */
  correct(chunk: ChunkId, values: Float32Array): Promise<CorrectionRecord>;
  /**
   * One cycle: exclude silent workers, swap in confirmed corrections, free
   * drained copies, schedule one step and publish a version if anything
   * changed. Rows are copied before the version is published.
   */
  step(): Promise<LifecycleStep>;

  // ---------------------------------------------------------------- workers (writers)

  /** A new worker; it starts at the latest version. */
  workerJoin(): Promise<number>;
  /** The worker leaves; it no longer counts for the quorum. Rejects for an unknown worker. */
  workerLeave(worker: number): Promise<void>;
  /**
   * The worker has applied `version` (at most the latest). `excluded` when
   * it was silent past its timeout: it is gone and must join again.
   */
  confirm(worker: number, version: number): Promise<'ok' | 'excluded'>;

  // ---------------------------------------------------------------- readers

  /** Pin the latest version. */
  pin(): Promise<ReaderPin>;
  /** Release a pin. Rejects with E_RESHARD_UNKNOWN_PIN for a pin not held. */
  unpin(pin: number): Promise<void>;
  /** Read `row` (dim floats into `out`) at the pin's version, from a shard that held its chunk then. */
  read(pin: number, row: number, out: Float32Array): Promise<ReadResult>;
  /**
   * Read `row` at `version` without a pin (a worker reading at the version
   * it applied, a reader that fetched a version a moment ago). Guaranteed
   * while `version` is at or after every watermark so far, or within
   * graceMs of the next version's publication; otherwise it may report
   * `expired` (version forgotten) or `missing`.
   */
  readAt(version: number, row: number, out: Float32Array): Promise<ReadResult>;

  // ---------------------------------------------------------------- data

  /** Add `delta` (dim floats) to `row` at the latest version. */
  push(row: number, delta: Float32Array): Promise<PushResult>;
  /** Read `row` as writers see it (latest version). The `unknown-pin` and `expired` states do not occur. */
  readLatest(row: number, out: Float32Array): Promise<ReadResult>;
  /**
   * Read `row` from the copy of `chunk` on `shard`, live or draining.
   * False when that shard holds no copy of it. For oracles.
   */
  readCopy(chunk: ChunkId, shard: ShardId, row: number, out: Float32Array): Promise<boolean>;

  // ---------------------------------------------------------------- inspection

  inspect(): Promise<ReshardState>;
  /** Release threads and memory. The backend is unusable afterwards. */
  close(): Promise<void>;
}

/** Creates a backend over `clock`; the walks take one of these so they can run against any backend. */
export type ReshardBackendFactory = (options: Partial<ReshardOptions>, clock: Clock) => Promise<ReshardBackend>;
