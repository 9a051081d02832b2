import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  Seqlock,
  SEQ_BUSY,
  SEQ_INVALID,
  SEQ_LOST,
  SEQ_OK,
  SEQ_RECOVERED,
  type SeqlockHandle,
} from '../../src/shm/seqlock.js';
import { allocate, ringLayout } from '../../native-layout/index.js';
import { ManualClock } from '../../src/shm/clock.js';
import { check } from '../helpers/prop.js';
import { err } from '../helpers/errors.js';

test('reads return exactly the rows the last writes left, for any sequence of writes', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.float({ noNaN: true })), { maxLength: 30 }),
      (rows, cols, writes) => {
        const region = Seqlock.create({ rows, cols });
        const model = new Float32Array(rows * cols);
        for (const [a, b, v] of writes) {
          const start = a % rows;
          const count = 1 + (b % (rows - start));
          const src = new Float32Array(count * cols).fill(v);
          assert.is(region.write(start, src), SEQ_OK);
          model.set(src, start * cols);
          const dst = new Float32Array(rows * cols);
          assert.is(region.read(dst), SEQ_OK);
          assert.equal(Array.from(dst), Array.from(model));
          const one = new Float32Array(cols);
          assert.is(region.read(one, start, 1), SEQ_OK);
          assert.equal(Array.from(one), Array.from(model.subarray(start * cols, (start + 1) * cols)));
        }
        assert.is(region.writes(), writes.length);
        assert.is(region.sequence(), 2 * writes.length);
      },
    ),
    200,
  );
});

test('out-of-range reads and writes return SEQ_INVALID and change nothing', () => {
  const region = Seqlock.create({ rows: 3, cols: 2 });
  region.write(0, Float32Array.of(1, 1, 2, 2, 3, 3));
  const seq = region.sequence();
  assert.is(region.read(new Float32Array(6), 2, 2), SEQ_INVALID);
  assert.is(region.read(new Float32Array(6), -1, 1), SEQ_INVALID);
  assert.is(region.read(new Float32Array(3), 0, 2), SEQ_INVALID, 'destination too small');
  assert.is(region.write(2, new Float32Array(4)), SEQ_INVALID, 'past the last row');
  assert.is(region.write(0, new Float32Array(3)), SEQ_INVALID, 'not whole rows');
  assert.is(region.write(-1, new Float32Array(2)), SEQ_INVALID);
  assert.is(region.beginWrite(0, 1), SEQ_INVALID, 'beginWrite without the lock');
  assert.is(region.endWrite(), SEQ_INVALID);
  assert.is(region.unlock(), SEQ_INVALID);
  assert.is(region.sequence(), seq);
  assert.equal(Array.from(region.data), [1, 1, 2, 2, 3, 3]);
});

test('a holder that outlives its lease loses the lock, and its late publish cannot leave the counter odd', () => {
  const clock = ManualClock.create();
  const region = Seqlock.create({ rows: 2, cols: 2, leaseMs: 30, clock });
  const slow = Seqlock.attach(region.handle);
  assert.is(slow.lock(10), SEQ_OK);
  assert.is(slow.beginWrite(0, 2), SEQ_OK);
  const other = Seqlock.attach(region.handle);
  clock.advance(30);
  assert.is(other.lock(100), SEQ_BUSY, 'not stale at exactly the lease');
  clock.advance(1);
  assert.is(other.lock(100), SEQ_RECOVERED);
  assert.is(region.sequence() % 2, 0, 'recovery made the counter even');
  assert.is(slow.endWrite(), SEQ_LOST);
  assert.is(slow.unlock(), SEQ_LOST);
  assert.is(region.sequence() % 2, 0);
  assert.ok(other.holdsLock());
  assert.is(other.unlock(), SEQ_OK);
  assert.is(region.recoveries(), 1);
});

test('create and attach reject bad shapes, leases and regions', () => {
  assert.match(err(() => Seqlock.create({ rows: 0, cols: 4 })).message, /rows must be a positive integer, got 0/);
  assert.match(err(() => Seqlock.create({ rows: 4, cols: -1 })).message, /cols must be a positive integer, got -1/);
  assert.is(err(() => Seqlock.create({ rows: 1.5, cols: 4 })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => Seqlock.create({ rows: 1e6, cols: 1e4 })).code, 'E_OUT_OF_RANGE');
  assert.match(
    err(() => Seqlock.create({ rows: 1, cols: 1, leaseMs: 0 })).message,
    /leaseMs must be in \[1, 3600000\], got 0/,
  );
  const region = Seqlock.create({ rows: 2, cols: 3 });
  assert.is(err(() => Seqlock.attach({ ...region.handle, rows: 3 })).code, 'E_LAYOUT_SIZE');
  assert.is(
    err(() => Seqlock.attach({ kind: 'seqlock', sab: allocate(ringLayout(8, 1)), rows: 2, cols: 3 })).code,
    'E_LAYOUT_MAGIC',
  );
  assert.is(err(() => Seqlock.attach({ kind: 'ring' } as unknown as SeqlockHandle)).code, 'E_BAD_HANDLE');
  const again = Seqlock.attach(region.handle);
  again.write(1, Float32Array.of(4, 5, 6));
  assert.equal(Array.from(region.data), [0, 0, 0, 4, 5, 6], 'attach sees the same memory');
});

test.run();
