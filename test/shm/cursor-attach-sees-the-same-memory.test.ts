import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cursor, type CursorHandle } from '../../src/shm/cursor.js';
import { accumulatorLayout, allocate, cursorLayout, indexOf, writeHeader } from '../../native-layout/index.js';
import { err } from '../helpers/errors.js';

test('a cursor attached from its handle shares the value', () => {
  const c = Cursor.create({ initial: 10 });
  const other = Cursor.attach(structuredClone(c.handle));
  assert.is(other.get(), 10);
  assert.ok(other.advance(2 ** 40));
  assert.is(c.get(), 2 ** 40);
  assert.not.ok(c.advance(2 ** 40));
});

test('attach refuses another kind of region with E_LAYOUT_MAGIC', () => {
  const e = err(() => Cursor.attach({ kind: 'cursor', sab: allocate(accumulatorLayout()) }));
  assert.is(e.code, 'E_LAYOUT_MAGIC');
  assert.match(e.message, /not a cursor region/);
});

test('attach refuses bad handles, a changed version and an out-of-range stored value', () => {
  const c = Cursor.create();
  assert.is(err(() => Cursor.attach(undefined as unknown as CursorHandle)).code, 'E_BAD_HANDLE');
  assert.is(err(() => Cursor.attach({ ...c.handle, kind: 'barrier' } as unknown as CursorHandle)).code, 'E_BAD_HANDLE');
  assert.is(err(() => Cursor.attach({ kind: 'cursor', sab: new SharedArrayBuffer(16) })).code, 'E_LAYOUT_SIZE');
  const sab = allocate(cursorLayout());
  writeHeader(sab, { ...cursorLayout(), version: 2 });
  assert.is(err(() => Cursor.attach({ kind: 'cursor', sab })).code, 'E_LAYOUT_VERSION');
  const huge = allocate(cursorLayout());
  new BigUint64Array(huge)[indexOf(cursorLayout(), 'value')] = 2n ** 60n;
  const e = err(() => Cursor.attach({ kind: 'cursor', sab: huge }));
  assert.is(e.code, 'E_BAD_HANDLE');
  assert.match(e.message, /above 2\^53 - 1/);
});

test.run();
