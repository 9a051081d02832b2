import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier } from '../../src/shm/barrier.js';
import { KgError } from '../../src/errors.js';
import { ManualClock } from '../../src/shm/clock.js';

test('wait refuses the main thread; waitAsync and wait refuse a bad timeout', async () => {
  const b = Barrier.create({ parties: 2 });
  const ticket = b.arrive();
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.instance(e, KgError);
      return (e as KgError).code;
    }
    return 'none';
  };
  assert.is(
    code(() => b.wait(ticket, 10)),
    'E_WRONG_THREAD',
  );
  let rejected = '';
  await b.waitAsync(ticket, -1).catch((e: KgError) => (rejected = e.code));
  assert.is(rejected, 'E_OUT_OF_RANGE');
  assert.equal(b.poll(ticket), { state: 'waiting', generation: 0, arrived: 1 });
});

test('waitAsync reports waiting at the deadline and leaves the round open for the caller to end', async () => {
  const clock = ManualClock.create();
  const b = Barrier.create({ parties: 3, clock });
  const first = b.arrive();
  const second = b.arrive();
  const waiting = b.waitAsync(second, 100);
  await new Promise((r) => setTimeout(r, 10));
  clock.advance(100);
  assert.equal(await waiting, { state: 'waiting', generation: 0, arrived: 2 });
  assert.is(b.generation(), 0, 'not tripped');
  assert.is(b.timeouts(), 0);
  // The caller decides: here it trips the round itself.
  assert.equal(b.trip(second), { state: 'timed-out', generation: 0, arrived: 2, tripped: true });
  assert.equal(b.poll(first), { state: 'timed-out', generation: 0, arrived: 1, tripped: false });
});

test('waitAsync returns how the round ended when another party ends it first', async () => {
  const b = Barrier.create({ parties: 2 });
  const ticket = b.arrive();
  const waiting = b.waitAsync(ticket, 5000);
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(b.arrive().released);
  assert.equal(await waiting, { state: 'passed', generation: 0, last: false });
});

test.run();
