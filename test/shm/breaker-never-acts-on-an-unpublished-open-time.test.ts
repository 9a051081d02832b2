/**
 * The time an open or half-open generation began is stamped after the
 * compare-and-swap that started it, beside a stamp word naming the state
 * word it belongs to. These tests put the region in the states a thread
 * leaves when it dies or stalls between the two steps (words written
 * through the layout's indices) and check that no view acts on a time that
 * is missing or belongs to another generation, and that the breaker still
 * never wedges.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BREAKER_BLOCK, breakerTableLayout, indexOf } from '../../native-layout/index.js';
import {
  Breaker,
  BREAKER_ALLOWED,
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_HALF_OPEN,
  BREAKER_HALF_OPEN_TO_CLOSED,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_MAX_COOL_DOWN_MS,
  BREAKER_OPEN,
  BREAKER_PROBE,
  BREAKER_REFUSED,
} from '../../src/shm/breaker.js';
import { ManualClock, realClock } from '../../src/shm/clock.js';

const BLOCK = indexOf(breakerTableLayout(1), 'breakers');

/** The raw words of a one-slot breaker. */
function raw(b: Breaker): { i32: Int32Array; f64: Float64Array; state: number; stamp: number; since: number } {
  const sab = b.handle.table.sab;
  return {
    i32: new Int32Array(sab),
    f64: new Float64Array(sab),
    state: BLOCK + BREAKER_BLOCK.state,
    stamp: BLOCK + BREAKER_BLOCK.stamp,
    since: BLOCK / 2 + BREAKER_BLOCK.sinceMs,
  };
}

test('a transition stamps its start time, on the real clock as a full float64', () => {
  const b = Breaker.create({ failureThreshold: 1, coolDownMs: BREAKER_MAX_COOL_DOWN_MS });
  assert.is(b.clock, realClock);
  const r = raw(b);
  const before = realClock.now();
  assert.is(b.recordFailure(), BREAKER_CLOSED_TO_OPEN);
  const after = realClock.now();
  assert.is(r.i32[r.stamp], r.i32[r.state], 'the stamp names the open state word');
  const since = r.f64[r.since]!;
  assert.ok(since >= before && since <= after, `stamped ${since}, between ${before} and ${after}`);
  assert.ok(since > 2 ** 40, 'an absolute time, not squeezed into 32 bits');
  assert.is(b.allow(), BREAKER_REFUSED);
});

test('an open word whose opener died before stamping is timed from when a view first saw it', () => {
  const clock = ManualClock.create(1000);
  const b = Breaker.create({ failureThreshold: 1, coolDownMs: 100, clock });
  const r = raw(b);
  const unstamped = r.i32[r.stamp]!;
  assert.is(b.recordFailure(), BREAKER_CLOSED_TO_OPEN);
  // The opener's compare-and-swap landed; its stamp did not.
  r.i32[r.stamp] = unstamped;
  r.f64[r.since] = 0;
  clock.advance(500); // far past the cool-down from the true opening, and from the stale time 0
  const late = Breaker.attach(structuredClone(b.handle));
  assert.is(late.allow(), BREAKER_REFUSED, 'first sighting at 1500: the cool-down starts now');
  clock.advance(99);
  assert.is(late.allow(), BREAKER_REFUSED);
  assert.is(b.allow(), BREAKER_REFUSED, 'another view first saw it at 1599');
  clock.advance(1);
  assert.is(late.allow(), BREAKER_PROBE, 'a cool-down after the first sighting: the probe');
  assert.is(b.state(), BREAKER_HALF_OPEN);
  assert.is(r.i32[r.stamp], r.i32[r.state], 'the probe stamped its half-open word');
  assert.is(r.f64[r.since], 1600);
});

test('a stamp left by an earlier generation is never read as the current one', () => {
  const clock = ManualClock.create(1000);
  const b = Breaker.create({ failureThreshold: 1, coolDownMs: 100, clock });
  const r = raw(b);
  b.recordFailure(); // open, stamped 1000
  const openWord = r.i32[r.state]!;
  clock.advance(100);
  assert.is(b.allow(), BREAKER_PROBE); // half-open, stamped 1100
  assert.is(b.recordFailure(), BREAKER_HALF_OPEN_TO_OPEN); // open again at 1100
  // Put back the first opening's stamp: a stamp for another state word with an old time.
  r.i32[r.stamp] = openWord;
  r.f64[r.since] = 1000;
  clock.advance(50);
  const view = Breaker.attach(b.handle);
  assert.is(view.allow(), BREAKER_REFUSED, 'the old time (1000) would have passed the cool-down');
  clock.advance(99);
  assert.is(view.allow(), BREAKER_REFUSED);
  clock.advance(1);
  assert.is(view.allow(), BREAKER_PROBE);
});

test('a stamper that died holding the stamp word leaves times unstamped, and nothing wedges', () => {
  const clock = ManualClock.create(0);
  const b = Breaker.create({ failureThreshold: 2, coolDownMs: 10, clock });
  const r = raw(b);
  r.i32[r.stamp] = -1; // busy, for good
  for (let round = 0; round < 3; round++) {
    assert.is(b.recordFailure(), 0);
    assert.is(b.recordFailure(), BREAKER_CLOSED_TO_OPEN);
    assert.is(r.i32[r.stamp], -1, 'no stamper can take the stamp word');
    assert.is(b.allow(), BREAKER_REFUSED);
    clock.advance(9);
    assert.is(b.allow(), BREAKER_REFUSED);
    clock.advance(1);
    assert.is(b.allow(), BREAKER_PROBE);
    assert.is(b.allow(), BREAKER_REFUSED, 'one probe');
    assert.is(b.recordFailure(), BREAKER_HALF_OPEN_TO_OPEN);
    assert.is(b.state(), BREAKER_OPEN);
    clock.advance(10);
    assert.is(b.allow(), BREAKER_REFUSED, 'the reopened word is timed from its first sighting');
    clock.advance(10);
    assert.is(b.allow(), BREAKER_PROBE);
    assert.is(b.recordSuccess(), BREAKER_HALF_OPEN_TO_CLOSED);
    assert.is(b.allow(), BREAKER_ALLOWED);
  }
  assert.is(b.opens(), 6);
});

test.run();
