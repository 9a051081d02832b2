import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import { errorText } from '../helpers/errors.js';

const ids = (n: number, p = 'e'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

function small(mode: 'sync' | 'async', workers: number, extra: Partial<PsConfig> = {}): ParameterServer {
  return ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      expectedWorkers: workers,
      mode,
      learningRate: 0.1,
      maxStaleness: 8,
      barrierTimeoutMs: 500,
      strategy: 'range',
      ...extra,
    },
    ids(8),
    ids(2, 'r'),
  );
}

/** Every byte the server holds that a push could change. */
function tables(ps: ParameterServer): number[][] {
  return [...Array.from({ length: ps.numShards }, (_, s) => Array.from(ps.view(s))), Array.from(ps.relationView())];
}

test('pull returns rows of the configured dimension, the ids, the relations and the step', () => {
  const ps = small('sync', 2);
  for (let s = 0; s < ps.numShards; s++) {
    const snap = ps.pull(s);
    assert.is(snap.shardId, s);
    assert.is(snap.entities.length, snap.entityIds.length * 4);
    assert.equal(snap.entityIds, ps.entityIds(s));
    assert.is(snap.relations.length, 2 * 4);
    assert.equal(snap.relationIds, ['r0', 'r1']);
    assert.is(snap.step, 0);
  }
  assert.is(ps.stats().pulls, 2);
});

test('an async push applies at once with the learning rate', () => {
  const ps = small('async', 1);
  const before = ps.pull(0).entities.slice(0, 4);
  const r = ps.push(0, 0, [[0, [1, 1, 1, 1]]]);
  assert.equal(r, { state: 'applied', step: 1, staleness: 1 });
  const after = ps.pull(0).entities.slice(0, 4);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(before[k]! - after[k]! - 0.1) < 1e-6);
  assert.equal(ps.shardSteps(), [1, 0]);
  const st = ps.stats();
  assert.is(st.pushes, 1);
  assert.is(st.lastGradNorm, 4, 'mean squared norm of the gradient rows');
});

test('relation gradients are applied with the learning rate', async () => {
  const ps = small('sync', 1);
  const before = ps.pull(0).relations.slice(0, 4);
  await ps.pushRelationAsync(0, [[0, [1, 1, 1, 1]]]);
  const after = ps.pull(0).relations.slice(0, 4);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(before[k]! - after[k]! - 0.1) < 1e-6);
  assert.is(ps.stats().relationPushes, 1);
});

test('a pull resets the async staleness; the maximum observed is kept', () => {
  const ps = small('async', 1);
  ps.pull(0);
  for (let i = 0; i < 3; i++) ps.push(0, 0, [[0, [0.1, 0.1, 0.1, 0.1]]]);
  assert.is(ps.staleness()[0], 3);
  const max = ps.stats().maxStalenessObserved;
  assert.ok(max >= 3);
  ps.pull(0);
  assert.is(ps.staleness()[0], 0);
  assert.is(ps.stats().maxStalenessObserved, max, 'the maximum is monotonic');
});

test('staleness above the maximum raises a warning', () => {
  const ps = small('async', 1, { maxStaleness: 2 });
  const warnings: string[] = [];
  ps.onWarning = (code, message) => warnings.push(`${code}: ${message}`);
  for (let i = 0; i < 4; i++) ps.push(1, 3, [[0, [0, 0, 0, 0]]]);
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!, /^KGSHARD_STALENESS: worker 3 pushed to shard 1 with staleness 3, above the maximum 2$/);
  assert.is(ps.stats().warnings, 2);
});

test('bad pushes are refused with a message naming the value, and change nothing', () => {
  const ps = small('async', 1);
  const before = tables(ps);
  const cases: [() => unknown, RegExp][] = [
    [
      () => ps.push(2, 0, [[0, [1, 1, 1, 1]]]),
      /^E_OUT_OF_RANGE: ParameterServer\.push: shard must be in \[0, 1\], got 2$/,
    ],
    [() => ps.push(-1, 0, []), /shard must be in \[0, 1\], got -1/],
    [
      () => ps.push(0, 0, [[4, [1, 1, 1, 1]]]),
      /^E_OUT_OF_RANGE: ParameterServer\.push: rows\[0\] row must be in \[0, 3\], got 4$/,
    ],
    [
      () =>
        ps.push(0, 0, [
          [0, [1, 1, 1, 1]],
          [1, [1, 1, 1]],
        ]),
      /^E_DIM_MISMATCH: ParameterServer\.push: rows\[1\] gradient has length 3, expected 4$/,
    ],
    [
      () => ps.push(0, 0, [[0, [1, Number.NaN, 1, 1]]]),
      /^E_NON_FINITE: ParameterServer\.push: rows\[0\] gradient\[1\] is NaN; gradients must be finite$/,
    ],
    [() => ps.push(0, 0, [[0, [1, 1, 1, Infinity]]]), /gradient\[3\] is Infinity/],
    [
      () => ps.push(0, -2, [[0, [1, 1, 1, 1]]]),
      /^E_INVALID_ARGUMENT: ParameterServer\.push: worker must be a non-negative 31-bit integer, got -2$/,
    ],
    [
      () => ps.pushRelation(0, [[2, [1, 1, 1, 1]]]),
      /^E_OUT_OF_RANGE: ParameterServer\.pushRelation: rows\[0\] relation row must be in \[0, 1\], got 2$/,
    ],
    [() => ps.pushRelation(0, [[0, [1, 1]]]), /^E_DIM_MISMATCH: .*gradient has length 2, expected 4/],
    [
      () => ps.pushFlat(0, 0, Int32Array.of(0), Float32Array.of(1, 1), 1),
      /^E_DIM_MISMATCH: ParameterServer\.pushFlat: grads has length 2, expected 4$/,
    ],
    [() => ps.pushFlat(0, 0, Int32Array.of(9), new Float32Array(4), 1), /rowIdx\[0\] must be in \[0, 3\], got 9/],
    [() => ps.locate('nobody'), /^E_UNKNOWN_ID: ParameterServer\.locate: unknown entity id "nobody"$/],
    [() => ps.relationRow('r9'), /^E_UNKNOWN_ID: ParameterServer\.relationRow: unknown relation id "r9"$/],
    [() => ps.pull(5), /^E_OUT_OF_RANGE: ParameterServer\.pull: shard must be in \[0, 1\], got 5$/],
    [
      () => ps.pullInto(0, new Float32Array(3)),
      /^E_DIM_MISMATCH: ParameterServer\.pullInto: dst has length 3, expected 16$/,
    ],
  ];
  for (const [fn, re] of cases) assert.match(errorText(fn), re);
  assert.equal(tables(ps), before, 'no rejected push changed anything');
  assert.equal(ps.shardSteps(), [0, 0]);
  assert.is(ps.stats().pushes, 0);
});

test('sync pushes from the main thread must use the Async forms', () => {
  const ps = small('sync', 2);
  assert.match(
    errorText(() => ps.push(0, 0, [[0, [1, 1, 1, 1]]])),
    /^E_INVALID_ARGUMENT: ParameterServer\.push: thread must be a worker thread in sync mode \(use the Async form on the main thread\), got "main"/,
  );
  assert.match(
    errorText(() => ps.pushRelation(0, [[0, [1, 1, 1, 1]]])),
    /^E_INVALID_ARGUMENT: ParameterServer\.pushRelation: thread must be a worker thread in sync mode/,
  );
  assert.equal(ps.shardSteps(), [0, 0]);
  assert.is(ps.relationStep(), 0);
});

test.run();
