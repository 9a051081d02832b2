import { mulberry32 } from '../../src/prng.js';

/** Seeded PRNG for fixtures that must be replayable (the project's one PRNG). */
export const rng = mulberry32;
/** The payload word the ring fixtures attach to sequence number `seq`. */
export function payloadOf(seq: number, word: number): number {
  return Math.imul(seq ^ (word * 0x9e3779b9), 0x85ebca6b) ^ (seq >>> 13);
}
