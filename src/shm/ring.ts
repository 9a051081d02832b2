/**
 * Single-producer/single-consumer ring of fixed-size event slots in a
 * SharedArrayBuffer.
 *
 * Concurrency contract
 * - Exactly one thread at a time calls the producer methods (`push`,
 *   `reserve`/`commit`, `pushBlocking`, `pushAsync`) and exactly one thread at
 *   a time calls the consumer methods (`pop`, `acquire`/`release`,
 *   `popBlocking`, `popAsync`). The two may be the same thread. Handing a side
 *   to another thread is safe once the previous owner has returned from its
 *   last call and the hand-off itself is ordered (a message, or an Atomics
 *   store the new owner reads): every call reloads its own index from shared
 *   memory.
 * - `size()`, `isEmpty()` and `checkGuards()` may be called from any thread;
 *   their answer can be stale by the time it returns.
 * - The non-blocking calls return counts (0 when full or empty) and never
 *   throw; misuse is caught once, at `create`/`attach`.
 *
 * Indices are free-running 32-bit counters (wrapping), so `write - read`
 * is the number of queued events for any capacity up to 2^30 and the
 * accounting "pushed = popped + queued" holds exactly at every instant.
 *
 * Takeover-safe consumption (`peek` / `releasePeeked`): when a consumer may
 * stall mid-call and be replaced by another while it is still inside a
 * call, the consumer side cannot be handed over by the rule above. Then
 * every consumer of the ring uses `peek` (copy events out without releasing
 * them) and `releasePeeked` (release them by compare-and-swap of the read
 * index). Events belong to the consumer whose compare-and-swap moved the
 * read index past them, so two consumers racing on one ring never both
 * take an event and a stalled one that wakes finds out its copy is stale.
 * The other consumer methods store the read index and must not be mixed
 * with these on one ring while more than one consumer may be inside a call.
 */
import { isMainThread } from 'node:worker_threads';
import { waitAsync } from './wait.js';
import { badHandle, invalidArgument, layoutSizeMismatch, notPowerOfTwo, outOfRange } from '../errors.js';
import {
  allocate,
  checkHeader,
  indexOf,
  GUARD_PATTERN,
  GUARD_WORDS,
  ringLayout,
  type RegionLayout,
} from '../../native-layout/index.js';

export interface RingHandle {
  readonly kind: 'ring';
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly slotWords: number;
  /** How blocking calls wait (see `RingOptions.wait`); absent means 'backoff'. */
  readonly wait?: RingWaitPolicy;
}

/**
 * How a blocking call waits for the other side.
 * - 'backoff' (the default): spin for an adaptive number of turns (halved
 *   each time a spin fails to see the other side move, doubled each time it
 *   succeeds, between SPIN_MIN and SPIN_MAX), then yield the core in short
 *   timed waits nobody has to notify, then park announced. When threads
 *   outnumber cores, a waiter that keeps missing stops spinning and leaves
 *   the core to the thread it waits for.
 * - 'spin': always spin SPIN_MAX turns, then park announced (the policy
 *   before the backoff; kept as a baseline for the benchmarks).
 */
export type RingWaitPolicy = 'backoff' | 'spin';

export interface RingOptions {
  /** Number of event slots; a power of two in [2, 2^26]. */
  readonly capacity: number;
  /** 32-bit words per event slot, in [1, 64]; 2 words is an 8-byte event. */
  readonly slotWords: number;
  /** How blocking calls wait (default 'backoff'); see `RingWaitPolicy`. */
  readonly wait?: RingWaitPolicy;
}

export const RING_MAX_CAPACITY = 1 << 26;
export const RING_MAX_SLOT_WORDS = 64;
/** Below this many words `peek` copies in a loop; above, through a view and `TypedArray.set`. */
const PEEK_LOOP_WORDS = 64;
/** Most turns a blocking call spins, re-checking the other side, before it yields or parks. */
export const SPIN_MAX = 2_000;
/** Fewest turns the adaptive spin ('backoff') comes down to. */
export const SPIN_MIN = 16;
/** Short unannounced timed waits ('backoff') between the spin and the announced park. */
export const YIELDS = 2;
/** Length of each of them (ms): long enough for the OS to run another thread on this core. */
export const YIELD_MS = 0.05;

// Control-word indices do not depend on the capacity; compute them once.
const CONTROL = ringLayout(2, 1);
const CAPACITY = indexOf(CONTROL, 'capacity');
const SLOT_WORDS = indexOf(CONTROL, 'slotWords');
const WRITE = indexOf(CONTROL, 'writeIndex');
const READ = indexOf(CONTROL, 'readIndex');
const PRODUCER_SLEEPING = indexOf(CONTROL, 'producerSleeping');
const CONSUMER_SLEEPING = indexOf(CONTROL, 'consumerSleeping');
const GUARD_BEFORE = indexOf(CONTROL, 'guardBefore');
const SLOTS = indexOf(CONTROL, 'slots');

export class Ring {
  readonly handle: RingHandle;
  readonly capacity: number;
  readonly slotWords: number;
  /**
   * The slot words, `capacity * slotWords` of them. Producers write the slots
   * they reserved, consumers read the slots they acquired; any other access
   * races with the other side.
   */
  readonly slots: Int32Array;
  /** Word offset in `slots` of the first slot `reserve` handed out. */
  reservedOffset = 0;
  /** Word offset in `slots` of the first slot `acquire` handed out. */
  acquiredOffset = 0;
  /** Announced sleeps (parks) this object's blocking and awaiting calls took; for tests and diagnostics. */
  parks = 0;

  private readonly ctl: Int32Array;
  private readonly mask: number;
  private readonly guardAfter: number;
  /** Producer's last seen read index: may lag, never leads, the real one. */
  private readCache = 0;
  /** Consumer's last seen write index: may lag, never leads, the real one. */
  private writeCache = 0;
  /** The read index the last `peek` copied from (see `releasePeeked`). */
  private peekedFrom = 0;
  /** Whether blocking calls back off (see `RingWaitPolicy`). */
  private readonly backoff: boolean;
  /** Turns this thread's next wait spins before it yields ('backoff': adapts to how often spinning pays). */
  private spinBudget = SPIN_MAX;

  private constructor(handle: RingHandle, layout: RegionLayout) {
    this.handle = handle;
    this.capacity = handle.capacity;
    this.slotWords = handle.slotWords;
    this.mask = handle.capacity - 1;
    this.ctl = new Int32Array(handle.sab);
    this.slots = new Int32Array(handle.sab, SLOTS * 4, handle.capacity * handle.slotWords);
    this.guardAfter = indexOf(layout, 'guardAfter');
    this.readCache = Atomics.load(this.ctl, READ);
    this.writeCache = Atomics.load(this.ctl, WRITE);
    this.backoff = handle.wait !== 'spin';
  }

  /** Allocate and initialise a ring. Call on the allocating thread, then send `handle` to the others. */
  static create(options: RingOptions): Ring {
    const { capacity, slotWords, wait } = validate('Ring.create', options);
    const layout = ringLayout(capacity, slotWords);
    const sab = allocate(layout);
    const ctl = new Int32Array(sab);
    ctl[CAPACITY] = capacity;
    ctl[SLOT_WORDS] = slotWords;
    const guardAfter = indexOf(layout, 'guardAfter');
    for (let i = 0; i < GUARD_WORDS; i++) {
      ctl[GUARD_BEFORE + i] = GUARD_PATTERN;
      ctl[guardAfter + i] = GUARD_PATTERN;
    }
    return new Ring({ kind: 'ring', sab, capacity, slotWords, wait }, layout);
  }

  /** Wrap an existing ring from its handle, on any thread. Checks kind, magic, version and sizes. */
  static attach(handle: RingHandle): Ring {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ring') {
      throw badHandle('Ring.attach', "handle.kind must be 'ring'", (handle as { kind?: unknown } | null)?.kind);
    }
    const { capacity, slotWords, wait } = validate('Ring.attach', handle);
    const layout = ringLayout(capacity, slotWords);
    const sab = checkHeader(handle.sab, layout);
    const ctl = new Int32Array(sab);
    if (ctl[CAPACITY] !== capacity) throw layoutSizeMismatch('ring', 'capacity', capacity, ctl[CAPACITY]!);
    if (ctl[SLOT_WORDS] !== slotWords) throw layoutSizeMismatch('ring', 'slotWords', slotWords, ctl[SLOT_WORDS]!);
    return new Ring({ kind: 'ring', sab, capacity, slotWords, wait }, layout);
  }

  // ------------------------------------------------------------ producer side

  /**
   * Producer: copy up to `count` events from `src` (event `srcEvent` onwards,
   * `slotWords` words each) into the ring and publish them with one store.
   * Returns how many were pushed: 0 when the ring is full. Never blocks.
   */
  push(src: Int32Array, srcEvent: number, count: number): number {
    const n = this.reserveAny(count);
    if (n <= 0) return 0;
    const sw = this.slotWords;
    const w = Atomics.load(this.ctl, WRITE);
    const slots = this.slots;
    const mask = this.mask;
    let s = srcEvent * sw;
    if (sw === 2) {
      for (let i = 0; i < n; i++) {
        const d = ((w + i) & mask) << 1;
        slots[d] = src[s]!;
        slots[d + 1] = src[s + 1]!;
        s += 2;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const d = ((w + i) & mask) * sw;
        for (let k = 0; k < sw; k++) slots[d + k] = src[s + k]!;
        s += sw;
      }
    }
    this.publish(w, n);
    return n;
  }

  /**
   * Producer: make room for up to `max` events in one contiguous run of
   * slots, without copying. Returns how many slots were reserved (0 when
   * full); they start at word `reservedOffset` of `slots`. Write them, then
   * `commit` the number written. The run stops at the end of the buffer, so a
   * reservation may be shorter than the free space.
   */
  reserve(max: number): number {
    const n = this.reserveAny(max);
    if (n <= 0) return 0;
    const w = Atomics.load(this.ctl, WRITE);
    const start = w & this.mask;
    const run = Math.min(n, this.capacity - start);
    this.reservedOffset = start * this.slotWords;
    return run;
  }

  /** Producer: publish `n` events written into the last reservation (n <= what `reserve` returned). */
  commit(n: number): void {
    if (n > 0) this.publish(Atomics.load(this.ctl, WRITE), n);
  }

  /**
   * Producer, worker threads only: push all `count` events, spinning and then
   * sleeping (`Atomics.wait`) while the ring is full. Returns how many were
   * pushed; fewer than `count` means `timeoutMs` passed with the ring full.
   * The main thread never sleeps: there it spins briefly and returns what it
   * pushed; use `pushAsync` to wait on the main thread.
   */
  pushBlocking(src: Int32Array, srcEvent: number, count: number, timeoutMs: number): number {
    let done = 0;
    let deadline = 0;
    while (done < count) {
      const n = this.push(src, srcEvent + done, count - done);
      done += n;
      if (done >= count) break;
      if (n > 0) continue;
      if (deadline === 0) deadline = performance.now() + timeoutMs;
      if (!this.waitForSpace(deadline)) break;
    }
    return done;
  }

  /** Producer, any thread (the main thread included): `pushBlocking` that awaits instead of sleeping. */
  async pushAsync(src: Int32Array, srcEvent: number, count: number, timeoutMs: number): Promise<number> {
    let done = 0;
    const deadline = performance.now() + timeoutMs;
    while (done < count) {
      const n = this.push(src, srcEvent + done, count - done);
      done += n;
      if (done >= count || n > 0) continue;
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const r = Atomics.load(this.ctl, READ);
      // Same sleep protocol as waitForSpace: flag, re-check, then wait on READ.
      Atomics.store(this.ctl, PRODUCER_SLEEPING, 1);
      this.parks++;
      if (this.freeWith(r) === 0) await waitAsync(this.ctl, READ, r, remaining);
      Atomics.store(this.ctl, PRODUCER_SLEEPING, 0);
    }
    return done;
  }

  // ------------------------------------------------------------ consumer side

  /**
   * Consumer: copy up to `max` queued events into `dst` (event `dstEvent`
   * onwards) and release their slots with one store. Returns how many were
   * popped: 0 when empty. Never blocks.
   */
  pop(dst: Int32Array, dstEvent: number, max: number): number {
    const n = this.acquireAny(max);
    if (n <= 0) return 0;
    const sw = this.slotWords;
    const r = Atomics.load(this.ctl, READ);
    const slots = this.slots;
    const mask = this.mask;
    let d = dstEvent * sw;
    if (sw === 2) {
      for (let i = 0; i < n; i++) {
        const s = ((r + i) & mask) << 1;
        dst[d] = slots[s]!;
        dst[d + 1] = slots[s + 1]!;
        d += 2;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const s = ((r + i) & mask) * sw;
        for (let k = 0; k < sw; k++) dst[d + k] = slots[s + k]!;
        d += sw;
      }
    }
    this.releaseFrom(r, n);
    return n;
  }

  /**
   * Consumer: look at up to `max` queued events in one contiguous run of
   * slots, without copying. Returns how many (0 when empty); they start at
   * word `acquiredOffset` of `slots`. Read them, then `release` the number
   * consumed.
   */
  acquire(max: number): number {
    const n = this.acquireAny(max);
    if (n <= 0) return 0;
    const start = Atomics.load(this.ctl, READ) & this.mask;
    this.acquiredOffset = start * this.slotWords;
    return Math.min(n, this.capacity - start);
  }

  /** Consumer: hand `n` acquired slots back to the producer (n <= what `acquire` returned). */
  release(n: number): void {
    if (n > 0) this.releaseFrom(Atomics.load(this.ctl, READ), n);
  }

  /**
   * Consumer, worker threads: pop up to `max` events, waiting (spin, then
   * `Atomics.wait`) until at least one is queued. Returns 0 only when
   * `timeoutMs` passed with the ring empty. The main thread never sleeps:
   * there it spins briefly and returns; use `popAsync` to wait on it.
   */
  popBlocking(dst: Int32Array, dstEvent: number, max: number, timeoutMs: number): number {
    let deadline = 0;
    for (;;) {
      const n = this.pop(dst, dstEvent, max);
      if (n > 0) return n;
      if (deadline === 0) deadline = performance.now() + timeoutMs;
      if (!this.waitForData(deadline)) return this.pop(dst, dstEvent, max);
    }
  }

  /**
   * Consumer, worker threads: wait (spin, then `Atomics.wait`) until an
   * event is queued or `timeoutMs` passes, without taking it. Returns
   * whether one is queued. On the main thread it only spins briefly.
   */
  awaitData(timeoutMs: number): boolean {
    return this.acquireAny(1) > 0 || this.waitForData(performance.now() + timeoutMs);
  }

  /** Consumer, any thread (the main thread included): `popBlocking` that awaits instead of sleeping. */
  async popAsync(dst: Int32Array, dstEvent: number, max: number, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const n = this.pop(dst, dstEvent, max);
      if (n > 0) return n;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 0;
      const w = Atomics.load(this.ctl, WRITE);
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 1);
      this.parks++;
      if (((w - Atomics.load(this.ctl, READ)) | 0) === 0) await waitAsync(this.ctl, WRITE, w, remaining);
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 0);
    }
  }

  // ------------------------------------------------------------ takeover-safe consumer side

  /**
   * Consumer, takeover-safe: copy up to `max` queued events into `dst`
   * (event `dstEvent` onwards) WITHOUT releasing them, and remember the read
   * index they were copied from. Returns how many were copied (0 when
   * empty). The copy is this consumer's only once `releasePeeked` returns
   * true; until then it may be stale. Never blocks, never throws; a copy of
   * more than 64 words makes one short-lived typed-array view (per call,
   * not per event) for a bulk copy.
   *
   * Several consumers (on different threads, each with its own `Ring`
   * object) may call `peek` and `releasePeeked` on one ring at once; see
   * `releasePeeked` for why each event is taken by exactly one of them.
   */
  peek(dst: Int32Array, dstEvent: number, max: number): number {
    if (!(max > 0)) return 0;
    // One load of the read index: the copy and the later compare-and-swap
    // both work from it. The write index is loaded after it, so the count is
    // never negative; it may pass what is really queued when other
    // consumers released meanwhile, and then the copy is stale and the
    // compare-and-swap fails.
    const r = Atomics.load(this.ctl, READ);
    let avail = (this.writeCache - r) | 0;
    if (avail < max) {
      this.writeCache = Atomics.load(this.ctl, WRITE);
      avail = (this.writeCache - r) | 0;
    }
    const m = avail < max ? avail : max;
    if (m <= 0) return 0;
    const sw = this.slotWords;
    const slots = this.slots;
    const s = (r & this.mask) * sw;
    const d = dstEvent * sw;
    const words = m * sw;
    // Words before the end of the slots (a run wraps at most once).
    const run = slots.length - s;
    if (words <= PEEK_LOOP_WORDS) {
      const first = words < run ? words : run;
      for (let i = 0; i < first; i++) dst[d + i] = slots[s + i]!;
      for (let i = first; i < words; i++) dst[d + i] = slots[i - first]!;
    } else if (words <= run) {
      // A bulk copy (memcpy) through a view: one small object per batch, not
      // per event, and several times faster than a loop at batch sizes.
      dst.set(slots.subarray(s, s + words), d);
    } else {
      dst.set(slots.subarray(s), d);
      dst.set(slots.subarray(0, words - run), d + run);
    }
    this.peekedFrom = r;
    return m;
  }

  /**
   * Consumer, takeover-safe: release the first `n` events of the last `peek`
   * (0 < n <= what it returned) by compare-and-swap of the read index from
   * the value `peek` copied at to that plus `n`. Returns true when this call
   * released them: the copy holds them intact and no other consumer has
   * taken or will take them. Returns false when another consumer moved the
   * read index first: this consumer was overtaken (replaced), its copy must
   * be discarded, and nothing changed. Never blocks, never throws.
   *
   * Why this is exact. The read index only moves forward, by releases. If
   * the compare-and-swap finds it still at `r`, no release happened since
   * `peek` loaded it, so (1) the producer, which writes only slots below the
   * read index plus the capacity, has not reused slots r..r+n-1 while they
   * were copied, and (2) no other consumer took them (a consumer counts
   * events as taken only after its own compare-and-swap succeeds, and that
   * would have moved the index). If it finds anything else, someone
   * released first, and what this consumer copied is either theirs or
   * already overwritten. The one blind spot is wrap-around: the index is
   * 32 bits, so a consumer that stalls between its `peek` and this call
   * while others release exactly a multiple of 2^32 events would succeed
   * wrongly (at 3e8 events/s that is a stall of 14 s at exactly this point;
   * a caller that can be replaced checks its own fence just before calling).
   */
  releasePeeked(n: number): boolean {
    if (!(n > 0)) return false;
    const r = this.peekedFrom;
    if (Atomics.compareExchange(this.ctl, READ, r, (r + n) | 0) !== r) return false;
    this.wake(PRODUCER_SLEEPING, READ);
    return true;
  }

  // ------------------------------------------------------------ any thread

  /**
   * Events queued now (any thread; may be stale on return). The read index
   * is loaded first: it never passes the write index, so the difference is
   * never negative; from a third thread it may briefly exceed what is queued
   * and is clamped to the capacity.
   */
  size(): number {
    const r = Atomics.load(this.ctl, READ);
    const d = (Atomics.load(this.ctl, WRITE) - r) | 0;
    return d > this.capacity ? this.capacity : d;
  }

  isEmpty(): boolean {
    return this.size() === 0;
  }

  /** Total events ever pushed, modulo 2^32 (any thread). */
  pushedTotal(): number {
    return Atomics.load(this.ctl, WRITE) >>> 0;
  }

  /** Total events ever popped, modulo 2^32 (any thread). */
  poppedTotal(): number {
    return Atomics.load(this.ctl, READ) >>> 0;
  }

  /** True while the canary lines around the slots hold their pattern (they are never written after create). */
  checkGuards(): boolean {
    for (let i = 0; i < GUARD_WORDS; i++) {
      if (this.ctl[GUARD_BEFORE + i] !== GUARD_PATTERN || this.ctl[this.guardAfter + i] !== GUARD_PATTERN) return false;
    }
    return true;
  }

  // ------------------------------------------------------------ internals

  /** Free slots, at most `want`, using the cached read index and refreshing it only when it says too few. */
  private reserveAny(want: number): number {
    if (!(want > 0)) return 0;
    const w = Atomics.load(this.ctl, WRITE);
    let free = this.capacity - ((w - this.readCache) | 0);
    if (free < want) {
      this.readCache = Atomics.load(this.ctl, READ);
      free = this.capacity - ((w - this.readCache) | 0);
    }
    return free < want ? free : want;
  }

  /** Queued events, at most `want`, using the cached write index and refreshing it only when it says too few. */
  private acquireAny(want: number): number {
    if (!(want > 0)) return 0;
    const r = Atomics.load(this.ctl, READ);
    let avail = (this.writeCache - r) | 0;
    if (avail < want) {
      this.writeCache = Atomics.load(this.ctl, WRITE);
      avail = (this.writeCache - r) | 0;
    }
    return avail < want ? avail : want;
  }

  private freeWith(r: number): number {
    return this.capacity - ((Atomics.load(this.ctl, WRITE) - r) | 0);
  }

  /*
   * Publish, then wake a sleeping consumer.
   * The slot writes above are plain stores; the sequentially consistent
   * store of WRITE orders them before the index, and the consumer's
   * Atomics.load of WRITE orders its slot reads after it, so a consumer that
   * sees the new index sees the slots.
   * Lost wake-up: the consumer sets CONSUMER_SLEEPING, re-reads WRITE, and
   * only then waits on WRITE with the value it saw. Either our load of the
   * flag below sees 1 (we notify), or it came first in the total order of
   * seq-cst operations, in which case our store of WRITE did too and the
   * consumer's re-check or its Atomics.wait (which compares atomically before
   * sleeping) sees the new value and does not sleep.
   */
  private publish(w: number, n: number): void {
    Atomics.store(this.ctl, WRITE, (w + n) | 0);
    if (Atomics.load(this.ctl, CONSUMER_SLEEPING) !== 0) this.wake(CONSUMER_SLEEPING, WRITE);
  }

  /** Release slots, then wake a sleeping producer (mirror image of `publish`). */
  private releaseFrom(r: number, n: number): void {
    Atomics.store(this.ctl, READ, (r + n) | 0);
    if (Atomics.load(this.ctl, PRODUCER_SLEEPING) !== 0) this.wake(PRODUCER_SLEEPING, READ);
  }

  /*
   * Wake whoever said it sleeps on `index`, after the index was stored. Only
   * called once a plain load saw the flag set, so the fast path (nobody
   * asleep) stays one load. The flag is taken down here with an exchange, so
   * that of many publishes while the sleeper is still waking up only the
   * first pays for a notify; the sleeper re-announces if it has to sleep
   * again. Every waiter on the word is woken: on the consumer side a
   * stalled consumer and its replacement may both sleep there.
   */
  private wake(flag: number, index: number): void {
    if (Atomics.exchange(this.ctl, flag, 0) !== 0) Atomics.notify(this.ctl, index);
  }

  /** The next wait's spin: shorter after spins that did not pay, longer after ones that did ('backoff'). */
  private spun(found: boolean): void {
    if (!this.backoff) return;
    const b = this.spinBudget;
    this.spinBudget = found ? (b >= SPIN_MAX >> 1 ? SPIN_MAX : b << 1) : b <= SPIN_MIN << 1 ? SPIN_MIN : b >> 1;
  }

  /** Producer: wait until a slot frees or the deadline passes; false on timeout. */
  private waitForSpace(deadline: number): boolean {
    const spins = this.backoff ? this.spinBudget : SPIN_MAX;
    for (let i = 0; i < spins; i++) {
      if (this.reserveAny(1) > 0) {
        this.spun(true);
        return true;
      }
    }
    this.spun(false);
    // The main thread never sleeps: it returns what the spin found.
    if (isMainThread) return false;
    if (this.backoff) {
      // Yield: give the core away for a moment without asking the consumer to notify.
      for (let y = 0; y < YIELDS; y++) {
        if (deadline - performance.now() <= 0) return this.reserveAny(1) > 0;
        Atomics.wait(this.ctl, READ, Atomics.load(this.ctl, READ), YIELD_MS);
        if (this.reserveAny(1) > 0) return true;
      }
    }
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return this.reserveAny(1) > 0;
      const r = Atomics.load(this.ctl, READ);
      Atomics.store(this.ctl, PRODUCER_SLEEPING, 1);
      this.parks++;
      if (this.freeWith(r) === 0) Atomics.wait(this.ctl, READ, r, remaining);
      Atomics.store(this.ctl, PRODUCER_SLEEPING, 0);
      if (this.reserveAny(1) > 0) return true;
    }
  }

  /** Consumer: wait until an event is queued or the deadline passes; false on timeout. */
  private waitForData(deadline: number): boolean {
    const spins = this.backoff ? this.spinBudget : SPIN_MAX;
    for (let i = 0; i < spins; i++) {
      if (this.acquireAny(1) > 0) {
        this.spun(true);
        return true;
      }
    }
    this.spun(false);
    if (isMainThread) return false;
    if (this.backoff) {
      for (let y = 0; y < YIELDS; y++) {
        if (deadline - performance.now() <= 0) return this.acquireAny(1) > 0;
        Atomics.wait(this.ctl, WRITE, Atomics.load(this.ctl, WRITE), YIELD_MS);
        if (this.acquireAny(1) > 0) return true;
      }
    }
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return this.acquireAny(1) > 0;
      const w = Atomics.load(this.ctl, WRITE);
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 1);
      this.parks++;
      if (((w - Atomics.load(this.ctl, READ)) | 0) === 0) Atomics.wait(this.ctl, WRITE, w, remaining);
      Atomics.store(this.ctl, CONSUMER_SLEEPING, 0);
      if (this.acquireAny(1) > 0) return true;
    }
  }
}

function validate(
  where: string,
  o: RingOptions,
): { capacity: number; slotWords: number; wait: RingWaitPolicy | undefined } {
  if (o === null || typeof o !== 'object') throw invalidArgument(where, 'options', o, 'an object');
  const { capacity, slotWords } = o;
  if (!Number.isInteger(capacity)) throw invalidArgument(where, 'capacity', capacity, 'an integer');
  if (capacity < 2 || capacity > RING_MAX_CAPACITY) throw outOfRange(where, 'capacity', capacity, 2, RING_MAX_CAPACITY);
  if ((capacity & (capacity - 1)) !== 0) throw notPowerOfTwo(where, 'capacity', capacity);
  if (!Number.isInteger(slotWords)) throw invalidArgument(where, 'slotWords', slotWords, 'an integer');
  if (slotWords < 1 || slotWords > RING_MAX_SLOT_WORDS) {
    throw outOfRange(where, 'slotWords', slotWords, 1, RING_MAX_SLOT_WORDS);
  }
  if (capacity * slotWords > RING_MAX_CAPACITY * 4) {
    throw outOfRange(where, 'capacity * slotWords', capacity * slotWords, 2, RING_MAX_CAPACITY * 4);
  }
  const wait = o.wait;
  if (wait !== undefined && wait !== 'backoff' && wait !== 'spin') {
    throw invalidArgument(where, 'wait', wait, "'backoff' or 'spin'");
  }
  return { capacity, slotWords, wait };
}
