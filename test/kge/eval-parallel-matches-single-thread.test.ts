/**
 * evaluate over 2 worker threads gives exactly the ranks of the
 * single-thread path, for both backends and for a pool evaluate creates as
 * well as for a caller's pool of another worker file (the tasks then carry
 * the handle); tables are read in place (a PS-style SharedArrayBuffer with
 * the tables at a non-zero offset, and a real one-shard ParameterServer's
 * `view(0)` and `relationView()`), and queries given as a plain Int32Array
 * are copied to shared memory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Piscina } from 'piscina';
import { rng } from '../helpers/rng.js';
import { evaluate, type EvalBackend, type EvaluationResult } from '../../src/kge/eval.js';
import { FilterIndex } from '../../src/kge/filter.js';
import { createModel } from '../../src/kge/models/index.js';
import { sharedSplit, type Dataset } from '../../src/data/dataset.js';
import { ParameterServer } from '../../src/ps/server.js';

const NE = 601;
const NR = 5;
const DIM = 12;

function graph(seed: number): Dataset {
  const rand = rng(seed);
  const triples = (n: number): number[] =>
    Array.from({ length: n }, () => [Math.floor(rand() * NE), Math.floor(rand() * NR), Math.floor(rand() * NE)]).flat();
  return {
    name: 'random',
    entities: Array.from({ length: NE }, (_, i) => `e${i}`),
    relations: Array.from({ length: NR }, (_, i) => `r${i}`),
    train: sharedSplit(triples(3000)),
    valid: sharedSplit(triples(50)),
    test: sharedSplit(triples(203)),
    report: { duplicatesDropped: { train: 0, valid: 0, test: 0 }, unseenExcluded: { valid: 0, test: 0 }, notices: [] },
  };
}

/** Entity and relation tables inside one SharedArrayBuffer, after a 64-byte "header". */
function tables(name: string, seed: number): { entities: Float32Array; relations: Float32Array } {
  const { entityWidth: ew, relationWidth: rw } = createModel(name).shapes(DIM);
  const sab = new SharedArrayBuffer(64 + 4 * (NE * ew + NR * rw));
  const entities = new Float32Array(sab, 64, NE * ew);
  const relations = new Float32Array(sab, 64 + 4 * NE * ew, NR * rw);
  const rand = rng(seed);
  // Coarse values: ties happen, and must be ranked alike everywhere.
  for (let i = 0; i < entities.length; i++) entities[i] = Math.round((rand() * 2 - 1) * 4) / 4;
  for (let i = 0; i < relations.length; i++) relations[i] = rand() * 2 - 1;
  return { entities, relations };
}

function same(a: EvaluationResult, b: EvaluationResult, what: string): void {
  assert.equal(Array.from(a.ranks.tail), Array.from(b.ranks.tail), `${what}: tail ranks`);
  assert.equal(Array.from(a.ranks.head), Array.from(b.ranks.head), `${what}: head ranks`);
  assert.equal(a.both, b.both, `${what}: metrics`);
}

test('2 workers == 1 thread, each backend, own pool', async () => {
  const dataset = graph(1);
  for (const [name, backend] of [
    ['complex', 'wasm'],
    ['transe-l1', 'wasm'],
    ['distmult', 'js'],
    ['rotate', 'js'],
  ] as [string, EvalBackend][]) {
    const model = createModel(name);
    const t = tables(name, 2);
    const single = await evaluate({ model, dim: DIM, ...t, dataset, backend, workers: 0, batch: 7 });
    assert.is(single.threads, 1);
    assert.is(single.backend, backend);
    const pooled = await evaluate({ model, dim: DIM, ...t, dataset, backend, workers: 2, batch: 7, tasksPerWorker: 3 });
    assert.is(pooled.threads, 2);
    assert.is(pooled.backend, backend);
    same(pooled, single, `${name} ${backend}`);
    assert.ok(single.both.mrr > 0 && single.both.count === 2 * dataset.test.count);
  }
});

test("a caller's pool (another worker file, other workerData) runs the tasks with the handle in each", async () => {
  const dataset = graph(3);
  const filter = FilterIndex.fromDataset(dataset);
  const pool = new Piscina({
    filename: new URL('../fixtures/ps-task.js', import.meta.url).href,
    minThreads: 2,
    maxThreads: 2,
    workerData: { handle: null },
  });
  try {
    const model = createModel('distmult');
    const t = tables('distmult', 4);
    const plainQueries = new Int32Array(dataset.test.triples); // not shared: evaluate copies it
    const single = await evaluate({ model, dim: DIM, ...t, filter, queries: plainQueries, workers: 1 });
    const first = await evaluate({ model, dim: DIM, ...t, filter, queries: plainQueries, pool });
    same(first, single, 'caller pool');
    // The same pool again, with another evaluation: the workers attach the new handle.
    const t2 = tables('distmult', 5);
    const second = await evaluate({ model, dim: DIM, ...t2, filter, queries: plainQueries, pool, ties: 'pessimistic' });
    const single2 = await evaluate({
      model,
      dim: DIM,
      ...t2,
      filter,
      queries: plainQueries,
      workers: 0,
      ties: 'pessimistic',
    });
    same(second, single2, 'caller pool, second evaluation');
    assert.is(pool.threads.length, 2, 'the pool is not destroyed');
  } finally {
    await pool.destroy();
  }
});

test("a one-shard 'range' ParameterServer's views, read in place by the workers", async () => {
  const dataset = graph(6);
  const model = createModel('rotate');
  const { entityWidth, relationWidth } = model.shapes(DIM);
  const ps = ParameterServer.create(
    { dim: entityWidth, relationDim: relationWidth, numShards: 1, strategy: 'range', expectedWorkers: 1 },
    dataset.entities,
    dataset.relations,
  );
  assert.equal(ps.entityIds(0), dataset.entities, "'range' keeps the dataset's order");
  const tablesOf = { entities: ps.view(0), relations: ps.relationView() };
  const single = await evaluate({ model, dim: DIM, ...tablesOf, dataset, workers: 0 });
  const pooled = await evaluate({ model, dim: DIM, ...tablesOf, dataset, workers: 2 });
  same(pooled, single, 'parameter server');
  assert.is(pooled.backend, 'wasm');
});

test.run();
