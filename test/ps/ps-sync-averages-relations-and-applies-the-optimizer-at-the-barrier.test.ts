/**
 * Sync mode treats the relation table like a shard: the workers' relation
 * pushes of one step wait at the relation table's barrier and are averaged
 * and applied once, so with two workers relations move as far per step as
 * entities do (not twice as far). The averaged gradient goes through the
 * server's optimizer: SGD, element-wise or row-wise Adagrad (state in shared
 * memory), and entity rows are projected back to `maxNorm`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer, psOptimizerStateFloats } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import { adagradStep, projectRow, rowAdagradStep } from '../../src/ps/update-rules.js';
import { errorText } from '../helpers/errors.js';

const ids = (n: number, p = 'e'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

function server(extra: Partial<PsConfig> = {}): ParameterServer {
  return ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      expectedWorkers: 2,
      mode: 'sync',
      learningRate: 0.5,
      barrierTimeoutMs: 60_000,
      strategy: 'range',
      ...extra,
    },
    ids(6),
    ids(3, 'r'),
  );
}

test('two workers: the relation step waits for both pushes, then applies their average once', async () => {
  const ps = server();
  const R = ps.relationView();
  const before = R.slice();
  const first = ps.pushRelationAsync(0, [[1, [1, 2, 3, 4]]]);
  // Worker 0's push alone changes nothing: the step is not complete.
  await Promise.resolve();
  assert.equal(Array.from(R), Array.from(before), 'a half-complete relation step changes nothing');
  assert.is(ps.relationStep(), 0);
  const second = await ps.pushRelationAsync(1, [
    [1, [3, 2, 1, 0]],
    [2, [4, 4, 4, 4]],
  ]);
  assert.equal(second, { state: 'step-complete', step: 1, last: true });
  assert.equal(await first, { state: 'step-complete', step: 1, last: false });
  const lr = Math.fround(0.5);
  const avg1 = [2, 2, 2, 2];
  const avg2 = [2, 2, 2, 2]; // only worker 1 touched relation 2: its gradient over two pushes
  for (let k = 0; k < 4; k++) {
    assert.is(R[4 + k], Math.fround(before[4 + k]! - Math.fround(lr * avg1[k]!)), `relation 1 [${k}]`);
    assert.is(R[8 + k], Math.fround(before[8 + k]! - Math.fround(lr * avg2[k]!)), `relation 2 [${k}]`);
    assert.is(R[k], before[k], 'an untouched relation keeps its row');
  }
  assert.is(ps.relationStep(), 1);
  const st = ps.stats();
  assert.is(st.relationPushes, 1, 'one applied relation update per step');
  assert.is(st.pushes, 0, 'entity pushes are counted apart');
  assert.equal(ps.shardSteps(), [0, 0]);
});

test('relations and entities pushed with the same gradient move the same distance', async () => {
  const ps = server({ dim: 2 });
  const E = ps.view(0);
  const R = ps.relationView();
  const e0 = E.slice(0, 2);
  const r0 = R.slice(0, 2);
  const g = [0.25, -0.5];
  await Promise.all([
    ps.pushAsync(0, 0, [[0, g]]),
    ps.pushAsync(0, 1, [[0, g]]),
    ps.pushRelationAsync(0, [[0, g]]),
    ps.pushRelationAsync(1, [[0, g]]),
  ]);
  const step = (k: number): number => Math.fround(Math.fround(0.5) * g[k]!);
  for (let k = 0; k < 2; k++) {
    assert.is(E[k], Math.fround(e0[k]! - step(k)), `entity coordinate ${k}`);
    assert.is(R[k], Math.fround(r0[k]! - step(k)), `relation coordinate ${k}`);
  }
});

test('a worker may not push twice to one relation step', async () => {
  const ps = server();
  const first = ps.pushRelationAsync(0, [[0, [1, 1, 1, 1]]]);
  const again = await ps.pushRelationAsync(0, [[0, [1, 1, 1, 1]]]).then(
    () => 'accepted',
    (e: Error) => e.message,
  );
  assert.match(again, /^ParameterServer\.pushRelation: worker 0 already pushed to the relation table in step 0$/);
  await ps.pushRelationAsync(1, []);
  assert.is((await first).state, 'step-complete');
});

for (const optimizer of ['adagrad', 'adagrad-row'] as const) {
  test(`sync ${optimizer}: the step's average goes through ${optimizer}, state kept across steps`, async () => {
    const ps = server({ optimizer, learningRate: 0.1 });
    const E = ps.view(1);
    const R = ps.relationView();
    const ref = E.slice();
    const refR = R.slice();
    const accE = new Float32Array(optimizer === 'adagrad' ? ref.length : ref.length / 4);
    const accR = new Float32Array(optimizer === 'adagrad' ? refR.length : refR.length / 4);
    const step = optimizer === 'adagrad' ? adagradStep : rowAdagradStep;
    for (const [ga, gb] of [
      [
        [1, 0, -2, 4],
        [3, 2, 0, 0],
      ],
      [
        [0.5, 0.5, 0.5, 0.5],
        [-0.5, 1.5, 0.5, 0.5],
      ],
    ]) {
      await Promise.all([
        ps.pushAsync(1, 0, [[2, ga!]]),
        ps.pushAsync(1, 1, [[2, gb!]]),
        ps.pushRelationAsync(0, [[1, ga!]]),
        ps.pushRelationAsync(1, [[1, gb!]]),
      ]);
      const avg = Float32Array.from(ga!, (v, k) => (v + gb![k]!) / 2);
      step(ref, 8, accE, optimizer === 'adagrad' ? 8 : 2, avg, 0, 4, 0.1);
      step(refR, 4, accR, optimizer === 'adagrad' ? 4 : 1, avg, 0, 4, 0.1);
    }
    assert.equal(Array.from(E), Array.from(ref), 'entity rows follow the rule on the averaged gradient');
    assert.equal(Array.from(R), Array.from(refR), 'relation rows follow the rule on the averaged gradient');
  });
}

test('sync maxNorm: updated entity rows are projected back, relation rows are not', async () => {
  const ps = server({ maxNorm: 1, learningRate: 1 });
  const E = ps.view(0);
  const R = ps.relationView();
  const big = [-50, 0, 0, 0];
  await Promise.all([
    ps.pushAsync(0, 0, [[1, big]]),
    ps.pushAsync(0, 1, [[1, big]]),
    ps.pushRelationAsync(0, [[0, big]]),
    ps.pushRelationAsync(1, [[0, big]]),
  ]);
  const norm = (a: Float32Array, o: number): number => Math.hypot(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!);
  assert.ok(Math.abs(norm(E, 4) - 1) < 1e-6, `entity row norm ${norm(E, 4)}`);
  assert.ok(norm(R, 0) > 40, 'relations are not projected');
  const copy = Float32Array.of(3, 4);
  projectRow(copy, 0, 2, 1);
  assert.equal(Array.from(copy), [Math.fround(0.6), Math.fround(0.8)]);
});

test('a supplied optimizer state must be exactly the size the server needs', () => {
  const config = { dim: 4, numShards: 1, expectedWorkers: 1, optimizer: 'adagrad' as const };
  const need = psOptimizerStateFloats({ dim: 4, relationDim: 0, optimizer: 'adagrad' }, [5], 2);
  assert.is(need, 5 * 4 + 2 * 4);
  assert.match(
    errorText(() =>
      ParameterServer.create(config, ids(5), ids(2, 'r'), { optimizerState: new SharedArrayBuffer(4 * (need - 1)) }),
    ),
    /^E_DIM_MISMATCH: ParameterServer\.create: optimizerState floats has length 27, expected 28$/,
  );
  const state = new SharedArrayBuffer(4 * need);
  const ps = ParameterServer.create(config, ids(5), ids(2, 'r'), { optimizerState: state });
  assert.is(ps.handle.optimizerState, state, 'the server uses the buffer it was given');
  assert.is(
    ParameterServer.create({ dim: 4, numShards: 1 }, ids(5), ids(2, 'r')).handle.optimizerState,
    null,
    'SGD keeps no state',
  );
});

test.run();
