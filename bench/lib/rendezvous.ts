/**
 * A reusable two-phase start line for benchmark threads, over a small
 * SharedArrayBuffer. It is bench-local on purpose: the benchmarks must not
 * depend on the library primitive they might one day measure.
 *
 * `arrive(sleep)`: the last of `parties` to arrive bumps the generation and
 * wakes sleepers; the others spin on the generation (and, when `sleep` is
 * true and they are not the main thread, park with `Atomics.wait` after a
 * while). Benchmarks call `arrive(true)` to line up (may sleep: no one is
 * timing yet) and then `arrive(false)` so that every party is awake and
 * spinning when the clock starts.
 *
 * Race reasoning: an arriver reads the generation BEFORE its add. The last
 * arriver resets the count before bumping the generation, so a party that
 * sees the new generation and arrives again counts against a zeroed count.
 * A waiter that read the old generation either sees the bump while
 * spinning, or Atomics.wait compares against the old value atomically and
 * returns at once; the notify after the bump wakes any that slept.
 */
import { isMainThread } from 'node:worker_threads';

const COUNT = 0;
const GENERATION = 16; // its own cache line
const WORDS = 32;
const SPINS_BEFORE_SLEEP = 200_000;

export interface RendezvousHandle {
  readonly sab: SharedArrayBuffer;
  readonly parties: number;
}

export function createRendezvous(parties: number): RendezvousHandle {
  return { sab: new SharedArrayBuffer(WORDS * 4), parties };
}

export class Rendezvous {
  private readonly ctl: Int32Array;
  private readonly parties: number;

  constructor(handle: RendezvousHandle) {
    this.ctl = new Int32Array(handle.sab);
    this.parties = handle.parties;
  }

  /** Block (spin, then maybe sleep) until all parties have arrived. Worker threads only when `sleep`. */
  arrive(sleep: boolean): void {
    const ctl = this.ctl;
    const gen = Atomics.load(ctl, GENERATION);
    if (Atomics.add(ctl, COUNT, 1) + 1 === this.parties) {
      Atomics.store(ctl, COUNT, 0);
      Atomics.add(ctl, GENERATION, 1);
      Atomics.notify(ctl, GENERATION);
      return;
    }
    let spins = 0;
    while (Atomics.load(ctl, GENERATION) === gen) {
      if (sleep && !isMainThread && ++spins > SPINS_BEFORE_SLEEP) Atomics.wait(ctl, GENERATION, gen, 1000);
    }
  }
}
