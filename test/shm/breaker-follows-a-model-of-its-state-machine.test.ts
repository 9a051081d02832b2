/**
 * Model check of the circuit breaker: fast-check runs random sequences of
 * allow / success / failure / clock moves against ONE real breaker, through
 * two views of it (the creator's and one attached from a structured clone
 * of its handle), beside a pure reference model of the state machine:
 * failure threshold, cool-down on a ManualClock, the half-open single
 * probe, a probe retaken after an unreported one, results while open
 * ignored. After every command every return value, the state, generation,
 * failures in a row and the transition counters agree with the model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  Breaker,
  BREAKER_ALLOWED,
  BREAKER_CLOSED,
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_HALF_OPEN,
  BREAKER_HALF_OPEN_TO_CLOSED,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_NO_TRANSITION,
  BREAKER_OPEN,
  BREAKER_PROBE,
  BREAKER_PROBE_RETAKEN,
  BREAKER_REFUSED,
  BREAKER_STATE_NAMES,
  transitionFrom,
  transitionTo,
  type BreakerState,
} from '../../src/shm/breaker.js';
import { ManualClock } from '../../src/shm/clock.js';
import { check } from '../helpers/prop.js';

/** The reference: a plain object and the rules of the module note, nothing shared. */
interface Model {
  readonly threshold: number;
  readonly coolDownMs: number;
  now: number;
  state: BreakerState;
  failures: number;
  generation: number;
  /** When the current open or half-open period began. */
  since: number;
  transitions: number;
  opens: number;
}

interface Real {
  readonly clock: ManualClock;
  readonly views: readonly Breaker[];
}

function modelAllow(m: Model): number {
  if (m.state === BREAKER_CLOSED) return BREAKER_ALLOWED;
  if (m.now - m.since < m.coolDownMs) return BREAKER_REFUSED;
  const code = m.state === BREAKER_OPEN ? BREAKER_PROBE : BREAKER_PROBE_RETAKEN;
  m.state = BREAKER_HALF_OPEN;
  m.generation++;
  m.since = m.now;
  m.transitions++;
  return code;
}

function modelSuccess(m: Model): number {
  if (m.state === BREAKER_CLOSED) m.failures = 0;
  if (m.state !== BREAKER_HALF_OPEN) return BREAKER_NO_TRANSITION;
  m.state = BREAKER_CLOSED;
  m.generation++;
  m.transitions++;
  return BREAKER_HALF_OPEN_TO_CLOSED;
}

function modelFailure(m: Model): number {
  if (m.state === BREAKER_OPEN) return BREAKER_NO_TRANSITION;
  if (m.state === BREAKER_CLOSED && m.failures + 1 < m.threshold) {
    m.failures++;
    return BREAKER_NO_TRANSITION;
  }
  const code = m.state === BREAKER_CLOSED ? BREAKER_CLOSED_TO_OPEN : BREAKER_HALF_OPEN_TO_OPEN;
  m.state = BREAKER_OPEN;
  m.failures = 0;
  m.generation++;
  m.since = m.now;
  m.transitions++;
  m.opens++;
  return code;
}

function agrees(m: Model, r: Real, what: string): void {
  assert.is(r.clock.now(), m.now, `${what}: clock`);
  for (const [i, b] of r.views.entries()) {
    const at = `${what}, view ${i}`;
    assert.is(BREAKER_STATE_NAMES[b.state()], BREAKER_STATE_NAMES[m.state], `${at}: state`);
    assert.is(b.generation(), m.generation, `${at}: generation`);
    assert.is(b.failures(), m.failures, `${at}: failures in a row`);
    assert.is(b.transitions(), m.transitions, `${at}: transitions`);
    assert.is(b.opens(), m.opens, `${at}: opens`);
  }
}

/** A returned code that is a transition names the states the model moved between. */
function transitionAgrees(code: number, before: BreakerState, m: Model, what: string): void {
  if (code >= 4) {
    assert.is(transitionFrom(code), before, `${what}: from`);
    assert.is(transitionTo(code), m.state, `${what}: to`);
  } else {
    assert.is(transitionFrom(code), 0);
    assert.is(transitionTo(code), 0);
  }
}

type CallKind = 'allow' | 'success' | 'failure';

/** One call on one view, made on the model and on the real breaker. */
class Call implements fc.Command<Model, Real> {
  constructor(
    readonly kind: CallKind,
    readonly view: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const before = m.state;
    const b = r.views[this.view]!;
    let want: number;
    let got: number;
    if (this.kind === 'allow') {
      want = modelAllow(m);
      got = b.allow();
    } else if (this.kind === 'success') {
      want = modelSuccess(m);
      got = b.recordSuccess();
    } else {
      want = modelFailure(m);
      got = b.recordFailure();
    }
    const what = `${this.toString()} at ${m.now} ms`;
    assert.is(got, want, `${what}: result`);
    transitionAgrees(got, before, m, what);
    agrees(m, r, what);
  }
  toString(): string {
    return `${this.kind}(view ${this.view})`;
  }
}

/** Move the clock forward by `ms`. */
class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.clock.advance(this.ms);
    agrees(m, r, this.toString());
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** Move the clock to the cool-down's edge, `offset` ms from it (-1, 0 or 1): the boundary cases. */
class ToEdge implements fc.Command<Model, Real> {
  constructor(readonly offset: number) {}
  check(m: Readonly<Model>): boolean {
    return m.state !== BREAKER_CLOSED && m.since + m.coolDownMs + this.offset >= m.now;
  }
  run(m: Model, r: Real): void {
    const to = m.since + m.coolDownMs + this.offset;
    r.clock.advance(to - m.now);
    m.now = to;
    agrees(m, r, this.toString());
  }
  toString(): string {
    return `toEdge(${this.offset})`;
  }
}

const VIEWS = 2;
const commands = [
  fc.nat(VIEWS - 1).map((v) => new Call('allow', v)),
  fc.nat(VIEWS - 1).map((v) => new Call('success', v)),
  fc.nat(VIEWS - 1).map((v) => new Call('failure', v)),
  fc.nat(VIEWS - 1).map((v) => new Call('failure', v)),
  fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 80 })).map((ms) => new Advance(ms)),
  fc.integer({ min: -1, max: 1 }).map((o) => new ToEdge(o)),
];

test('allow, success, failure and clock moves agree with a reference model at every step', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.commands(commands, { maxCommands: 300, size: 'max' }),
      (threshold, coolDownMs, start, cmds) => {
        const clock = ManualClock.create(start);
        const b = Breaker.create({ failureThreshold: threshold, coolDownMs, clock });
        const other = Breaker.attach(structuredClone(b.handle));
        const model: Model = {
          threshold,
          coolDownMs,
          now: start,
          state: BREAKER_CLOSED,
          failures: 0,
          generation: 0,
          since: 0,
          transitions: 0,
          opens: 0,
        };
        const real: Real = { clock, views: [b, other] };
        agrees(model, real, 'created');
        fc.modelRun(() => ({ model, real }), cmds);
      },
    ),
    200,
  );
});

test.run();
