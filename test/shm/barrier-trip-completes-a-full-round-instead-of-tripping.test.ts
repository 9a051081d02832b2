import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier } from '../../src/shm/barrier.js';
import { barrierLayout, indexOf } from '../../native-layout/index.js';

test('a timed-out waiter that finds every party arrived finishes the release as a complete round', () => {
  const b = Barrier.create({ parties: 2 });
  const waiter = b.arrive();
  // Simulate the last party caught between its add and its release CAS: its
  // add has landed (2 of 2 arrived) but the generation has not moved yet.
  const state = new Int32Array(b.handle.sab);
  Atomics.add(state, indexOf(barrierLayout(), 'state'), 1);
  assert.is(b.arrived(), 2);
  assert.is(b.generation(), 0);

  assert.equal(b.trip(waiter), { state: 'passed', generation: 0, last: false });
  assert.is(b.generation(), 1);
  assert.is(b.arrived(), 0);
  assert.is(b.timeouts(), 0, 'not counted as a timeout');
  assert.equal(b.poll(waiter), { state: 'passed', generation: 0, last: false }, 'no trip bit was set');
});

test.run();
