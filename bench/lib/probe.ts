/**
 * Core-to-core round-trip probe between the two ring benchmark threads.
 * On this (virtual) 2-core machine the host sometimes places the two vCPUs
 * far apart, and every cross-thread figure then drops several-fold; the
 * round trip measured just before a run says which placement that run had.
 *
 * Two words on separate cache lines: the pinger stores an increasing value
 * in PING and spins until PONG echoes it; the ponger spins on PING and
 * echoes. Both sides count rounds identically, so the values never repeat.
 */
const PING = 0;
const PONG = 16;

/**
 * Untimed rounds first: the other side may still be waking from the start line's sleep, and the loops need optimising.
 */
const PROBE_WARMUP_ROUNDS = 5000;
const PROBE_ROUNDS = 1000;

export function createProbe(): SharedArrayBuffer {
  return new SharedArrayBuffer(32 * 4);
}

export class Probe {
  private readonly w: Int32Array;
  private seq = 0;

  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
  }

  /** Pinger side: `rounds` round trips; returns the mean round trip in ns. */
  ping(rounds: number): number {
    const w = this.w;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      const v = ++this.seq;
      Atomics.store(w, PING, v);
      while (Atomics.load(w, PONG) !== v);
    }
    return ((performance.now() - t0) * 1e6) / rounds;
  }

  /** Ponger side: answer `rounds` pings. */
  pong(rounds: number): void {
    const w = this.w;
    for (let i = 0; i < rounds; i++) {
      const v = ++this.seq;
      while (Atomics.load(w, PING) !== v);
      Atomics.store(w, PONG, v);
    }
  }
}

/** Pinger side of one measurement: warm-up rounds, then the timed rounds; mean round trip in ns. */
export function probeRoundTrip(p: Probe): number {
  p.ping(PROBE_WARMUP_ROUNDS);
  return p.ping(PROBE_ROUNDS);
}

/** Ponger side of one `probeRoundTrip`. */
export function answerProbe(p: Probe): void {
  p.pong(PROBE_WARMUP_ROUNDS + PROBE_ROUNDS);
}
