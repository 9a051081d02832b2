import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ring, type RingHandle } from '../../src/shm/ring.js';
import { allocate, seqlockLayout } from '../../native-layout/index.js';
import { err } from '../helpers/errors.js';

test('capacity must be a power of two within range', () => {
  assert.is(err(() => Ring.create({ capacity: 100, slotWords: 2 })).code, 'E_NOT_POWER_OF_TWO');
  assert.match(
    err(() => Ring.create({ capacity: 100, slotWords: 2 })).message,
    /capacity must be a power of two, got 100/,
  );
  assert.is(err(() => Ring.create({ capacity: 0, slotWords: 2 })).code, 'E_OUT_OF_RANGE');
  assert.is(err(() => Ring.create({ capacity: -8, slotWords: 2 })).code, 'E_OUT_OF_RANGE');
  assert.is(err(() => Ring.create({ capacity: 2 ** 40, slotWords: 1 })).code, 'E_OUT_OF_RANGE');
  assert.is(err(() => Ring.create({ capacity: 2.5, slotWords: 1 })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => Ring.create({ capacity: Number.NaN, slotWords: 1 })).code, 'E_INVALID_ARGUMENT');
});

test('slotWords must be an integer in [1, 64]', () => {
  assert.match(err(() => Ring.create({ capacity: 8, slotWords: 0 })).message, /slotWords must be in \[1, 64\], got 0/);
  assert.is(err(() => Ring.create({ capacity: 8, slotWords: 65 })).code, 'E_OUT_OF_RANGE');
  assert.is(err(() => Ring.create({ capacity: 8, slotWords: 1.5 })).code, 'E_INVALID_ARGUMENT');
});

test('attach refuses the wrong kind of region, a mismatched size or a bad handle', () => {
  const ring = Ring.create({ capacity: 8, slotWords: 2 });
  const again = Ring.attach(ring.handle);
  again.push(Int32Array.of(1, 2), 0, 1);
  assert.is(ring.size(), 1, 'attach sees the same memory');

  const seq = allocate(seqlockLayout(2, 2));
  assert.is(err(() => Ring.attach({ kind: 'ring', sab: seq, capacity: 8, slotWords: 2 })).code, 'E_LAYOUT_MAGIC');
  assert.is(err(() => Ring.attach({ ...ring.handle, capacity: 16 })).code, 'E_LAYOUT_SIZE');
  assert.is(err(() => Ring.attach({ ...ring.handle, slotWords: 1 })).code, 'E_LAYOUT_SIZE');
  assert.is(err(() => Ring.attach({ kind: 'seqlock' } as unknown as RingHandle)).code, 'E_BAD_HANDLE');
  assert.is(err(() => Ring.attach(null as unknown as RingHandle)).code, 'E_BAD_HANDLE');
  assert.is(
    err(() => Ring.attach({ ...ring.handle, sab: new ArrayBuffer(64) as unknown as SharedArrayBuffer })).code,
    'E_BAD_HANDLE',
  );
  assert.ok(ring.checkGuards(), 'failed attaches wrote nothing');
});

test.run();
