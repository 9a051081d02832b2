/**
 * The update rules the parameter server and the trainer apply to a row, one
 * home for each: SGD, element-wise Adagrad, row-wise Adagrad, and the
 * max-norm projection. Pure functions over (typed array, offset) pairs, so
 * they run on shared rows in place and on hand-made rows in tests. Hot-path
 * code: no allocation, no throw; arguments are checked at the edge.
 *
 * Adagrad is element-wise (Duchi et al. 2011, as `torch.optim.Adagrad`):
 *   G_q += g_q²;  x_q -= lr · g_q / (√G_q + ε)
 * in float32 arithmetic, each operation rounded to float32 as PyTorch's
 * float32 tensors and the SIMD kernel (src/ps/wasm/update.wat) compute it.
 * Row-wise Adagrad (PyTorch-BigGraph's) keeps one accumulator per row:
 *   G += mean_q g_q²;  x_q -= lr · g_q / (√G + ε)
 * The accumulators start at 0 and ε = 1e-10, PyTorch's defaults.
 */
export const ADAGRAD_EPS = 1e-10;
/** ε as a float32 (element-wise Adagrad's arithmetic). */
const ADAGRAD_EPS32 = Math.fround(ADAGRAD_EPS);

/**
 * x -= lr · g over `width` floats, in float32 arithmetic as the reference
 * server and `torch.optim.SGD` compute it: the step lr · g is rounded to
 * float32 (lr itself a float32), then subtracted.
 */
export function sgdStep(x: Float32Array, xo: number, g: Float32Array, go: number, width: number, lr: number): void {
  const flr = Math.fround(lr);
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! - Math.fround(flr * g[go + q]!);
}

/**
 * Element-wise Adagrad: `acc[ao + q]` is float q's accumulator. Float32
 * arithmetic: every product, sum, square root and quotient is rounded to
 * float32 (`Math.fround` of the float64 result of float32 operands is the
 * correctly rounded float32 result for each of them), so the SIMD kernel's
 * f32x4 lanes give the same bits.
 */
export function adagradStep(
  x: Float32Array,
  xo: number,
  acc: Float32Array,
  ao: number,
  g: Float32Array,
  go: number,
  width: number,
  lr: number,
): void {
  const flr = Math.fround(lr);
  for (let q = 0; q < width; q++) {
    const gq = g[go + q]!;
    const state = Math.fround(acc[ao + q]! + Math.fround(gq * gq));
    acc[ao + q] = state;
    const den = Math.fround(Math.fround(Math.sqrt(state)) + ADAGRAD_EPS32);
    x[xo + q] = x[xo + q]! - Math.fround(Math.fround(flr * gq) / den);
  }
}

/** Row-wise Adagrad: `acc[ai]` is the row's one accumulator (the running sum of mean squared gradients). */
export function rowAdagradStep(
  x: Float32Array,
  xo: number,
  acc: Float32Array,
  ai: number,
  g: Float32Array,
  go: number,
  width: number,
  lr: number,
): void {
  let sq = 0;
  for (let q = 0; q < width; q++) sq += g[go + q]! * g[go + q]!;
  const state = acc[ai]! + sq / width;
  acc[ai] = state;
  const step = lr / (Math.sqrt(state) + ADAGRAD_EPS);
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! - step * g[go + q]!;
}

/** Scale a row onto the L2 ball of radius `maxNorm` when it lies outside (TransE's constraint). */
export function projectRow(x: Float32Array, xo: number, width: number, maxNorm: number): void {
  let sq = 0;
  for (let q = 0; q < width; q++) sq += x[xo + q]! * x[xo + q]!;
  if (sq <= maxNorm * maxNorm) return;
  const f = maxNorm / Math.sqrt(sq);
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! * f;
}

/**
 * One row's update with the rule `optimizer` names: `acc` and `accIdx` as
 * `adagradStep` (`adagrad`: the row's first float's accumulator) or
 * `rowAdagradStep` (`adagrad-row`: the row's one accumulator) take them;
 * unused under SGD.
 */
export function applyRule(
  optimizer: 'sgd' | 'adagrad' | 'adagrad-row',
  x: Float32Array,
  xo: number,
  acc: Float32Array,
  accIdx: number,
  g: Float32Array,
  go: number,
  width: number,
  lr: number,
): void {
  if (optimizer === 'adagrad') adagradStep(x, xo, acc, accIdx, g, go, width, lr);
  else if (optimizer === 'sgd') sgdStep(x, xo, g, go, width, lr);
  else rowAdagradStep(x, xo, acc, accIdx, g, go, width, lr);
}
