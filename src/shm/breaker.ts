/**
 * Circuit breakers in shared memory, one per partition (a router shard, a
 * checkpoint store), consulted by every thread that calls into it.
 *
 * States
 * - closed: calls are allowed. `failureThreshold` failures in a row open
 *   the breaker; a success resets the count.
 * - open: calls are refused until `coolDownMs` has passed, on the breaker's
 *   clock, since it opened.
 * - half-open: once the cool-down has passed, the first `allow()` moves the
 *   breaker to half-open and is allowed as the probe; every other caller is
 *   refused while the probe is out. The probe's success closes the breaker;
 *   its failure opens it again with a fresh cool-down. A probe that is never
 *   reported (its caller died) does not wedge the breaker: once `coolDownMs`
 *   has passed in half-open, the next `allow()` takes a new probe.
 *
 * Results are not tied to the call they belong to: `recordSuccess` and
 * `recordFailure` act on the state the breaker is in when they run. A result
 * reported while the breaker is open changes nothing (it belongs to a call
 * allowed before it opened); one reported in half-open decides the probe,
 * whoever reports it.
 *
 * The state word
 * One 32-bit word per breaker holds the whole state machine:
 *
 *     bits 31..12  generation, counting transitions modulo 2^20
 *     bits 11..2   failures in a row (closed only; 0 in the other states)
 *     bits  1..0   state: 0 uninitialised, 1 closed, 2 open, 3 half-open
 *
 * Every change is one compare-and-swap from the exact word read, and every
 * transition bumps the generation. So a transition happens exactly once:
 * of the threads that read the same closed word and reach the threshold, or
 * the same open word past its cool-down, one CAS wins and the others find a
 * new word and decide again from it. Counting a failure is a CAS of the same
 * word, so a failure counts toward the generation it was read in and never
 * leaks into the next closed period.
 *
 * Times
 * Open and half-open need the time their generation began: a float64 (the
 * real clock reads ~1.7e12 ms) in the breaker's block, beside a stamp word
 * naming the state word that time belongs to. The CAS cannot cover the time
 * too, so the winner of a transition into open or half-open stamps it
 * afterwards:
 * - the stamper takes the stamp word from its current value to BUSY (-1, a
 *   value no state word has) by CAS, and gives up stamping if another
 *   stamper holds it; holding it, it writes the time only if the state word
 *   is still its own, then publishes that state word in the stamp word.
 *   A stamper delayed past its generation therefore never overwrites the
 *   time of a later one.
 * - a reader trusts the time only if the stamp word equals the state word it
 *   read, and both are unchanged after it read the time. A stamper writes the
 *   time only after its own transition changed the state word, so an
 *   unchanged state word means the time read was whole and belongs to it.
 * - a state word whose time is not stamped (for an instant after its CAS;
 *   for good if its winner died in between, or lost the stamp word to a
 *   racing stamper) is timed from the moment this view first saw it: never
 *   earlier than the true start, so a cool-down is never cut short, and never
 *   wedged, since every view's own first sighting ages.
 *
 * Tables
 * A `BreakerTable` holds `slots` breakers sharing one failure threshold,
 * cool-down and clock, one cache line each. A slot starts uninitialised
 * (zeroed memory) and is initialised on its first `get(slot)` by a CAS from
 * 0 to closed: exactly once, however many threads ask at the same time.
 * `Breaker.create` is a table of one.
 *
 * Generations wrap after 2^20 transitions and are compared for equality
 * only, in the CAS: a thread holding a stale word mistakes it for the
 * current one only if exactly 2^20 transitions happen in between.
 *
 * Threads: every method may be called on any thread, the main thread
 * included; none blocks or waits. `allow`, `recordSuccess` and
 * `recordFailure` allocate nothing, never throw and are lock-free (a CAS
 * retried only when another thread changed the word).
 */
import { allocate, BREAKER_BLOCK, breakerTableLayout, checkHeader, indexOf } from '../../native-layout/index.js';
import { badHandle, invalidArgument, layoutSizeMismatch, outOfRange } from '../errors.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from './clock.js';

// ---------------------------------------------------------------- states and codes

/** States, as `state()` returns them and the transition codes pack them. */
export const BREAKER_CLOSED = 1;
export const BREAKER_OPEN = 2;
export const BREAKER_HALF_OPEN = 3;
export type BreakerState = 1 | 2 | 3;
/** Names by state number (index 0: a slot never initialised, which no view shows). */
export const BREAKER_STATE_NAMES = ['uninitialised', 'closed', 'open', 'half-open'] as const;

/**
 * Transition codes: `(from << 2) | to`, so `transitionFrom` and
 * `transitionTo` recover the states. Every code of a transition is at least
 * 4; `BREAKER_NO_TRANSITION` (0) means the call moved nothing.
 */
export const BREAKER_NO_TRANSITION = 0;
export const BREAKER_CLOSED_TO_OPEN = 6;
export const BREAKER_OPEN_TO_HALF_OPEN = 11;
export const BREAKER_HALF_OPEN_TO_CLOSED = 13;
export const BREAKER_HALF_OPEN_TO_OPEN = 14;
/** A new probe taken from a half-open breaker whose probe was not reported within the cool-down. */
export const BREAKER_HALF_OPEN_TO_HALF_OPEN = 15;
export type BreakerTransition = 0 | 6 | 11 | 13 | 14 | 15;

/** `allow()`: refused (open and cooling down, or half-open with the probe out). */
export const BREAKER_REFUSED = 0;
/** `allow()`: allowed; the breaker is closed. */
export const BREAKER_ALLOWED = 1;
/** `allow()`: allowed as the probe; this call moved the breaker open → half-open (a transition code). */
export const BREAKER_PROBE = BREAKER_OPEN_TO_HALF_OPEN;
/** `allow()`: allowed as a new probe after an unreported one; half-open → half-open (a transition code). */
export const BREAKER_PROBE_RETAKEN = BREAKER_HALF_OPEN_TO_HALF_OPEN;
/** What `allow()` returns: 0 when refused (so `if (b.allow())` reads as "allowed"). */
export type BreakerAdmission = 0 | 1 | 11 | 15;

/** The state a transition code left (0 for a code that is not a transition). */
export function transitionFrom(code: number): 0 | 1 | 2 | 3 {
  return code >= 4 ? (((code >>> 2) & 3) as 0 | 1 | 2 | 3) : 0;
}

/** The state a transition code entered (0 for a code that is not a transition). */
export function transitionTo(code: number): 0 | 1 | 2 | 3 {
  return code >= 4 ? ((code & 3) as 0 | 1 | 2 | 3) : 0;
}

// ---------------------------------------------------------------- limits and options

export const DEFAULT_BREAKER_FAILURE_THRESHOLD = 5;
export const DEFAULT_BREAKER_COOL_DOWN_MS = 30_000;
/** Largest failure threshold: failures in a row are counted in 10 bits of the state word. */
export const BREAKER_MAX_FAILURE_THRESHOLD = 1023;
/** Largest cool-down (ms, about 24.8 days). */
export const BREAKER_MAX_COOL_DOWN_MS = 2_147_483_647;
/** Largest table (4 MiB of breaker lines). */
export const BREAKER_MAX_SLOTS = 65_536;
/** Transitions before the generation number wraps. */
export const BREAKER_GENERATIONS = 1 << 20;

export interface BreakerOptions {
  /** Failures in a row that open a closed breaker: an integer in [1, 1023]; default 5. */
  readonly failureThreshold?: number;
  /**
   * How long (ms) an open breaker refuses calls, and a half-open one waits
   * for its probe's result: an integer in [1, 2^31 - 1]; default 30 000.
   */
  readonly coolDownMs?: number;
  /**
   * The clock cool-downs are measured on (default `realClock`; a
   * `ManualClock` in tests), shared with every thread that attaches.
   */
  readonly clock?: Clock;
}

export interface BreakerTableOptions extends BreakerOptions {
  /** Breakers in the table: an integer in [1, 65536]. */
  readonly slots: number;
}

/** `BreakerOptions` checked, with their defaults. */
export interface ResolvedBreakerOptions {
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly clock: Clock;
}

export interface BreakerTableHandle {
  readonly kind: 'breaker-table';
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  /** The table's clock (absent: the real clock). */
  readonly clock?: ClockHandle;
}

export interface BreakerHandle {
  readonly kind: 'breaker';
  readonly table: BreakerTableHandle;
  readonly slot: number;
}

// ---------------------------------------------------------------- layout

const L = breakerTableLayout(1);
const SLOTS = indexOf(L, 'slots'); // u32 view
const THRESHOLD = indexOf(L, 'failureThreshold'); // u32 view
const COOL_DOWN = indexOf(L, 'coolDownMs'); // u32 view
const INITIALISED = indexOf(L, 'initialised'); // i32 view
const BLOCKS = indexOf(L, 'breakers'); // i32 view; the same offset for any number of slots
const BLOCK_WORDS = BREAKER_BLOCK.words;

const STATE_MASK = 0b11;
const FAILURE_SHIFT = 2;
const FAILURE_MASK = BREAKER_MAX_FAILURE_THRESHOLD; // 10 bits
const FAILURE_ONE = 1 << FAILURE_SHIFT;
const FAILURE_FIELD = FAILURE_MASK << FAILURE_SHIFT;
const GEN_SHIFT = 12;
const GEN_MASK = BREAKER_GENERATIONS - 1;
/** The stamp word while a stamper writes the time: a value no state word takes (half-open with failures). */
const STAMP_BUSY = -1;

/** The state word of `generation` (taken modulo 2^20), `state`, `failures` in a row. */
function word(generation: number, state: number, failures: number): number {
  return ((generation & GEN_MASK) << GEN_SHIFT) | (failures << FAILURE_SHIFT) | state;
}
/** A closed breaker of generation 0 with no failures: what initialising a slot writes. */
const INITIAL_WORD = word(0, BREAKER_CLOSED, 0);

function generationOf(w: number): number {
  return (w >>> GEN_SHIFT) & GEN_MASK;
}

// ---------------------------------------------------------------- one breaker

/**
 * One breaker: a view of one slot of a `BreakerTable`. Get it from
 * `table.get(slot)`, `Breaker.create` or `Breaker.attach`; each thread uses
 * its own view, and every view of the slot shares its state.
 */
export class Breaker {
  readonly table: BreakerTable;
  readonly slot: number;
  /** Sends this breaker to another thread (`Breaker.attach`). */
  readonly handle: BreakerHandle;
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly clock: Clock;

  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly STATE: number;
  private readonly STAMP: number;
  private readonly TRANSITIONS: number;
  private readonly OPENS: number;
  private readonly SINCE: number; // f64 view
  /** An unstamped state word this view saw, and when (clock ms) it first saw it. */
  private unstampedWord = 0;
  private unstampedSeenMs = 0;

  /** @internal use `BreakerTable.get`, `Breaker.create` or `Breaker.attach`. */
  constructor(table: BreakerTable, slot: number, i32: Int32Array, f64: Float64Array) {
    this.table = table;
    this.slot = slot;
    this.handle = Object.freeze({ kind: 'breaker', table: table.handle, slot });
    this.failureThreshold = table.failureThreshold;
    this.coolDownMs = table.coolDownMs;
    this.clock = table.clock;
    this.i32 = i32;
    this.f64 = f64;
    const base = BLOCKS + slot * BLOCK_WORDS;
    this.STATE = base + BREAKER_BLOCK.state;
    this.STAMP = base + BREAKER_BLOCK.stamp;
    this.TRANSITIONS = base + BREAKER_BLOCK.transitions;
    this.OPENS = base + BREAKER_BLOCK.opens;
    this.SINCE = base / 2 + BREAKER_BLOCK.sinceMs;
  }

  /**
   * A breaker of its own (a table of one slot). Call on the allocating
   * thread, then send `handle` to the others. Throws a KgError naming the
   * field and value on bad options.
   */
  static create(options: BreakerOptions = {}): Breaker {
    const o = resolveBreakerOptions('Breaker.create', options);
    return BreakerTable.create({ ...o, slots: 1 }).get(0);
  }

  /**
   * Wrap an existing breaker from its handle, on any thread. Checks the
   * handle and its table as `BreakerTable.attach` does; throws a KgError
   * otherwise.
   */
  static attach(handle: BreakerHandle): Breaker {
    const where = 'Breaker.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'breaker') {
      throw badHandle(where, "handle.kind must be 'breaker'", (handle as { kind?: unknown } | null)?.kind);
    }
    const table = attachTable(where, handle.table);
    return table.get(checkSlot(where, handle.slot, table.slots));
  }

  /**
   * May a call go ahead? `BREAKER_ALLOWED` when closed; `BREAKER_PROBE`
   * when the cool-down of an open breaker has passed and this call took the
   * probe (it moved the breaker to half-open); `BREAKER_PROBE_RETAKEN` when
   * a half-open breaker's probe went unreported for a cool-down and this
   * call took a new one; otherwise `BREAKER_REFUSED` (0). A caller allowed
   * as the probe reports its outcome with `recordSuccess` or
   * `recordFailure`. Of many threads calling at once after a cool-down,
   * exactly one gets the probe. Any thread; allocates nothing, never throws;
   * a closed breaker costs one atomic load.
   */
  allow(): BreakerAdmission {
    const i32 = this.i32;
    for (;;) {
      const w = Atomics.load(i32, this.STATE);
      const state = w & STATE_MASK;
      if (state === BREAKER_CLOSED) return BREAKER_ALLOWED;
      // Open or half-open: has this generation lasted a cool-down?
      const now = this.clock.now();
      const since = this.sinceOf(w, now);
      if (Number.isNaN(since)) continue; // the word moved on while its time was read: decide again
      if (now - since < this.coolDownMs) return BREAKER_REFUSED;
      // Race reasoning. Everyone past the cool-down CASes from this exact
      // word to the next generation's half-open word; one wins the probe.
      // A loser finds the winner's half-open word, freshly timed, and is
      // refused on the next pass; or a result reported meanwhile (closed, or
      // open again with a new time) and decides from that.
      const next = word(generationOf(w) + 1, BREAKER_HALF_OPEN, 0);
      if (Atomics.compareExchange(i32, this.STATE, w, next) === w) {
        this.transitioned(next, false);
        return state === BREAKER_OPEN ? BREAKER_PROBE : BREAKER_PROBE_RETAKEN;
      }
    }
  }

  /**
   * Report a call that succeeded. In half-open it closes the breaker and
   * returns `BREAKER_HALF_OPEN_TO_CLOSED`; in closed it resets the failures
   * in a row; in open it changes nothing. Returns the transition this call
   * made, else `BREAKER_NO_TRANSITION` (0). Any thread; allocates nothing,
   * never throws; a closed breaker without failures costs one atomic load
   * and writes nothing.
   */
  recordSuccess(): BreakerTransition {
    const i32 = this.i32;
    for (;;) {
      const w = Atomics.load(i32, this.STATE);
      const state = w & STATE_MASK;
      if (state === BREAKER_HALF_OPEN) {
        const next = word(generationOf(w) + 1, BREAKER_CLOSED, 0);
        if (Atomics.compareExchange(i32, this.STATE, w, next) === w) {
          this.transitioned(next, false);
          return BREAKER_HALF_OPEN_TO_CLOSED;
        }
        continue;
      }
      // Open: a late result of a call allowed before it opened. Closed without failures: nothing to reset.
      if (state !== BREAKER_CLOSED || (w & FAILURE_FIELD) === 0) return BREAKER_NO_TRANSITION;
      if (Atomics.compareExchange(i32, this.STATE, w, w & ~FAILURE_FIELD) === w) return BREAKER_NO_TRANSITION;
    }
  }

  /**
   * Report a call that failed. In closed it counts a failure and, at the
   * threshold, opens the breaker (`BREAKER_CLOSED_TO_OPEN`); in half-open it
   * opens it again with a fresh cool-down (`BREAKER_HALF_OPEN_TO_OPEN`); in
   * open it changes nothing. Returns the transition this call made, else
   * `BREAKER_NO_TRANSITION` (0): of many threads failing at once, exactly
   * one gets the transition that opens a generation. Any thread; allocates
   * nothing, never throws.
   */
  recordFailure(): BreakerTransition {
    const i32 = this.i32;
    for (;;) {
      const w = Atomics.load(i32, this.STATE);
      const state = w & STATE_MASK;
      if (state === BREAKER_CLOSED) {
        // Count the failure in this generation, unless it is the one that opens it.
        if (((w >>> FAILURE_SHIFT) & FAILURE_MASK) + 1 < this.failureThreshold) {
          if (Atomics.compareExchange(i32, this.STATE, w, (w + FAILURE_ONE) | 0) === w) return BREAKER_NO_TRANSITION;
          continue;
        }
      } else if (state !== BREAKER_HALF_OPEN) {
        return BREAKER_NO_TRANSITION; // open: a late result of a call allowed before it opened
      }
      const next = word(generationOf(w) + 1, BREAKER_OPEN, 0);
      if (Atomics.compareExchange(i32, this.STATE, w, next) === w) {
        this.transitioned(next, true);
        return state === BREAKER_CLOSED ? BREAKER_CLOSED_TO_OPEN : BREAKER_HALF_OPEN_TO_OPEN;
      }
    }
  }

  /** The state now (`BREAKER_CLOSED`, `BREAKER_OPEN` or `BREAKER_HALF_OPEN`). Any thread; may be stale on return. */
  state(): BreakerState {
    return (Atomics.load(this.i32, this.STATE) & STATE_MASK) as BreakerState;
  }

  /** Transitions so far modulo 2^20 (every transition bumps it). Any thread; may be stale on return. */
  generation(): number {
    return generationOf(Atomics.load(this.i32, this.STATE));
  }

  /** Failures in a row counted while closed (0 in the other states). Any thread; may be stale on return. */
  failures(): number {
    return (Atomics.load(this.i32, this.STATE) >>> FAILURE_SHIFT) & FAILURE_MASK;
  }

  /** Transitions made since the breaker was created (wraps at 2^32). Any thread; may lag one just made. */
  transitions(): number {
    return Atomics.load(this.i32, this.TRANSITIONS) >>> 0;
  }

  /** Transitions into open (from closed or half-open) since creation (wraps at 2^32). Any thread; may lag. */
  opens(): number {
    return Atomics.load(this.i32, this.OPENS) >>> 0;
  }

  // ------------------------------------------------------------ internals

  /** After this view's CAS made the state word `next`: time it (open, half-open) and count it. */
  private transitioned(next: number, opened: boolean): void {
    if ((next & STATE_MASK) !== BREAKER_CLOSED) this.stamp(next);
    Atomics.add(this.i32, this.TRANSITIONS, 1);
    if (opened) Atomics.add(this.i32, this.OPENS, 1);
  }

  /**
   * Publish the time now as the start of state word `w` (see "Times" in the
   * module note). The clock is read after the CAS, never before it: a
   * thread stalled between a reading and its CAS must not date its
   * generation back.
   */
  private stamp(w: number): void {
    const i32 = this.i32;
    const prev = Atomics.load(i32, this.STAMP);
    // Another stamper holds the stamp word: leave `w` unstamped (readers time it from when they first see it).
    if (prev === STAMP_BUSY || Atomics.compareExchange(i32, this.STAMP, prev, STAMP_BUSY) !== prev) return;
    if (Atomics.load(i32, this.STATE) === w) {
      this.f64[this.SINCE] = this.clock.now();
      Atomics.store(i32, this.STAMP, w);
    } else {
      Atomics.store(i32, this.STAMP, prev); // `w` is over already: its time no longer matters
    }
  }

  /**
   * When the generation of state word `w` began: its stamped time, if the
   * stamp is `w`'s and `w` is still the state word after the time was read;
   * NaN if the words moved on meanwhile (the caller reads again); else (not
   * stamped, now or ever) when this view first saw `w`.
   */
  private sinceOf(w: number, now: number): number {
    const i32 = this.i32;
    if (Atomics.load(i32, this.STAMP) === w) {
      const t = this.f64[this.SINCE]!;
      if (Atomics.load(i32, this.STAMP) === w && Atomics.load(i32, this.STATE) === w) return t;
      return NaN;
    }
    if (this.unstampedWord !== w) {
      this.unstampedWord = w;
      this.unstampedSeenMs = now;
    }
    return this.unstampedSeenMs;
  }
}

// ---------------------------------------------------------------- a table of breakers

/**
 * `slots` breakers in one shared region, one per partition, created lazily:
 * `get(slot)` initialises its slot on first use. Every breaker of a table
 * has the table's threshold, cool-down and clock.
 */
export class BreakerTable {
  readonly handle: BreakerTableHandle;
  readonly slots: number;
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  readonly clock: Clock;

  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  /** This object's views, made on first `get` of each slot. */
  private readonly views: (Breaker | undefined)[];

  /** @internal use `BreakerTable.create` or `BreakerTable.attach`. */
  constructor(handle: BreakerTableHandle, clock: Clock) {
    this.handle = handle;
    this.slots = handle.slots;
    this.clock = clock;
    const u32 = new Uint32Array(handle.sab, 0, 16);
    this.failureThreshold = u32[THRESHOLD]!;
    this.coolDownMs = u32[COOL_DOWN]!;
    this.i32 = new Int32Array(handle.sab);
    this.f64 = new Float64Array(handle.sab);
    this.views = new Array<Breaker | undefined>(handle.slots);
  }

  /**
   * Allocate a table of `slots` uninitialised breakers. Call on the
   * allocating thread, then send `handle` to the others. Throws a KgError
   * naming the field and value on bad options.
   */
  static create(options: BreakerTableOptions): BreakerTable {
    const where = 'BreakerTable.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    const slots = checkSlots(where, options.slots);
    const o = resolveBreakerOptions(where, options);
    const sab = allocate(breakerTableLayout(slots));
    const u32 = new Uint32Array(sab, 0, 16);
    u32[SLOTS] = slots;
    u32[THRESHOLD] = o.failureThreshold;
    u32[COOL_DOWN] = o.coolDownMs;
    return new BreakerTable({ kind: 'breaker-table', sab, slots, clock: o.clock.handle }, o.clock);
  }

  /**
   * Wrap an existing table from its handle, on any thread. Checks the
   * handle's kind, the region's magic, version and size, that the region
   * holds `handle.slots` breakers and a valid threshold and cool-down, and
   * the clock; throws a KgError otherwise.
   */
  static attach(handle: BreakerTableHandle): BreakerTable {
    return attachTable('BreakerTable.attach', handle);
  }

  /**
   * The breaker of `slot`, initialising the slot (closed, no failures) if
   * no thread has yet. Returns the same view for the same slot every time on
   * this object. Any thread; allocates only on the first call for a slot;
   * throws `E_OUT_OF_RANGE` for a slot outside [0, slots) (look a view up
   * once, then keep it for hot paths).
   */
  get(slot: number): Breaker {
    const view = this.views[slot];
    if (view !== undefined) return view;
    checkSlot('BreakerTable.get', slot, this.slots);
    // Lazy initialisation: one CAS from the zeroed word, so of many threads
    // asking at once exactly one initialises (and counts) the slot; the
    // others find it closed already. The word never returns to 0.
    const state = BLOCKS + slot * BLOCK_WORDS + BREAKER_BLOCK.state;
    if (Atomics.compareExchange(this.i32, state, 0, INITIAL_WORD) === 0) Atomics.add(this.i32, INITIALISED, 1);
    const made = new Breaker(this, slot, this.i32, this.f64);
    this.views[slot] = made;
    return made;
  }

  /** Whether some thread has initialised `slot` (by `get`). Any thread; may be stale on return. */
  initialised(slot: number): boolean {
    checkSlot('BreakerTable.initialised', slot, this.slots);
    return Atomics.load(this.i32, BLOCKS + slot * BLOCK_WORDS + BREAKER_BLOCK.state) !== 0;
  }

  /** Slots initialised so far, by any thread. Any thread; may lag an initialisation just made. */
  initialisedSlots(): number {
    return Atomics.load(this.i32, INITIALISED);
  }
}

function attachTable(where: string, handle: BreakerTableHandle): BreakerTable {
  if (handle === null || typeof handle !== 'object' || handle.kind !== 'breaker-table') {
    throw badHandle(where, "handle.kind must be 'breaker-table'", (handle as { kind?: unknown } | null)?.kind);
  }
  const slots = checkSlots(where, handle.slots);
  const sab = checkHeader(handle.sab, breakerTableLayout(slots));
  const u32 = new Uint32Array(sab, 0, 16);
  if (u32[SLOTS] !== slots) throw layoutSizeMismatch('breaker-table', 'slots', slots, u32[SLOTS]!);
  const threshold = u32[THRESHOLD]!;
  if (threshold < 1 || threshold > BREAKER_MAX_FAILURE_THRESHOLD)
    throw badHandle(where, `the region holds failureThreshold ${threshold}, outside [1, 1023]`);
  const coolDown = u32[COOL_DOWN]!;
  if (coolDown < 1 || coolDown > BREAKER_MAX_COOL_DOWN_MS)
    throw badHandle(where, `the region holds coolDownMs ${coolDown}, outside [1, ${BREAKER_MAX_COOL_DOWN_MS}]`);
  const clock = attachClock(handle.clock, where);
  return new BreakerTable({ kind: 'breaker-table', sab, slots, clock: clock.handle }, clock);
}

// ---------------------------------------------------------------- validation

/**
 * Check breaker options and fill in the defaults; throws a KgError naming
 * the field (`prefix` + name) and value. For layers that create breakers
 * lazily and want bad options refused up front.
 */
export function resolveBreakerOptions(where: string, options: BreakerOptions, prefix = ''): ResolvedBreakerOptions {
  if (options === null || typeof options !== 'object')
    throw invalidArgument(where, prefix === '' ? 'options' : prefix.slice(0, -1), options, 'an object');
  return {
    failureThreshold: checkInteger(
      where,
      `${prefix}failureThreshold`,
      options.failureThreshold ?? DEFAULT_BREAKER_FAILURE_THRESHOLD,
      1,
      BREAKER_MAX_FAILURE_THRESHOLD,
    ),
    coolDownMs: checkInteger(
      where,
      `${prefix}coolDownMs`,
      options.coolDownMs ?? DEFAULT_BREAKER_COOL_DOWN_MS,
      1,
      BREAKER_MAX_COOL_DOWN_MS,
    ),
    clock: prefix === '' ? clockOption(where, options.clock) : prefixedClock(where, `${prefix}clock`, options.clock),
  };
}

/** `clockOption`, for an error naming the field `field`. */
function prefixedClock(where: string, field: string, clock: unknown): Clock {
  try {
    return clockOption(where, clock);
  } catch {
    throw invalidArgument(where, field, clock, 'a Clock (realClock or a ManualClock)');
  }
}

function checkInteger(where: string, field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'an integer');
  if (v < min || v > max) throw outOfRange(where, field, v, min, max);
  return v;
}

function checkSlots(where: string, slots: unknown): number {
  return checkInteger(where, 'slots', slots, 1, BREAKER_MAX_SLOTS);
}

function checkSlot(where: string, slot: unknown, slots: number): number {
  return checkInteger(where, 'slot', slot, 0, slots - 1);
}
