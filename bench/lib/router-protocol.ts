/**
 * What the `router` suite's main thread and its worker threads send each
 * other. Kept in one module so both sides agree on the shapes.
 */
import type { DrainResult } from '../../src/router/consumer.js';
import type { ShardMapperHandle } from '../../src/router/mapper.js';
import type { RouterHandle } from '../../src/router/router.js';
import type { RendezvousHandle } from './rendezvous.js';

// ------------------------------------------------------------------ select_shard from a worker

/** Control words of the select benchmark (an Int32Array over `ctl`). */
export const SELECT_CTL_DONE = 0;
export const SELECT_CTL_WORDS = 16;

export interface SelectWorkerInput {
  readonly mapper: ShardMapperHandle;
  /** `SELECT_CTL_WORDS` words: the worker stores slice k + 1 at `SELECT_CTL_DONE` when slice k's measurement ends. */
  readonly ctl: SharedArrayBuffer;
  readonly start: RendezvousHandle;
  /**
   * One chunk's hashes: a chunk calls `selectShard` once per hash, so its sum of ids is a function of the table alone.
   */
  readonly hashes: Uint32Array;
  /** Index (Int32Array elements) of the mapper region's `tableGen` word: the worker counts publications with it. */
  readonly tableGenIndex: number;
  /** Untimed slices first, then `runs` runs of `slices` slices of each phase. */
  readonly warmupSlices: number;
  readonly runs: number;
  readonly slices: number;
  readonly sliceMs: number;
}

/**
 * Whether slice `k` of the schedule (warm-up slices included) is a busy one (the main thread rebuilding the table).
 * Both sides call this.
 */
export function selectSliceBusy(k: number, input: Pick<SelectWorkerInput, 'warmupSlices' | 'slices'>): boolean {
  if (k < input.warmupSlices) return k % 2 === 1;
  const j = k - input.warmupSlices;
  const run = Math.floor(j / (2 * input.slices));
  // Alternate within a run; which phase goes first alternates between runs.
  return (j + run) % 2 === 1;
}

export function selectTotalSlices(input: Pick<SelectWorkerInput, 'warmupSlices' | 'runs' | 'slices'>): number {
  return input.warmupSlices + input.runs * 2 * input.slices;
}

export interface SelectPhaseRun {
  /** selectShard calls timed. */
  readonly ops: number;
  readonly ms: number;
  /** Table publications during the phase's slices (tableGen after minus before, per slice, summed). */
  readonly publications: number;
  /** Chunks timed. */
  readonly chunks: number;
  /**
   * Chunks whose sum of selected ids differed from the previous chunk's (the worker's selections changed: it re-read
   * the table).
   */
  readonly changedChunks: number;
  /** Chunks at whose end tableGen differed from the previous chunk's end. */
  readonly genChangedChunks: number;
}

export interface SelectWorkerResult {
  readonly quiet: SelectPhaseRun[];
  readonly busy: SelectPhaseRun[];
  /** Chunks whose sum was impossible for ids 0..shards-1 (a NO_SHARD or a foreign id was selected); should be 0. */
  readonly invalidChunks: number;
  /**
   * Quiet chunks whose sum differed from the slice's first chunk, or quiet slices during which tableGen moved; should
   * be 0.
   */
  readonly quietChanges: number;
  /** Sum of every chunk's sum (keeps the loop from being elided; also a cross-check). */
  readonly checksum: number;
}

// ------------------------------------------------------------------ route + push

export interface RouteProducerInput {
  readonly handle: RouterHandle;
  /** Producer id (`router.producer(id)`): word 0 of each event. */
  readonly producerId: number;
  readonly start: RendezvousHandle;
  /** Events per push call. */
  readonly batch: number;
  /** Events per timed run; sequence numbers continue across runs (word 1 of each event). */
  readonly events: number;
  readonly warmupRuns: number;
  readonly warmupEvents: number;
  readonly runs: number;
  /** Give up (throw) when more push calls than this in one run found no shard to bind to. */
  readonly maxUnboundCalls: number;
  /** Timeout of each `pushBlocking` call (ms) for what a full ring refused; it is retried until done. */
  readonly blockTimeoutMs: number;
}

export interface RouteProducerResult {
  readonly producerId: number;
  readonly pushed: number;
  /** Slot and shard the producer was bound to at the end (-1 if never). */
  readonly slot: number;
  readonly shard: number;
  /**
   * Per timed run: ms from the shared start line until the ring was seen empty after the last push (every event
   * consumed).
   */
  readonly ms: number[];
  /** Per timed run: ms from the start line to the return of the last push call. */
  readonly pushMs: number[];
  /** Per timed run: process CPU time / wall time over the run. */
  readonly cpus: number[];
  /**
   * Batches the ring could not take whole at once (then `pushBlocking` waited for room): a `pushBlocking` call each.
   */
  readonly fullCalls: number;
  /** Push calls that found no shard (status unbound). */
  readonly unboundCalls: number;
  /** `push` + `pushBlocking` calls. */
  readonly pushCalls: number;
  /** Slots the producer saw itself bound to over the run (should be exactly one). */
  readonly slotsSeen: number[];
}

export interface RouteDrainInput {
  readonly handle: RouterHandle;
  readonly slot: number;
  /** drainShard's batch: most events taken per acquire. */
  readonly batch: number;
}

export type RouteDrainResult = DrainResult;
