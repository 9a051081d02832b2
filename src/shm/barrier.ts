/**
 * Reusable barrier for a fixed number of parties, with a generation counter
 * and a timeout, in one SharedArrayBuffer region.
 *
 * The whole state of a round is one 32-bit word, so every transition is a
 * single atomic operation:
 *
 *     bits 31..16  generation, counting rounds modulo 2^16
 *     bit  15      "the previous generation was ended by a timeout trip"
 *     bits 14..0   parties that have arrived at this generation
 *
 * - Arriving is `Atomics.add(state, 1)`. The value it returns says which
 *   generation the arrival landed in and how many had arrived before it.
 * - The party whose add makes `arrived == parties` ends the round: one
 *   compare-and-swap to `(generation + 1) << 16` (trip bit clear).
 * - A waiter whose timeout expires ends the round itself: a compare-and-swap
 *   from the exact value it read (same generation, fewer than `parties`
 *   arrived) to `((generation + 1) << 16) | trip bit`. It retries while the
 *   generation is unchanged; if it then finds every party has arrived, it
 *   finishes the release on the last party's behalf instead (no trip). A
 *   round therefore ends exactly once, either complete or tripped.
 * - Everyone waiting on a generation learns how it ended from the trip bit
 *   of the next generation, which stays set until that generation ends.
 *
 * A late party whose add lands after a trip simply counts as an arrival of
 * the next generation: its ticket names that generation and it waits for
 * that round. From then on it is one round behind the parties that timed
 * out, which is the intended "apply whatever arrived and carry on" meaning
 * of a trip (the parameter server's per-shard sync barrier).
 *
 * Generations wrap after 65536 rounds and are compared for equality only. A
 * waiter mistakes a wrapped generation for its own only if exactly 65536
 * rounds end while it sleeps; each of those rounds (but the first) needs a
 * timeout to expire without it, so that cannot happen in practice.
 *
 * Each party arrives at most once per generation (it waits until the
 * generation changes before arriving again), so `arrived` never exceeds
 * `parties` <= 32767 and the add never carries into the trip bit.
 *
 * Threads: `arrive`, `poll`, `trip`, the readers, `arriveAndWaitAsync` and
 * `waitAsync` may be called on any thread; `arriveAndWait` and `wait` block
 * with `Atomics.wait` and are for worker threads only (the main thread never
 * blocks). Each blocking/awaiting pair runs one wait step (`waitStep`) and
 * differs only in how it parks (`park` or `parkAsync` of ./wait.ts).
 *
 * Timeouts are measured on the barrier's clock (`clock` option: the real
 * clock by default, a `ManualClock` in tests, shared through the handle).
 */
import { isMainThread } from 'node:worker_threads';
import { allocate, barrierLayout, checkHeader, indexOf } from '../../native-layout/index.js';
import { badHandle, invalidArgument, layoutSizeMismatch, outOfRange, wrongThread } from '../errors.js';
import { Park, park, parkAsync } from './wait.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from './clock.js';

/** Largest party count: arrivals must fit in 15 bits beside the trip bit. */
export const BARRIER_MAX_PARTIES = 32_767;
/** Largest timeout accepted, in milliseconds (about 24.8 days, as `setTimeout`). */
export const BARRIER_MAX_TIMEOUT_MS = 2_147_483_647;
/** Rounds before the generation number wraps. */
export const BARRIER_GENERATIONS = 1 << 16;

export interface BarrierOptions {
  /** Number of parties per round, an integer in [1, 32767]. */
  readonly parties: number;
  /** Clock the wait timeouts are measured on (default `realClock`). */
  readonly clock?: Clock;
}

export interface BarrierHandle {
  readonly kind: 'barrier';
  readonly sab: SharedArrayBuffer;
  readonly parties: number;
  /** The barrier's clock (absent: the real clock). */
  readonly clock?: ClockHandle;
}

/** What `arrive` returns: where this arrival landed. Plain data; keep it to `poll` or `trip` later. */
export interface ArrivalTicket {
  /** The generation (0..65535) this arrival counted towards. */
  readonly generation: number;
  /** Arrivals at that generation including this one (1..parties). */
  readonly arrived: number;
  /** This arrival completed the round and released everyone (it was the last party). */
  readonly released: boolean;
}

/** How a round ended for one party. */
export type BarrierResult =
  | {
      readonly state: 'passed';
      /** The generation that was passed. */
      readonly generation: number;
      /** This party's arrival completed the round. */
      readonly last: boolean;
    }
  | {
      readonly state: 'timed-out';
      /** The generation that was ended by a timeout. */
      readonly generation: number;
      /**
       * Parties that had arrived when it was tripped: exact when this party
       * tripped it (`tripped: true`); otherwise the most this party saw, a
       * lower bound.
       */
      readonly arrived: number;
      /** This party's compare-and-swap ended the round (and counted it in `timeouts`). */
      readonly tripped: boolean;
    };

/** What `poll` returns: still waiting, or how the round ended. */
export type BarrierPoll =
  { readonly state: 'waiting'; readonly generation: number; readonly arrived: number } | BarrierResult;

const LAYOUT = barrierLayout();
const PARTIES = indexOf(LAYOUT, 'parties'); // u32 view
const STATE = indexOf(LAYOUT, 'state'); // i32 view
const SLEEPERS = indexOf(LAYOUT, 'sleepers'); // i32 view
const TIMEOUTS = indexOf(LAYOUT, 'timeouts'); // i32 view

const GEN_SHIFT = 16;
const GEN_MASK = 0xffff;
const TRIP_BIT = 0x8000;
const ARRIVED_MASK = 0x7fff;
/** Loads a waiter makes, re-checking the generation, before it parks. */
const SPIN_ITERATIONS = 256;

function genOf(state: number): number {
  return (state >>> GEN_SHIFT) & GEN_MASK;
}
function arrivedOf(state: number): number {
  return state & ARRIVED_MASK;
}
/** The state word that opens the generation after `gen` (an int32). */
function nextState(gen: number, tripped: boolean): number {
  return (((gen + 1) & GEN_MASK) << GEN_SHIFT) | (tripped ? TRIP_BIT : 0);
}

/** The state of one party's wait for one round (see `Barrier.waitStep`). */
class RoundWait {
  /** Most arrivals seen at the ticket's generation. */
  seen: number;
  /** Set when the spinning ends: the clock time at which waiting gives up. */
  deadline = NaN;
  constructor(
    readonly ticket: ArrivalTicket,
    readonly timeoutMs: number,
    public spins: number,
  ) {
    this.seen = ticket.arrived;
  }
}

export class Barrier {
  readonly handle: BarrierHandle;
  readonly parties: number;
  private readonly i32: Int32Array;
  private readonly clock: Clock;

  private constructor(handle: BarrierHandle, clock: Clock) {
    this.handle = handle;
    this.parties = handle.parties;
    this.i32 = new Int32Array(handle.sab);
    this.clock = clock;
  }

  /**
   * Allocate and initialise a barrier (generation 0, nobody arrived). Call on
   * the allocating thread, then send `handle` to the parties. Throws a
   * KgError naming the field and value on bad options.
   */
  static create(options: BarrierOptions): Barrier {
    const where = 'Barrier.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    const parties = checkParties(where, options.parties);
    const clock = clockOption(where, options.clock);
    const sab = allocate(LAYOUT);
    new Uint32Array(sab)[PARTIES] = parties;
    return new Barrier({ kind: 'barrier', sab, parties, clock: clock.handle }, clock);
  }

  /**
   * Wrap an existing barrier from its handle, on any thread. Checks the
   * handle's kind, the region's magic, version and size, and that
   * `handle.parties` matches the region; throws a KgError otherwise.
   */
  static attach(handle: BarrierHandle): Barrier {
    const where = 'Barrier.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'barrier') {
      throw badHandle(where, "handle.kind must be 'barrier'", (handle as { kind?: unknown } | null)?.kind);
    }
    const sab = checkHeader(handle.sab, LAYOUT);
    const parties = checkParties(where, handle.parties);
    const stored = new Uint32Array(sab)[PARTIES]!;
    if (stored !== parties) throw layoutSizeMismatch('barrier', 'parties', parties, stored);
    const clock = attachClock(handle.clock, where);
    return new Barrier({ kind: 'barrier', sab, parties, clock: clock.handle }, clock);
  }

  /** Current generation (0..65535). Any thread; non-blocking; may be stale by the time it returns. */
  generation(): number {
    return genOf(Atomics.load(this.i32, STATE));
  }

  /** Parties arrived at the current generation. Any thread; non-blocking; may be stale by the time it returns. */
  arrived(): number {
    return arrivedOf(Atomics.load(this.i32, STATE));
  }

  /** Rounds ended by a timeout trip since creation. Any thread; non-blocking; may lag a trip in progress. */
  timeouts(): number {
    return Atomics.load(this.i32, TIMEOUTS);
  }

  /**
   * Count this party as arrived at the current generation. Any thread;
   * non-blocking; never throws. If this arrival completes the round, the
   * round is released here (and sleeping parties are woken) and the ticket
   * says `released: true`; otherwise keep the ticket and `poll` it, wait, or
   * `trip` it. Call at most once per generation per party: arrive again only
   * after this ticket's round has ended.
   */
  arrive(): ArrivalTicket {
    // One add both counts the arrival and tells us which generation it
    // landed in: no window in which we could count towards one generation
    // and believe we are in another.
    const after = (Atomics.add(this.i32, STATE, 1) + 1) | 0;
    const generation = genOf(after);
    const arrived = arrivedOf(after);
    if (arrived < this.parties) return { generation, arrived, released: false };
    this.end(generation);
    return { generation, arrived, released: true };
  }

  /**
   * Has the ticket's round ended, and how? Any thread; non-blocking; never
   * throws. `waiting` can be stale by the time it returns (the round may end
   * an instant later); an ended round stays ended.
   */
  poll(ticket: ArrivalTicket): BarrierPoll {
    const s = Atomics.load(this.i32, STATE);
    if (genOf(s) === ticket.generation)
      return { state: 'waiting', generation: ticket.generation, arrived: arrivedOf(s) };
    return this.outcome(ticket, s, ticket.arrived);
  }

  /**
   * Give up waiting: end the ticket's round now if it is still open, and
   * report how it ended. Any thread; non-blocking (a short compare-and-swap
   * loop); never throws. If every party has in fact arrived, this finishes
   * the release for the last party instead of tripping (`passed`). Only the
   * call whose compare-and-swap trips the round gets `tripped: true` and
   * counts it in `timeouts`. Everyone waiting on the generation is released.
   */
  trip(ticket: ArrivalTicket): BarrierResult {
    const g = ticket.generation;
    let s = Atomics.load(this.i32, STATE);
    // Race reasoning. We only ever replace the exact value we last read, so
    // a concurrent arrival (which changes the low bits) makes our CAS fail
    // and we look again. Arrivals within a generation only grow, so once we
    // read `arrived == parties` the round is complete and no trip may claim
    // it: we end it as complete, the same transition the last party's own
    // CAS makes (whichever of the two lands first wins; the other sees the
    // generation moved and stops). If the generation has moved we stop:
    // someone else ended the round and the trip bit tells us how.
    while (genOf(s) === g) {
      const k = arrivedOf(s);
      if (k >= this.parties) {
        this.end(g);
        return { state: 'passed', generation: g, last: ticket.released };
      }
      const seen = Atomics.compareExchange(this.i32, STATE, s, nextState(g, true));
      if (seen === s) {
        Atomics.add(this.i32, TIMEOUTS, 1);
        this.wakeSleepers();
        return { state: 'timed-out', generation: g, arrived: k, tripped: true };
      }
      s = seen;
    }
    return this.outcome(ticket, s, ticket.arrived);
  }

  /**
   * Arrive and wait until the round ends or `timeoutMs` passes; on timeout,
   * trip the round (releasing everyone waiting on it) and report
   * `timed-out`. Worker threads only: spins briefly, then sleeps with
   * `Atomics.wait` (each sleep bounded by the remaining time). Throws only on
   * misuse, before arriving: on the main thread (E_WRONG_THREAD; use
   * `arriveAndWaitAsync`) or with a bad timeout.
   */
  arriveAndWait(timeoutMs: number): BarrierResult {
    if (isMainThread) {
      throw wrongThread('Barrier.arriveAndWait', 'the main thread must not block; use arriveAndWaitAsync');
    }
    checkTimeout('Barrier.arriveAndWait', timeoutMs);
    const ticket = this.arrive();
    if (ticket.released) return { state: 'passed', generation: ticket.generation, last: true };
    const r = this.waitFor(new RoundWait(ticket, timeoutMs, SPIN_ITERATIONS));
    return r.state === 'waiting' ? this.trip(ticket) : r;
  }

  /**
   * Arrive and wait without blocking the thread: the same protocol as
   * `arriveAndWait`, parking with `Atomics.waitAsync`. Any thread, including
   * the main thread. Rejects only on a bad timeout, before arriving.
   */
  async arriveAndWaitAsync(timeoutMs: number): Promise<BarrierResult> {
    checkTimeout('Barrier.arriveAndWaitAsync', timeoutMs);
    const ticket = this.arrive();
    if (ticket.released) return { state: 'passed', generation: ticket.generation, last: true };
    // A shorter spin than the blocking variant: this may be the event-loop thread.
    const r = await this.waitForAsync(new RoundWait(ticket, timeoutMs, SPIN_ITERATIONS >> 2));
    return r.state === 'waiting' ? this.trip(ticket) : r;
  }

  /**
   * Wait until the ticket's round ends or `timeoutMs` passes, without
   * tripping it: at the deadline the answer is `waiting`, and the caller
   * decides (`trip`, or wait again). For a party that must do something
   * before the round is ended by a timeout, such as the parameter server,
   * which applies what arrived and then trips. Worker threads only (sleeps
   * with `Atomics.wait`); throws only on misuse, as `arriveAndWait`.
   */
  wait(ticket: ArrivalTicket, timeoutMs: number): BarrierPoll {
    if (isMainThread) throw wrongThread('Barrier.wait', 'the main thread must not block; use waitAsync');
    checkTimeout('Barrier.wait', timeoutMs);
    return this.waitFor(new RoundWait(ticket, timeoutMs, SPIN_ITERATIONS));
  }

  /** `wait` that parks with `Atomics.waitAsync`; any thread, including the main thread. */
  async waitAsync(ticket: ArrivalTicket, timeoutMs: number): Promise<BarrierPoll> {
    checkTimeout('Barrier.waitAsync', timeoutMs);
    return this.waitForAsync(new RoundWait(ticket, timeoutMs, SPIN_ITERATIONS >> 2));
  }

  private waitFor(w: RoundWait): BarrierPoll {
    for (;;) {
      const r = this.waitStep(w);
      if (!(r instanceof Park)) return r;
      park(r);
    }
  }

  private async waitForAsync(w: RoundWait): Promise<BarrierPoll> {
    for (;;) {
      const r = this.waitStep(w);
      if (!(r instanceof Park)) return r;
      await parkAsync(r);
    }
  }

  /**
   * One step of waiting for `w`'s round, shared by the blocking and the
   * awaiting waits: how the round ended, `waiting` once the deadline has
   * passed, or where to park until the state word changes. The first step
   * spins `w.spins` loads before the deadline is set.
   */
  private waitStep(w: RoundWait): BarrierPoll | Park {
    const g = w.ticket.generation;
    const i32 = this.i32;
    for (; w.spins > 0; w.spins--) {
      const s = Atomics.load(i32, STATE);
      if (genOf(s) !== g) return this.outcome(w.ticket, s, w.seen);
    }
    if (Number.isNaN(w.deadline)) w.deadline = this.clock.now() + w.timeoutMs;
    const s = Atomics.load(i32, STATE);
    if (genOf(s) !== g) return this.outcome(w.ticket, s, w.seen);
    w.seen = Math.max(w.seen, arrivedOf(s));
    const remaining = w.deadline - this.clock.now();
    if (remaining <= 0) return { state: 'waiting', generation: g, arrived: arrivedOf(s) };
    // Race reasoning. The parker announces itself in `sleepers` before
    // sleeping on the exact value `s` we just read. Whoever ends the round
    // changes the state word first and reads `sleepers` second. Atomics are
    // sequentially consistent, so either the change lands before the wait
    // compares the word (the wait returns 'not-equal' at once), or the
    // increment came before that change and the ender sees it and notifies.
    // An arrival that changes the low bits also makes the wait return
    // 'not-equal' or leaves us asleep; either way we step again and look.
    return new Park(i32, STATE, s, this.clock.sliceMs(remaining), SLEEPERS);
  }

  /**
   * End generation `g` as complete (not tripped), unless it has already
   * ended. Only called once `arrived == parties` was observed for `g`, after
   * which nothing but this same transition can apply to `g`.
   */
  private end(g: number): void {
    const i32 = this.i32;
    let s = Atomics.load(i32, STATE);
    while (genOf(s) === g) {
      const seen = Atomics.compareExchange(i32, STATE, s, nextState(g, false));
      if (seen === s) {
        this.wakeSleepers();
        return;
      }
      s = seen;
    }
  }

  /** After changing the state word: wake sleepers, but only if one said it sleeps. */
  private wakeSleepers(): void {
    if (Atomics.load(this.i32, SLEEPERS) > 0) Atomics.notify(this.i32, STATE);
  }

  /** How the ticket's round ended, given a state word `s` from a later generation. */
  private outcome(ticket: ArrivalTicket, s: number, seen: number): BarrierResult {
    const g = ticket.generation;
    if (ticket.released) return { state: 'passed', generation: g, last: true };
    // One generation on: the trip bit describes our round. Further on: we
    // slept through a whole later round, which (since we did not arrive at
    // it) can only have ended by a trip; how ours ended is no longer
    // recorded, so report the conservative answer.
    const ahead = (genOf(s) - g) & GEN_MASK;
    if (ahead === 1 && (s & TRIP_BIT) === 0) return { state: 'passed', generation: g, last: false };
    return { state: 'timed-out', generation: g, arrived: seen, tripped: false };
  }
}

function checkParties(where: string, parties: unknown): number {
  if (typeof parties !== 'number' || !Number.isInteger(parties)) {
    throw invalidArgument(where, 'parties', parties, 'an integer');
  }
  if (parties < 1 || parties > BARRIER_MAX_PARTIES) throw outOfRange(where, 'parties', parties, 1, BARRIER_MAX_PARTIES);
  return parties;
}

function checkTimeout(where: string, timeoutMs: unknown): void {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw invalidArgument(where, 'timeoutMs', timeoutMs, 'a number of milliseconds');
  }
  if (!(timeoutMs >= 0 && timeoutMs <= BARRIER_MAX_TIMEOUT_MS)) {
    throw outOfRange(where, 'timeoutMs', timeoutMs, 0, BARRIER_MAX_TIMEOUT_MS);
  }
}
