import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EVENTS_CAP, LatencyCounter, newCounterWindow, SAMPLE_CAP } from '../../src/shm/counter.js';
import { rawCounter } from '../fixtures/counter-raw.js';

test('sum saturates at 2^32 - 1 while count keeps counting', () => {
  const c = LatencyCounter.create({ counters: 1 });
  c.recordSample(0, 3_000_000_000);
  c.recordSample(0, 3_000_000_000);
  c.recordSample(0, 1);
  assert.equal(c.peek(0, newCounterWindow()), { events: 0, count: 3, sum: SAMPLE_CAP, saturated: true });
  assert.equal(c.collect(0, newCounterWindow()).saturated, true);
  c.recordSample(0, 5);
  assert.equal(
    c.collect(0, newCounterWindow()),
    { events: 0, count: 1, sum: 5, saturated: false },
    'the next window is clean',
  );
});

test('a sum that lands exactly on the cap is flagged saturated', () => {
  const c = LatencyCounter.create({ counters: 1 });
  c.recordSample(0, SAMPLE_CAP - 1);
  assert.is(c.peek(0, newCounterWindow()).saturated, false);
  c.recordSample(0, 1);
  assert.equal(c.collect(0, newCounterWindow()), { events: 0, count: 2, sum: SAMPLE_CAP, saturated: true });
});

test('count saturates at 2^32 - 1 while sum keeps adding', () => {
  const c = LatencyCounter.create({ counters: 2 });
  const raw = rawCounter(c, 1);
  raw.setSample(SAMPLE_CAP - 1, 10);
  c.recordSample(1, 5);
  assert.equal(raw.sample(), { count: SAMPLE_CAP, sum: 15 });
  c.recordSample(1, 5);
  c.recordSample(1, 0);
  assert.equal(raw.sample(), { count: SAMPLE_CAP, sum: 20 }, 'count stays pinned, sum still adds');
  assert.equal(c.collect(1, newCounterWindow()), { events: 0, count: SAMPLE_CAP, sum: 20, saturated: true });
  assert.equal(
    c.collect(0, newCounterWindow()),
    { events: 0, count: 0, sum: 0, saturated: false },
    'neighbour untouched',
  );
});

test('a fully saturated sample word stays at (cap, cap)', () => {
  const c = LatencyCounter.create({ counters: 1 });
  const raw = rawCounter(c, 0);
  raw.setSample(SAMPLE_CAP, SAMPLE_CAP - 2);
  c.recordSample(0, 100);
  c.recordSample(0, 100);
  assert.equal(raw.sample(), { count: SAMPLE_CAP, sum: SAMPLE_CAP });
  assert.equal(c.collect(0, newCounterWindow()), { events: 0, count: SAMPLE_CAP, sum: SAMPLE_CAP, saturated: true });
  assert.equal(raw.sample(), { count: 0, sum: 0 });
});

test('events saturate at EVENTS_CAP and the raw word never wraps', () => {
  const c = LatencyCounter.create({ counters: 1 });
  const raw = rawCounter(c, 0);
  raw.setEvents(EVENTS_CAP - 2);
  c.recordEvent(0);
  assert.equal(c.peek(0, newCounterWindow()), { events: EVENTS_CAP - 1, count: 0, sum: 0, saturated: false });
  c.recordEvent(0);
  assert.equal(c.peek(0, newCounterWindow()), { events: EVENTS_CAP, count: 0, sum: 0, saturated: true });
  for (let k = 0; k < 100_000; k++) c.record(0, 1);
  assert.is(raw.events(), EVENTS_CAP, 'pulled back to the cap after every add');
  assert.equal(c.collect(0, newCounterWindow()), { events: EVENTS_CAP, count: 100_000, sum: 100_000, saturated: true });
  c.recordEvent(0);
  assert.equal(c.collect(0, newCounterWindow()), { events: 1, count: 0, sum: 0, saturated: false });
});

test('an events word left above the cap (adders in flight) reads as the cap and is pulled back', () => {
  const c = LatencyCounter.create({ counters: 1 });
  const raw = rawCounter(c, 0);
  raw.setEvents(EVENTS_CAP + 5);
  assert.equal(c.peek(0, newCounterWindow()), { events: EVENTS_CAP, count: 0, sum: 0, saturated: true });
  c.recordEvent(0);
  assert.is(raw.events(), EVENTS_CAP);
});

test.run();
