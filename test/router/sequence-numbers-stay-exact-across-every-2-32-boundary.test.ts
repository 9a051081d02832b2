/**
 * Sequenced events carry 48-bit sequence numbers (bits 32..47 in the high
 * half of word 0, beside the producer id): streams written with
 * `writeSequencedEvents` in batches of any size, starting anywhere around a
 * multiple of 2^32, read back through the real SequenceVerifier as one run
 * per producer, and the verdict is exact. A missing event at the boundary
 * is still lost, and a stream whose sequence wrapped at 32 bits is caught.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EVENT_PRODUCER_MASK,
  SEQUENCE_BITS,
  SequenceVerifier,
  verifyDelivery,
  writeSequencedEvents,
} from '../../src/router/consumer.js';
import { MAX_PRODUCERS } from '../../src/router/router.js';
import { check } from '../helpers/prop.js';

const TWO_32 = 2 ** 32;
const MAX_PRODUCERS_HERE = 8;

/** Events of producer `id`, sequence first..first+count-1, written `batches` at a time (cycled). */
function events(ew: number, id: number, first: number, count: number, batches: number[]): Int32Array {
  const out = new Int32Array(count * ew).fill(-7);
  const buf = new Int32Array(300 * ew);
  let done = 0;
  for (let b = 0; done < count; b++) {
    const n = Math.min(batches[b % batches.length]!, count - done);
    buf.fill(-7);
    writeSequencedEvents(buf, ew, id, first + done, n);
    out.set(buf.subarray(0, n * ew), done * ew);
    done += n;
  }
  return out;
}

test('every router producer id fits the id bits of word 0', () => {
  assert.ok(MAX_PRODUCERS <= EVENT_PRODUCER_MASK + 1);
  assert.is(SEQUENCE_BITS, 48);
});

test('streams around any multiple of 2^32 verify as one exact run per producer', async () => {
  await check(
    fc.property(
      fc.integer({ min: 2, max: 4 }),
      fc.integer({ min: 0, max: 0xffff - 1 }),
      fc.uniqueArray(
        fc.tuple(
          fc.integer({ min: 0, max: MAX_PRODUCERS_HERE - 1 }),
          fc.integer({ min: -700, max: 700 }),
          fc.integer({ min: 1, max: 1400 }),
        ),
        {
          minLength: 1,
          maxLength: 3,
          selector: (t) => t[0],
        },
      ),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 500 }),
      (ew, boundary, producers, batches, chunk) => {
        const firstSequence = Math.max(0, boundary * TWO_32 + producers[0]![1]);
        const produced = new Map<number, number>();
        const v = new SequenceVerifier(MAX_PRODUCERS_HERE);
        for (const [id, , count] of producers) {
          const stream = events(ew, id, firstSequence, count, batches);
          // Words past the first two are the caller's.
          for (let e = 0; e < count; e++) for (let w = 2; w < ew; w++) assert.is(stream[e * ew + w], -7);
          for (let e = 0; e < count; e += chunk) v.observe(stream, e * ew, Math.min(chunk, count - e), ew);
          produced.set(id, count);
        }
        for (const t of v.traces()) {
          assert.equal(t.segments, [[firstSequence, firstSequence + produced.get(t.producer)! - 1]]);
          assert.is(t.backwardsTotal, 0);
        }
        const verdict = verifyDelivery(produced, v.traces(), firstSequence);
        const total = [...produced.values()].reduce((a, b) => a + b, 0);
        assert.equal(
          [verdict.produced, verdict.consumed, verdict.lost, verdict.duplicated, verdict.reordered],
          [total, total, 0, 0, 0],
        );
        assert.is(v.foreign, 0);
      },
    ),
    200,
  );
});

test('the event just past 2^32 missing is one lost event', () => {
  const first = TWO_32 - 10;
  const stream = events(2, 3, first, 20, [7]);
  const v = new SequenceVerifier(4);
  v.observe(stream, 0, 10, 2);
  v.observe(stream, 22, 9, 2); // skips sequence 2^32
  const [t] = v.traces();
  assert.equal(t!.segments, [
    [first, TWO_32 - 1],
    [TWO_32 + 1, TWO_32 + 9],
  ]);
  const verdict = verifyDelivery(new Map([[3, 20]]), v.traces(), first);
  assert.equal([verdict.consumed, verdict.lost, verdict.duplicated, verdict.reordered], [19, 1, 0, 0]);
});

test('a sequence that wrapped at 32 bits (the high word left at 0) is reported, not accepted', () => {
  const first = TWO_32 - 10;
  const stream = events(2, 1, first, 20, [20]);
  for (let e = 10; e < 20; e++) stream[2 * e] = 1; // word 0 without the high sequence bits
  const v = new SequenceVerifier(4);
  v.observe(stream, 0, 20, 2);
  const verdict = verifyDelivery(new Map([[1, 20]]), v.traces(), first);
  assert.equal([verdict.lost, verdict.duplicated, verdict.reordered], [10, 10, 10]);
});

test.run();
