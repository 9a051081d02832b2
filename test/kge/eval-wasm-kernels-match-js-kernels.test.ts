/**
 * The WebAssembly SIMD kernels score what the models' own JS block kernels
 * score (float32 against float64: within float32 rounding), for every
 * built-in model, tails and heads, with dims and entity counts that are not
 * multiples of 4 (padding) and odd query counts (tile remainders); `count`
 * counts like a plain loop, NaN included; a user-defined model has a plan
 * only when it supplies one. A fixed grid of shapes, then a fast-check
 * property over random shapes, query counts and tables (seeded from
 * KGSHARD_SEED, printed on failure).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { WasmScorer, wasmKernelBytes, wasmSimdSupported } from '../../src/kge/wasm/scorer.js';
import { createModel, defineModel, MODEL_NAMES, newBlock } from '../../src/kge/models/index.js';

test('the kernel module is valid WebAssembly with SIMD', () => {
  const bytes = wasmKernelBytes();
  assert.equal(Array.from(bytes.subarray(0, 8)), [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  assert.ok(wasmSimdSupported());
});

test('WASM scores equal the JS block kernels within float32 rounding, every built-in model, both directions', () => {
  const rand = rng(20240611);
  let compared = 0;
  for (const name of MODEL_NAMES) {
    const model = createModel(name);
    const plan = model.queryPlan;
    assert.ok(plan !== undefined, name);
    for (const dim of [1, 2, 3, 4, 5, 7, 8, 13, 16]) {
      for (const n of [1, 3, 4, 9, 22]) {
        const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
        const nr = 3;
        const E = Float32Array.from({ length: n * ew }, () => rand() * 2 - 1);
        const R = Float32Array.from({ length: nr * rw }, () => rand() * 2 - 1);
        const q = 5;
        const sc = WasmScorer.create(plan, n, dim, ew, 2 * q)!;
        assert.ok(sc !== null);
        sc.loadEntities(E);
        const ents = Array.from({ length: q }, () => Math.floor(rand() * n));
        const rels = Array.from({ length: q }, () => Math.floor(rand() * nr));
        for (let i = 0; i < q; i++) {
          plan.query(true, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, i * sc.rowFloats, sc.imFloats);
          plan.query(false, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, (q + i) * sc.rowFloats, sc.imFloats);
        }
        // An odd number of query rows: the last tile of two is half padding.
        sc.scoreAll(2 * q - 1);
        const b = newBlock();
        Object.assign(b, {
          dim,
          n: q,
          ent: E,
          rel: R,
          cand: E,
          m: n,
          entOffs: Int32Array.from(ents, (e) => e * ew),
          relOffs: Int32Array.from(rels, (r) => r * rw),
          candOffs: Int32Array.from({ length: n }, (_, j) => j * ew),
        });
        const tails = new Float64Array(q * n);
        const heads = new Float64Array(q * n);
        model.scoreTails(b, tails);
        model.scoreHeads(b, heads);
        for (let i = 0; i < q; i++) {
          for (let j = 0; j < n; j++) {
            const want = [tails[i * n + j]!, heads[i * n + j]!];
            const rows = [i, q + i];
            for (let s = 0; s < 2; s++) {
              if (rows[s]! >= 2 * q - 1) continue;
              const got = sc.scores[rows[s]! * sc.scoreStride + j]!;
              // float32 queries and sums: relative error ~ dim * 2^-24, plus the rounding of q.
              const tol = 1e-5 * Math.max(1, Math.abs(want[s]!)) * Math.max(1, Math.sqrt(ew));
              assert.ok(
                Math.abs(got - want[s]!) <= tol,
                `${name} dim ${dim} n ${n} ${s ? 'head' : 'tail'} (${i}, ${j}): wasm ${got} js ${want[s]}`,
              );
              compared++;
            }
          }
        }
      }
    }
  }
  assert.ok(compared > 10000);
});

test('property: WASM scores equal the JS block kernels to float32 rounding, any model, tails and heads', async () => {
  await check(
    fc.property(
      fc.constantFrom(...MODEL_NAMES),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (name, dim, n, q, seed) => {
        const rand = rng(seed);
        const model = createModel(name);
        const plan = model.queryPlan!;
        const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
        const nr = 2;
        const E = Float32Array.from({ length: n * ew }, () => rand() * 2 - 1);
        const R = Float32Array.from({ length: nr * rw }, () => rand() * 2 - 1);
        const sc = WasmScorer.create(plan, n, dim, ew, 2 * q)!;
        sc.loadEntities(E);
        const ents = Array.from({ length: q }, () => Math.floor(rand() * n));
        const rels = Array.from({ length: q }, () => Math.floor(rand() * nr));
        for (let i = 0; i < q; i++) {
          plan.query(true, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, i * sc.rowFloats, sc.imFloats);
          plan.query(false, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, (q + i) * sc.rowFloats, sc.imFloats);
        }
        sc.scoreAll(2 * q);
        const b = newBlock();
        Object.assign(b, {
          dim,
          n: q,
          ent: E,
          rel: R,
          cand: E,
          m: n,
          entOffs: Int32Array.from(ents, (e) => e * ew),
          relOffs: Int32Array.from(rels, (r) => r * rw),
          candOffs: Int32Array.from({ length: n }, (_, j) => j * ew),
        });
        const tails = new Float64Array(q * n);
        const heads = new Float64Array(q * n);
        model.scoreTails(b, tails);
        model.scoreHeads(b, heads);
        for (let i = 0; i < q; i++) {
          for (let j = 0; j < n; j++) {
            for (const [row, want] of [
              [i, tails[i * n + j]!],
              [q + i, heads[i * n + j]!],
            ] as const) {
              const got = sc.scores[row * sc.scoreStride + j]!;
              // float32 queries and sums: relative error ~ dim * 2^-24, plus the rounding of q.
              const tol = 1e-5 * Math.max(1, Math.abs(want)) * Math.max(1, Math.sqrt(ew));
              assert.ok(
                Math.abs(got - want) <= tol,
                `${name} dim ${dim} n ${n} ${row < q ? 'tail' : 'head'} (${i}, ${j}): wasm ${got} js ${want}`,
              );
            }
          }
        }
      },
    ),
    150,
  );
});

test('count gives the scores below and equal to a threshold, NaN in neither', () => {
  const model = createModel('distmult');
  const plan = model.queryPlan!;
  const rand = rng(5);
  for (const n of [1, 2, 3, 4, 5, 8, 11, 64, 67]) {
    const sc = WasmScorer.create(plan, n, 1, 1, 2)!;
    // Entity j's "row" is one float; the query is 1, so score j = entity j.
    const E = Float32Array.from({ length: n }, () => [0.5, 0.25, NaN, Math.fround(rand())][Math.floor(rand() * 4)]!);
    sc.loadEntities(E);
    sc.q[0] = 1;
    sc.scoreAll(1);
    for (const t of [0.25, 0.5, NaN, 2, -1, E[0]!]) {
      sc.count(0, t);
      let lt = 0;
      let eq = 0;
      for (const v of E) {
        if (v < t) lt++;
        if (v === t) eq++;
      }
      assert.is(sc.lt, lt, `n ${n} t ${t} lt`);
      assert.is(sc.eq, eq, `n ${n} t ${t} eq`);
    }
  }
});

test('a user-defined model has a query plan only when its spec supplies one', () => {
  const spec = {
    name: 'distmult',
    shapes: (d: number) => ({ entityWidth: d, relationWidth: d }),
    score: () => 0,
    accumulateGrad() {},
  };
  assert.is(defineModel(spec).queryPlan, undefined);
  const plan = createModel('distmult').queryPlan!;
  assert.is(defineModel({ ...spec, queryPlan: plan }).queryPlan, plan);
});

test.run();
