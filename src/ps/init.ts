/**
 * Deterministic initial values of an embedding row, bit for bit those of the
 * reference parameter server: the FNV-1a 64 hash of the id's UTF-8 bytes
 * (low bit forced to 1) seeds a 64-bit linear congruential generator
 * (Numerical Recipes constants); each step's upper 32 bits, as a float32
 * fraction of 2^32, are scaled to [-0.05, 0.05] with every operation rounded
 * to float32 as the reference does. (Values at the very top of the range
 * round to exactly 0.05.)
 *
 * 64-bit arithmetic is done on (hi, lo) pairs of unsigned 32-bit words in
 * plain numbers: no BigInt, and the per-element loop allocates nothing.
 */

export interface U64Words {
  /** Upper 32 bits, unsigned. */
  readonly hi: number;
  /** Lower 32 bits, unsigned. */
  readonly lo: number;
}

// Results of mul64/add64, kept in module scope so the loops allocate nothing.
let rHi = 0;
let rLo = 0;

/** (aHi:aLo) * (bHi:bLo) mod 2^64, into rHi:rLo. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  // Each partial product is below 2^32 and each sum below 2^34: exact in doubles.
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  rLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16); // high word of aLo * bLo
  rHi = (carry + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

/** (aHi:aLo) + (bHi:bLo) mod 2^64, into rHi:rLo. */
function add64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = aLo + bLo;
  rLo = lo >>> 0;
  rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_HI = 0x00000100;
const FNV_PRIME_LO = 0x000001b3;
/** 6364136223846793005 */
const LCG_MUL_HI = 0x5851f42d;
const LCG_MUL_LO = 0x4c957f2d;
/** 1442695040888963407 */
const LCG_INC_HI = 0x14057b7e;
const LCG_INC_LO = 0xf767814f;

const F32_TWO_POW_32 = Math.fround(4294967296); // u32::MAX converted to float32 rounds to 2^32
const F32_TENTH = Math.fround(0.1);
const F32_TWENTIETH = Math.fround(0.05);

let hHi = 0;
let hLo = 0;
function fnvByte(b: number): void {
  mul64(hHi, (hLo ^ b) >>> 0, FNV_PRIME_HI, FNV_PRIME_LO);
  hHi = rHi;
  hLo = rLo;
}

/** FNV-1a 64 of the UTF-8 bytes of `id` (a lone surrogate encodes as U+FFFD, as TextEncoder does). */
export function fnv1a64(id: string): U64Words {
  hHi = FNV_OFFSET_HI;
  hLo = FNV_OFFSET_LO;
  const n = id.length;
  for (let i = 0; i < n; i++) {
    let c = id.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? id.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x80) {
      fnvByte(c);
    } else if (c < 0x800) {
      fnvByte(0xc0 | (c >>> 6));
      fnvByte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      fnvByte(0xe0 | (c >>> 12));
      fnvByte(0x80 | ((c >>> 6) & 0x3f));
      fnvByte(0x80 | (c & 0x3f));
    } else {
      fnvByte(0xf0 | (c >>> 18));
      fnvByte(0x80 | ((c >>> 12) & 0x3f));
      fnvByte(0x80 | ((c >>> 6) & 0x3f));
      fnvByte(0x80 | (c & 0x3f));
    }
  }
  return { hi: hHi, lo: hLo };
}

/** Write the `dim` initial values of row `id` into out[offset, offset + dim). */
export function initRow(id: string, dim: number, out: Float32Array, offset: number): void {
  const h = fnv1a64(id);
  let sHi = h.hi;
  let sLo = (h.lo | 1) >>> 0;
  for (let i = 0; i < dim; i++) {
    mul64(sHi, sLo, LCG_MUL_HI, LCG_MUL_LO);
    add64(rHi, rLo, LCG_INC_HI, LCG_INC_LO);
    sHi = rHi;
    sLo = rLo;
    // Upper 32 bits of the state, then the reference's float32 expression,
    // each operation rounded to float32 (a double operation on two float32
    // operands followed by fround is correctly rounded for + - * /).
    const q = Math.fround(Math.fround(sHi) / F32_TWO_POW_32);
    const m = Math.fround(q * F32_TENTH);
    out[offset + i] = Math.fround(m - F32_TWENTIETH);
  }
}
