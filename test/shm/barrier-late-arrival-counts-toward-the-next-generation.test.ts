import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier } from '../../src/shm/barrier.js';

test('a party arriving after a trip is counted in the next generation and waits for that round', () => {
  const b = Barrier.create({ parties: 3 });
  const a = b.arrive();
  const c = b.arrive();
  assert.equal(b.trip(a), { state: 'timed-out', generation: 0, arrived: 2, tripped: true });
  // c was waiting on generation 0: the trip released it, and it learns the round timed out.
  assert.equal(b.poll(c), { state: 'timed-out', generation: 0, arrived: 2, tripped: false });
  assert.equal(
    b.trip(c),
    { state: 'timed-out', generation: 0, arrived: 2, tripped: false },
    'a second trip changes nothing',
  );
  assert.is(b.timeouts(), 1);

  const late = b.arrive(); // the third party, meant for generation 0
  assert.equal(late, { generation: 1, arrived: 1, released: false });
  assert.is(b.poll(late).state, 'waiting');
  b.arrive();
  const closing = b.arrive();
  assert.equal(closing, { generation: 1, arrived: 3, released: true });
  assert.equal(b.poll(late), { state: 'passed', generation: 1, last: false });
  assert.is(b.generation(), 2);
  assert.is(b.timeouts(), 1);
});

test.run();
