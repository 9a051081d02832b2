/**
 * Model check of the barrier: fast-check generates random schedules of the
 * real non-blocking steps (`arrive`, `poll`, `trip`) of up to five simulated
 * parties on ONE real Barrier, starting at a random generation (wrap-around
 * included), and compares every answer and the shared words with a tiny
 * model after every step. Each party follows the protocol: it arrives, then
 * polls or trips its ticket until its round has ended, then may arrive again.
 *
 * Invariants checked after every step:
 * - the generation advances exactly once per round (complete or tripped);
 * - arrivals are conserved: the real count equals the model's;
 * - no ticket reads as passed before all parties arrived at its generation,
 *   and a tripped round reads as timed-out to everyone waiting on it;
 * - a trip releases every party waiting on that generation at once;
 * - `timeouts` counts exactly the tripped rounds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Barrier, type ArrivalTicket, type BarrierResult } from '../../src/shm/barrier.js';
import { barrierLayout, indexOf } from '../../native-layout/index.js';
import { check } from '../helpers/prop.js';

interface Waiting {
  readonly ticket: ArrivalTicket;
  /** Absolute round index (rounds since the start) the party arrived at. */
  readonly round: number;
}

interface Model {
  readonly parties: number;
  readonly g0: number;
  round: number;
  arrived: number;
  trips: number;
  readonly ended: Map<number, 'complete' | 'tripped'>;
  readonly waiting: (Waiting | null)[];
}

interface Real {
  readonly b: Barrier;
}

const genOf = (m: Model, round: number): number => (m.g0 + round) & 0xffff;

/** What a ticket's round looks like to its party once it has ended. */
function endedOutcome(m: Model, w: Waiting): BarrierResult {
  const g = genOf(m, w.round);
  if (m.round === w.round + 1 && m.ended.get(w.round) === 'complete')
    return { state: 'passed', generation: g, last: false };
  return { state: 'timed-out', generation: g, arrived: w.ticket.arrived, tripped: false };
}

function invariants(m: Model, r: Real): void {
  assert.is(r.b.generation(), genOf(m, m.round), 'generation');
  assert.is(r.b.arrived(), m.arrived, 'arrivals');
  assert.is(r.b.timeouts(), m.trips, 'timeouts');
  m.waiting.forEach((w, p) => {
    if (w === null) return;
    const got = r.b.poll(w.ticket);
    if (w.round === m.round)
      assert.equal(
        got,
        { state: 'waiting', generation: genOf(m, m.round), arrived: m.arrived },
        `party ${p} still waits`,
      );
    else assert.equal(got, endedOutcome(m, w), `party ${p} was released`);
  });
}

class Arrive implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return this.p < m.parties && m.waiting[this.p] === null;
  }
  run(m: Model, r: Real): void {
    const t = r.b.arrive();
    const last = m.arrived + 1 === m.parties;
    assert.equal(t, { generation: genOf(m, m.round), arrived: m.arrived + 1, released: last });
    if (last) {
      m.ended.set(m.round, 'complete');
      m.round++;
      m.arrived = 0;
      assert.equal(r.b.poll(t), { state: 'passed', generation: t.generation, last: true });
    } else {
      m.arrived++;
      m.waiting[this.p] = { ticket: t, round: m.round };
    }
    invariants(m, r);
  }
  toString(): string {
    return `arrive(${this.p})`;
  }
}

class Poll implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return this.p < m.parties && m.waiting[this.p] !== null;
  }
  run(m: Model, r: Real): void {
    const w = m.waiting[this.p]!;
    const got = r.b.poll(w.ticket);
    if (w.round === m.round) {
      assert.equal(got, { state: 'waiting', generation: genOf(m, w.round), arrived: m.arrived });
    } else {
      assert.equal(got, endedOutcome(m, w));
      m.waiting[this.p] = null;
    }
    invariants(m, r);
  }
  toString(): string {
    return `poll(${this.p})`;
  }
}

class Trip implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return this.p < m.parties && m.waiting[this.p] !== null;
  }
  run(m: Model, r: Real): void {
    const w = m.waiting[this.p]!;
    const got = r.b.trip(w.ticket);
    if (w.round === m.round) {
      // Still open, so fewer than all parties have arrived: this call trips it.
      assert.ok(m.arrived < m.parties);
      assert.equal(got, { state: 'timed-out', generation: genOf(m, w.round), arrived: m.arrived, tripped: true });
      m.ended.set(m.round, 'tripped');
      m.trips++;
      m.round++;
      m.arrived = 0;
    } else {
      assert.equal(got, endedOutcome(m, w));
    }
    m.waiting[this.p] = null;
    invariants(m, r);
  }
  toString(): string {
    return `trip(${this.p})`;
  }
}

const MAX_PARTIES = 5;
const commands = [
  fc.nat(MAX_PARTIES - 1).map((p) => new Arrive(p)),
  fc.nat(MAX_PARTIES - 1).map((p) => new Poll(p)),
  fc.nat(MAX_PARTIES - 1).map((p) => new Trip(p)),
];

test('random schedules of arrive/poll/trip agree with the model at every step', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: MAX_PARTIES }),
      fc.oneof(fc.constantFrom(0, 65_533, 65_534, 65_535), fc.integer({ min: 0, max: 0xffff })),
      fc.commands(commands, { maxCommands: 300, size: 'max' }),
      (parties, g0, cmds) => {
        const b = Barrier.create({ parties });
        // Start at generation g0 (test-only poke of the state word) to cover wrap-around.
        Atomics.store(new Int32Array(b.handle.sab), indexOf(barrierLayout(), 'state'), (g0 << 16) | 0);
        const model: Model = {
          parties,
          g0,
          round: 0,
          arrived: 0,
          trips: 0,
          ended: new Map(),
          waiting: Array<Waiting | null>(parties).fill(null),
        };
        fc.modelRun(() => ({ model, real: { b } }), cmds);
      },
    ),
    200,
  );
});

test.run();
