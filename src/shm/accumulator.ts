/**
 * Threshold accumulator: many threads add amounts to one pending total;
 * when the total reaches `threshold`, exactly one thread claims it (and
 * flushes whatever the amounts stand for: batched writes, a stats save).
 *
 * The pending total is one i32 word. Adding is `Atomics.add`; claiming is a
 * compare-and-swap from the exact total read to 0, so the claimer gets
 * exactly the amount it removed. Nothing is lost or counted twice: at every
 * instant, the sum of all claimed amounts (by `add`, `tryClaim` and
 * `drain`) plus the pending total equals the sum of all amounts added.
 *
 * A claim is retried while the total is still at or above the threshold,
 * so an add racing with the claim cannot suppress the flush (it only makes
 * the claim larger). Consequence: once no `add` call is in progress, the
 * pending total is below the threshold.
 *
 * Overflow: an amount is an integer in [0, 2^20] and the threshold is at
 * most 2^30. The total exceeds `threshold - 1` only by amounts whose `add`
 * calls are still running (each keeps claiming until the total it sees is
 * below the threshold), so with fewer than 1024 concurrent `add` calls the
 * total stays below 2^31. (`deposit` without the claim steps that follow
 * it gives up that bound; it is a building block for tests.)
 *
 * Any thread may call any method; none blocks.
 */
import { accumulatorLayout, allocate, checkHeader, indexOf } from '../../native-layout/index.js';
import { badHandle, invalidArgument, layoutSizeMismatch, outOfRange, type KgError } from '../errors.js';

/** Largest threshold. */
export const ACCUMULATOR_MAX_THRESHOLD = 2 ** 30;
/** Largest amount one `add` may carry. */
export const ACCUMULATOR_MAX_AMOUNT = 2 ** 20;

export interface AccumulatorOptions {
  /** Pending total that triggers a flush: an integer in [1, 2^30]. */
  readonly threshold: number;
}

export interface AccumulatorHandle {
  readonly kind: 'accumulator';
  readonly sab: SharedArrayBuffer;
  readonly threshold: number;
}

/** One compare-and-swap attempt at claiming the pending total. */
export type ClaimStep =
  /** This call reset the total to 0 and owns `amount` (>= threshold). */
  | { readonly state: 'claimed'; readonly amount: number }
  /** The total is below the threshold: nothing to claim. */
  | { readonly state: 'below-threshold'; readonly current: number }
  /** The total was not `expected` but `current`, still at or above the threshold: try again from there. */
  | { readonly state: 'raced'; readonly current: number };

const LAYOUT = accumulatorLayout();
const THRESHOLD = indexOf(LAYOUT, 'threshold'); // u32 view
const PENDING = indexOf(LAYOUT, 'pending'); // i32 view
const FLUSHES = indexOf(LAYOUT, 'flushes'); // i32 view

export class Accumulator {
  readonly handle: AccumulatorHandle;
  readonly threshold: number;
  private readonly i32: Int32Array;

  private constructor(handle: AccumulatorHandle) {
    this.handle = handle;
    this.threshold = handle.threshold;
    this.i32 = new Int32Array(handle.sab);
  }

  /**
   * Allocate an accumulator with nothing pending. Call on the allocating
   * thread, then send `handle` to the others. Throws a KgError naming the
   * field and value on bad options.
   */
  static create(options: AccumulatorOptions): Accumulator {
    const where = 'Accumulator.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    const threshold = checkThreshold(where, options.threshold);
    const sab = allocate(LAYOUT);
    new Uint32Array(sab)[THRESHOLD] = threshold;
    return new Accumulator({ kind: 'accumulator', sab, threshold });
  }

  /**
   * Wrap an existing accumulator from its handle, on any thread. Checks the
   * handle's kind, the region's magic, version and size, and that
   * `handle.threshold` matches the region; throws a KgError otherwise.
   */
  static attach(handle: AccumulatorHandle): Accumulator {
    const where = 'Accumulator.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'accumulator') {
      throw badHandle(where, "handle.kind must be 'accumulator'", (handle as { kind?: unknown } | null)?.kind);
    }
    const sab = checkHeader(handle.sab, LAYOUT);
    const threshold = checkThreshold(where, handle.threshold);
    const stored = new Uint32Array(sab)[THRESHOLD]!;
    if (stored !== threshold) throw layoutSizeMismatch('accumulator', 'threshold', threshold, stored);
    return new Accumulator({ kind: 'accumulator', sab, threshold });
  }

  /**
   * Add `amount`; if the pending total is then at or above the threshold,
   * try to claim it. Returns the amount this call claimed (>= threshold; it
   * includes other threads' amounts added before the claim), or 0 if it
   * claimed nothing, either because the total is below the threshold or
   * because another thread claimed it first. Any thread; non-blocking;
   * lock-free. Throws only if `amount` is not an integer in [0, 2^20],
   * before touching shared state (a programming error, not a race).
   */
  add(amount: number): number {
    let current = this.deposit(amount);
    // Race reasoning. The claim is a CAS from the exact total we read to 0,
    // so we take exactly what we read and nothing added after it. If another
    // add lands first, the CAS fails and hands us the new, larger total: we
    // retry, so the racing add cannot make us miss a flush that is due. If
    // another claimer lands first, the total is now small (what was added
    // since its reset) and we stop when it is below the threshold. At most
    // one CAS can replace a given value, so each crossing has one claimer.
    while (current >= this.threshold) {
      const seen = Atomics.compareExchange(this.i32, PENDING, current, 0);
      if (seen === current) {
        Atomics.add(this.i32, FLUSHES, 1);
        return current;
      }
      current = seen;
    }
    return 0;
  }

  /**
   * Claim everything pending, whatever the threshold, and return it (0 if
   * nothing was pending). For shutdown and end-of-pass flushes. Any thread;
   * non-blocking; never throws. Not counted in `flushes`.
   */
  drain(): number {
    // Exchange, not load-then-store: an add landing between a load and a
    // store would be wiped out.
    return Atomics.exchange(this.i32, PENDING, 0);
  }

  /**
   * The pending total. Any thread; non-blocking; may be stale by the time
   * it returns, and may briefly be at or above the threshold while an `add`
   * is about to claim it.
   */
  pending(): number {
    return Atomics.load(this.i32, PENDING);
  }

  /**
   * Threshold claims made since creation (drains not included). Any thread;
   * non-blocking; may lag a claim that is just completing.
   */
  flushes(): number {
    return Atomics.load(this.i32, FLUSHES);
  }

  /**
   * First step of `add`: add `amount` without claiming, and return the
   * pending total right after. For tests and callers that interleave the
   * steps themselves; follow it with `tryClaim` until that stops returning
   * `raced`, or a due flush is left for the next `add`. Any thread;
   * non-blocking; validates like `add`.
   */
  deposit(amount: number): number {
    if (!(Number.isInteger(amount) && amount >= 0 && amount <= ACCUMULATOR_MAX_AMOUNT)) throw badAmount(amount);
    return Atomics.add(this.i32, PENDING, amount) + amount;
  }

  /**
   * Second step of `add`: one compare-and-swap from `expected` to 0 if
   * `expected` is at or above the threshold. Any thread; non-blocking; never
   * throws.
   */
  tryClaim(expected: number): ClaimStep {
    if (expected < this.threshold) return { state: 'below-threshold', current: expected };
    const seen = Atomics.compareExchange(this.i32, PENDING, expected | 0, 0);
    if (seen === expected) {
      Atomics.add(this.i32, FLUSHES, 1);
      return { state: 'claimed', amount: seen };
    }
    return seen >= this.threshold ? { state: 'raced', current: seen } : { state: 'below-threshold', current: seen };
  }
}

function checkThreshold(where: string, threshold: unknown): number {
  if (typeof threshold !== 'number' || !Number.isInteger(threshold)) {
    throw invalidArgument(where, 'threshold', threshold, 'an integer');
  }
  if (threshold < 1 || threshold > ACCUMULATOR_MAX_THRESHOLD) {
    throw outOfRange(where, 'threshold', threshold, 1, ACCUMULATOR_MAX_THRESHOLD);
  }
  return threshold;
}

function badAmount(amount: unknown): KgError {
  return typeof amount === 'number' && Number.isInteger(amount)
    ? outOfRange('Accumulator.add', 'amount', amount, 0, ACCUMULATOR_MAX_AMOUNT)
    : invalidArgument('Accumulator.add', 'amount', amount, 'an integer');
}
