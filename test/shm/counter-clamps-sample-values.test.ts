import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatencyCounter, newCounterWindow, SAMPLE_CAP } from '../../src/shm/counter.js';

function sumOf(value: number): { count: number; sum: number } {
  const c = LatencyCounter.create({ counters: 1 });
  c.recordSample(0, value);
  const w = c.collect(0, newCounterWindow());
  return { count: w.count, sum: w.sum };
}

test('negative, NaN and -Infinity values count as a sample of 0', () => {
  for (const v of [-1, -0.5, -1e20, Number.NaN, Number.NEGATIVE_INFINITY, -0]) {
    assert.equal(sumOf(v), { count: 1, sum: 0 }, String(v));
  }
});

test('values above 2^32 - 1 and Infinity clamp to 2^32 - 1', () => {
  for (const v of [SAMPLE_CAP, SAMPLE_CAP + 1, 2 ** 40, 1e300, Number.POSITIVE_INFINITY]) {
    assert.equal(sumOf(v), { count: 1, sum: SAMPLE_CAP }, String(v));
  }
});

test('fractional values are truncated to an integer', () => {
  assert.equal(sumOf(2.9), { count: 1, sum: 2 });
  assert.equal(sumOf(0.999), { count: 1, sum: 0 });
  assert.equal(sumOf(SAMPLE_CAP - 0.5), { count: 1, sum: SAMPLE_CAP - 1 });
});

test('a clamped sample still lands with its count, and record clamps the same way', () => {
  const c = LatencyCounter.create({ counters: 1 });
  c.record(0, Number.NaN);
  c.record(0, -5);
  c.record(0, 7.7);
  assert.equal(c.collect(0, newCounterWindow()), { events: 3, count: 3, sum: 7, saturated: false });
});

test.run();
