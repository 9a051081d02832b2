import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Accumulator } from '../../src/shm/accumulator.js';

test('the add that reaches the threshold claims the whole pending total', () => {
  const a = Accumulator.create({ threshold: 10 });
  assert.is(a.add(4), 0);
  assert.is(a.add(5), 0);
  assert.is(a.add(3), 12, 'claims 12, including the amounts of earlier adds');
  assert.is(a.pending(), 0);
  assert.is(a.add(10), 10, 'exactly the threshold is enough');
  assert.is(a.flushes(), 2);
  assert.is(a.add(7), 0);
  assert.is(a.drain(), 7);
  assert.is(a.drain(), 0);
  assert.is(a.flushes(), 2, 'drains are not counted as flushes');
});

test('of two adders that both saw the crossing, one claims and the other gets 0', () => {
  const a = Accumulator.create({ threshold: 10 });
  const first = a.deposit(6);
  const second = a.deposit(6); // total 12: both deposits "crossed" from their own view
  assert.is(first, 6);
  assert.is(second, 12);
  assert.equal(a.tryClaim(first), { state: 'below-threshold', current: 6 });
  assert.equal(a.tryClaim(second), { state: 'claimed', amount: 12 });
  assert.equal(
    a.tryClaim(second),
    { state: 'below-threshold', current: 0 },
    'the same crossing cannot be claimed twice',
  );
});

test('an add racing with a claim makes the claim retry and take the larger total', () => {
  const a = Accumulator.create({ threshold: 10 });
  const seen = a.deposit(11);
  a.deposit(3); // lands between the read and the CAS
  assert.equal(a.tryClaim(seen), { state: 'raced', current: 14 });
  assert.equal(a.tryClaim(14), { state: 'claimed', amount: 14 });
  assert.is(a.pending(), 0);
});

test.run();
