/**
 * Bad input is refused at the edge with a KgError naming the value: tables
 * whose length does not fit the model's shapes, query ids out of range, bad
 * ranges and outputs, options, user-defined models or unshared tables on
 * worker threads, a WASM backend for a model without a plan, bad query
 * plans, bad handles.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { err, rejection } from '../helpers/errors.js';
import {
  createRanker,
  EvalAttachment,
  evaluate,
  rankQueries,
  type EvalHandle,
  type RankerOptions,
} from '../../src/kge/eval.js';
import { FilterIndex } from '../../src/kge/filter.js';
import { createModel, defineModel } from '../../src/kge/models/index.js';

const NE = 6;
const NR = 2;
const filter = FilterIndex.build(NE, NR, [{ name: 'train', triples: Int32Array.from([0, 0, 1, 2, 1, 3]) }]);
const shared = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(4 * n));

function options(over: Partial<RankerOptions> = {}): RankerOptions {
  // ComplEx at dim 3: rows of 6 floats.
  return {
    model: createModel('complex'),
    dim: 3,
    entities: shared(NE * 6),
    relations: shared(NR * 6),
    filter,
    ...over,
  };
}

test('tables that do not fit the model shapes: E_DIM_MISMATCH naming the table and both lengths', () => {
  const e = err(() => createRanker(options({ entities: shared(NE * 3) })));
  assert.is(e.code, 'E_DIM_MISMATCH');
  assert.match(e.message, 'complex at dim 3');
  assert.match(e.message, 'entities (6 entities x 6 floats) has length 18, expected 36');
  const r = err(() =>
    createRanker(options({ model: createModel('rotate'), entities: shared(NE * 6), relations: shared(NR * 6) })),
  );
  assert.is(r.code, 'E_DIM_MISMATCH');
  assert.match(r.message, 'relations (2 relations x 3 floats) has length 12, expected 6');
});

test('query ids out of range: E_OUT_OF_RANGE naming the triple and the value', () => {
  const ranker = createRanker(options());
  const out = new Float64Array(3);
  const run = (q: number[]) => () => rankQueries(ranker, Int32Array.from(q), 0, q.length / 3, out, out.slice());
  const h = err(run([0, 0, 1, 6, 0, 1]));
  assert.is(h.code, 'E_OUT_OF_RANGE');
  assert.match(h.message, 'queries[3] (head of triple 1) must be in [0, 5], got 6');
  assert.match(err(run([0, 2, 1])).message, 'queries[1] (relation of triple 0) must be in [0, 1], got 2');
  assert.match(err(run([0, 1, -1])).message, 'queries[2] (tail of triple 0) must be in [0, 5], got -1');
  // Only the range asked for is checked and ranked.
  const q = Int32Array.from([0, 0, 1, 9, 9, 9]);
  rankQueries(ranker, q, 0, 1, out, out.slice());
  assert.is(err(() => rankQueries(ranker, Int32Array.from([0, 0]), 0, 0, out, out)).code, 'E_INVALID_ARGUMENT');
  assert.match(err(() => rankQueries(ranker, q, 0, 3, out, out)).message, 'end must be in [0, 2], got 3');
  assert.match(err(() => rankQueries(ranker, q, 1, 0, out, out)).message, 'end must be in [1, 2], got 0');
  assert.match(err(() => rankQueries(ranker, q, 0, 1, new Float64Array(0), out)).message, 'tailRanks.length');
});

test('options: dim, ties, backend, batch, filter', () => {
  assert.is(err(() => createRanker(options({ dim: 0 }))).code, 'E_OUT_OF_RANGE');
  assert.match(err(() => createRanker(options({ ties: 'random' as never }))).message, 'ties');
  assert.match(err(() => createRanker(options({ backend: 'gpu' as never }))).message, 'backend');
  assert.is(err(() => createRanker(options({ batch: 0 }))).code, 'E_OUT_OF_RANGE');
  assert.is(err(() => createRanker(options({ chunk: 1.5 }))).code, 'E_INVALID_ARGUMENT');
  assert.match(err(() => createRanker(options({ filter: {} as never }))).message, 'filter');
  const user = defineModel({
    name: 'mine',
    shapes: (d) => ({ entityWidth: d, relationWidth: d }),
    score: () => 0,
    accumulateGrad() {},
  });
  const w = err(() => createRanker(options({ model: user, dim: 6, backend: 'wasm' })));
  assert.is(w.code, 'E_INVALID_ARGUMENT');
  assert.match(w.message, 'built-in');
  assert.is(createRanker(options({ model: user, dim: 6 })).backend, 'js');
});

test('a user-defined query plan: checked by defineModel, and its parts must divide the entity width', () => {
  const spec = {
    name: 'mine',
    shapes: (d: number) => ({ entityWidth: d, relationWidth: d }),
    score: () => 0,
    accumulateGrad() {},
  };
  const query = () => {};
  const k = err(() => defineModel({ ...spec, queryPlan: { kernel: 'cosine' as never, parts: 1, query } }));
  assert.is(k.code, 'E_INVALID_ARGUMENT');
  assert.match(k.message, 'spec.queryPlan.kernel');
  assert.match(
    err(() => defineModel({ ...spec, queryPlan: { kernel: 'rotate', parts: 1, query } })).message,
    'spec.queryPlan.parts',
  );
  assert.match(
    err(() => defineModel({ ...spec, queryPlan: { kernel: 'dot', parts: 1, query: 3 as never } })).message,
    'spec.queryPlan.query',
  );
  assert.match(err(() => defineModel({ ...spec, queryPlan: null as never })).message, 'spec.queryPlan');
  const odd = defineModel({ ...spec, queryPlan: { kernel: 'rotate', parts: 2, query } });
  const p = err(() =>
    createRanker(options({ model: odd, dim: 3, entities: shared(NE * 3), relations: shared(NR * 3) })),
  );
  assert.is(p.code, 'E_INVALID_ARGUMENT');
  assert.match(p.message, 'queryPlan.parts');
});

test('evaluate: bad queries, user-defined models and unshared tables on workers, missing inputs', async () => {
  const base = { ...options(), queries: Int32Array.from([0, 0, 1]) };
  const q = await rejection(evaluate({ ...base, queries: Int32Array.from([0, 0, 1, 0, 0, 6]), workers: 0 }));
  assert.is(q.code, 'E_OUT_OF_RANGE');
  assert.match(q.message, 'queries[5] (tail of triple 1)');
  assert.is(
    (await rejection(evaluate({ ...base, queries: new Int32Array(0), workers: 0 }))).code,
    'E_INVALID_ARGUMENT',
  );
  const user = defineModel({
    name: 'mine',
    shapes: (d) => ({ entityWidth: d, relationWidth: d }),
    score: () => 0,
    accumulateGrad() {},
  });
  const u = await rejection(evaluate({ ...base, model: user, dim: 6, workers: 2 }));
  assert.match(u.message, 'workers: 0');
  const unshared = await rejection(evaluate({ ...base, entities: new Float32Array(NE * 6), workers: 2 }));
  assert.is(unshared.code, 'E_INVALID_ARGUMENT');
  assert.match(unshared.message, 'SharedArrayBuffer');
  const missing = await rejection(evaluate({ ...options(), workers: 0 }));
  assert.match(missing.message, 'dataset');
  assert.is((await rejection(evaluate({ ...base, workers: -1 }))).code, 'E_INVALID_ARGUMENT');
  // The single-thread path accepts unshared tables and user-defined models.
  const ok = await evaluate({
    ...base,
    model: user,
    dim: 6,
    entities: new Float32Array(NE * 6),
    relations: new Float32Array(NR * 6),
    workers: 0,
  });
  assert.is(ok.both.count, 2);
});

test('attach refuses a bad handle, naming the field', () => {
  const good: EvalHandle = {
    kind: 'kge-eval',
    version: 1,
    id: 'x',
    model: 'complex',
    dim: 3,
    entities: { buffer: new SharedArrayBuffer(4 * NE * 6), byteOffset: 0, length: NE * 6 },
    relations: { buffer: new SharedArrayBuffer(4 * NR * 6), byteOffset: 0, length: NR * 6 },
    filter: filter.handle,
    queries: { buffer: new SharedArrayBuffer(12), byteOffset: 0, length: 3 },
    ranks: { buffer: new SharedArrayBuffer(16), byteOffset: 0, length: 2 },
    ties: 'mean',
    backend: 'auto',
  };
  EvalAttachment.attach(good).rank(0, 1);
  assert.is(err(() => EvalAttachment.attach({ ...good, kind: 'nope' } as unknown as EvalHandle)).code, 'E_BAD_HANDLE');
  const oob = err(() => EvalAttachment.attach({ ...good, entities: { ...good.entities, byteOffset: 8 } }));
  assert.is(oob.code, 'E_BAD_HANDLE');
  assert.match(oob.message, 'handle.entities');
  assert.match(
    err(() => EvalAttachment.attach({ ...good, ranks: { ...good.ranks, length: 1 } })).message,
    'handle.ranks',
  );
  assert.is(err(() => EvalAttachment.attach({ ...good, model: 'nope' })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => EvalAttachment.attach({ ...good, dim: 4 })).code, 'E_DIM_MISMATCH');
});

test.run();
