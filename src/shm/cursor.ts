/**
 * Monotonic cursor: a shared position (a watermark, "processed up to")
 * that any thread may move forward and none may move back.
 *
 * The value is a u64 word updated by compare-and-swap through a
 * `BigUint64Array`. On Node 20 every BigInt Atomics call allocates a heap
 * BigInt, so this is a per-batch or per-pass primitive (advance once per
 * consolidated range, per finished epoch), not a per-event one.
 *
 * Values are non-negative safe integers (0 .. 2^53 - 1), so `get()` returns
 * a plain number exactly. Any thread may call any method.
 */
import { allocate, checkHeader, cursorLayout, indexOf } from '../../native-layout/index.js';
import { badHandle, invalidArgument, outOfRange } from '../errors.js';

export interface CursorOptions {
  /** Starting value, a non-negative safe integer; 0 if omitted. */
  readonly initial?: number;
}

export interface CursorHandle {
  readonly kind: 'cursor';
  readonly sab: SharedArrayBuffer;
}

/** One compare-and-swap attempt of `advance`, for callers that interleave steps themselves. */
export type AdvanceStep =
  /** The cursor held `expected` and now holds the target. */
  | { readonly state: 'advanced' }
  /**
   * The target is not above `current`, so there is nothing to do: `current`
   * is either `expected` (the target was not above it, no CAS was made) or
   * the higher value a failed CAS found.
   */
  | { readonly state: 'not-greater'; readonly current: number }
  /** The cursor did not hold `expected`; it held `current`, which is below the target: try again from there. */
  | { readonly state: 'raced'; readonly current: number };

const LAYOUT = cursorLayout();
const VALUE = indexOf(LAYOUT, 'value'); // u64 view

export class Cursor {
  readonly handle: CursorHandle;
  private readonly u64: BigUint64Array;

  private constructor(handle: CursorHandle) {
    this.handle = handle;
    this.u64 = new BigUint64Array(handle.sab);
  }

  /**
   * Allocate a cursor holding `initial` (default 0). Call on the allocating
   * thread, then send `handle` to the others. Throws a KgError naming the
   * field and value on bad options.
   */
  static create(options: CursorOptions = {}): Cursor {
    const where = 'Cursor.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    const initial = options.initial === undefined ? 0 : checkValue(where, 'initial', options.initial);
    const sab = allocate(LAYOUT);
    new BigUint64Array(sab)[VALUE] = BigInt(initial);
    return new Cursor({ kind: 'cursor', sab });
  }

  /**
   * Wrap an existing cursor from its handle, on any thread. Checks the
   * handle's kind and the region's magic, version and size, and that the
   * stored value is in range; throws a KgError otherwise.
   */
  static attach(handle: CursorHandle): Cursor {
    const where = 'Cursor.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'cursor') {
      throw badHandle(where, "handle.kind must be 'cursor'", (handle as { kind?: unknown } | null)?.kind);
    }
    const sab = checkHeader(handle.sab, LAYOUT);
    const stored = Atomics.load(new BigUint64Array(sab), VALUE);
    if (stored > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw badHandle(where, 'the region holds a cursor value above 2^53 - 1', stored);
    }
    return new Cursor({ kind: 'cursor', sab });
  }

  /**
   * The current value. Any thread; non-blocking; never throws. May be stale
   * by the time it returns, but only ever low: the cursor never goes back,
   * so a later `get()` on any thread returns at least this.
   */
  get(): number {
    return Number(Atomics.load(this.u64, VALUE));
  }

  /**
   * Move the cursor to `to` if `to` is strictly greater than its value.
   * Returns true if this call moved it, false if the cursor was already at
   * or beyond `to` (possibly because a racing call moved it further). Any
   * thread; non-blocking (a compare-and-swap loop that retries only while
   * other calls keep moving the cursor, each retry from a higher value);
   * lock-free. After it returns, `get() >= to` on every thread that reads
   * afterwards. Throws only if `to` is not a non-negative safe integer,
   * before touching shared state (a programming error, not a race).
   */
  advance(to: number): boolean {
    checkValue('Cursor.advance', 'to', to);
    const target = BigInt(to);
    const u64 = this.u64;
    let current = Atomics.load(u64, VALUE);
    // Race reasoning. We replace only the exact value we read. If another
    // thread moved the cursor in between, the CAS fails and hands us the
    // newer value; since the cursor only moves up, that value is higher and
    // we either stop (it is already >= our target: a later target won, and
    // overwriting it would move the cursor back) or retry from it. The
    // loop ends because every failure means someone else made progress.
    while (target > current) {
      const seen = Atomics.compareExchange(u64, VALUE, current, target);
      if (seen === current) return true;
      current = seen;
    }
    return false;
  }

  /**
   * One step of `advance`: if `to` is above `expected`, one compare-and-swap
   * from `expected` to `to`. For tests and callers that need to interleave
   * the read, the comparison and the swap themselves; `advance` is this in
   * a loop. Any thread; non-blocking; validates like `advance`.
   */
  tryAdvanceOnce(to: number, expected: number): AdvanceStep {
    checkValue('Cursor.tryAdvanceOnce', 'to', to);
    checkValue('Cursor.tryAdvanceOnce', 'expected', expected);
    if (to <= expected) return { state: 'not-greater', current: expected };
    const seen = Atomics.compareExchange(this.u64, VALUE, BigInt(expected), BigInt(to));
    const current = Number(seen);
    if (current === expected) return { state: 'advanced' };
    return to <= current ? { state: 'not-greater', current } : { state: 'raced', current };
  }
}

function checkValue(where: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidArgument(where, field, value, 'a non-negative safe integer');
  }
  if (value < 0 || value > Number.MAX_SAFE_INTEGER) throw outOfRange(where, field, value, 0, Number.MAX_SAFE_INTEGER);
  return value;
}
