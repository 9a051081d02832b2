import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cursor, type CursorOptions } from '../../src/shm/cursor.js';
import { err } from '../helpers/errors.js';

const BAD: [unknown, string, RegExp][] = [
  [-1, 'E_OUT_OF_RANGE', /must be in \[0, 9007199254740991\], got -1/],
  [2 ** 53, 'E_OUT_OF_RANGE', /must be in \[0, 9007199254740991\], got 9007199254740992/],
  [1.5, 'E_INVALID_ARGUMENT', /must be a non-negative safe integer, got 1\.5/],
  [Number.NaN, 'E_INVALID_ARGUMENT', /must be a non-negative safe integer, got NaN/],
  [Number.POSITIVE_INFINITY, 'E_INVALID_ARGUMENT', /got Infinity/],
  ['7', 'E_INVALID_ARGUMENT', /got "7"/],
  [7n, 'E_INVALID_ARGUMENT', /got 7n/],
];

test('initial must be a non-negative safe integer, and the message names field and value', () => {
  for (const [initial, code, message] of BAD) {
    const e = err(() => Cursor.create({ initial } as unknown as CursorOptions));
    assert.is(e.code, code, `initial=${String(initial)}`);
    assert.match(e.message, /^Cursor\.create: initial /);
    assert.match(e.message, message);
  }
  assert.is(err(() => Cursor.create(null as unknown as CursorOptions)).code, 'E_INVALID_ARGUMENT');
  assert.is(Cursor.create().get(), 0);
  assert.is(Cursor.create({ initial: Number.MAX_SAFE_INTEGER }).get(), Number.MAX_SAFE_INTEGER);
});

test('advance refuses a bad target before touching the cursor', () => {
  const c = Cursor.create({ initial: 5 });
  for (const [to, code, message] of BAD) {
    const e = err(() => c.advance(to as number));
    assert.is(e.code, code, `to=${String(to)}`);
    assert.match(e.message, /^Cursor\.advance: to /);
    assert.match(e.message, message);
  }
  assert.is(err(() => c.tryAdvanceOnce(6, -1)).details['field'], 'expected');
  assert.is(c.get(), 5);
});

test.run();
