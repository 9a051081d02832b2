/**
 * The regularisers' gradients of a training update. The optimizers' steps
 * and the max-norm projection live beside the parameter server, which
 * applies them too (`src/ps/update-rules.ts`), and are re-exported here.
 * Pure functions over (typed array, offset) pairs; hot-path code: no
 * allocation, no throw; arguments are checked at the edge
 * (`validateTrainOptions`).
 */
import type { KgeModel } from './model.js';
export { ADAGRAD_EPS, adagradStep, applyRule, projectRow, rowAdagradStep, sgdStep } from '../ps/update-rules.js';

/**
 * Add the gradient of the regulariser of one row, counted once per
 * occurrence of the row in a positive triple (as the reference adds it per
 * positive), to `g[go ..]`:
 * - `l2`: λ Σ x², gradient 2λx;
 * - `n3`: λ Σ |x|³, gradient 3λ|x|x, where |x| is the model's own modulus
 *   when it has `n3Grad` (ComplEx: the complex coordinate's modulus).
 */
export function addRegGradient(
  model: KgeModel,
  kind: 'l2' | 'n3',
  lambda: number,
  x: Float32Array,
  xo: number,
  width: number,
  g: Float32Array,
  go: number,
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
