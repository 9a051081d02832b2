/**
 * Takeover-safe consumption (`peek` / `releasePeeked`): a batch belongs to
 * the consumer whose compare-and-swap released it. A consumer overtaken
 * while it held a copy is told so and changes nothing; consumers racing on
 * one ring from real threads take every event exactly once, each in order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ring } from '../../src/shm/ring.js';
import { withSeed } from '../helpers/prop.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import type { PeekConsumerInput, PeekConsumerReport } from '../fixtures/ring-peek-consumer.js';

function seqs(n: number, from = 0): Int32Array {
  const a = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = from + i;
    a[2 * i + 1] = -(from + i);
  }
  return a;
}

test('an overtaken consumer learns it and changes nothing; the winner holds the events', () => {
  const ring = Ring.create({ capacity: 8, slotWords: 2 });
  const stalled = Ring.attach(ring.handle);
  const replacement = Ring.attach(ring.handle);
  assert.is(ring.push(seqs(8), 0, 8), 8);
  const a = new Int32Array(16);
  const b = new Int32Array(16);
  // The first consumer copies four events and stalls before releasing them.
  assert.is(stalled.peek(a, 0, 4), 4);
  // Its replacement copies and releases six.
  assert.is(replacement.peek(b, 0, 6), 6);
  assert.ok(replacement.releasePeeked(6));
  assert.equal([...b.slice(0, 12)], [...seqs(6)]);
  assert.is(ring.size(), 2);
  // The producer reuses the freed slots, where the stalled copy came from.
  assert.is(ring.push(seqs(6, 8), 0, 6), 6);
  // The stalled consumer wakes: its release is refused, the ring is untouched.
  assert.not.ok(stalled.releasePeeked(4));
  assert.is(ring.size(), 8);
  assert.is(ring.poppedTotal(), 6);
  // Peeking again, it gets what follows the replacement's batch.
  assert.is(stalled.peek(a, 0, 3), 3);
  assert.ok(stalled.releasePeeked(3));
  assert.equal([a[0], a[2], a[4]], [6, 7, 8]);
  assert.is(ring.size(), 5);
  assert.ok(ring.checkGuards());
});

test('a batch is released by whoever gets there first; the other copy is refused', () => {
  const ring = Ring.create({ capacity: 4, slotWords: 2 });
  const x = Ring.attach(ring.handle);
  const y = Ring.attach(ring.handle);
  ring.push(seqs(3), 0, 3);
  const bx = new Int32Array(8);
  const by = new Int32Array(8);
  assert.is(x.peek(bx, 0, 3), 3);
  assert.is(y.peek(by, 0, 2), 2);
  assert.ok(x.releasePeeked(2), 'x may release part of its copy');
  assert.not.ok(y.releasePeeked(2), 'y copied the same events: refused');
  assert.not.ok(x.releasePeeked(1), 'a second release of the same peek is refused');
  assert.is(x.peek(bx, 0, 3), 1);
  assert.is(bx[0], 2);
  assert.ok(x.releasePeeked(1));
  assert.is(ring.size(), 0);
  assert.is(x.peek(bx, 0, 3), 0, 'empty');
  assert.not.ok(x.releasePeeked(0));
});

test('a peek across the end of the slots, in a loop or in bulk, copies the events in order', () => {
  const ring = Ring.create({ capacity: 64, slotWords: 2 });
  const out = new Int32Array(2 * 64);
  let next = 0;
  // Batches of 20 (40 words: the loop) and 60 (120 words: the bulk copy), wrapping at every position.
  for (let round = 0; round < 50; round++) {
    const n = round % 2 === 0 ? 20 : 60;
    assert.is(ring.push(seqs(n, next), 0, n), n);
    assert.is(ring.peek(out, 0, n), n);
    assert.ok(ring.releasePeeked(n));
    for (let i = 0; i < n; i++) {
      assert.is(out[2 * i], next + i, `round ${round} event ${i}`);
      assert.is(out[2 * i + 1], -(next + i));
    }
    next += n;
  }
  assert.ok(ring.checkGuards());
});

test('three racing consumer threads and a producer thread: every event taken once, each consumer in order', () =>
  withSeed('racing takeover-safe consumers', async (seed) => {
    const events = 400_000;
    const ring = Ring.create({ capacity: 256, slotWords: 2 });
    const total = new Int32Array(new SharedArrayBuffer(4));
    const consumers = [0, 1, 2].map((k) =>
      startWorker('ring-peek-consumer', {
        handle: ring.handle,
        events,
        maxBatch: 64,
        seed: (seed + k * 7919) >>> 0,
        taken: total,
      } satisfies PeekConsumerInput),
    );
    const producer = startWorker('ring-producer', { handle: ring.handle, events, maxBatch: 100, seed: seed >>> 0 });
    const pushed = firstMessage<{ pushed: number; guardsOk: boolean }>(producer, 120_000);
    const taken = Promise.all(consumers.map((w) => firstMessage<PeekConsumerReport>(w, 120_000)));
    try {
      const [p, reports] = await Promise.all([pushed, taken]);
      assert.is(p.pushed, events);
      const what = JSON.stringify(reports.map((r) => ({ ...r, runs: r.runs.length })));
      for (const r of reports) {
        assert.is(r.badPayload, 0, `${r.firstError} ${what}`);
        assert.is(r.notForward, 0, `${r.firstError} ${what}`);
      }
      // The runs of all consumers tile 0..events-1 exactly once.
      const runs = reports.flatMap((r) => r.runs).sort((a, b) => a[0] - b[0]);
      let next = 0;
      for (const [a, b] of runs) {
        assert.is(a, next, `a run starts at ${a}, expected ${next}: ${a < next ? 'taken twice' : 'lost'}`);
        next = b + 1;
      }
      assert.is(next, events);
      assert.is(
        reports.reduce((s, r) => s + r.count, 0),
        events,
      );
      assert.is(ring.size(), 0);
      assert.ok(p.guardsOk && ring.checkGuards());
    } finally {
      await Promise.all([...consumers, producer].map((w) => w.terminate()));
    }
  }));

test.run();
