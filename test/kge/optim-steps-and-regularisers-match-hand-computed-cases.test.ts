/**
 * The per-row rules of a training update (src/kge/optim.ts), each against a
 * case computed by hand, and the regularisers' gradients against central
 * finite differences of their values:
 * - SGD, element-wise Adagrad (PyTorch's), row-wise Adagrad (PBG's);
 * - L2, N3 per float, N3 on complex moduli (ComplEx);
 * - the max-norm projection.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { ADAGRAD_EPS, adagradStep, addRegGradient, projectRow, rowAdagradStep, sgdStep } from '../../src/kge/optim.js';
import { createModel } from '../../src/kge/models/index.js';

const close = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

test('sgd: x -= lr g, only the row at the offset', () => {
  const x = f32([9, 1, 2, 9]);
  const g = f32([7, 0.5, -4]);
  sgdStep(x, 1, g, 1, 2, 0.1);
  assert.ok(close(x[1]!, 1 - 0.05) && close(x[2]!, 2 + 0.4), `${Array.from(x)}`);
  assert.is(x[0], 9);
  assert.is(x[3], 9);
});

test('element-wise adagrad: each float has its own accumulator (two steps by hand)', () => {
  // Row (1, -1), lr 0.5. Step 1: g = (2, 0.5): G = (4, 0.25), x = (1 - 0.5*2/2, -1 - 0.5*0.5/0.5) = (0.5, -1.5).
  // Step 2: g = (0, 1): G = (4, 1.25), x = (0.5, -1.5 - 0.5/√1.25).
  const x = f32([1, -1]);
  const acc = new Float32Array(2);
  adagradStep(x, 0, acc, 0, f32([2, 0.5]), 0, 2, 0.5);
  assert.ok(close(acc[0]!, 4) && close(acc[1]!, 0.25));
  assert.ok(close(x[0]!, 0.5) && close(x[1]!, -1.5), `${Array.from(x)}`);
  adagradStep(x, 0, acc, 0, f32([0, 1]), 0, 2, 0.5);
  assert.ok(close(acc[0]!, 4) && close(acc[1]!, 1.25));
  assert.ok(close(x[0]!, 0.5), 'a zero gradient leaves the float alone');
  assert.ok(close(x[1]!, -1.5 - 0.5 / Math.sqrt(1.25)), `${x[1]}`);
  // The first step of any float moves it by lr (times the sign of its gradient), whatever the gradient's size.
  const y = f32([0, 0, 0]);
  adagradStep(y, 0, new Float32Array(3), 0, f32([1e-3, -50, 7]), 0, 3, 0.1);
  for (const [q, s] of [
    [0, -1],
    [1, 1],
    [2, -1],
  ] as const)
    assert.ok(close(y[q]!, 0.1 * s, 1e-5), `float ${q}: ${y[q]}`);
  assert.ok(ADAGRAD_EPS === 1e-10);
});

test('row-wise adagrad: one accumulator per row, the mean of the squared gradient', () => {
  // g = (3, 4): mean square 12.5, step lr/√12.5 for both floats.
  const x = f32([0, 0, 1, 1]);
  const acc = f32([0, 2]);
  rowAdagradStep(x, 2, acc, 1, f32([3, 4]), 0, 2, 1);
  assert.ok(close(acc[1]!, 14.5));
  assert.ok(close(x[2]!, 1 - 3 / Math.sqrt(14.5)) && close(x[3]!, 1 - 4 / Math.sqrt(14.5)), `${Array.from(x)}`);
  assert.is(acc[0], 0);
});

test('l2 and n3 per float: 2λx and 3λ|x|x, added to what the gradient held', () => {
  const distmult = createModel('distmult');
  const x = f32([2, -1, 0.5]);
  const g = f32([1, 1, 1]);
  addRegGradient(distmult, 'l2', 0.1, x, 0, 3, g, 0);
  assert.ok(close(g[0]!, 1.4) && close(g[1]!, 0.8) && close(g[2]!, 1.1), `${Array.from(g)}`);
  const h = f32([0, 0, 0]);
  addRegGradient(distmult, 'n3', 0.1, x, 0, 3, h, 0);
  assert.ok(close(h[0]!, 3 * 0.1 * 4) && close(h[1]!, -0.3) && close(h[2]!, 3 * 0.1 * 0.25), `${Array.from(h)}`);
  const z = f32([5, 5, 5]);
  addRegGradient(distmult, 'n3', 0, x, 0, 3, z, 0);
  assert.equal(Array.from(z), [5, 5, 5], 'λ = 0 adds nothing');
});

test('n3 of complex: on the modulus of each complex coordinate, not per float', () => {
  // One complex coordinate z = 3 + 4i (dim 1: row = [re, im]): |z| = 5, gradient 3λ|z|(re, im) = 3λ(15, 20).
  const complex = createModel('complex');
  const x = f32([3, 4]);
  const g = new Float32Array(2);
  addRegGradient(complex, 'n3', 0.01, x, 0, 2, g, 0);
  assert.ok(close(g[0]!, 0.45) && close(g[1]!, 0.6), `${Array.from(g)}`);
  // Per float it would have been 3λ(9, 16) = (0.27, 0.48).
});

/** λ Σ |x|³ (per float, or per complex coordinate when `complexDim` > 0). */
function n3Value(x: Float64Array, lambda: number, complexDim: number): number {
  let s = 0;
  if (complexDim > 0) for (let k = 0; k < complexDim; k++) s += Math.hypot(x[k]!, x[complexDim + k]!) ** 3;
  else for (const v of x) s += Math.abs(v) ** 3;
  return lambda * s;
}

test('regularisers: the gradients are the finite differences of their values', async () => {
  const row = fc
    .array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 12 })
    .map((a) => (a.length % 2 === 0 ? a : a.slice(1)));
  await check(
    fc.property(
      row,
      fc.double({ min: 0.001, max: 1, noNaN: true }),
      fc.constantFrom('distmult', 'complex'),
      fc.constantFrom('l2' as const, 'n3' as const),
      (values, lambda, name, kind) => {
        const model = createModel(name);
        const width = values.length;
        const x = Float32Array.from(values);
        const stored = Float64Array.from(x);
        const g = new Float32Array(width);
        addRegGradient(model, kind, lambda, x, 0, width, g, 0);
        const value = (v: Float64Array): number =>
          kind === 'l2'
            ? lambda * v.reduce((s, a) => s + a * a, 0)
            : n3Value(v, lambda, name === 'complex' ? width / 2 : 0);
        const eps = 1e-6;
        for (let q = 0; q < width; q++) {
          const up = Float64Array.from(stored);
          const down = Float64Array.from(stored);
          up[q] = up[q]! + eps;
          down[q] = down[q]! - eps;
          const fd = (value(up) - value(down)) / (2 * eps);
          if (!(Math.abs(fd - g[q]!) <= 1e-4 * Math.max(1, Math.abs(fd)))) return false;
        }
        return true;
      },
    ),
    200,
  );
});

test('max-norm: rows outside the ball are scaled onto it, rows inside are left alone', () => {
  const x = f32([3, 4, 0.3, 0.4]);
  projectRow(x, 0, 2, 1);
  assert.ok(close(x[0]!, 0.6) && close(x[1]!, 0.8), `${Array.from(x)}`);
  projectRow(x, 2, 2, 1);
  assert.ok(close(x[2]!, 0.3) && close(x[3]!, 0.4));
});

test.run();
