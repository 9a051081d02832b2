/**
 * `predict` gives, for every model, backend and direction, with and
 * without a filter, the top k of a brute-force reference: score every
 * entity with `model.score`, leave out the known ones with a Set, sort by
 * score (ties by id), take k. Graphs are small and random, with entity rows
 * deliberately duplicated so that candidates tie exactly (the property
 * asserts ties occurred, and that the lower id came first).
 *
 * The JS backend scores in float64 with the models' block kernels, which
 * equal `score` up to float64 rounding; the WASM backend scores in float32.
 * So each returned score must equal the reference's for that entity within
 * the backend's rounding, and each position must hold the reference's
 * entity, or one whose reference score lies within that rounding of it.
 * A second test pins the WASM backend exactly: its predictions (two passes
 * for the `dot` plans) equal a full sort of the kernel's own float32
 * scores of every entity (`WasmScorer.scoreAll`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { FilterIndex } from '../../src/kge/filter.js';
import { ASKED, createPredictor, predict, type PredictBackend, type Predictions } from '../../src/kge/predict.js';
import { before } from '../../src/kge/topk.js';
import { WasmScorer, wasmSimdSupported } from '../../src/kge/wasm/scorer.js';
import { createModel, defineModel, MODEL_NAMES, type KgeModel } from '../../src/kge/models/index.js';

/** DistMult without block kernels: the default loops over `score`, JS only. */
const userModel = defineModel({
  name: 'user-distmult',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score(E, h, R, r, T, t, dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += E[h + k]! * R[r + k]! * T[t + k]!;
    return s;
  },
  accumulateGrad() {},
});

/** The same model with its own query plan, on the WASM kernels. */
const plannedUserModel = defineModel({
  name: 'user-distmult-planned',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score: (E, h, R, r, T, t, dim) => userModel.score(E, h, R, r, T, t, dim),
  accumulateGrad() {},
  queryPlan: {
    kernel: 'dot',
    parts: 1,
    query(_tails, ent, e, rel, r, dim, q, o) {
      for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! * rel[r + k]!;
    },
  },
});

const models: KgeModel[] = [...MODEL_NAMES.map((n) => createModel(n)), userModel, plannedUserModel];
const backends: PredictBackend[] = wasmSimdSupported() ? ['js', 'wasm'] : ['js'];

interface Graph {
  readonly numEntities: number;
  readonly numRelations: number;
  readonly entities: Float32Array;
  readonly relations: Float32Array;
  readonly known: Int32Array;
  /** Queries: half ask for tails, half for heads; many hit a known group. */
  readonly queries: Int32Array;
}

function randomGraph(model: KgeModel, dim: number, ne: number, nr: number, seed: number): Graph {
  const rand = rng(seed);
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  const entities = new Float32Array(ne * ew);
  for (let i = 0; i < entities.length; i++) entities[i] = Math.fround(rand() * 2 - 1);
  for (let e = 1; e < ne; e++) {
    if (rand() < 0.35) {
      const src = Math.floor(rand() * e);
      entities.copyWithin(e * ew, src * ew, (src + 1) * ew);
    }
  }
  const relations = new Float32Array(nr * rw);
  for (let i = 0; i < relations.length; i++) relations[i] = Math.fround(rand() * 2 - 1);
  const pick = (n: number): number => Math.floor(rand() * n);
  const known: number[] = [];
  for (let i = 0; i < 4 * ne; i++) known.push(pick(ne), pick(nr), pick(ne));
  const queries: number[] = [];
  for (let i = 0; i < 12; i++) {
    // Half the queries reuse a known (h, r) or (r, t), so the filter leaves entities out.
    const j = pick(known.length / 3);
    const h = rand() < 0.5 ? known[3 * j]! : pick(ne);
    const r = rand() < 0.5 ? known[3 * j + 1]! : pick(nr);
    const t = rand() < 0.5 ? known[3 * j + 2]! : pick(ne);
    if (i % 2 === 0) queries.push(h, r, ASKED);
    else queries.push(ASKED, r, t);
  }
  return {
    numEntities: ne,
    numRelations: nr,
    entities,
    relations,
    known: Int32Array.from(known),
    queries: Int32Array.from(queries),
  };
}

/** Every entity's reference score for query i, null for the ones the filter leaves out. */
function referenceScores(model: KgeModel, dim: number, g: Graph, i: number, filtered: boolean): (number | null)[] {
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  const known = new Set<string>();
  if (filtered)
    for (let x = 0; x < g.known.length; x += 3) known.add(`${g.known[x]},${g.known[x + 1]},${g.known[x + 2]}`);
  const h = g.queries[3 * i]!;
  const r = g.queries[3 * i + 1]!;
  const t = g.queries[3 * i + 2]!;
  const tails = t === ASKED;
  const out: (number | null)[] = [];
  for (let x = 0; x < g.numEntities; x++) {
    if (known.has(tails ? `${h},${r},${x}` : `${x},${r},${t}`)) out.push(null);
    else
      out.push(
        tails
          ? model.score(g.entities, h * ew, g.relations, r * rw, g.entities, x * ew, dim)
          : model.score(g.entities, x * ew, g.relations, r * rw, g.entities, t * ew, dim),
      );
  }
  return out;
}

/** The reference order of the candidates: ids sorted by `before` on their scores. */
function sortedIds(scores: readonly (number | null)[]): number[] {
  const ids: number[] = [];
  scores.forEach((s, x) => {
    if (s !== null) ids.push(x);
  });
  return ids.sort((a, b) => (before(scores[a]!, a, scores[b]!, b) ? -1 : 1));
}

test('WebAssembly SIMD is available on this runtime (Node 20), so the WASM backend is under test', () => {
  assert.ok(wasmSimdSupported());
});

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('top k equals the brute-force top k for every model, backend and direction, with and without a filter', async () => {
  let ties = 0;
  let leftOut = 0;
  let cases = 0;
  await check(
    fc.property(
      fc.constantFrom(...models),
      fc.constantFrom(...backends),
      fc.boolean(),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 2, max: 41 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer(),
      (model, backend, filtered, dim, ne, nr, k, batch, seed) => {
        if (backend === 'wasm' && model.queryPlan === undefined) backend = 'js';
        const g = randomGraph(model, dim, ne, nr, seed);
        const filter = filtered ? FilterIndex.build(ne, nr, [{ name: 'known', triples: g.known }]) : null;
        const predictor = createPredictor({
          model,
          dim,
          entities: g.entities,
          relations: g.relations,
          filter,
          backend,
          batch,
        });
        assert.is(predictor.backend, backend);
        const p = predictor.predict(g.queries, k);
        assert.is(p.k, Math.min(k, ne));
        const width = model.shapes(dim).entityWidth;
        const eps = backend === 'wasm' ? 2e-5 * Math.sqrt(width) : 1e-9;
        for (let i = 0; i < p.queries; i++) {
          const ref = referenceScores(model, dim, g, i, filtered);
          const want = sortedIds(ref).slice(0, p.k);
          const what = `query ${i} (${model.name} ${backend} dim ${dim}, ${ne} entities, k ${k}, filter ${filtered})`;
          assert.is(p.counts[i], want.length, `${what}: count`);
          assert.is(p.filtered[i], ref.filter((s) => s === null).length, `${what}: filtered`);
          leftOut += p.filtered[i]!;
          for (let j = 0; j < p.k; j++) {
            const id = p.ids[i * p.k + j]!;
            const score = p.scores[i * p.k + j]!;
            if (j >= want.length) {
              assert.is(id, -1, `${what}: empty slot ${j}`);
              assert.ok(Number.isNaN(score));
              continue;
            }
            const w = want[j]!;
            const rs = ref[id];
            const rw = ref[w]!;
            if (rs === null || rs === undefined) throw new Error(`${what}: slot ${j} holds a left-out entity ${id}`);
            const tol = eps * Math.max(1, Math.abs(rw));
            assert.ok(Math.abs(score - rs) <= tol, `${what}: slot ${j} score ${score} vs reference ${rs}`);
            assert.ok(
              id === w || Math.abs(rs - rw) <= 2 * tol,
              `${what}: slot ${j} holds ${id} (${rs}), the reference ${w} (${rw})`,
            );
            if (j > 0) {
              const prev = p.ids[i * p.k + j - 1]!;
              const ps = p.scores[i * p.k + j - 1]!;
              assert.ok(before(ps, prev, score, id), `${what}: slots ${j - 1} and ${j} out of order`);
              if (ps === score) ties++;
            }
          }
        }
        cases++;
      },
    ),
    200,
  );
  assert.ok(cases > 0);
  assert.ok(ties > 0, 'the twin rows produced tied predictions');
  assert.ok(leftOut > 0, 'the filter left entities out');
});

test('WASM predictions equal a full sort of the kernel’s own float32 scores (one or two passes)', () => {
  if (!wasmSimdSupported()) return;
  for (const name of MODEL_NAMES) {
    const model = createModel(name);
    const plan = model.queryPlan!;
    // Rows past the selection's prefix (1,024 entries, or 64 per result) go through the SIMD scan;
    // with `ramp` the rows grow with their id, so the best entries come last.
    for (const [dim, ne, k, ramp] of [
      [7, 300, 25, false],
      [16, 1001, 25, false],
      [7, 3001, 25, false],
      [5, 2502, 1, true],
      [3, 4099, 40, true],
    ] as const) {
      const g = randomGraph(model, dim, ne, 3, ne + dim);
      const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
      if (ramp)
        for (let x = 0; x < g.entities.length; x++) g.entities[x] = g.entities[x]! * (1 + Math.floor(x / ew) / ne);
      const filter = FilterIndex.build(ne, 3, [{ name: 'known', triples: g.known }]);
      const p: Predictions = predict({
        model,
        dim,
        entities: g.entities,
        relations: g.relations,
        filter,
        queries: g.queries,
        k,
      });
      const sc = WasmScorer.create(plan, ne, dim, ew, 2, { twoPass: false })!;
      sc.loadEntities(g.entities);
      for (let i = 0; i < p.queries; i++) {
        const h = g.queries[3 * i]!;
        const r = g.queries[3 * i + 1]!;
        const t = g.queries[3 * i + 2]!;
        const tails = t === ASKED;
        plan.query(tails, g.entities, (tails ? h : t) * ew, g.relations, r * rw, dim, sc.q, 0, sc.imFloats);
        sc.scoreAll(1);
        const known = new Set(tails ? filter.knownTails(h, r) : filter.knownHeads(r, t));
        const scores: (number | null)[] = [];
        for (let x = 0; x < ne; x++) scores.push(known.has(x) ? null : sc.scores[x]!);
        const want = sortedIds(scores).slice(0, k);
        const got = Array.from(p.ids.subarray(i * k, i * k + p.counts[i]!));
        assert.equal(got, want, `${name} dim ${dim}, query ${i}`);
        for (let j = 0; j < want.length; j++)
          assert.is(p.scores[i * k + j], scores[want[j]!], `${name} query ${i} slot ${j}`);
      }
    }
  }
});

test('NaN scores come last, by id; k beyond the entities is lowered to their count', () => {
  for (const backend of backends) {
    const model = createModel('distmult');
    const entities = Float32Array.from([1, 1, NaN, 0, 2, 2, NaN, NaN, 0.5, 0.5]);
    const relations = Float32Array.from([1, 1]);
    const p = predict({ model, dim: 2, entities, relations, backend, queries: Int32Array.of(0, 0, ASKED), k: 9 });
    assert.is(p.k, 5);
    assert.equal(Array.from(p.ids), [2, 0, 4, 1, 3], backend);
    assert.equal(Array.from(p.scores.subarray(0, 3)), [4, 2, 1], backend);
  }
});

test('bad queries and options fail naming the query and the value', () => {
  const model = createModel('transe');
  const entities = new Float32Array(8);
  const relations = new Float32Array(4);
  const run = (queries: Int32Array, k = 3): Predictions => predict({ model, dim: 2, entities, relations, queries, k });
  assert.throws(() => run(Int32Array.of(0, 0, 1)), /query 0.*exactly one side asked/);
  assert.throws(() => run(Int32Array.of(ASKED, 0, ASKED)), /query 0.*exactly one side asked/);
  assert.throws(() => run(Int32Array.of(0, 0, ASKED, 4, 0, ASKED)), /head of query 1.*\[0, 3\], got 4/);
  assert.throws(() => run(Int32Array.of(ASKED, 2, 1)), /relation of query 0.*\[0, 1\], got 2/);
  assert.throws(() => run(Int32Array.of(0, 0)), /queries.length must be a multiple of 3/);
  assert.throws(() => run(Int32Array.of(0, 0, ASKED), 0), /k must be in \[1, /);
  assert.throws(
    () => predict({ model, dim: 3, entities, relations, queries: Int32Array.of(0, 0, ASKED) }),
    /entities.length must be a positive multiple of 3/,
  );
  const filter = FilterIndex.build(5, 2, []);
  assert.throws(
    () => predict({ model, dim: 2, entities, relations, filter, queries: Int32Array.of(0, 0, ASKED) }),
    /E_DIM_MISMATCH|entities/,
  );
});

test.run();
