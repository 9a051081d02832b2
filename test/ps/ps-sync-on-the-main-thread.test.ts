import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer } from '../../src/ps/server.js';
import { errorText, rejection } from '../helpers/errors.js';
import { ManualClock } from '../../src/shm/clock.js';

// The barrier timeout runs on a manual clock: a step times out when the
// test moves the clock past it, never because the machine was slow.

const ids = (n: number, p = 'e'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

function server(workers: number, timeoutMs = 2_000, clock = ManualClock.create()): ParameterServer {
  return ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      expectedWorkers: workers,
      mode: 'sync',
      learningRate: 0.1,
      barrierTimeoutMs: timeoutMs,
      strategy: 'range',
    },
    ids(8),
    ['r0'],
    { clock },
  );
}

/** Let pending callbacks and parked waits run a few times. */
async function spin(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

test('sync pushes are buffered until every worker pushed, then the average is applied once', async () => {
  const ps = server(2);
  const before = ps.pull(0).entities.slice(0, 4);
  const first = ps.pushAsync(0, 0, [[0, [2, 2, 2, 2]]]);
  await spin();
  assert.equal(ps.shardSteps(), [0, 0], 'one push of two does not complete the step');
  assert.equal(Array.from(ps.pull(0).entities.slice(0, 4)), Array.from(before), 'nothing applied yet');
  const second = await ps.pushAsync(0, 1, [[0, [4, 4, 4, 4]]]);
  assert.equal(second, { state: 'step-complete', step: 1, last: true });
  assert.equal(await first, { state: 'step-complete', step: 1, last: false });
  const after = ps.pull(0).entities.slice(0, 4);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(before[k]! - after[k]! - 0.3) < 1e-6, 'lr * mean(2, 4)');
  const st = ps.stats();
  assert.is(st.barriersCompleted, 1);
  assert.is(st.pushes, 1);
  assert.equal(ps.shardSteps(), [1, 0]);
});

test('a second push by the same worker in one step is refused and changes nothing', async () => {
  const clock = ManualClock.create();
  const ps = server(2, 300, clock);
  ps.onWarning = () => undefined;
  const first = ps.pushAsync(0, 7, [[0, [1, 1, 1, 1]]]);
  const table = Array.from(ps.view(0));
  const err = await rejection(ps.pushAsync(0, 7, [[1, [5, 5, 5, 5]]]));
  assert.is(err.code, 'E_DOUBLE_PUSH');
  assert.match(err.message, /worker 7 already pushed to shard 0 in step 0/);
  assert.equal(Array.from(ps.view(0)), table);
  clock.advance(300);
  const r = await first; // completes by the barrier timeout, with the first push alone
  assert.is(r.state, 'timed-out');
  const after = ps.pull(0).entities;
  assert.ok(Math.abs(table[4]! - after[4]!) < 1e-9, 'the refused push to row 1 was not applied');
});

test('a barrier timeout applies what arrived and raises a warning', async () => {
  const clock = ManualClock.create();
  const ps = server(3, 150, clock);
  const warnings: string[] = [];
  ps.onWarning = (code, message) => warnings.push(`${code}: ${message}`);
  const before = ps.pull(1).entities.slice(0, 4);
  const both = Promise.all([ps.pushAsync(1, 0, [[0, [1, 1, 1, 1]]]), ps.pushAsync(1, 1, [[0, [3, 3, 3, 3]]])]);
  await spin();
  assert.equal(ps.shardSteps(), [0, 0], 'nothing times out before the clock passes the timeout');
  clock.advance(150);
  const [a, b] = await both;
  const results = [a, b].sort((x, y) => x.state.localeCompare(y.state));
  assert.is(results[1]!.state, 'timed-out');
  assert.equal(results[1], { state: 'timed-out', step: 1, arrived: 2 });
  assert.equal(results[0], { state: 'step-complete', step: 1, last: false });
  assert.is(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /^KGSHARD_BARRIER_TIMEOUT: shard 1 step 0: 2 of 3 workers pushed within 150 ms; applied what arrived$/,
  );
  const after = ps.pull(1).entities.slice(0, 4);
  for (let k = 0; k < 4; k++)
    assert.ok(Math.abs(before[k]! - after[k]! - 0.2) < 1e-6, 'lr * mean(1, 3) over the pushes that arrived');
  assert.is(ps.stats().warnings, 1);
  // The next step starts clean and completes normally.
  const all = await Promise.all([0, 1, 2].map((w) => ps.pushAsync(1, w, [[1, [1, 1, 1, 1]]])));
  assert.ok(all.every((r) => r.state === 'step-complete'));
  assert.equal(ps.shardSteps(), [0, 2]);
});

test('the barrier is per shard: a push to shard 1 never waits for shard 0', async () => {
  const ps = server(2);
  const pending0 = ps.pushAsync(0, 0, [[0, [1, 1, 1, 1]]]);
  const done1 = await Promise.all([ps.pushAsync(1, 0, [[0, [1, 1, 1, 1]]]), ps.pushAsync(1, 1, [[0, [1, 1, 1, 1]]])]);
  assert.ok(done1.every((r) => r.state === 'step-complete'));
  assert.equal(ps.shardSteps(), [0, 1]);
  await ps.pushAsync(0, 1, [[0, [1, 1, 1, 1]]]);
  await pending0;
  assert.equal(ps.shardSteps(), [1, 1]);
});

test('a refused sync push (bad row) leaves the pending step untouched', async () => {
  const ps = server(2);
  const first = ps.pushAsync(0, 0, [[0, [1, 1, 1, 1]]]);
  assert.match(
    errorText(() => ps.pushFlat(0, 1, Int32Array.of(0), Float32Array.of(1, Number.POSITIVE_INFINITY, 0, 0), 1)),
    /^E_NON_FINITE/,
  );
  await ps.pushAsync(0, 1, [[0, [3, 3, 3, 3]]]);
  await first;
  assert.equal(ps.shardSteps(), [1, 0]);
  assert.is(ps.stats().barriersCompleted, 1);
});

test.run();
