import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatencyCounter, MAX_COUNTERS, newCounterWindow, type CounterWindow } from '../../src/shm/counter.js';

const win = (events: number, count: number, sum: number, saturated = false): CounterWindow => ({
  events,
  count,
  sum,
  saturated,
});

test('newCounterWindow is all zero', () => {
  assert.equal(newCounterWindow(), win(0, 0, 0));
});

test('create defaults to one counter and gives a counter handle', () => {
  const c = LatencyCounter.create({});
  assert.is(c.counters, 1);
  assert.is(c.handle.kind, 'counter');
  assert.is(c.handle.counters, 1);
  assert.instance(c.handle.sab, SharedArrayBuffer);
});

test('record counts an event and a sample; collect returns them and resets', () => {
  const c = LatencyCounter.create({ counters: 1 });
  c.record(0, 120);
  c.record(0, 80);
  const out = newCounterWindow();
  assert.is(c.collect(0, out), out, 'collect returns the window it was given');
  assert.equal(out, win(2, 2, 200));
  assert.equal(c.collect(0, out), win(0, 0, 0), 'the collect reset the counter');
  c.record(0, 5);
  assert.equal(c.collect(0, out), win(1, 1, 5), 'a new window starts from zero');
});

test('recordEvent and recordSample update only their own words', () => {
  const c = LatencyCounter.create({ counters: 1 });
  for (let k = 0; k < 64; k++) c.recordEvent(0);
  c.recordSample(0, 1000);
  assert.equal(c.collect(0, newCounterWindow()), win(64, 1, 1000));
  c.recordSample(0, 7);
  assert.equal(c.collect(0, newCounterWindow()), win(0, 1, 7));
});

test('peek reads without resetting', () => {
  const c = LatencyCounter.create({ counters: 1 });
  c.record(0, 3);
  const out = newCounterWindow();
  assert.is(c.peek(0, out), out);
  assert.equal(out, win(1, 1, 3));
  assert.equal(c.peek(0, newCounterWindow()), win(1, 1, 3));
  assert.equal(c.collect(0, newCounterWindow()), win(1, 1, 3));
  assert.equal(c.peek(0, newCounterWindow()), win(0, 0, 0));
});

test('a reused window is overwritten, not added to, including the saturated flag', () => {
  const c = LatencyCounter.create({ counters: 1 });
  const out: CounterWindow = { events: 9, count: 9, sum: 9, saturated: true };
  c.recordSample(0, 1);
  assert.equal(c.collect(0, out), win(0, 1, 1));
});

test('counters are independent, up to the last of MAX_COUNTERS', () => {
  const c = LatencyCounter.create({ counters: 3 });
  c.record(0, 10);
  c.record(2, 30);
  c.record(2, 30);
  c.recordEvent(1);
  assert.equal(c.collect(0, newCounterWindow()), win(1, 1, 10));
  assert.equal(c.collect(1, newCounterWindow()), win(1, 0, 0));
  assert.equal(c.collect(2, newCounterWindow()), win(2, 2, 60));

  const big = LatencyCounter.create({ counters: MAX_COUNTERS });
  big.record(MAX_COUNTERS - 1, 4);
  big.record(MAX_COUNTERS - 2, 2);
  assert.equal(big.collect(MAX_COUNTERS - 1, newCounterWindow()), win(1, 1, 4));
  assert.equal(big.collect(MAX_COUNTERS - 2, newCounterWindow()), win(1, 1, 2));
  assert.equal(big.collect(0, newCounterWindow()), win(0, 0, 0));
});

test.run();
