import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Ring } from '../../src/shm/ring.js';
import { check } from '../helpers/prop.js';

type Op =
  | { kind: 'push'; n: number }
  | { kind: 'reserve'; n: number; commit: number }
  | { kind: 'pop'; n: number }
  | { kind: 'acquire'; n: number; release: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), n: fc.integer({ min: 0, max: 20 }) }),
  fc.record({
    kind: fc.constant('reserve' as const),
    n: fc.integer({ min: 0, max: 20 }),
    commit: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({ kind: fc.constant('pop' as const), n: fc.integer({ min: 0, max: 20 }) }),
  fc.record({
    kind: fc.constant('acquire' as const),
    n: fc.integer({ min: 0, max: 20 }),
    release: fc.integer({ min: 0, max: 20 }),
  }),
);

test('any sequence of pushes and pops behaves as a bounded FIFO queue', async () => {
  await check(
    fc.property(
      fc.constantFrom(2, 4, 8, 16),
      fc.integer({ min: 1, max: 4 }),
      fc.array(op, { maxLength: 200 }),
      (capacity, sw, ops) => {
        const ring = Ring.create({ capacity, slotWords: sw });
        const model: number[] = [];
        let next = 1;
        let pushed = 0;
        let popped = 0;
        const buf = new Int32Array(20 * sw);
        for (const o of ops) {
          if (o.kind === 'push') {
            for (let i = 0; i < o.n; i++) for (let k = 0; k < sw; k++) buf[i * sw + k] = (next + i) * 10 + k;
            const n = ring.push(buf, 0, o.n);
            assert.is(n, Math.min(o.n, capacity - model.length));
            for (let i = 0; i < n; i++) model.push(next + i);
            next += n;
            pushed += n;
          } else if (o.kind === 'reserve') {
            const n = ring.reserve(o.n);
            assert.ok(n <= Math.min(o.n, capacity - model.length));
            if (o.n > 0 && model.length < capacity) assert.ok(n > 0, 'reserve found no room in a ring with room');
            const c = Math.min(n, o.commit);
            for (let i = 0; i < c; i++)
              for (let k = 0; k < sw; k++) ring.slots[ring.reservedOffset + i * sw + k] = (next + i) * 10 + k;
            ring.commit(c);
            for (let i = 0; i < c; i++) model.push(next + i);
            next += c;
            pushed += c;
          } else if (o.kind === 'pop') {
            const n = ring.pop(buf, 0, o.n);
            assert.is(n, Math.min(o.n, model.length));
            for (let i = 0; i < n; i++) {
              const want = model.shift()!;
              for (let k = 0; k < sw; k++) assert.is(buf[i * sw + k], want * 10 + k);
            }
            popped += n;
          } else {
            const n = ring.acquire(o.n);
            assert.ok(n <= Math.min(o.n, model.length));
            if (o.n > 0 && model.length > 0) assert.ok(n > 0, 'acquire found nothing in a non-empty ring');
            const r = Math.min(n, o.release);
            for (let i = 0; i < r; i++) {
              const want = model.shift()!;
              for (let k = 0; k < sw; k++) assert.is(ring.slots[ring.acquiredOffset + i * sw + k], want * 10 + k);
            }
            ring.release(r);
            popped += r;
          }
          // Exact accounting at every step: pushed = popped + queued.
          assert.is(ring.size(), model.length);
          assert.is(pushed, popped + ring.size());
          assert.is(ring.pushedTotal(), pushed);
          assert.is(ring.poppedTotal(), popped);
          assert.ok(ring.checkGuards());
        }
      },
    ),
    200,
  );
});

test('a full ring makes push return 0 and a blocking push on the main thread returns what it could', () => {
  const ring = Ring.create({ capacity: 4, slotWords: 2 });
  const src = new Int32Array(16).fill(7);
  assert.is(ring.push(src, 0, 8), 4);
  assert.is(ring.push(src, 0, 1), 0);
  assert.is(ring.reserve(1), 0);
  assert.is(ring.pushBlocking(src, 0, 2, 5), 0);
  const dst = new Int32Array(16);
  assert.is(ring.pop(dst, 0, 3), 3);
  assert.is(ring.popBlocking(dst, 0, 8, 5), 1);
  assert.is(ring.pop(dst, 0, 1), 0);
  assert.is(ring.popBlocking(dst, 0, 1, 5), 0);
  assert.is(ring.push(src, 0, 0), 0);
  assert.is(ring.push(src, 0, -3), 0);
  assert.is(ring.pop(dst, 0, -1), 0);
});

test('the main thread awaits data with popAsync and times out cleanly', async () => {
  const ring = Ring.create({ capacity: 8, slotWords: 1 });
  const dst = new Int32Array(8);
  assert.is(await ring.popAsync(dst, 0, 8, 30), 0, 'nothing arrived: the wait ends by its timeout with 0');
  setTimeout(() => ring.push(Int32Array.of(42), 0, 1), 10);
  assert.is(await ring.popAsync(dst, 0, 8, 5_000), 1);
  assert.is(dst[0], 42);
  const src = new Int32Array(8).fill(1);
  assert.is(await ring.pushAsync(src, 0, 8, 100), 8);
  assert.is(await ring.pushAsync(src, 0, 1, 20), 0);
  setTimeout(() => ring.pop(dst, 0, 2), 10);
  assert.is(await ring.pushAsync(src, 0, 2, 5_000), 2);
});

test.run();
