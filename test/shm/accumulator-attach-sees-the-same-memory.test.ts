import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Accumulator, type AccumulatorHandle } from '../../src/shm/accumulator.js';
import { accumulatorLayout, allocate, barrierLayout, writeHeader } from '../../native-layout/index.js';
import { err } from '../helpers/errors.js';

test('an accumulator attached from its handle shares the pending total and the flush count', () => {
  const a = Accumulator.create({ threshold: 100 });
  const other = Accumulator.attach(structuredClone(a.handle));
  assert.is(other.threshold, 100);
  assert.is(a.add(60), 0);
  assert.is(other.pending(), 60);
  assert.is(other.add(50), 110);
  assert.is(a.pending(), 0);
  assert.is(a.flushes(), 1);
});

test('attach refuses another kind of region with E_LAYOUT_MAGIC', () => {
  const e = err(() => Accumulator.attach({ kind: 'accumulator', sab: allocate(barrierLayout()), threshold: 100 }));
  assert.is(e.code, 'E_LAYOUT_MAGIC');
  assert.match(e.message, /not an? accumulator region/);
});

test('attach refuses bad handles, a changed version and a mismatched threshold', () => {
  const a = Accumulator.create({ threshold: 100 });
  assert.is(err(() => Accumulator.attach(null as unknown as AccumulatorHandle)).code, 'E_BAD_HANDLE');
  assert.is(
    err(() => Accumulator.attach({ ...a.handle, kind: 'ring' } as unknown as AccumulatorHandle)).code,
    'E_BAD_HANDLE',
  );
  const mismatch = err(() => Accumulator.attach({ ...a.handle, threshold: 99 }));
  assert.is(mismatch.code, 'E_LAYOUT_SIZE');
  assert.match(mismatch.message, /threshold mismatch, expected 99, found 100/);
  assert.is(err(() => Accumulator.attach({ ...a.handle, threshold: 0.5 })).code, 'E_INVALID_ARGUMENT');
  const sab = allocate(accumulatorLayout());
  writeHeader(sab, { ...accumulatorLayout(), version: 7 });
  assert.is(err(() => Accumulator.attach({ kind: 'accumulator', sab, threshold: 100 })).code, 'E_LAYOUT_VERSION');
});

test.run();
