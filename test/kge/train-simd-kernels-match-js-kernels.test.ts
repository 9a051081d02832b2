/**
 * The training SIMD kernels (wasm/train-kernels.ts) compute what the
 * models' JavaScript block kernels compute, for every built-in model and
 * both directions (negatives in place of tails, and of heads): the scores
 * of a chunk's positives against its shared negatives and of the positives
 * themselves, and the gradients of every (positive, negative) pair and of
 * every positive with random loss coefficients (zeros included) into the
 * negatives' rows, the positives' entities and their relations.
 *
 * Inputs are multiples of 1/8 in [-1, 1], so that sums and differences of
 * rows are exact in float32 and float64 alike and an L1 sign never flips on
 * rounding. RotatE's phases are generic angles (multiples of 3/8 plus an
 * offset): a rotation by 0 or π would put rotated coordinates within
 * float64 rounding of another row's, where the unit vector d/|d| of its
 * gradient is ill-conditioned and float32 rounds d to 0. The SIMD side rounds queries,
 * coefficients and sums to float32, the JS side works in float64, so they
 * agree within a stated tolerance: |simd - js| <= 2e-5 * (1 + the largest
 * |js| value of that buffer), per value.
 *
 * A model without `queryGrad` in its plan, or a width the kernels do not
 * cover, trains on its JavaScript kernels; asking for `kernels: 'simd'`
 * then is a one-line error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { createModel, defineModel, MODEL_NAMES, newBlock, newBlockGrad } from '../../src/kge/models/index.js';
import { SimdChunkKernels, simdTrainBlocker } from '../../src/kge/wasm/train-kernels.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { buildDataset } from '../../src/data/dataset.js';

const TOL = 2e-5;

interface Case {
  model: string;
  tails: boolean;
  dim: number;
  n: number;
  k: number;
  seed: number;
  zeroShare: number;
}

/** A deterministic stream of multiples of 1/8 in [-1, 1] (and coefficients) from a seed. */
function grid(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (((s >>> 0) % 17) - 8) / 8;
  };
}

function maxAbs(a: ArrayLike<number>, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function compare(what: string, got: ArrayLike<number>, want: ArrayLike<number>, from: number, to: number): void {
  const tol = TOL * (1 + maxAbs(want, from, to));
  for (let i = from; i < to; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol)) assert.unreachable(`${what}[${i}]: simd ${got[i]} js ${want[i]} (|diff| ${d} > ${tol})`);
  }
}

function runCase(c: Case): void {
  const model = createModel(c.model);
  const plan = model.queryPlan!;
  const { entityWidth: ew, relationWidth: rw } = model.shapes(c.dim);
  assert.is(simdTrainBlocker(plan, c.dim, ew), null);
  const { n, k } = c;
  const next = grid(c.seed);
  const kern = new SimdChunkKernels(plan, c.dim, ew, n, k);
  // The tile: fixed entity of positive i at row 2i, its other entity at 2i + 1, negatives from row 2n.
  const rows = 2 * n + k;
  const tile = kern.tile;
  for (let q = 0; q < rows * ew; q++) tile[q] = next();
  const nr = 3;
  const R = new Float32Array(nr * rw);
  for (let q = 0; q < R.length; q++) R[q] = model.name === 'rotate' ? next() * 3 + 0.1234567 : next();
  const relOffs = Int32Array.from({ length: n }, (_, i) => ((i * 7 + c.seed) % nr) * rw);
  const fixed = Int32Array.from({ length: n }, (_, i) => 2 * i * ew);
  const negs = Int32Array.from({ length: k }, (_, j) => (2 * n + j) * ew);
  const other = Int32Array.from({ length: n }, (_, i) => (2 * i + 1) * ew);
  // JS: the model's block kernels on the same rows.
  const b = newBlock();
  Object.assign(b, { dim: c.dim, n, ent: tile, entOffs: fixed, rel: R, relOffs, m: k, cand: tile, candOffs: negs });
  const want = new Float64Array(n * k);
  if (c.tails) model.scoreTails(b, want);
  else model.scoreHeads(b, want);
  const got = new Float64Array(n * k);
  kern.scoreNegatives(c.tails, n, R, relOffs, fixed, got);
  compare(`${c.model} ${c.tails ? 'tails' : 'heads'} scores`, got, want, 0, n * k);
  // The positives' own scores, from the same queries.
  const posWant = Float64Array.from({ length: n }, (_, i) =>
    c.tails
      ? model.score(tile, fixed[i]!, R, relOffs[i]!, tile, other[i]!, c.dim)
      : model.score(tile, other[i]!, R, relOffs[i]!, tile, fixed[i]!, c.dim),
  );
  const posGot = new Float64Array(n);
  kern.scorePositives(n, other, posGot);
  compare(`${c.model} ${c.tails ? 'tails' : 'heads'} positive scores`, posGot, posWant, 0, n);

  const coef = Float64Array.from({ length: n * k }, () => {
    const v = next();
    return Math.abs(v) < c.zeroShare ? 0 : v;
  });
  const gJs = new Float32Array(rows * ew);
  const gRelJs = new Float32Array(n * rw);
  const relG = Int32Array.from({ length: n }, (_, i) => i * rw);
  const g = newBlockGrad();
  Object.assign(g, { ent: gJs, entOffs: fixed, rel: gRelJs, relOffs: relG, cand: gJs, candOffs: negs });
  if (c.tails) model.accumulateGradTails(b, coef, g);
  else model.accumulateGradHeads(b, coef, g);
  const posCoef = Float64Array.from({ length: n }, () => next());
  for (let i = 0; i < n; i++) {
    const [h, t] = c.tails ? [fixed[i]!, other[i]!] : [other[i]!, fixed[i]!];
    model.accumulateGrad(tile, h, R, relOffs[i]!, tile, t, c.dim, posCoef[i]!, gJs, h, gRelJs, relG[i]!, gJs, t);
  }
  kern.G.fill(0, 0, kern.rowsUsed(n) * ew);
  const gRel = new Float32Array(n * rw);
  kern.setCoefficients(n, coef);
  kern.addPairGradients(c.tails, n, R, relOffs, fixed, fixed, gRel, relG, posCoef, other, other);
  const dir = `${c.model} ${c.tails ? 'tails' : 'heads'} dim ${c.dim} n ${n} k ${k}`;
  compare(`${dir} entity gradients`, kern.G, gJs, 0, rows * ew);
  compare(`${dir} relation gradients`, gRel, gRelJs, 0, n * rw);
}

const caseArb = fc.record({
  model: fc.constantFrom(...MODEL_NAMES),
  tails: fc.boolean(),
  dim: fc.integer({ min: 1, max: 8 }).map((d) => 4 * d),
  n: fc.integer({ min: 1, max: 9 }),
  k: fc.integer({ min: 1, max: 13 }),
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  zeroShare: fc.constantFrom(0, 0.3, 0.7),
});

test('SIMD scores and pair gradients equal the JS block kernels: every model, both directions', async () => {
  // Every model and direction at least once, at a size with a padded query tile and negative tile.
  for (const model of MODEL_NAMES) {
    for (const tails of [true, false]) runCase({ model, tails, dim: 12, n: 5, k: 7, seed: 11, zeroShare: 0.3 });
  }
  await check(
    fc.property(caseArb, (c) => {
      runCase(c);
    }),
    150,
  );
});

test('the SIMD logistic loss and coefficients equal softplus and sigmoid in float64 (uniform weights)', async () => {
  const plan = createModel('distmult').queryPlan!;
  await check(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 13 }),
      fc.double({ min: -10, max: 10, noNaN: true }),
      fc.array(fc.double({ min: -120, max: 120, noNaN: true }), { minLength: 9 * 13, maxLength: 9 * 13 }),
      (n, k, gamma, raw) => {
        const dim = 4;
        const kern = new SimdChunkKernels(plan, dim, dim, n, k);
        // Scores through the real path: queries of 1s against negatives whose first float is the score.
        const tile = kern.tile;
        tile.fill(0);
        for (let i = 0; i < n; i++) tile[2 * i * dim] = 1;
        for (let j = 0; j < k; j++) tile[(2 * n + j) * dim] = Math.fround(raw[j]!);
        const R = Float32Array.of(1, 1, 1, 1);
        const relOffs = new Int32Array(n);
        const fixed = Int32Array.from({ length: n }, (_, i) => 2 * i * dim);
        kern.scoreNegatives(true, n, R, relOffs, fixed, null);
        const rowLoss = new Float64Array(n);
        kern.logistic(n, gamma, rowLoss);
        // The coefficients, read back through the gradient: gQ_i = sum_j C_ij x_j, here x_j = (score_j, 0, 0, 0).
        const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
        const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
        let want = 0;
        for (let j = 0; j < k; j++) want += softplus(Math.fround(gamma) + Math.fround(raw[j]!)) / k;
        for (let i = 0; i < n; i++) {
          const d = Math.abs(rowLoss[i]! - want);
          assert.ok(d <= 2e-6 * (1 + want), `row ${i}: simd ${rowLoss[i]} js ${want}`);
        }
        kern.G.fill(0, 0, kern.rowsUsed(n) * dim);
        const gRel = new Float32Array(n * dim);
        kern.addPairGradients(
          true,
          n,
          R,
          relOffs,
          fixed,
          fixed,
          gRel,
          Int32Array.from({ length: n }, (_, i) => i * dim),
        );
        // Negative j's gradient is (sum_i C_ij) * q_i = n * C_j in its first float.
        for (let j = 0; j < k; j++) {
          const c = sigmoid(Math.fround(gamma) + Math.fround(raw[j]!)) / k;
          const got = kern.G[(2 * n + j) * dim]! / n;
          assert.ok(Math.abs(got - c) <= 2e-6 * (1 + c), `coefficient ${j}: simd ${got} js ${c}`);
        }
      },
    ),
    200,
  );
});

test('the real chunk shape (64 positives, 64 negatives, dim 100; ComplEx and RotatE dim 48) matches too', () => {
  for (const model of MODEL_NAMES) {
    const dim = model === 'complex' || model === 'rotate' ? 48 : 100;
    for (const tails of [true, false]) runCase({ model, tails, dim, n: 64, k: 64, seed: 7, zeroShare: 0 });
  }
});

test('a model or width the SIMD kernels do not cover trains on JS kernels; asking for SIMD is an error', async () => {
  const transe = createModel('transe');
  assert.is(simdTrainBlocker(transe.queryPlan, 100, 100), null);
  assert.match(simdTrainBlocker(transe.queryPlan, 10, 10) ?? '', /vectors of 4/);
  assert.match(simdTrainBlocker(createModel('rotate').queryPlan, 6, 12) ?? '', /vectors of 4/);
  assert.match(simdTrainBlocker(undefined, 8, 8) ?? '', /no query plan/);
  const base = createModel('distmult');
  const spec = {
    shapes: (dim: number) => base.shapes(dim),
    score: base.score.bind(base),
    accumulateGrad: base.accumulateGrad.bind(base),
  };
  const noGrad = defineModel({
    name: 'distmult-no-query-grad',
    ...spec,
    queryPlan: { kernel: 'dot', parts: 1, query: base.queryPlan!.query },
  });
  const withGrad = defineModel({ name: 'distmult-with-query-grad', ...spec, queryPlan: base.queryPlan! });
  assert.match(simdTrainBlocker(noGrad.queryPlan, 8, 8) ?? '', /no queryGrad/);
  assert.is(simdTrainBlocker(withGrad.queryPlan, 8, 8), null);
  const rows: [string, string, string][] = [];
  for (let i = 0; i < 30; i++) rows.push([`e${i}`, 'next', `e${(i + 1) % 30}`]);
  const data = buildDataset('ring', { train: rows, valid: [], test: [] });
  const options = (model: string, kernels: 'simd' | 'auto'): TrainOptions => ({
    ...DEFAULT_TRAIN,
    model,
    dim: 8,
    batch: 16,
    neg: 8,
    chunk: 8,
    epochs: 20,
    kernels,
    inThread: true,
  });
  const err = (() => {
    try {
      new Trainer(data, options(noGrad.name, 'simd'), noGrad);
    } catch (e) {
      return e as Error;
    }
    return null;
  })();
  assert.ok(err !== null, 'kernels: simd refused for a plan without queryGrad');
  assert.match(err.message, /kernels/);
  assert.match(err.message, /no queryGrad/);
  assert.not.match(err.message, /\n/);
  // A user's plan with queryGrad opts into the SIMD kernels; without it, 'auto' trains on the JS kernels. Both learn.
  for (const [model, kernels] of [
    [withGrad, 'simd'],
    [noGrad, 'auto'],
  ] as const) {
    const t = new Trainer(data, options(model.name, kernels), model);
    await t.train();
    const losses = t.epochs.map((e) => e.loss);
    assert.ok(losses[losses.length - 1]! < 0.7 * losses[0]!, `${model.name}: loss ${losses[0]} -> ${losses.at(-1)}`);
    await t.close();
  }
});

test.run();
