/**
 * Inner loops of the blocked scoring kernels: one query vector q (float64)
 * against m candidate rows, `out[o + j] = f(q, cand_j)`.
 *
 * Each sums with four independent accumulators: a single running sum is a
 * chain of dependent floating-point additions that runs at the adder's
 * latency, not its throughput.
 * The order of summation therefore differs from the models' `score`; results
 * agree to float64 rounding, not bit for bit.
 */

/** out[o + j] = <q, cand_j> over w floats. */
export function dotRows(
  q: Float64Array,
  w: number,
  cand: Float32Array,
  candOffs: Int32Array,
  m: number,
  out: Float64Array,
  o: number,
): void {
  const w4 = w - (w & 3);
  for (let j = 0; j < m; j++) {
    const x = candOffs[j]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k < w4; k += 4) {
      s0 += q[k]! * cand[x + k]!;
      s1 += q[k + 1]! * cand[x + k + 1]!;
      s2 += q[k + 2]! * cand[x + k + 2]!;
      s3 += q[k + 3]! * cand[x + k + 3]!;
    }
    for (; k < w; k++) s0 += q[k]! * cand[x + k]!;
    out[o + j] = s0 + s1 + (s2 + s3);
  }
}

/** out[o + j] = -||q - cand_j||_1 over w floats. */
export function l1Rows(
  q: Float64Array,
  w: number,
  cand: Float32Array,
  candOffs: Int32Array,
  m: number,
  out: Float64Array,
  o: number,
): void {
  const w4 = w - (w & 3);
  for (let j = 0; j < m; j++) {
    const x = candOffs[j]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k < w4; k += 4) {
      s0 += Math.abs(q[k]! - cand[x + k]!);
      s1 += Math.abs(q[k + 1]! - cand[x + k + 1]!);
      s2 += Math.abs(q[k + 2]! - cand[x + k + 2]!);
      s3 += Math.abs(q[k + 3]! - cand[x + k + 3]!);
    }
    for (; k < w; k++) s0 += Math.abs(q[k]! - cand[x + k]!);
    out[o + j] = -(s0 + s1 + (s2 + s3));
  }
}

/** out[o + j] = -||q - cand_j||_2 over w floats. */
export function l2Rows(
  q: Float64Array,
  w: number,
  cand: Float32Array,
  candOffs: Int32Array,
  m: number,
  out: Float64Array,
  o: number,
): void {
  for (let j = 0; j < m; j++) out[o + j] = -Math.sqrt(squaredDistance(q, w, cand, candOffs[j]!));
}

/** ||q - cand at x||_2^2 over w floats (for the L2 gradient kernels). */
export function squaredDistance(q: Float64Array, w: number, cand: Float32Array, x: number): number {
  const w4 = w - (w & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k < w4; k += 4) {
    const u0 = q[k]! - cand[x + k]!;
    const u1 = q[k + 1]! - cand[x + k + 1]!;
    const u2 = q[k + 2]! - cand[x + k + 2]!;
    const u3 = q[k + 3]! - cand[x + k + 3]!;
    s0 += u0 * u0;
    s1 += u1 * u1;
    s2 += u2 * u2;
    s3 += u3 * u3;
  }
  for (; k < w; k++) {
    const u = q[k]! - cand[x + k]!;
    s0 += u * u;
  }
  return s0 + s1 + (s2 + s3);
}
