/**
 * Latency counter: `counters` independent blocks in one shared region, each
 * holding
 *
 * - `events`: a u32 bumped on every event with one `Atomics.add` (the
 *   every-event path, no allocation), and
 * - `sample`: a u64 packing a latency sample count (high 32 bits) and the
 *   sum of the sampled values (low 32 bits), updated by one
 *   compare-and-swap, so that a sample's count and its value always land in
 *   the same window and a collector takes both with one `Atomics.exchange`.
 *
 * Every word saturates instead of wrapping: `count` and `sum` stop at
 * `SAMPLE_CAP` (2^32 - 1), `events` at `EVENTS_CAP` (2^32 - 2^16; the
 * headroom above it is what makes a saturating `Atomics.add` safe, see
 * `pinEvents`). A window reports `saturated: true` when any of the three
 * reached its cap; the figures in it are then lower bounds.
 *
 * The region layout (one 64-byte line per block) comes from
 * `counterLayout` in native-layout; this file only reads indices from it.
 *
 * Index contract: the recording methods take a counter index `i` that must
 * be an integer in [0, counters). They never throw: a recording with any
 * other index is dropped. `collect` and `peek` throw `E_OUT_OF_RANGE` for a
 * bad index, since they run at the collector's pace, not per event.
 */
import {
  checkHeader,
  CACHE_LINE,
  COUNTER_MAGIC,
  COUNTER_STRIDE,
  COUNTER_VERSION,
  counterLayout,
  HEADER,
  allocate,
  fieldOf,
  indexOf,
  readMagic,
  type RegionLayout,
} from '../../native-layout/index.js';
import { badHandle, invalidArgument, outOfRange } from '../errors.js';

/** Largest `counters` a region may hold (4 MiB of counter lines). */
export const MAX_COUNTERS = 65536;
/** Cap of `count` and of `sum`, and of a single sample's value. */
export const SAMPLE_CAP = 0xffff_ffff;
/**
 * Cap of `events`. It sits 2^16 below 2^32 so that recorders which raced
 * past it (at most one per thread, see `pinEvents`) never wrap the word.
 */
export const EVENTS_CAP = 0xffff_0000;

/** `EVENTS_CAP` as the Int32Array view sees it (-65536). */
const EVENTS_CAP_I32 = EVENTS_CAP | 0;
/** Elements between consecutive blocks in the 32-bit and 64-bit views. */
const STRIDE_I32 = COUNTER_STRIDE / 4;
const STRIDE_U64 = COUNTER_STRIDE / 8;

/**
 * Thread-local scratch word for packing and unpacking the u64 without BigInt
 * arithmetic: store the BigInt into `scratch64[0]`, read its halves from
 * `scratch32`, and back. Only this thread touches it, and no call re-enters,
 * so one per module is enough. Each BigInt arithmetic op would allocate; a
 * typed-array store of a BigInt allocates nothing, and one load allocates
 * the one BigInt we need to hand to `Atomics.compareExchange`.
 */
const scratchBuffer = new ArrayBuffer(8);
const scratch64 = new BigUint64Array(scratchBuffer);
const scratch32 = new Uint32Array(scratchBuffer);
/** Which half of `scratch32` holds the low (sum) and the high (count) bits. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

/** A structured-cloneable way in: send it to a worker, `attach` it there. */
export interface CounterHandle {
  readonly kind: 'counter';
  readonly sab: SharedArrayBuffer;
  readonly counters: number;
}

/** One collected (or peeked) window of one counter. */
export interface CounterWindow {
  /** `recordEvent` calls (`record` included), capped at `EVENTS_CAP`. */
  events: number;
  /** Samples, capped at `SAMPLE_CAP`; always from the same recordings as `sum`. */
  count: number;
  /** Sum of the (clamped) sample values, capped at `SAMPLE_CAP`. */
  sum: number;
  /** True when events, count or sum reached its cap: the figures are then lower bounds. */
  saturated: boolean;
}

/** A zeroed window, to reuse across `collect`/`peek` calls. */
export function newCounterWindow(): CounterWindow {
  return { events: 0, count: 0, sum: 0, saturated: false };
}

export class LatencyCounter {
  readonly handle: CounterHandle;
  readonly counters: number;
  /** Whole-region views; the blocks are addressed through them. */
  private readonly i32: Int32Array;
  private readonly u64: BigUint64Array;
  /** Index of block 0's `events` in `i32` and of its `sample` in `u64`. */
  private readonly events0: number;
  private readonly sample0: number;

  private constructor(handle: CounterHandle, layout: RegionLayout) {
    this.handle = handle;
    this.counters = handle.counters;
    this.i32 = new Int32Array(handle.sab);
    this.u64 = new BigUint64Array(handle.sab);
    this.events0 = indexOf(layout, 'events');
    this.sample0 = indexOf(layout, 'sample');
    // Blocks are addressed as block 0 + i * COUNTER_STRIDE; make sure the
    // layout really places the last block there.
    const last = handle.counters - 1;
    if (
      last > 0 &&
      (fieldOf(layout, `events#${last}`).offset !== this.events0 * 4 + last * COUNTER_STRIDE ||
        fieldOf(layout, `sample#${last}`).offset !== this.sample0 * 8 + last * COUNTER_STRIDE)
    ) {
      throw badHandle('LatencyCounter', `counter layout blocks are not ${COUNTER_STRIDE} bytes apart`);
    }
  }

  /**
   * Allocate and zero a region of `counters` blocks (default 1, an integer
   * in [1, MAX_COUNTERS]). Main thread, once; hand `handle` to workers.
   */
  static create(opts: { counters?: number }): LatencyCounter {
    const where = 'LatencyCounter.create';
    if (typeof opts !== 'object' || opts === null) throw invalidArgument(where, 'opts', opts, 'an object');
    const counters = checkCounters(where, 'counters', opts.counters ?? 1);
    const layout = counterLayout(counters);
    const sab = allocate(layout);
    new Uint32Array(sab)[indexOf(layout, 'counters')] = counters;
    return new LatencyCounter(Object.freeze({ kind: 'counter', sab, counters }), layout);
  }

  /**
   * Wrap an existing region, in any thread. Checks the handle's kind, its
   * `counters`, and the region's magic, version, byte length and recorded
   * `counters`, before touching anything.
   */
  static attach(handle: CounterHandle): LatencyCounter {
    const where = 'LatencyCounter.attach';
    if (typeof handle !== 'object' || handle === null) throw badHandle(where, 'handle must be an object', handle);
    if (handle.kind !== 'counter') throw badHandle(where, 'handle.kind must be "counter"', handle.kind);
    const counters = checkCounters(where, 'handle.counters', handle.counters);
    const sab: unknown = handle.sab;
    const layout = counterLayout(counters);
    // A counter region of another size would fail checkHeader with a byte
    // length mismatch; name the field that disagrees instead.
    if (sab instanceof SharedArrayBuffer && sab.byteLength >= CACHE_LINE && readMagic(sab) === COUNTER_MAGIC) {
      const head = new Uint32Array(sab, 0, 16);
      const recorded = head[indexOf(layout, 'counters')]!;
      if (head[HEADER.version.offset / 4] === COUNTER_VERSION && recorded !== counters) {
        throw badHandle(where, `handle.counters is ${counters} but the region was created with counters = ${recorded}`);
      }
    }
    checkHeader(sab, layout);
    return new LatencyCounter(Object.freeze({ kind: 'counter', sab: sab as SharedArrayBuffer, counters }), layout);
  }

  /**
   * Count one event on counter `i` (the every-event path: one
   * `Atomics.add` on a 32-bit word and one comparison, no allocation).
   *
   * Contract: any thread may call it at any time, concurrently with other
   * recorders and with `collect`. An event lands in exactly one window.
   * Saturates at `EVENTS_CAP` instead of wrapping: the add is unconditional,
   * and a recorder whose add went past the cap pulls the word back
   * (`pinEvents` has the race reasoning). A bad `i` drops the event.
   */
  recordEvent(i: number): void {
    if (i >>> 0 !== i || i >= this.counters) return;
    const idx = this.events0 + i * STRIDE_I32;
    const old = Atomics.add(this.i32, idx, 1);
    // `old` is the word before our add, read as signed. The word is over the
    // cap now iff old >= EVENTS_CAP as an unsigned number, i.e. iff old is in
    // [EVENTS_CAP_I32, -1]. Below the cap (every normal event) this costs one
    // comparison: old < 0 is false.
    if (old < 0 && old >= EVENTS_CAP_I32) this.pinEvents(idx);
  }

  /**
   * Count `n` events on counter `i` at once (a batch push): the same contract
   * as `recordEvent`, one `Atomics.add` per 1024 events. `n` is truncated to
   * an integer; a bad `i` or an `n` below 1 records nothing.
   *
   * Chunks of at most 1024 keep the saturation argument of `pinEvents`: a
   * recorder has at most one add above the cap outstanding, so the word
   * stays below EVENTS_CAP + 1024 * (threads recording) < 2^32 for fewer
   * than 64 recording threads.
   */
  recordEvents(i: number, n: number): void {
    if (i >>> 0 !== i || i >= this.counters || !(n >= 1)) return;
    const idx = this.events0 + i * STRIDE_I32;
    let left = Math.floor(n);
    while (left > 0) {
      const step = left > 1024 ? 1024 : left;
      left -= step;
      const old = Atomics.add(this.i32, idx, step);
      // Over the cap after this add iff old + step > EVENTS_CAP as unsigned.
      if ((old >>> 0) + step > EVENTS_CAP) this.pinEvents(idx);
    }
  }

  /**
   * Add one latency sample to counter `i`: +1 to `count` and +`value` to
   * `sum` as ONE atomic unit (compare-and-swap on the packed u64), so no
   * window ever holds a sample's count without its value or the reverse.
   * `value` is clamped to [0, SAMPLE_CAP] and truncated to an integer (NaN
   * and negatives count as 0); `count` and `sum` each saturate at SAMPLE_CAP.
   *
   * This is the SUBSAMPLED path: 64-bit `Atomics` on a `BigUint64Array`
   * allocate a heap BigInt per call on Node 20 (here: the loaded word, the
   * replacement and the value the CAS returns; the packing itself goes
   * through a scratch word and allocates nothing), costing a few times
   * `recordEvent`. Call it once per N events (the router samples one in 64)
   * and `recordEvent` for every event.
   *
   * Contract: any thread may call it, concurrently with other recorders and
   * with `collect`; lock-free (a retry happens only when another thread
   * changed the word). A bad `i` drops the sample.
   */
  recordSample(i: number, value: number): void {
    if (i >>> 0 !== i || i >= this.counters) return;
    // Clamp without branching on type: NaN and negatives fail `value > 0`.
    const v = value > 0 ? (value < SAMPLE_CAP ? Math.floor(value) : SAMPLE_CAP) : 0;
    const u64 = this.u64;
    const idx = this.sample0 + i * STRIDE_U64;
    let cur = Atomics.load(u64, idx);
    for (;;) {
      scratch64[0] = cur;
      const count = scratch32[HI]!;
      const sum = scratch32[LO]!;
      // Both halves pinned and nothing to add: the word would not change.
      if (count === SAMPLE_CAP && (sum === SAMPLE_CAP || v === 0)) return;
      scratch32[HI] = count === SAMPLE_CAP ? SAMPLE_CAP : count + 1;
      scratch32[LO] = sum + v > SAMPLE_CAP ? SAMPLE_CAP : sum + v;
      // Race reasoning: the swap succeeds only if the word still equals
      // `cur`, the value our (count, sum) were computed from. If a collector
      // exchanged it to 0 meanwhile, or another recorder added, the CAS fails
      // and returns the current word; we recompute from that. So the sample
      // lands whole in whichever window owns the word at the successful CAS,
      // and no concurrent update is lost.
      const seen = Atomics.compareExchange(u64, idx, cur, scratch64[0]);
      if (seen === cur) return;
      cur = seen;
    }
  }

  /**
   * `recordEvent(i)` then `recordSample(i, value)`, for callers that sample
   * every event. The event and the sample are two words: a concurrent
   * `collect` may take the event in one window and the sample in the next
   * (the (count, sum) pair itself is never split).
   */
  record(i: number, value: number): void {
    this.recordEvent(i);
    this.recordSample(i, value);
  }

  /**
   * Collect-and-reset counter `i`: exchange its `events` word and its packed
   * sample word with 0 and fill `out` with what they held; returns `out`.
   * Creates no object of its own, but the 64-bit exchange returns a heap
   * BigInt (Node 20), unpacked through the scratch word without further
   * BigInt work.
   *
   * Contract: any thread, concurrently with recorders. Every recording lands
   * in exactly one collected window; `count` and `sum` come from one
   * exchange, so they always describe the same samples. `events` is a
   * separate word taken just before, so a `record` racing the collect may be
   * split between this window's `events` and the next window's sample. One
   * collector per counter is the intended use; concurrent collectors still
   * never split a (count, sum) pair, they just share the recordings.
   * Throws E_OUT_OF_RANGE for a bad `i`.
   */
  collect(i: number, out: CounterWindow): CounterWindow {
    if (i >>> 0 !== i || i >= this.counters) throw outOfRange('LatencyCounter.collect', 'i', i, 0, this.counters - 1);
    const events = Atomics.exchange(this.i32, this.events0 + i * STRIDE_I32, 0) >>> 0;
    // A recorder still pulling an over-cap events word back to the cap (see
    // pinEvents) only rewrites values above the cap, never this 0.
    scratch64[0] = Atomics.exchange(this.u64, this.sample0 + i * STRIDE_U64, 0n);
    return fill(out, events);
  }

  /**
   * Read counter `i` without resetting it. The (count, sum) pair is one
   * atomic read; `events` is read separately and may be a recording ahead of
   * or behind it. Any thread, any time; the figures may be stale as soon as
   * they are returned. Like `collect`, the 64-bit load returns one heap
   * BigInt and nothing else is allocated; returns `out`. Throws
   * E_OUT_OF_RANGE for a bad `i`.
   */
  peek(i: number, out: CounterWindow): CounterWindow {
    if (i >>> 0 !== i || i >= this.counters) throw outOfRange('LatencyCounter.peek', 'i', i, 0, this.counters - 1);
    const events = Atomics.load(this.i32, this.events0 + i * STRIDE_I32) >>> 0;
    scratch64[0] = Atomics.load(this.u64, this.sample0 + i * STRIDE_U64);
    return fill(out, events);
  }

  /**
   * Cold path of `recordEvent`: our add took the events word above
   * EVENTS_CAP. Pull it back down to EVENTS_CAP.
   *
   * Race reasoning:
   * - We only ever replace a value ABOVE the cap with the cap, by CAS
   *   against the exact value we loaded. Above-cap and cap both read as
   *   "saturated", so this never changes what a window reports, and it never
   *   overwrites a collector's reset: after `collect` exchanged the word to
   *   0 it holds a small count, the CAS fails or we see a value <= cap and
   *   stop. (Reaching above the cap again would take ~2^32 new events: then
   *   that window is saturated in its own right.)
   * - We do not return until we have seen the word at or below the cap. So
   *   each thread has at most one add above the cap not yet pulled back:
   *   since the last moment the word was <= EVENTS_CAP, every add landed
   *   above it, and each adder is still in this loop. The word therefore
   *   stays at most EVENTS_CAP + (threads recording) < 2^32 and cannot wrap,
   *   given fewer than 2^16 threads (a thread terminated inside this loop
   *   keeps its one add above the cap, so it counts among them).
   * - Lock-free: a CAS here fails only because another thread changed the
   *   word (an add, a pin or a collect).
   */
  private pinEvents(idx: number): void {
    const i32 = this.i32;
    for (;;) {
      const cur = Atomics.load(i32, idx);
      if (cur >>> 0 <= EVENTS_CAP) return;
      if (Atomics.compareExchange(i32, idx, cur, EVENTS_CAP_I32) === cur) return;
    }
  }
}

/** Fill `out` from `events` and the packed sample in `scratch64[0]`. */
function fill(out: CounterWindow, events: number): CounterWindow {
  const count = scratch32[HI]!;
  const sum = scratch32[LO]!;
  const saturatedEvents = events >= EVENTS_CAP;
  out.events = saturatedEvents ? EVENTS_CAP : events;
  out.count = count;
  out.sum = sum;
  out.saturated = saturatedEvents || count === SAMPLE_CAP || sum === SAMPLE_CAP;
  return out;
}

function checkCounters(where: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidArgument(where, field, value, 'an integer');
  if (value < 1 || value > MAX_COUNTERS) throw outOfRange(where, field, value, 1, MAX_COUNTERS);
  return value;
}
