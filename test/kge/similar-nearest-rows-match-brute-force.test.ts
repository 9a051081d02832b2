/**
 * `similar` gives, for both metrics and both backends, the k nearest rows
 * of a brute-force reference: cosine similarity or L2 distance of the query
 * row to every other row in float64, sorted (ties by id), top k. Tables are
 * random with duplicated rows (exact ties, which must come out by id) and
 * the odd zero row (cosine 0 with everything). Scores must match the
 * reference within float32 rounding, and each position must hold the
 * reference's row or one within that rounding of it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { createNeighbourIndex, similar, type SimilarityMetric } from '../../src/kge/similar.js';
import type { PredictBackend } from '../../src/kge/predict.js';
import { wasmSimdSupported } from '../../src/kge/wasm/scorer.js';

const backends: PredictBackend[] = wasmSimdSupported() ? ['js', 'wasm'] : ['js'];

function randomTable(rows: number, width: number, seed: number): Float32Array {
  const rand = rng(seed);
  const t = new Float32Array(rows * width);
  for (let i = 0; i < t.length; i++) t[i] = Math.fround(rand() * 2 - 1);
  for (let e = 1; e < rows; e++) {
    const u = rand();
    const src = Math.floor(rand() * e);
    if (u < 0.3) t.copyWithin(e * width, src * width, (src + 1) * width);
    else if (u < 0.35) t.fill(0, e * width, (e + 1) * width);
  }
  return t;
}

/** A row's reference closeness to `q`: the cosine (zero rows: 0), or minus the L2 distance. */
function closeness(t: Float32Array, w: number, q: number, x: number, metric: SimilarityMetric): number {
  let dot = 0;
  let a2 = 0;
  let b2 = 0;
  let d2 = 0;
  for (let k = 0; k < w; k++) {
    const a = t[q * w + k]!;
    const b = t[x * w + k]!;
    dot += a * b;
    a2 += a * a;
    b2 += b * b;
    d2 += (a - b) * (a - b);
  }
  if (metric === 'l2') return -Math.sqrt(d2);
  return a2 > 0 && b2 > 0 ? dot / Math.sqrt(a2 * b2) : 0;
}

test('nearest rows equal the brute-force neighbours for both metrics and backends', async () => {
  let ties = 0;
  await check(
    fc.property(
      fc.constantFrom<SimilarityMetric>('cosine', 'l2'),
      fc.constantFrom(...backends),
      fc.integer({ min: 1, max: 13 }),
      fc.integer({ min: 2, max: 60 }),
      fc.integer({ min: 1, max: 70 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 5 }),
      fc.integer(),
      (metric, backend, width, rows, k, includeSelf, batch, seed) => {
        const table = randomTable(rows, width, seed);
        const index = createNeighbourIndex({ table, width, metric, backend, batch });
        assert.is(index.backend, backend);
        const ids = Int32Array.from({ length: 7 }, (_, i) => (i * 7 + (seed >>> 0)) % rows);
        const r = index.nearest(ids, k, { includeSelf });
        const eps = backend === 'wasm' ? 2e-5 * Math.sqrt(width) : 1e-6;
        for (let i = 0; i < ids.length; i++) {
          const q = ids[i]!;
          const cand = Array.from({ length: rows }, (_, x) => x).filter((x) => includeSelf || x !== q);
          const ref = new Map(cand.map((x) => [x, closeness(table, width, q, x, metric)]));
          const want = cand.sort((a, b) => ref.get(b)! - ref.get(a)! || a - b).slice(0, Math.min(k, cand.length));
          const what = `row ${q} (${metric} ${backend} width ${width}, ${rows} rows, k ${k}, self ${includeSelf})`;
          assert.is(r.counts[i], want.length, `${what}: count`);
          for (let j = 0; j < want.length; j++) {
            const id = r.ids[i * r.k + j]!;
            const got = metric === 'l2' ? -r.scores[i * r.k + j]! : r.scores[i * r.k + j]!;
            const rs = ref.get(id);
            if (rs === undefined) throw new Error(`${what}: slot ${j} holds ${id}, not a candidate`);
            const rw = ref.get(want[j]!)!;
            const tol = eps * Math.max(1, Math.abs(rw));
            assert.ok(Math.abs(got - rs) <= tol, `${what}: slot ${j} score ${got} vs reference ${rs}`);
            assert.ok(
              id === want[j] || Math.abs(rs - rw) <= 2 * tol,
              `${what}: slot ${j} holds ${id}, want ${want[j]}`,
            );
            if (j > 0) {
              const prevId = r.ids[i * r.k + j - 1]!;
              const prev = r.scores[i * r.k + j - 1]!;
              const cur = r.scores[i * r.k + j]!;
              // cosine descending, distance ascending; equal values by id
              assert.ok(metric === 'l2' ? prev <= cur : prev >= cur, `${what}: slots ${j - 1}, ${j} out of order`);
              if (prev === cur) {
                ties++;
                assert.ok(prevId < id, `${what}: tied slots ${j - 1}, ${j} not by id`);
              }
            }
          }
        }
      },
    ),
    200,
  );
  assert.ok(ties > 0, 'duplicated rows produced ties');
});

test('tables past the selection prefix (the SIMD scan) match brute force too', () => {
  for (const backend of backends) {
    for (const metric of ['cosine', 'l2'] as const) {
      const rows = 2600;
      const width = 9;
      const table = randomTable(rows, width, 11);
      const ids = Int32Array.of(0, 5, 1200, 2599);
      const k = 30;
      const r = similar({ table, width, metric, backend, ids, k });
      const eps = 2e-5 * Math.sqrt(width);
      ids.forEach((q, i) => {
        const ref = new Float64Array(rows);
        for (let x = 0; x < rows; x++) ref[x] = closeness(table, width, q, x, metric);
        const want = Array.from({ length: rows }, (_, x) => x)
          .filter((x) => x !== q)
          .sort((a, b) => ref[b]! - ref[a]! || a - b)
          .slice(0, k);
        for (let j = 0; j < k; j++) {
          const id = r.ids[i * k + j]!;
          const tol = eps * Math.max(1, Math.abs(ref[want[j]!]!));
          assert.ok(
            id === want[j] || Math.abs(ref[id]! - ref[want[j]!]!) <= 2 * tol,
            `${metric} ${backend} row ${q} slot ${j}: ${id}, want ${want[j]}`,
          );
        }
      });
    }
  }
});

test('a row is its own nearest neighbour only with includeSelf; the one-call form agrees with the index', () => {
  const table = randomTable(50, 6, 3);
  for (const backend of backends) {
    for (const metric of ['cosine', 'l2'] as const) {
      const a = similar({ table, width: 6, metric, backend, ids: Int32Array.of(4, 9), k: 5 });
      const b = createNeighbourIndex({ table, width: 6, metric, backend }).nearest(Int32Array.of(4, 9), 5);
      assert.equal(a, b);
      assert.ok(!Array.from(a.ids.subarray(0, 5)).includes(4));
      const self = similar({ table, width: 6, metric, backend, ids: Int32Array.of(4), k: 1, includeSelf: true });
      // Row 4 is itself, or an exact duplicate of it with a lower id.
      const first = self.ids[0]!;
      assert.ok(first <= 4, `${metric} ${backend}: ${first}`);
      assert.equal(table.subarray(first * 6, first * 6 + 6), table.subarray(24, 30));
    }
  }
});

test('bad options and ids fail naming the value', () => {
  const table = new Float32Array(12);
  assert.throws(() => createNeighbourIndex({ table, width: 5 }), /table.length must be a positive multiple of width/);
  assert.throws(
    () => createNeighbourIndex({ table, width: 4, metric: 'dot' as 'cosine' }),
    /metric must be one of cosine, l2/,
  );
  assert.throws(() => similar({ table, width: 4, ids: Int32Array.of(3) }), /ids\[0\] must be in \[0, 2\], got 3/);
  assert.throws(() => similar({ table, width: 4, ids: Int32Array.of(0), k: 0 }), /k must be in \[1, /);
});

test.run();
