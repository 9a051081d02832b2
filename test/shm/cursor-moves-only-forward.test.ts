import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cursor } from '../../src/shm/cursor.js';

test('advance moves the cursor only to a strictly greater value', () => {
  const c = Cursor.create();
  assert.not.ok(c.advance(0), 'equal is not greater');
  assert.ok(c.advance(7));
  assert.not.ok(c.advance(3));
  assert.not.ok(c.advance(7));
  assert.is(c.get(), 7);
  assert.ok(c.advance(Number.MAX_SAFE_INTEGER));
  assert.is(c.get(), Number.MAX_SAFE_INTEGER);
});

test('tryAdvanceOnce reports each outcome of one compare-and-swap', () => {
  const c = Cursor.create({ initial: 10 });
  assert.equal(c.tryAdvanceOnce(5, 10), { state: 'not-greater', current: 10 });
  assert.equal(c.tryAdvanceOnce(20, 3), { state: 'raced', current: 10 }, 'stale expectation');
  assert.is(c.get(), 10);
  assert.equal(c.tryAdvanceOnce(8, 3), { state: 'not-greater', current: 10 }, 'stale and already beyond');
  assert.equal(c.tryAdvanceOnce(20, 10), { state: 'advanced' });
  assert.is(c.get(), 20);
});

test.run();
