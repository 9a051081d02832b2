import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatencyCounter, newCounterWindow } from '../../src/shm/counter.js';

test('an attached counter reads and resets what the creator recorded, and the reverse', () => {
  const a = LatencyCounter.create({ counters: 4 });
  const b = LatencyCounter.attach(a.handle);
  assert.is(b.counters, 4);
  assert.is(b.handle.sab, a.handle.sab);
  a.record(3, 11);
  b.record(3, 22);
  assert.equal(a.peek(3, newCounterWindow()), { events: 2, count: 2, sum: 33, saturated: false });
  assert.equal(b.collect(3, newCounterWindow()), { events: 2, count: 2, sum: 33, saturated: false });
  assert.equal(a.peek(3, newCounterWindow()), { events: 0, count: 0, sum: 0, saturated: false });
});

test('the handle survives structured cloning (as in workerData) and still shares memory', () => {
  const a = LatencyCounter.create({ counters: 2 });
  const clone = structuredClone(a.handle);
  assert.is.not(clone, a.handle);
  const b = LatencyCounter.attach(clone);
  b.recordSample(1, 9);
  assert.equal(a.collect(1, newCounterWindow()), { events: 0, count: 1, sum: 9, saturated: false });
});

test.run();
