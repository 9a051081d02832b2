/**
 * Clocks for everything that waits for a lease, a cooldown, a warm-up or a
 * timeout. A structure takes a `Clock` in its `create` options and records
 * the clock's handle in its own handle, so every thread that attaches the
 * structure reads the same time: a lease stamped by one thread is judged by
 * another on the same clock.
 *
 * - `realClock` (the default everywhere): milliseconds on a clock every
 *   thread of the process shares (`performance.timeOrigin +
 *   performance.now()`).
 * - `ManualClock`: one word of milliseconds in shared memory that only the
 *   code driving it moves (`advance`, `set`). Tests use it to move time
 *   forward instead of sleeping, so an outcome never depends on how fast a
 *   loaded machine runs them. Every thread that attaches the structure sees
 *   each advance at once.
 *
 * Waiting with a clock: code that sleeps until a deadline on the clock
 * sleeps in slices of at most `sliceMs(remaining)` real milliseconds and
 * re-reads the clock after each, so a manual clock moved by another thread
 * is noticed within a slice (the real clock's slice is the whole remaining
 * time).
 */
import { allocate, checkHeader, clockLayout, indexOf } from '../../native-layout/index.js';
import { badHandle, invalidArgument } from '../errors.js';

/** How a clock travels to other threads (inside the handle of the structure using it). */
export type ClockHandle =
  | { readonly kind: 'clock'; readonly source: 'real' }
  | { readonly kind: 'clock'; readonly source: 'manual'; readonly sab: SharedArrayBuffer };

export interface Clock {
  /** Milliseconds; only differences between two readings mean anything. */
  now(): number;
  /** Longest real sleep (ms) before a waiter with `remainingMs` left on this clock looks at the clock again. */
  sliceMs(remainingMs: number): number;
  readonly handle: ClockHandle;
}

const REAL_HANDLE: ClockHandle = Object.freeze({ kind: 'clock', source: 'real' });

/** The process-wide real clock (shared by every thread). */
export const realClock: Clock = Object.freeze({
  now: (): number => performance.timeOrigin + performance.now(),
  sliceMs: (remainingMs: number): number => remainingMs,
  handle: REAL_HANDLE,
});

const LAYOUT = clockLayout();
const NOW = indexOf(LAYOUT, 'nowMs');
/** A waiter on a manual clock looks at it again at least this often (real ms). */
const MANUAL_SLICE_MS = 5;

/**
 * A clock that moves only when told to, shared through memory. Any thread
 * may read it; the driving thread (a test) moves it. Whole milliseconds,
 * starting at `startMs` (default 0); moving it backwards is refused.
 */
export class ManualClock implements Clock {
  readonly handle: ClockHandle;
  private readonly i32: Int32Array;

  private constructor(sab: SharedArrayBuffer) {
    this.handle = Object.freeze({ kind: 'clock', source: 'manual', sab });
    this.i32 = new Int32Array(sab);
  }

  static create(startMs = 0): ManualClock {
    checkMs('ManualClock.create', 'startMs', startMs);
    const sab = allocate(LAYOUT);
    new Int32Array(sab)[NOW] = startMs;
    return new ManualClock(sab);
  }

  static attach(handle: ClockHandle): ManualClock {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'clock' || handle.source !== 'manual') {
      throw badHandle('ManualClock.attach', "handle must be a manual clock's handle", handle);
    }
    return new ManualClock(checkHeader(handle.sab, LAYOUT));
  }

  now(): number {
    return Atomics.load(this.i32, NOW);
  }

  sliceMs(remainingMs: number): number {
    return Math.min(remainingMs, MANUAL_SLICE_MS);
  }

  /** Move the clock forward by `ms` (a non-negative integer); returns the new time. */
  advance(ms: number): number {
    checkMs('ManualClock.advance', 'ms', ms);
    return Atomics.add(this.i32, NOW, ms) + ms;
  }

  /** Move the clock to `ms`, which must not be before the current time. */
  set(ms: number): void {
    checkMs('ManualClock.set', 'ms', ms);
    const cur = this.now();
    if (ms < cur) throw invalidArgument('ManualClock.set', 'ms', ms, `not before the current time ${cur}`);
    Atomics.store(this.i32, NOW, ms);
  }
}

/** The clock a handle names (the real clock when the handle is absent). */
export function attachClock(handle: ClockHandle | undefined, where = 'attachClock'): Clock {
  if (
    handle === undefined ||
    (handle !== null && typeof handle === 'object' && handle.kind === 'clock' && handle.source === 'real')
  ) {
    return realClock;
  }
  if (handle !== null && typeof handle === 'object' && handle.kind === 'clock' && handle.source === 'manual')
    return ManualClock.attach(handle);
  throw badHandle(where, "clock must be a clock handle ({ kind: 'clock', source: 'real' | 'manual' })", handle);
}

/** Check a `clock` option: undefined (the real clock) or a `Clock`. */
export function clockOption(where: string, clock: unknown): Clock {
  if (clock === undefined) return realClock;
  // tsc needs this narrowing from `unknown`; the linter's checker does not see why.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const c = clock as Partial<Clock> | null;
  if (
    c === null ||
    typeof c !== 'object' ||
    typeof c.now !== 'function' ||
    typeof c.sliceMs !== 'function' ||
    c.handle?.kind !== 'clock'
  ) {
    throw invalidArgument(where, 'clock', clock, 'a Clock (realClock or a ManualClock)');
  }
  return c as Clock;
}

function checkMs(where: string, field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x3fffffff) {
    throw invalidArgument(where, field, v, 'an integer number of milliseconds in [0, 2^30]');
  }
}
