/**
 * Property: on one thread, any sequence of record / recordSample /
 * recordEvent / collect / peek over a few counters gives exactly the windows
 * a plain model gives, saturation of the sum and clamping included (sample
 * values range up to 2^33 and include fractions, negatives, NaN and
 * infinities), and the collected windows add up to the
 * model's totals whenever nothing saturated.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LatencyCounter, newCounterWindow, SAMPLE_CAP, type CounterWindow } from '../../src/shm/counter.js';
import { check } from '../helpers/prop.js';

type Op =
  | { op: 'record'; i: number; v: number }
  | { op: 'sample'; i: number; v: number }
  | { op: 'event'; i: number }
  | { op: 'collect'; i: number }
  | { op: 'peek'; i: number };

const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 33 }) },
  { weight: 1, arbitrary: fc.double({ min: -10, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: fc.double() }, // NaN, infinities, -0, huge and tiny values
);

const ops = (counters: number): fc.Arbitrary<Op[]> => {
  const i = fc.integer({ min: 0, max: counters - 1 });
  return fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('record' as const), i, v: value }),
      fc.record({ op: fc.constant('sample' as const), i, v: value }),
      fc.record({ op: fc.constant('event' as const), i }),
      fc.record({ op: fc.constant('collect' as const), i }),
      fc.record({ op: fc.constant('peek' as const), i }),
    ),
    { maxLength: 200 },
  );
};

/** The model: plain numbers, the documented clamp, saturating adds. */
const clamp = (v: number): number => (v > 0 ? Math.min(Math.floor(v), SAMPLE_CAP) : 0);

interface Model {
  window: CounterWindow;
  /** Unsaturated totals over every collected window, and whether any saturated. */
  total: { events: number; count: number; sum: number };
  anySaturated: boolean;
}

test('collected and peeked windows match the model', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(fc.constant(n), ops(n))),
      ([counters, seq]) => {
        const c = LatencyCounter.create({ counters });
        const model: Model[] = Array.from({ length: counters }, () => ({
          window: newCounterWindow(),
          total: { events: 0, count: 0, sum: 0 },
          anySaturated: false,
        }));
        const real = { events: 0, count: 0, sum: 0 };
        const out = newCounterWindow();
        const collect = (i: number): void => {
          const m = model[i]!;
          assert.equal(c.collect(i, out), m.window);
          real.events += out.events;
          real.count += out.count;
          real.sum += out.sum;
          m.total.events += m.window.events;
          m.total.count += m.window.count;
          m.total.sum += m.window.sum;
          m.anySaturated ||= m.window.saturated;
          m.window = newCounterWindow();
        };
        const event = (m: Model): void => void m.window.events++;
        const sample = (m: Model, v: number): void => {
          m.window.count++;
          m.window.sum = Math.min(m.window.sum + clamp(v), SAMPLE_CAP);
          m.window.saturated = m.window.sum === SAMPLE_CAP;
        };
        for (const step of seq) {
          const m = model[step.i]!;
          switch (step.op) {
            case 'record':
              c.record(step.i, step.v);
              event(m);
              sample(m, step.v);
              break;
            case 'sample':
              c.recordSample(step.i, step.v);
              sample(m, step.v);
              break;
            case 'event':
              c.recordEvent(step.i);
              event(m);
              break;
            case 'peek':
              assert.equal(c.peek(step.i, out), m.window);
              break;
            case 'collect':
              collect(step.i);
              break;
          }
        }
        // Drain every counter, then the collected windows must add up.
        for (let i = 0; i < counters; i++) collect(i);
        const want = model.reduce(
          (a, m) => ({ events: a.events + m.total.events, count: a.count + m.total.count, sum: a.sum + m.total.sum }),
          { events: 0, count: 0, sum: 0 },
        );
        assert.equal(real, want);
        if (!model.some((m) => m.anySaturated)) {
          // Below saturation the totals are the plain sums of what was recorded.
          let events = 0;
          let count = 0;
          let sum = 0;
          for (const step of seq) {
            if (step.op === 'record' || step.op === 'event') events++;
            if (step.op === 'record' || step.op === 'sample') {
              count++;
              sum += clamp(step.v);
            }
          }
          assert.equal(real, { events, count, sum });
        }
      },
    ),
    200,
  );
});

test.run();
