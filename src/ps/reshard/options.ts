/**
 * Options of live resharding, with defaults and the one validator every
 * backend uses.
 */
import { invalidArgument, outOfRange } from '../../errors.js';

export interface ReshardOptions {
  /** Entity rows at creation. */
  readonly rows: number;
  /** Floats per row. */
  readonly dim: number;
  /** Rows per chunk (the last chunk of each addition may hold fewer). */
  readonly chunkRows: number;
  /** Shards at creation, ids 0 .. shards-1. */
  readonly shards: number;
  /** Bytes each shard may hold, live and draining copies together. */
  readonly capacityBytes: number;
  /** Floor copies per chunk. */
  readonly replication: number;
  /** Extra copies per chunk, kept while there is room. */
  readonly bonusReplicas: number;
  /** At most this many chunks gain a copy per scheduler step (K). */
  readonly maxMoves: number;
  /** A dropped copy is kept at least this long after the version that dropped it is published. */
  readonly graceMs: number;
  /**
   * Fraction of live workers (in [0, 1]) that must have confirmed a version
   * before copies it dropped may go. 0 is the zero-quorum mode: nobody has
   * to confirm, the watermark is the latest version.
   */
  readonly quorum: number;
  /** A worker silent (no confirmation) for longer than this is excluded from the quorum. */
  readonly workerTimeoutMs: number;
  /** A reader's pin protects its version's copies for this long; later reads of it report `expired`. */
  readonly pinLeaseMs: number;
}

export const DEFAULT_RESHARD_OPTIONS: ReshardOptions = Object.freeze({
  rows: 0,
  dim: 1,
  chunkRows: 1024,
  shards: 1,
  capacityBytes: Number.POSITIVE_INFINITY,
  replication: 1,
  bonusReplicas: 0,
  maxMoves: 4,
  graceMs: 1000,
  quorum: 1,
  workerTimeoutMs: 10_000,
  pinLeaseMs: 60_000,
});

/** Bytes of one float. */
export const VALUE_BYTES = 4;

/** `partial` over the defaults, checked; throws E_INVALID_ARGUMENT / E_OUT_OF_RANGE naming the field. */
export function resolveReshardOptions(partial: Partial<ReshardOptions>, where = 'reshard options'): ReshardOptions {
  const o: ReshardOptions = { ...DEFAULT_RESHARD_OPTIONS, ...partial };
  const int = (field: keyof ReshardOptions, min: number): void => {
    const v = o[field];
    if (!Number.isInteger(v) || v < min) throw invalidArgument(where, field, v, `an integer >= ${min}`);
  };
  int('rows', 0);
  int('dim', 1);
  int('chunkRows', 1);
  int('shards', 1);
  int('replication', 1);
  int('bonusReplicas', 0);
  int('maxMoves', 1);
  for (const field of ['capacityBytes', 'graceMs', 'workerTimeoutMs', 'pinLeaseMs'] as const) {
    const v = o[field];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0)
      throw invalidArgument(where, field, v, 'a non-negative number');
  }
  if (typeof o.quorum !== 'number' || !(o.quorum >= 0 && o.quorum <= 1))
    throw outOfRange(where, 'quorum', o.quorum, 0, 1);
  return Object.freeze(o);
}
