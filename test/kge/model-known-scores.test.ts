/**
 * Hand-computed scores and gradients of tiny rows, one set per model: the
 * conventions (sign, norm, complex layout, phases) are the reference's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, type KgeModel } from '../../src/kge/models/index.js';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

/** Score (h, r, t) given as plain arrays, each in its own buffer at offset 0. */
function score(model: KgeModel, h: number[], r: number[], t: number[], dim: number): number {
  return model.score(f32(h), 0, f32(r), 0, f32(t), 0, dim);
}

/** The gradients of (h, r, t) times `coef`, from zero. */
function grads(model: KgeModel, h: number[], r: number[], t: number[], dim: number, coef = 1): number[][] {
  const gH = new Float32Array(h.length);
  const gR = new Float32Array(r.length);
  const gT = new Float32Array(t.length);
  model.accumulateGrad(f32(h), 0, f32(r), 0, f32(t), 0, dim, coef, gH, 0, gR, 0, gT, 0);
  return [Array.from(gH), Array.from(gR), Array.from(gT)];
}

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} != ${expected}`);

test('TransE L1: -||h + r - t||_1, sign subgradient', () => {
  const m = createModel('transe-l1');
  assert.is(score(m, [1, 0], [0, 1], [0, 0], 2), -2);
  assert.is(score(m, [1, 2, 3], [1, 1, 1], [2, 3, 4], 3), 0);
  assert.is(score(m, [0.5, -1], [0, 0], [0, 1], 2), -2.5);
  assert.equal(grads(m, [1, 0], [0, 1], [0, 0], 2), [
    [-1, -1],
    [-1, -1],
    [1, 1],
  ]);
  // u = (1, 0, -2): the zero coordinate gets the zero subgradient.
  assert.equal(grads(m, [1, 0, 0], [0, 0, 0], [0, 0, 2], 3, 2), [
    [-2, 0, 2],
    [-2, 0, 2],
    [2, 0, -2],
  ]);
  assert.is(createModel('transe').name, 'transe-l1');
});

test('TransE L2: -||h + r - t||_2, zero gradient at zero distance', () => {
  const m = createModel('transe-l2');
  close(score(m, [1, 0], [0, 1], [0, 0], 2), -Math.SQRT2, 'score');
  assert.is(score(m, [3, 0], [0, 4], [0, 0], 2), -5);
  assert.equal(
    grads(m, [3, 0], [0, 4], [0, 0], 2),
    [
      [-0.6, -0.8],
      [-0.6, -0.8],
      [0.6, 0.8],
    ].map((r) => Array.from(f32(r))),
  );
  assert.equal(grads(m, [1, 2], [1, 1], [2, 3], 2), [
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  assert.is(createModel('transe', { norm: 'l2' }).name, 'transe-l2');
});

test('DistMult: sum h r t', () => {
  const m = createModel('distmult');
  assert.is(score(m, [1, 2], [3, 4], [5, 6], 2), 63);
  assert.is(score(m, [5, 6], [3, 4], [1, 2], 2), 63); // symmetric in head and tail
  assert.equal(grads(m, [1, 2], [3, 4], [5, 6], 2), [
    [15, 24],
    [5, 12],
    [3, 8],
  ]);
});

test('ComplEx: Re(<h, r, conj t>) with real parts then imaginary parts; dim is the complex rank', () => {
  const m = createModel('complex');
  // h = 1+2i, r = 3+4i, t = 5+6i: h r = -5+10i, Re((-5+10i)(5-6i)) = -25 + 60 = 35
  assert.is(score(m, [1, 2], [3, 4], [5, 6], 1), 35);
  // dim 2: h = (1, i), r = (i, 1), t = (i, i): h r = (i, i), Re(i * -i + i * -i) = 2
  assert.is(score(m, [1, 0, 0, 1], [0, 1, 1, 0], [0, 0, 1, 1], 2), 2);
  // Gradients of 35 = (hre rre - him rim) tre + (hre rim + him rre) tim at (1+2i, 3+4i, 5+6i)
  assert.equal(grads(m, [1, 2], [3, 4], [5, 6], 1), [
    [3 * 5 + 4 * 6, 3 * 6 - 4 * 5],
    [1 * 5 + 2 * 6, 1 * 6 - 2 * 5],
    [-5, 10],
  ]);
  // A real-valued ComplEx is DistMult.
  assert.is(score(m, [1, 2, 0, 0], [3, 4, 0, 0], [5, 6, 0, 0], 2), 63);
});

test('RotatE: -sum_k |h_k e^{iθ_k} - t_k| with entity rows re|im and relation rows of phases', () => {
  const m = createModel('rotate');
  // h = 1, θ = π/2: h r = i; |i - 0| = 1; |i - i| = 0
  close(score(m, [1, 0], [Math.PI / 2], [0, 0], 1), -1, 'rotate to i, t = 0');
  close(score(m, [1, 0], [Math.PI / 2], [0, 1], 1), 0, 'rotate to i, t = i');
  // dim 2: h = (1, i), θ = (π, π/2): h r = (-1, -1); t = 0 gives -2, t = (-1, -1) gives 0
  close(score(m, [1, 0, 0, 1], [Math.PI, Math.PI / 2], [0, 0, 0, 0], 2), -2, 't = 0');
  close(score(m, [1, 0, 0, 1], [Math.PI, Math.PI / 2], [-1, -1, 0, 0], 2), 0, 't = h r');
  // h = 3, θ = 0, t = 4i: z = 3 - 4i, |z| = 5
  assert.is(score(m, [3, 0], [0], [0, 4], 1), -5);
  // d(-|z|)/dh = -(3, -4)/5; d(-|z|)/dθ: |z|^2 = 25 - 24 sin θ, so -d|z|/dθ = 12 cos θ / |z| = 2.4
  const [gH, gR, gT] = grads(m, [3, 0], [0], [0, 4], 1);
  assert.equal(gH, Array.from(f32([-0.6, 0.8])));
  assert.equal(gR, Array.from(f32([2.4])));
  assert.equal(gT, Array.from(f32([0.6, -0.8])));
});

test('RotatE initialises relation phases uniformly in [-π, π]', () => {
  const m = createModel('rotate');
  assert.type(m.initRelation, 'function');
  const row = new Float32Array(6).fill(99);
  const values = [0, 0.25, 0.5, 0.75];
  let i = 0;
  m.initRelation!(row, 1, 4, () => values[i++]!);
  assert.equal(Array.from(row), Array.from(f32([99, -Math.PI, -Math.PI / 2, 0, Math.PI / 2, 99])));
  for (const name of ['distmult', 'complex'] as const) assert.is(createModel(name).initRelation, undefined, name);
});

test('TransE initialises rows as Bordes et al.: uniform in ±6/√dim, scaled to unit L2 norm', () => {
  const m = createModel('transe');
  // dim 4: bound 3; draws 0, 0.5, 0.75, 1 give -3, 0, 1.5, 3, norm √(9 + 2.25 + 9) = 4.5.
  for (const init of [m.initEntity!, m.initRelation!]) {
    const row = new Float32Array(6).fill(99);
    const values = [0, 0.5, 0.75, 1];
    let i = 0;
    init.call(m, row, 1, 4, () => values[i++]!);
    assert.equal(Array.from(row), Array.from(f32([99, -3 / 4.5, 0, 1.5 / 4.5, 3 / 4.5, 99])));
  }
  for (const name of ['distmult', 'complex', 'rotate'] as const)
    assert.is(createModel(name).initEntity, undefined, name);
});

test.run();
