/**
 * What the benchmark's main thread and its worker threads send each other.
 * Kept in one module so both sides agree on the shapes.
 */
import type { RingHandle } from '../../src/shm/ring.js';
import type { RendezvousHandle } from './rendezvous.js';

/** Payload word of event `seq`: cheap to make, cheap to check, not a constant the JIT can fold. */
export const PAYLOAD_MUL = 0x9e37_79b1 | 0;
export function payloadOf(seq: number): number {
  return Math.imul(seq, PAYLOAD_MUL);
}

/**
 * Expected 32-bit wrapped sum of `payloadOf(s)` for s in [0, n): the sum is
 * PAYLOAD_MUL * n(n-1)/2 modulo 2^32, computed with BigInt so it is exact.
 */
/** Process CPU time in ms (all threads; from any thread). */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function expectedPayloadSum(n: number): number {
  const big = BigInt(n);
  const tri = (big * (big - 1n)) / 2n;
  return Number(BigInt.asIntN(32, BigInt(PAYLOAD_MUL) * tri));
}

/**
 * Which ring calls a side uses: `push`/`pop` (copy through a staging array) or `reserve`/`commit`, `acquire`/`release`
 * (in place).
 */
export type RingPath = 'copy' | 'zero-copy';

export interface RingSideInput {
  readonly handle: RingHandle;
  readonly start: RendezvousHandle;
  /** Round-trip probe run between the start lines of each run (see lib/probe.ts). */
  readonly probe: SharedArrayBuffer;
  readonly path: RingPath;
  /** Events per timed run; each run continues the sequence of the previous one. */
  readonly events: number;
  /** Untimed warm-up runs before the first timed run, `warmupEvents` each. */
  readonly warmupRuns: number;
  readonly warmupEvents: number;
  readonly runs: number;
  /** Producer: events per publish. Consumer: most events taken per call. */
  readonly batch: number;
  /**
   * Consumer only: leave the newest `lag` queued events alone (until the
   * run's end), so that the consumer reads some cache lines behind the
   * producer instead of on its heels. 0 = take whatever is there.
   */
  readonly lag?: number;
}

export interface RingProducerResult {
  readonly pushed: number;
  /** Per timed run: ms from the start line to the last publish. */
  readonly ms: number[];
  /** Calls that found the ring full (the producer spun). */
  readonly fullSpins: number;
  /** Per timed run: mean core-to-core round trip (ns) measured just before it. */
  readonly roundTripNs: number[];
  /** Per timed run: the same, measured just after it. */
  readonly roundTripAfterNs: number[];
}

export interface RingConsumerResult {
  readonly popped: number;
  /** Per timed run: ms from the start line to the last event consumed. */
  readonly ms: number[];
  /** Per timed run: CPU time of the whole process / wall time (2 = both spinning threads had a core throughout). */
  readonly cpus: number[];
  /** Events whose sequence number or payload was not the expected one. */
  readonly mismatches: number;
  /** 32-bit wrapped sum of every payload consumed (warm-up included). */
  readonly checksum: number;
  /** Calls that found the ring empty (the consumer spun). */
  readonly emptySpins: number;
  /** Mean events per successful take. */
  readonly meanTake: number;
}

export interface PostMessageSideInput {
  readonly port: import('node:worker_threads').MessagePort;
  readonly start: RendezvousHandle;
  readonly probe: SharedArrayBuffer;
  readonly events: number;
  readonly warmupEvents: number;
  readonly runs: number;
}

export interface PostMessageProducerResult {
  readonly posted: number;
  readonly ms: number[];
  readonly roundTripNs: number[];
}

export interface PostMessageConsumerResult {
  readonly received: number;
  readonly ms: number[];
  readonly cpus: number[];
  readonly mismatches: number;
  readonly checksum: number;
}

export interface SeqlockWriterInput {
  readonly handle: import('../../src/shm/seqlock.js').SeqlockHandle;
  /** Set to 1 by the main thread to stop the writer. */
  readonly stop: SharedArrayBuffer;
  /** Rows per write. */
  readonly rowsPerWrite: number;
  /** Target write rate; the writer spins between writes to keep it. */
  readonly writesPerSec: number;
}

export interface SeqlockWriterResult {
  readonly writes: number;
  readonly failures: number;
  readonly ms: number;
}
