/** Small seeded PRNG (mulberry32) for fixtures that must be replayable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The payload word the ring fixtures attach to sequence number `seq`. */
export function payloadOf(seq: number, word: number): number {
  return Math.imul(seq ^ (word * 0x9e3779b9), 0x85ebca6b) ^ (seq >>> 13);
}
