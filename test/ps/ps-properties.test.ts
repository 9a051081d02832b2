import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ParameterServer } from '../../src/ps/server.js';
import { check } from '../helpers/prop.js';

const DIM = 3;
const ROWS = 4;
const LR = 0.05;
const ids = Array.from({ length: ROWS }, (_, i) => `e${i}`);

const gradient = fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
  minLength: DIM,
  maxLength: DIM,
});
const push = fc.array(fc.tuple(fc.integer({ min: 0, max: ROWS - 1 }), gradient), { maxLength: 4 });

test('a sync step applies the average of the pushed gradients once, whatever the order of arrival', async () => {
  await check(
    fc.asyncProperty(
      fc
        .integer({ min: 1, max: 4 })
        .chain((n) => fc.tuple(fc.constant(n), fc.array(push, { minLength: n, maxLength: n }))),
      fc.func(fc.integer()),
      async ([n, pushes], order) => {
        const ps = ParameterServer.create(
          {
            dim: DIM,
            numShards: 1,
            expectedWorkers: n,
            mode: 'sync',
            learningRate: LR,
            strategy: 'range',
            barrierTimeoutMs: 10_000,
          },
          ids,
          ['r'],
        );
        const before = Float64Array.from(ps.view(0));
        // Expected: per row, (sum over workers of their gradients) / n, applied once.
        const sums = new Float64Array(ROWS * DIM);
        const touched = new Set<number>();
        pushes.forEach((rows) =>
          rows.forEach(([r, g]) => {
            touched.add(r);
            g.forEach((v, k) => (sums[r * DIM + k] = sums[r * DIM + k]! + v));
          }),
        );
        const workers = pushes.map((_, w) => w).sort((a, b) => order(a) - order(b) || a - b);
        const results = await Promise.all(workers.map((w) => ps.pushAsync(0, w, pushes[w]!)));
        assert.ok(results.every((r) => r.state === 'step-complete'));
        assert.is(
          results.filter((r) => r.state === 'step-complete' && r.last).length,
          1,
          'exactly one push completes the step',
        );
        assert.equal(ps.shardSteps(), [1]);
        const after = ps.view(0);
        for (let i = 0; i < ROWS * DIM; i++) {
          const row = Math.floor(i / DIM);
          const want = touched.has(row) ? before[i]! - LR * (sums[i]! / n) : before[i]!;
          assert.ok(Math.abs(after[i]! - want) <= 1e-5 * (1 + Math.abs(want)), `element ${i}: ${after[i]} vs ${want}`);
        }
      },
    ),
    80,
  );
});

test('async pushes in any order give the table of applying them one by one in that order', async () => {
  await check(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), push), { maxLength: 12 }), (sequence) => {
      const ps = ParameterServer.create(
        {
          dim: DIM,
          numShards: 1,
          expectedWorkers: 1,
          mode: 'async',
          learningRate: LR,
          strategy: 'range',
          maxStaleness: 1000,
        },
        ids,
        ['r'],
      );
      const model = Float32Array.from(ps.view(0));
      const lr = Math.fround(LR);
      for (const [worker, rows] of sequence) {
        ps.push(0, worker, rows);
        for (const [r, g] of rows)
          g.forEach((v, k) => (model[r * DIM + k] = model[r * DIM + k]! - Math.fround(lr * Math.fround(v))));
        // A pull between pushes sees exactly the pushes so far.
        assert.equal(Array.from(ps.pull(0).entities), Array.from(model));
      }
      assert.equal(ps.shardSteps(), [sequence.length]);
      assert.is(ps.stats().pushes, sequence.length);
    }),
    150,
  );
});

test.run();
