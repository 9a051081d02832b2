/**
 * createModel builds every built-in model by name with the reference's row
 * widths (dim is the complex rank for ComplEx and RotatE), refuses unknown
 * names and options with errors that name them; defineModel validates a
 * user's spec and fills in the block kernels.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createModel,
  defineModel,
  MAX_DIM,
  MODEL_NAMES,
  newBlock,
  newBlockGrad,
  type ModelOptions,
  type ModelSpec,
} from '../../src/kge/models/index.js';
import { errorText } from '../helpers/errors.js';

test('row widths per model: ComplEx and RotatE entities hold 2*dim floats, RotatE relations dim phases', () => {
  const widths = (name: string, dim: number) => {
    const { entityWidth, relationWidth } = createModel(name).shapes(dim);
    return [entityWidth, relationWidth];
  };
  for (const dim of [1, 7, 100]) {
    assert.equal(widths('transe', dim), [dim, dim]);
    assert.equal(widths('transe-l2', dim), [dim, dim]);
    assert.equal(widths('distmult', dim), [dim, dim]);
    assert.equal(widths('complex', dim), [2 * dim, 2 * dim]);
    assert.equal(widths('rotate', dim), [2 * dim, dim]);
  }
});

test('every name builds a model whose name rebuilds it', () => {
  assert.equal([...MODEL_NAMES], ['transe', 'transe-l1', 'transe-l2', 'distmult', 'complex', 'rotate']);
  const names = MODEL_NAMES.map((n) => createModel(n).name);
  assert.equal(names, ['transe-l1', 'transe-l1', 'transe-l2', 'distmult', 'complex', 'rotate']);
  for (const n of names) assert.is(createModel(n).name, n);
  assert.is(createModel('transe', { norm: 'l1' }).name, 'transe-l1');
  assert.is(createModel('transe', { norm: 'l2' }).name, 'transe-l2');
  assert.is(createModel('transe', { norm: undefined }).name, 'transe-l1');
  assert.is(createModel('distmult', { norm: undefined }).name, 'distmult');
  assert.is.not(createModel('complex'), createModel('complex'), 'a fresh object per call');
});

test('an unknown model name is refused, naming it and the known ones', () => {
  assert.is(
    errorText(() => createModel('transee')),
    'E_INVALID_ARGUMENT: createModel: unknown model "transee"; ' +
      'known models: transe, transe-l1, transe-l2, distmult, complex, rotate',
  );
  assert.match(
    errorText(() => createModel('TransE')),
    /unknown model "TransE"/,
  );
  assert.match(
    errorText(() => createModel('')),
    /unknown model ""/,
  );
  assert.match(
    errorText(() => createModel(42 as unknown as string)),
    /unknown model 42;/,
  );
});

test('bad options are refused, naming the option and the value', () => {
  assert.is(
    errorText(() => createModel('transe', { norm: 'l3' as 'l1' })),
    `E_INVALID_ARGUMENT: createModel("transe"): options.norm must be 'l1' or 'l2', got "l3"`,
  );
  assert.match(
    errorText(() => createModel('distmult', { norm: 'l2' })),
    /^E_INVALID_ARGUMENT: createModel\("distmult"\): options\.norm must be absent: norm applies only to "transe".*got "l2"$/,
  );
  assert.match(
    errorText(() => createModel('transe-l1', { norm: 'l2' })),
    /createModel\("transe-l1"\): options\.norm/,
  );
  assert.match(
    errorText(() => createModel('complex', { gamma: 12 } as ModelOptions)),
    /^E_INVALID_ARGUMENT: createModel\("complex"\): options\.gamma must be absent \(known options: norm\), got 12$/,
  );
  assert.match(
    errorText(() => createModel('rotate', null as unknown as ModelOptions)),
    /options must be an object, got null/,
  );
});

test('shapes refuses a dim that is not a positive integer up to MAX_DIM', () => {
  for (const name of MODEL_NAMES) {
    const m = createModel(name);
    assert.match(
      errorText(() => m.shapes(0)),
      new RegExp(`^E_OUT_OF_RANGE: ${m.name}\\.shapes: dim must be in \\[1, ${MAX_DIM}\\], got 0$`),
    );
    assert.match(
      errorText(() => m.shapes(MAX_DIM + 1)),
      /E_OUT_OF_RANGE/,
    );
    assert.match(
      errorText(() => m.shapes(2.5)),
      /^E_INVALID_ARGUMENT: .*dim must be a positive integer, got 2\.5$/,
    );
    assert.match(
      errorText(() => m.shapes(Number.NaN)),
      /got NaN/,
    );
    assert.match(
      errorText(() => m.shapes('8' as unknown as number)),
      /got "8"/,
    );
    assert.equal(m.shapes(MAX_DIM).relationWidth > 0, true);
  }
});

/** A user's model: DistMult negated, -sum h r t. */
const spec: ModelSpec = {
  name: 'anti-distmult',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score(E, h, R, r, T, t, dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s -= E[h + k]! * R[r + k]! * T[t + k]!;
    return s;
  },
  accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
    for (let k = 0; k < dim; k++) {
      gH[gh + k] = gH[gh + k]! - coef * R[r + k]! * T[t + k]!;
      gR[gr + k] = gR[gr + k]! - coef * E[h + k]! * T[t + k]!;
      gT[gt + k] = gT[gt + k]! - coef * E[h + k]! * R[r + k]!;
    }
  },
};

test('defineModel: a user model gets checked shapes and default block kernels over its score', () => {
  const m = defineModel(spec);
  assert.is(m.name, 'anti-distmult');
  assert.equal(m.shapes(3), { entityWidth: 3, relationWidth: 3 });
  assert.match(
    errorText(() => m.shapes(0)),
    /^E_OUT_OF_RANGE: anti-distmult\.shapes: dim must be in/,
  );
  assert.is(m.initRelation, undefined);

  const b = newBlock();
  b.dim = 2;
  b.n = 1;
  b.m = 2;
  b.ent = b.cand = Float32Array.of(1, 2, 3, 4, 5, 6);
  b.rel = Float32Array.of(1, 1);
  b.entOffs = Int32Array.of(0);
  b.relOffs = Int32Array.of(0);
  b.candOffs = Int32Array.of(2, 4);
  const out = new Float64Array(2);
  m.scoreTails(b, out);
  assert.equal(Array.from(out), [-(3 + 8), -(5 + 12)]);
  b.ent = b.cand = Float32Array.of(1, 2, 3, 4, 5, 6);
  b.rel = Float32Array.of(2, 0);
  m.scoreHeads(b, out);
  assert.equal(Array.from(out), [-6, -10]);

  const g = newBlockGrad();
  g.ent = g.cand = new Float32Array(6);
  g.rel = new Float32Array(2);
  g.entOffs = b.entOffs;
  g.relOffs = b.relOffs;
  g.candOffs = b.candOffs;
  m.accumulateGradTails(b, Float64Array.of(1, 0), g);
  // Only the pair (row 0, rel, row 1) with coefficient 1: d/dh = -r t, d/dr = -h t, d/dt = -h r.
  assert.equal(Array.from(g.ent), [-6, -0, -2, -0, 0, 0]);
  assert.equal(Array.from(g.rel), [-3, -8]);
});

test('defineModel: custom block kernels and initRelation are used, with the spec as `this`', () => {
  const calls: string[] = [];
  const custom: ModelSpec = {
    ...spec,
    name: 'custom',
    scoreTails(_b, out) {
      calls.push(`scoreTails ${this === custom}`);
      out[0] = 7;
    },
    initRelation(row, offset, dim) {
      for (let k = 0; k < dim; k++) row[offset + k] = 9;
    },
  };
  const m = defineModel(custom);
  const out = new Float64Array(1);
  m.scoreTails(newBlock(), out);
  assert.equal(calls, ['scoreTails true']);
  assert.is(out[0], 7);
  const row = new Float32Array(3);
  m.initRelation!(row, 1, 2, Math.random);
  assert.equal(Array.from(row), [0, 9, 9]);
});

test('defineModel refuses a malformed spec, naming the field', () => {
  const bad = (s: unknown) => errorText(() => defineModel(s as ModelSpec));
  assert.match(bad(null), /^E_INVALID_ARGUMENT: defineModel: spec must be an object, got null$/);
  assert.match(bad({ ...spec, name: '' }), /defineModel: spec\.name must be a non-empty string, got ""/);
  assert.match(bad({ ...spec, name: 3 }), /spec\.name must be a non-empty string, got 3/);
  assert.match(
    bad({ ...spec, score: undefined }),
    /^E_INVALID_ARGUMENT: defineModel\("anti-distmult"\): spec\.score must be a function, got undefined$/,
  );
  assert.match(bad({ ...spec, accumulateGrad: 1 }), /spec\.accumulateGrad must be a function, got 1/);
  assert.match(bad({ ...spec, shapes: { entityWidth: 1, relationWidth: 1 } }), /spec\.shapes must be a function/);
  assert.match(bad({ ...spec, scoreHeads: 'fast' }), /spec\.scoreHeads must be a function or undefined, got "fast"/);
  const m = defineModel({ ...spec, shapes: (dim) => ({ entityWidth: dim / 2, relationWidth: dim }) });
  assert.is(m.shapes(4).entityWidth, 2);
  assert.match(
    errorText(() => m.shapes(3)),
    /anti-distmult\.shapes: shapes\(3\)\.entityWidth must be a positive integer, got 1\.5/,
  );
});

test.run();
