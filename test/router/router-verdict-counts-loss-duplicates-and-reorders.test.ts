/**
 * The delivery verdict: per producer, the consumers' runs must tile
 * 0..produced-1 (or from the producers' first sequence number on) exactly once. A missing event is lost, a repeated one
 * duplicated, one that arrived after a higher sequence number in the same
 * shard reordered. Checked on hand-made event streams through the real
 * SequenceVerifier.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SequenceVerifier, verifyDelivery } from '../../src/router/consumer.js';

function stream(pairs: [number, number][]): Int32Array {
  const a = new Int32Array(pairs.length * 2);
  pairs.forEach(([p, s], i) => {
    a[2 * i] = p;
    a[2 * i + 1] = s;
  });
  return a;
}

function verdict(produced: [number, number][], shards: [number, number][][], firstSequence = 0) {
  const traces = shards.flatMap((events) => {
    const v = new SequenceVerifier(4);
    const words = stream(events);
    v.observe(words, 0, events.length, 2);
    return v.traces();
  });
  return verifyDelivery(new Map(produced), traces, firstSequence);
}

const seq = (p: number, a: number, b: number): [number, number][] =>
  Array.from({ length: b - a }, (_, i) => [p, a + i]);

test('a producer that moved between two shards, nothing wrong', () => {
  const v = verdict(
    [
      [0, 10],
      [1, 5],
    ],
    [[...seq(0, 0, 6), ...seq(1, 0, 5)], seq(0, 6, 10)],
  );
  assert.equal([v.produced, v.consumed, v.lost, v.duplicated, v.reordered], [15, 15, 0, 0, 0]);
});

test('a lost event', () => {
  const v = verdict([[0, 10]], [[...seq(0, 0, 4), ...seq(0, 5, 10)]]);
  assert.equal([v.lost, v.duplicated, v.reordered], [1, 0, 0]);
});

test('a duplicated event, in another shard', () => {
  const v = verdict([[0, 10]], [seq(0, 0, 10), [[0, 3]]]);
  assert.equal([v.consumed, v.lost, v.duplicated, v.reordered], [11, 0, 1, 0]);
});

test('a reordered pair in one shard', () => {
  const v = verdict(
    [[0, 6]],
    [
      [
        [0, 0],
        [0, 1],
        [0, 3],
        [0, 2],
        [0, 4],
        [0, 5],
      ],
    ],
  );
  assert.equal([v.consumed, v.lost, v.duplicated, v.reordered], [6, 0, 0, 1]);
});

test('events beyond what was produced count as duplicated; a silent producer loses all', () => {
  const v = verdict(
    [
      [0, 3],
      [1, 4],
    ],
    [seq(0, 0, 5)],
  );
  assert.equal(v.perProducer[0], [3, 5, 0, 2, 0]);
  assert.equal(v.perProducer[1], [4, 0, 4, 0, 0]);
});

test('producers that started at firstSequence: events below it or past the end count as duplicated', () => {
  const ok = verdict([[0, 10]], [seq(0, 100, 110)], 100);
  assert.equal([ok.consumed, ok.lost, ok.duplicated, ok.reordered], [10, 0, 0, 0]);
  const v = verdict([[0, 10]], [seq(0, 99, 111)], 100);
  assert.equal([v.consumed, v.lost, v.duplicated, v.reordered], [12, 0, 2, 0]);
});

test.run();
