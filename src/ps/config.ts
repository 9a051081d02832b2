/**
 * Parameter-server configuration: the reference's defaults, and validation
 * that names the field and the value it refuses.
 */
import { invalidArgument, outOfRange } from '../errors.js';

export type UpdateMode = 'sync' | 'async';
export type ShardingStrategy = 'entity-hash' | 'range';
/**
 * How the server applies a gradient (an async push, or a sync step's
 * average): `sgd` (x -= lr g), element-wise `adagrad` (PyTorch's rule, one
 * accumulator per float) or row-wise `adagrad-row` (one per row).
 */
export type PsOptimizer = 'sgd' | 'adagrad' | 'adagrad-row';

export interface PsConfig {
  /** Length of every entity row. */
  readonly dim: number;
  /** Length of every relation row; 0 (the default) means the same as `dim`. */
  readonly relationDim: number;
  /** Number of shards the entity table is split into. */
  readonly numShards: number;
  /** Workers that push per step in sync mode (the barrier's size). */
  readonly expectedWorkers: number;
  /** `sync`: pushes of one step are averaged and applied once; `async`: applied at once. */
  readonly mode: UpdateMode;
  /** Step size applied to every pushed gradient. */
  readonly learningRate: number;
  /** Update rule applied to every gradient (its state lives in shared memory). */
  readonly optimizer: PsOptimizer;
  /**
   * After each update, entity rows longer than this (L2) are scaled back to it; 0: never. Relations are not projected.
   */
  readonly maxNorm: number;
  /** Async mode: pushes since a shard's last pull above which a warning is raised. */
  readonly maxStaleness: number;
  /** Sync mode: how long a step waits for all workers before applying what arrived. */
  readonly barrierTimeoutMs: number;
  /** How entity ids are assigned to shards. */
  readonly strategy: ShardingStrategy;
  /**
   * How long a pusher may hold a shard's writer lock before others take it over (a dead thread's lock is reclaimed
   * after this).
   */
  readonly lockLeaseMs: number;
  /**
   * Rows per chunk, the unit of placement and of movement when the server
   * reshards or grows (src/ps/placement.ts). A power of two.
   */
  readonly chunkRows: number;
  /**
   * Shards that hold the entities at creation (0: all `numShards`). The
   * other shard regions start empty, ready for `reshard` to use them.
   */
  readonly activeShards: number;
  /**
   * Rows each shard region can hold (0: the rows it starts with). Room for
   * chunks that move in when the server reshards or grows.
   */
  readonly shardCapacityRows: number;
  /** Entities the server can hold after growing (0: those it starts with). */
  readonly entityCapacity: number;
  /**
   * Live workers whose confirmation of a newer placement lets a moved
   * chunk's old copy be dropped: -1 every live worker, 0 none (the grace
   * window only), or a count.
   */
  readonly confirmQuorum: number;
  /** How long an old copy stays readable for readers pinned to an older placement (ms). */
  readonly graceMs: number;
  /** A worker not seen for this long (ms) no longer holds back the dropping of old copies. */
  readonly workerTimeoutMs: number;
  /** How long a reader's pin keeps the copies of its placement version (ms; a lease). */
  readonly pinLeaseMs: number;
}

/** The reference server's defaults. */
export const DEFAULT_PS_CONFIG: PsConfig = Object.freeze({
  dim: 32,
  relationDim: 0,
  numShards: 4,
  expectedWorkers: 4,
  mode: 'sync',
  learningRate: 0.01,
  optimizer: 'sgd',
  maxNorm: 0,
  maxStaleness: 16,
  barrierTimeoutMs: 30_000,
  strategy: 'entity-hash',
  lockLeaseMs: 2_000,
  chunkRows: 1024,
  activeShards: 0,
  shardCapacityRows: 0,
  entityCapacity: 0,
  confirmQuorum: -1,
  graceMs: 250,
  workerTimeoutMs: 30_000,
  pinLeaseMs: 60_000,
});

/** Most worker blocks of the placement (workers that confirm placements). */
export const PS_PLACEMENT_WORKERS = 64;
/** Most readers pinning placements at once. */
export const PS_PLACEMENT_READERS = 64;
/** Versions of the placement kept in its ring. */
export const PS_PLACEMENT_VERSIONS = 16;

export const PS_MAX_DIM = 1 << 16;
export const PS_MAX_SHARDS = 4096;
export const PS_MAX_WORKERS = 1024;

function positiveInt(where: string, field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'a positive integer');
  if (v < 1 || v > max) throw outOfRange(where, field, v, 1, max);
  return v;
}

function nonNegativeInt(where: string, field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'a non-negative integer');
  if (v < 0 || v > max) throw outOfRange(where, field, v, 0, max);
  return v;
}

/** Fill in defaults and check every field; throws a KgError naming the first bad field. */
export function validatePsConfig(partial: Partial<PsConfig>, where = 'ParameterServer.create'): PsConfig {
  if (partial === null || typeof partial !== 'object') throw invalidArgument(where, 'config', partial, 'an object');
  const c = { ...DEFAULT_PS_CONFIG, ...partial };
  positiveInt(where, 'dim', c.dim, PS_MAX_DIM);
  if (
    typeof c.relationDim !== 'number' ||
    !Number.isInteger(c.relationDim) ||
    c.relationDim < 0 ||
    c.relationDim > PS_MAX_DIM
  ) {
    throw invalidArgument(where, 'relationDim', c.relationDim, `an integer in [0, ${PS_MAX_DIM}] (0: same as dim)`);
  }
  positiveInt(where, 'numShards', c.numShards, PS_MAX_SHARDS);
  positiveInt(where, 'expectedWorkers', c.expectedWorkers, PS_MAX_WORKERS);
  if (c.mode !== 'sync' && c.mode !== 'async') throw invalidArgument(where, 'mode', c.mode, "'sync' or 'async'");
  if (typeof c.learningRate !== 'number' || !Number.isFinite(c.learningRate) || c.learningRate <= 0) {
    throw invalidArgument(where, 'learningRate', c.learningRate, 'a finite number > 0');
  }
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adagrad' && c.optimizer !== 'adagrad-row') {
    throw invalidArgument(where, 'optimizer', c.optimizer, "'sgd', 'adagrad' or 'adagrad-row'");
  }
  if (typeof c.maxNorm !== 'number' || !Number.isFinite(c.maxNorm) || c.maxNorm < 0) {
    throw invalidArgument(where, 'maxNorm', c.maxNorm, 'a finite number >= 0 (0: no projection)');
  }
  if (typeof c.maxStaleness !== 'number' || !Number.isInteger(c.maxStaleness) || c.maxStaleness < 0) {
    throw invalidArgument(where, 'maxStaleness', c.maxStaleness, 'a non-negative integer');
  }
  positiveInt(where, 'barrierTimeoutMs', c.barrierTimeoutMs, 2 ** 31 - 1);
  if (c.strategy !== 'entity-hash' && c.strategy !== 'range') {
    throw invalidArgument(where, 'strategy', c.strategy, "'entity-hash' or 'range'");
  }
  positiveInt(where, 'lockLeaseMs', c.lockLeaseMs, 3_600_000);
  positiveInt(where, 'chunkRows', c.chunkRows, 1 << 16);
  if ((c.chunkRows & (c.chunkRows - 1)) !== 0) throw invalidArgument(where, 'chunkRows', c.chunkRows, 'a power of two');
  nonNegativeInt(where, 'activeShards', c.activeShards, c.numShards);
  nonNegativeInt(where, 'shardCapacityRows', c.shardCapacityRows, 2 ** 31 - 1);
  nonNegativeInt(where, 'entityCapacity', c.entityCapacity, 2 ** 31 - 1);
  if (!Number.isInteger(c.confirmQuorum) || c.confirmQuorum < -1 || c.confirmQuorum > PS_PLACEMENT_WORKERS)
    throw invalidArgument(
      where,
      'confirmQuorum',
      c.confirmQuorum,
      `-1 (every live worker), 0 (none) or a count up to ${PS_PLACEMENT_WORKERS}`,
    );
  nonNegativeInt(where, 'graceMs', c.graceMs, 2 ** 31 - 1);
  positiveInt(where, 'workerTimeoutMs', c.workerTimeoutMs, 2 ** 31 - 1);
  nonNegativeInt(where, 'pinLeaseMs', c.pinLeaseMs, 2 ** 31 - 1);
  return Object.freeze(c);
}
