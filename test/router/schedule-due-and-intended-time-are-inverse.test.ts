/**
 * The send schedule of a staged profile: `dueBy` (events due by a run time)
 * is the integral of the piecewise-linear rate, and `timeOfDue` (an event's
 * intended send time) is its inverse; at a constant rate event i is due at
 * i / rate, as wrk2 schedules requests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { dueBy, producersAt, rateSchedule, resolveProfile, timeOfDue } from '../../src/router/schedule.js';

const run = { producers: 4, rate: 1000, durationMs: 10_000 };

test('a constant rate: event i is due at i / rate', () => {
  const p = resolveProfile('t', { stages: [{ duration_s: 10, rate: 1000 }] }, run);
  const s = rateSchedule(p)!;
  assert.is(dueBy(s, 0), 0);
  assert.ok(Math.abs(dueBy(s, 2500) - 2500) < 1e-9);
  assert.ok(Math.abs(timeOfDue(s, 2500) - 2500) < 1e-9);
  // After the last stage the last rate holds.
  assert.ok(Math.abs(dueBy(s, 12_000) - 12_000) < 1e-9);
});

test('a linear ramp from 0 to r over T: due(t) = r t^2 / (2T)', () => {
  const p = resolveProfile('t', { start: { rate: 1e-9 }, stages: [{ duration_s: 2, rate: 2000 }] }, run);
  const s = rateSchedule(p)!;
  const due = dueBy(s, 1000);
  assert.ok(Math.abs(due - 500) < 1e-3, String(due));
  assert.ok(Math.abs(timeOfDue(s, 500) - 1000) < 1e-3);
});

test('property: timeOfDue inverts dueBy on random staged profiles', async () => {
  const stage = fc.record({
    duration_s: fc.double({ min: 0.01, max: 5, noNaN: true }),
    rate: fc.double({ min: 1, max: 1e7, noNaN: true }),
  });
  await check(
    fc.property(
      fc.array(stage, { minLength: 1, maxLength: 6 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (stages, f) => {
        const p = resolveProfile('t', { stages }, { ...run, rate: 1 });
        const s = rateSchedule(p)!;
        const t = f * p.durationMs * 1.2;
        const due = dueBy(s, t);
        const back = timeOfDue(s, due);
        assert.ok(Math.abs(back - t) <= 1e-6 * Math.max(1, t), `t ${t} -> due ${due} -> ${back}`);
        // Monotonic: later times have at least as many events due.
        assert.ok(dueBy(s, t + 1) >= due);
      },
    ),
  );
});

test('the built-in ramp: none at the start, all producers at mid-run, back down at the end', () => {
  const p = resolveProfile(
    'ramp',
    {
      start: { producers: 0 },
      stages: [
        { duration_s: '50%', producers: '100%' },
        { duration_s: '50%', producers: 0 },
      ],
    },
    run,
  );
  assert.is(p.durationMs, 10_000);
  assert.is(producersAt(p, 0, 4), 0);
  assert.is(producersAt(p, 100, 4), 1);
  assert.is(producersAt(p, 5000, 4), 4);
  assert.is(producersAt(p, 6300, 4), 3);
  assert.is(producersAt(p, 9990, 4), 1);
});

test.run();
