/**
 * The per-row arithmetic of a training update, one home for each rule:
 * the regularisers' gradients, the optimizers' steps and the max-norm
 * projection. Pure functions over (typed array, offset) pairs: the trainer
 * calls them on shared rows in place, tests on hand-made rows. Hot-path
 * code: no allocation, no throw; arguments are checked at the edge
 * (`validateTrainOptions`).
 *
 * Adagrad is element-wise (Duchi et al. 2011, as `torch.optim.Adagrad`):
 *   G_q += g_q²;  x_q -= lr · g_q / (√G_q + ε)
 * Row-wise Adagrad (PyTorch-BigGraph's) keeps one accumulator per row:
 *   G += mean_q g_q²;  x_q -= lr · g_q / (√G + ε)
 * The accumulators start at 0 and ε = 1e-10, PyTorch's defaults.
 */
import type { KgeModel } from './model.js';

export const ADAGRAD_EPS = 1e-10;

/** x -= lr · g over `width` floats. */
export function sgdStep(x: Float32Array, xo: number, g: Float32Array, go: number, width: number, lr: number): void {
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! - lr * g[go + q]!;
}

/** Element-wise Adagrad: `acc[ao + q]` is float q's accumulator. */
export function adagradStep(x: Float32Array, xo: number, acc: Float32Array, ao: number, g: Float32Array, go: number, width: number, lr: number): void {
  for (let q = 0; q < width; q++) {
    const gq = g[go + q]!;
    const state = acc[ao + q]! + gq * gq;
    acc[ao + q] = state;
    x[xo + q] = x[xo + q]! - (lr * gq) / (Math.sqrt(state) + ADAGRAD_EPS);
  }
}

/** Row-wise Adagrad: `acc[ai]` is the row's one accumulator (the running sum of mean squared gradients). */
export function rowAdagradStep(x: Float32Array, xo: number, acc: Float32Array, ai: number, g: Float32Array, go: number, width: number, lr: number): void {
  let sq = 0;
  for (let q = 0; q < width; q++) sq += g[go + q]! * g[go + q]!;
  const state = acc[ai]! + sq / width;
  acc[ai] = state;
  const step = lr / (Math.sqrt(state) + ADAGRAD_EPS);
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! - step * g[go + q]!;
}

/**
 * Add the gradient of the regulariser of one row, counted once per
 * occurrence of the row in a positive triple (as the reference adds it per
 * positive), to `g[go ..]`:
 * - `l2`: λ Σ x², gradient 2λx;
 * - `n3`: λ Σ |x|³, gradient 3λ|x|x, where |x| is the model's own modulus
 *   when it has `n3Grad` (ComplEx: the complex coordinate's modulus).
 */
export function addRegGradient(
  model: KgeModel, kind: 'l2' | 'n3', lambda: number,
  x: Float32Array, xo: number, width: number, g: Float32Array, go: number,
): void {
  if (lambda === 0) return;
  if (kind === 'l2') {
    for (let q = 0; q < width; q++) g[go + q] = g[go + q]! + 2 * lambda * x[xo + q]!;
    return;
  }
  if (model.n3Grad) {
    model.n3Grad(x, xo, width, lambda, g, go);
    return;
  }
  for (let q = 0; q < width; q++) {
    const w = x[xo + q]!;
    g[go + q] = g[go + q]! + 3 * lambda * Math.abs(w) * w;
  }
}

/** Scale a row onto the L2 ball of radius `maxNorm` when it lies outside (TransE's constraint). */
export function projectRow(x: Float32Array, xo: number, width: number, maxNorm: number): void {
  let sq = 0;
  for (let q = 0; q < width; q++) sq += x[xo + q]! * x[xo + q]!;
  if (sq <= maxNorm * maxNorm) return;
  const f = maxNorm / Math.sqrt(sq);
  for (let q = 0; q < width; q++) x[xo + q] = x[xo + q]! * f;
}
