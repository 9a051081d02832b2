/**
 * The two-pass ranking of the `dot` plans (DistMult, ComplEx; `ranker.wat`
 * through `WasmScorer`) counts exactly what one float32 pass counts: for
 * random tables (scales from 1e-3 to 1e3, twin rows that tie, rows of
 * zeros), every model with a `dot` plan, tail and head queries, the target's
 * float32 score, the entities below and equal to it, and the place of any
 * entity against it (`classify`) equal those of `scoreAll` + `count` on a
 * one-pass scorer. And each kernel of `ranker.wat` equals its JavaScript
 * fallback: `dot16` an exact integer dot product, `band` a plain loop,
 * `rescore` the same float32 operations in the same order (exactly).
 * fast-check, seeded from KGSHARD_SEED (printed on failure).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { WasmScorer, wasmRankerBytes } from '../../src/kge/wasm/scorer.js';
import { createModel } from '../../src/kge/models/index.js';
import { createRanker, rankQueries } from '../../src/kge/eval.js';
import { FilterIndex } from '../../src/kge/filter.js';

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
};

const DOT_MODELS = ['distmult', 'complex'] as const;

test('two passes give the float32 counts and places of one pass, dot models, tails and heads', async () => {
  let rows = 0;
  let ties = 0;
  await check(
    fc.property(
      fc.constantFrom(...DOT_MODELS),
      fc.integer({ min: 1, max: 13 }),
      fc.integer({ min: 1, max: 41 }),
      fc.constantFrom(1e-3, 1, 1e3),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (name, dim, n, scale, seed) => {
        const model = createModel(name);
        const plan = model.queryPlan!;
        const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
        const rand = rng(seed);
        const E = Float32Array.from({ length: n * ew }, () => (rand() * 2 - 1) * scale);
        for (let e = 1; e < n; e++) {
          const u = rand();
          if (u < 0.3) E.copyWithin(e * ew, Math.floor(rand() * e) * ew, (Math.floor(rand() * e) + 1) * ew);
          else if (u < 0.35) E.fill(0, e * ew, (e + 1) * ew);
        }
        const nr = 2;
        const R = Float32Array.from({ length: nr * rw }, () => rand() * 2 - 1);
        const q = 3;
        const two = WasmScorer.create(plan, n, dim, ew, 2 * q)!;
        const one = WasmScorer.create(plan, n, dim, ew, 2 * q, { twoPass: false })!;
        assert.ok(two.twoPass && !one.twoPass);
        two.loadEntities(E);
        one.loadEntities(E);
        const ents = Array.from({ length: q }, () => Math.floor(rand() * n));
        const rels = Array.from({ length: q }, () => Math.floor(rand() * nr));
        for (const sc of [two, one]) {
          for (let i = 0; i < q; i++) {
            plan.query(true, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, i * sc.rowFloats, sc.imFloats);
            plan.query(false, E, ents[i]! * ew, R, rels[i]! * rw, dim, sc.q, (q + i) * sc.rowFloats, sc.imFloats);
          }
        }
        assert.ok(two.prepareTwoPass(2 * q));
        two.scoreTwoPass(2 * q);
        one.scoreAll(2 * q);
        for (let row = 0; row < 2 * q; row++) {
          const target = Math.floor(rand() * n);
          two.rankRow(row, target);
          const t = one.scores[row * one.scoreStride + target]!;
          one.count(row, t);
          const where = `${name} dim ${dim} n ${n} scale ${scale} row ${row} (${row < q ? 'tail' : 'head'})`;
          assert.is(two.tgt, t, `${where}: target score`);
          assert.is(two.lt, one.lt, `${where}: below`);
          assert.is(two.eq, one.eq, `${where}: equal`);
          ties += one.eq - 1;
          for (let x = 0; x < n; x++) {
            const s = one.scores[row * one.scoreStride + x]!;
            assert.is(two.classify(x), s < t ? -1 : s === t ? 0 : 1, `${where}: entity ${x}`);
          }
          rows++;
        }
      },
    ),
    200,
  );
  assert.ok(rows > 0 && ties > 0, `rows ${rows}, ties with the target ${ties}`);
});

test('a table or query with a non-finite value is not for two passes', () => {
  const model = createModel('distmult');
  const sc = WasmScorer.create(model.queryPlan!, 4, 4, 4, 2)!;
  sc.loadEntities(Float32Array.of(1, 2, 3, 4, 0, 0, 0, 0, NaN, 1, 1, 1, 1, 1, 1, 1));
  sc.q.set([1, 1, 1, 1]);
  assert.not.ok(sc.prepareTwoPass(1));
  sc.loadEntities(new Float32Array(16).fill(1));
  assert.ok(sc.prepareTwoPass(1));
  sc.q[2] = Infinity;
  assert.not.ok(sc.prepareTwoPass(1));
});

interface RankerKernels {
  dot16(
    qPtr: number,
    nq: number,
    qs: number,
    cPtr: number,
    nc: number,
    cs: number,
    kb: number,
    o: number,
    os: number,
  ): void;
  band(ptr: number, n: number, lo: number, hi: number, res: number, idx: number): number;
  rescore(qPtr: number, cPtr: number, rowBytes: number, kBytes: number, idx: number, m: number, out: number): void;
}

function kernels(): { k: RankerKernels; buf: ArrayBuffer } {
  const mem = new WebAssembly.Memory({ initial: 4 });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasmRankerBytes()), { env: { mem } }).exports;
  return { k: ex as unknown as RankerKernels, buf: mem.buffer };
}

test('dot16, band and rescore equal their JavaScript fallbacks', async () => {
  const { k, buf } = kernels();
  await check(
    fc.property(
      fc.integer({ min: 1, max: 6 }), // 8-int16 steps per row (K = 8 * steps)
      fc.integer({ min: 1, max: 5 }), // query tiles of 2
      fc.integer({ min: 1, max: 6 }), // candidate tiles of 4
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (steps, qt, ct, seed) => {
        const rand = rng(seed);
        const K = 8 * steps;
        const nq = 2 * qt;
        const nc = 4 * ct;
        const M = Math.min(32767, Math.floor(Math.sqrt(2147483647 / K)));
        const i16 = new Int16Array(buf);
        const i32 = new Int32Array(buf);
        const f32 = new Float32Array(buf);
        const qPtr = 0;
        const cPtr = 2 * K * nq;
        const oPtr = cPtr + 2 * K * nc;
        for (let i = 0; i < K * (nq + nc); i++) i16[i] = Math.round((rand() * 2 - 1) * M);
        k.dot16(qPtr, nq, 2 * K, cPtr, nc, 2 * K, 2 * K, oPtr, 4 * nc);
        for (let i = 0; i < nq; i++) {
          for (let j = 0; j < nc; j++) {
            let s = 0;
            for (let x = 0; x < K; x++) s += i16[qPtr / 2 + i * K + x]! * i16[cPtr / 2 + j * K + x]!;
            assert.is(i32[oPtr / 4 + i * nc + j], s, `dot16 K ${K} (${i}, ${j})`);
          }
        }
        // band over the first row of those scores, around a value of that row
        const row = Array.from(i32.subarray(oPtr / 4, oPtr / 4 + nc));
        const mid = row[Math.floor(rand() * nc)]!;
        const w = Math.floor(rand() * 3 * M * M);
        const resPtr = oPtr + 4 * nq * nc;
        const idxPtr = resPtr + 16;
        const m = k.band(oPtr, nc, mid - w, mid + w, resPtr, idxPtr);
        const inside = row.flatMap((v, j) => (v >= mid - w && v <= mid + w ? [j] : []));
        assert.equal(Array.from(i32.subarray(idxPtr / 4, idxPtr / 4 + m)), inside, 'band indices');
        assert.is(i32[resPtr / 4], row.filter((v) => v < mid - w).length, 'band below');
        assert.is(i32[resPtr / 4 + 1], row.filter((v) => v > mid + w).length, 'band above');
        // rescore: float32 rows, some of the candidates in random order
        const fq = 0;
        const fc0 = 4 * K;
        for (let x = 0; x < K * (1 + nc); x++) f32[x] = Math.fround((rand() * 2 - 1) * 10 ** (rand() * 6 - 3));
        const outPtr = fc0 + 4 * K * nc;
        const listPtr = outPtr + 4 * nc;
        const list = Array.from({ length: Math.floor(rand() * (nc + 1)) }, () => Math.floor(rand() * nc));
        i32.set(list, listPtr / 4);
        k.rescore(fq, fc0, 4 * K, 4 * K, listPtr, list.length, outPtr);
        list.forEach((j, p) => {
          const lanes = [0, 0, 0, 0];
          for (let x = 0; x < K; x++)
            lanes[x % 4] = Math.fround(lanes[x % 4]! + Math.fround(f32[x]! * f32[fc0 / 4 + j * K + x]!));
          const want = Math.fround(Math.fround(lanes[0]! + lanes[2]!) + Math.fround(lanes[1]! + lanes[3]!));
          assert.is(f32[outPtr / 4 + p], want, `rescore K ${K} row ${j}`);
        });
      },
    ),
    200,
  );
});

test('a one-pass scorer of a dot plan and the two-pass one agree on the whole built-in-sized row', () => {
  // One large case the property's small tables do not reach: the int16 tiles and band over thousands of rows.
  const rand = rng(77);
  const model = createModel('complex');
  const plan = model.queryPlan!;
  const dim = 24;
  const n = 5003;
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  const E = Float32Array.from({ length: n * ew }, () => rand() - 0.5);
  const R = Float32Array.from({ length: rw }, () => rand() - 0.5);
  const two = WasmScorer.create(plan, n, dim, ew, 4)!;
  const one = WasmScorer.create(plan, n, dim, ew, 4, { twoPass: false })!;
  for (const sc of [two, one]) {
    sc.loadEntities(E);
    for (let i = 0; i < 4; i++)
      plan.query(i % 2 === 0, E, i * 101 * ew, R, 0, dim, sc.q, i * sc.rowFloats, sc.imFloats);
  }
  assert.ok(two.prepareTwoPass(4));
  two.scoreTwoPass(4);
  one.scoreAll(4);
  for (let row = 0; row < 4; row++) {
    const target = 17 * row + 3;
    two.rankRow(row, target);
    one.count(row, one.scores[row * one.scoreStride + target]!);
    assert.is(two.lt, one.lt);
    assert.is(two.eq, one.eq);
  }
  assert.ok(two.banded < 4 * n, `the band (${two.banded} of ${4 * n}) is a part of the rows`);
});

test('a band too wide for two passes (one outlier row sets the scale) falls back to one pass, same ranks', () => {
  // Halves and small integers: every float32 and float64 sum here is exact, so the backends agree exactly.
  const rand = rng(91);
  const model = createModel('distmult');
  const dim = 8;
  const n = 300;
  const E = Float32Array.from({ length: n * dim }, () => (Math.floor(rand() * 5) - 2) / 2);
  E.fill(4096, 0, dim); // entity 0: the outlier that makes every other row quantise to (nearly) zero
  const R = Float32Array.from({ length: 2 * dim }, () => Math.floor(rand() * 3) - 1);
  const triples = Int32Array.from({ length: 3 * 200 }, (_, i) =>
    i % 3 === 1 ? Math.floor(rand() * 2) : 1 + Math.floor(rand() * (n - 1)),
  );
  const filter = FilterIndex.build(n, 2, [{ name: 'train', triples }]);
  const queries = triples.subarray(0, 3 * 150);
  const ranks = (backend: 'js' | 'wasm'): [Float64Array, Float64Array, ReturnType<typeof createRanker>] => {
    const ranker = createRanker({ model, dim, entities: E, relations: R, filter, backend, batch: 4 });
    const t = new Float64Array(150);
    const h = new Float64Array(150);
    rankQueries(ranker, queries, 0, 150, t, h);
    return [t, h, ranker];
  };
  const [wt, wh, wasm] = ranks('wasm');
  const [jt, jh] = ranks('js');
  assert.is((wasm as unknown as { twoPass: boolean }).twoPass, false, 'the ranker left two passes');
  assert.equal(Array.from(wt), Array.from(jt));
  assert.equal(Array.from(wh), Array.from(jh));
});

test.run();
