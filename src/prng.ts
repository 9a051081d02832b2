/**
 * The one seeded PRNG kgshard uses wherever a run must be replayable
 * (dataset splits, negative sampling, shuffles, tests): mulberry32, 32 bits
 * of state, uniform numbers in [0, 1). Leaf module: imports nothing.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
