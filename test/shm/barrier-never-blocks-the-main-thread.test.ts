import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier } from '../../src/shm/barrier.js';
import { KgError } from '../../src/errors.js';
import { ManualClock } from '../../src/shm/clock.js';

test('arriveAndWait refuses the main thread before arriving', () => {
  const b = Barrier.create({ parties: 2 });
  try {
    b.arriveAndWait(10);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, KgError);
    assert.is((e as KgError).code, 'E_WRONG_THREAD');
    assert.match((e as KgError).message, /arriveAndWaitAsync/);
  }
  assert.is(b.arrived(), 0);
});

test('arriveAndWaitAsync passes at once when this arrival completes the round', async () => {
  const b = Barrier.create({ parties: 1 });
  assert.equal(await b.arriveAndWaitAsync(1000), { state: 'passed', generation: 0, last: true });
  assert.equal(await b.arriveAndWaitAsync(1000), { state: 'passed', generation: 1, last: true });
});

test('arriveAndWaitAsync wakes when another party completes the round, and keeps the event loop running', async () => {
  const b = Barrier.create({ parties: 2 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const waiting = b.arriveAndWaitAsync(5000);
  await new Promise((r) => setTimeout(r, 30));
  const other = b.arrive();
  assert.ok(other.released);
  assert.equal(await waiting, { state: 'passed', generation: 0, last: false });
  clearInterval(timer);
  assert.ok(ticks > 0, 'timers ran while the main thread waited');
});

test('arriveAndWaitAsync times out, trips the round and counts it', async () => {
  const b = Barrier.create({ parties: 3 });
  const other = b.arrive();
  const r = await b.arriveAndWaitAsync(20);
  assert.equal(r, { state: 'timed-out', generation: 0, arrived: 2, tripped: true });
  assert.is(b.timeouts(), 1);
  assert.is(b.generation(), 1);
  assert.equal(b.poll(other), { state: 'timed-out', generation: 0, arrived: 1, tripped: false });
});

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('the wait timeout runs on the barrier clock: a waiter is released by moving the clock, not by sleeping', async () => {
  const clock = ManualClock.create();
  const b = Barrier.create({ parties: 2, clock });
  let result: unknown;
  const waiting = b.arriveAndWaitAsync(1000).then((r) => (result = r));
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  clock.advance(999);
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  assert.is(result, undefined, 'not timed out before the clock reaches the timeout');
  assert.is(b.arrived(), 1);
  clock.advance(1);
  await waiting;
  assert.equal(result, { state: 'timed-out', generation: 0, arrived: 1, tripped: true });
  assert.is(b.timeouts(), 1);
});

test.run();
