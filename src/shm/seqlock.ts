/**
 * Seqlock over a region of float32 rows, with a writer lock that records its
 * owner and survives a writer thread that dies holding it.
 *
 * Concurrency contract
 * - Readers (`read`, any thread, any number) take a consistent copy: they
 *   copy between two loads of the sequence counter and retry when a write
 *   overlapped. They never block and never take the lock; after `maxRetries`
 *   they return `SEQ_STALLED` instead of waiting on a writer that does not
 *   finish.
 * - `data` is a zero-copy view of the rows for Hogwild readers and writers:
 *   reading it races with writers by design (a row may mix two writes).
 * - Writers serialise through the writer lock (`lock`/`unlock`, or `write`,
 *   which does both), an `OwnerLock` (src/shm/owner-lock.ts). Only the lock
 *   holder calls `beginWrite`/`endWrite` and writes rows through `data`.
 *   Worker threads sleep on a contended lock with `Atomics.wait` (in slices,
 *   with a timeout); on the main thread `lock` makes one attempt and returns
 *   `SEQ_BUSY` when the lock is held (it never spins), and `lockAsync`
 *   parks with `Atomics.waitAsync`.
 *
 * Shared (Hogwild) writers and fences
 * - Any number of threads may write rows in place at once, without the
 *   lock, between `enterShared` and `leaveShared` (racy among themselves by
 *   design: the Hogwild trade). `enterShared` announces the writer in a
 *   shared count, but only while the writer lock is free: a writer that
 *   finds it held waits (`awaitFree`, worker threads) until it is released.
 * - A fence is the writer lock, held by a thread that wants the rows as one
 *   point-in-time state (a snapshot): `fence` (worker threads) or
 *   `fenceAsync` (any thread) takes the lock, then waits until the shared
 *   writers inside have left. Between the fence and `unfence` no shared
 *   writer and no locked writer touches the rows, so a plain copy of them
 *   is consistent, and every shared write is wholly in it or wholly out.
 * - The announce and the check are a store-then-load pair on both sides
 *   (the writer adds itself, then loads the lock word; the fence takes the
 *   lock, then loads the count), all sequentially consistent, so at least
 *   one side sees the other: a writer that raced a fence steps back out and
 *   waits. The last writer to leave a fenced region notifies the fence.
 * - Both waits are bounded (a fence that is never lifted is a lock past its
 *   lease, taken over like any; a shared writer that died inside leaves its
 *   announcement, and fences then time out with `SEQ_TIMED_OUT` rather
 *   than wait forever).
 *
 * Dead writers
 * The owner lock records its holder and a held-since stamp on the region's
 * clock (`clock` option; the real clock by default, a `ManualClock` in
 * tests). A holder past the lease (`leaseMs`) is stale: a writer waiting for
 * the lock, or a reader that gave up retrying, takes it over. A thread that
 * learns another thread died (a worker's `exit` event) can recover at once
 * with `recoverDeadOwner(threadId)`. Either way the recovery hook runs under
 * the lock: it makes the sequence counter even again, so readers proceed,
 * and records the rows the dead writer had marked (`lastTorn()`): their
 * values may mix old and new data until they are written again. A layer
 * above (the parameter server) adds its own repair with `onRecover`.
 * A live writer that outlives its lease loses the lock: its `endWrite` and
 * `unlock` fail (they compare-and-swap its own values) and report
 * `SEQ_LOST`, and the sequence counter is never left odd by it. The lease
 * must therefore exceed any real write (default 2 s; writes take micro- to
 * milliseconds).
 */
import { isMainThread } from 'node:worker_threads';
import { badHandle, invalidArgument, layoutSizeMismatch, outOfRange } from '../errors.js';
import { allocate, checkHeader, indexOf, offsetOf, seqlockLayout, writeHeader } from '../../native-layout/index.js';
import { createRegionMemory, isSharedWasmMemory, type SharedWasmMemory } from './wasm-memory.js';
import { attachClock, clockOption, type Clock, type ClockHandle } from './clock.js';
import { waitAsync } from './wait.js';
import {
  checkLease,
  DEFAULT_LOCK_LEASE_MS,
  LOCK_OK as OWNER_LOCK_OK,
  LOCK_BUSY,
  LOCK_LOST,
  LOCK_OK,
  LOCK_RECOVERED,
  LOCK_TIMED_OUT,
  OwnerLock,
  type LockStatus,
  type StaleHolder,
} from './owner-lock.js';

export interface SeqlockHandle {
  readonly kind: 'seqlock';
  readonly sab: SharedArrayBuffer;
  readonly rows: number;
  readonly cols: number;
  /** The clock leases are judged on (absent: the real clock). */
  readonly clock?: ClockHandle;
  /**
   * Present when the region sits at the start of this shared
   * `WebAssembly.Memory` (`sab` is its buffer): WebAssembly kernels may
   * work on the rows in place (see wasm-memory.ts).
   */
  readonly memory?: SharedWasmMemory;
}

export interface SeqlockOptions {
  readonly rows: number;
  readonly cols: number;
  /** How long a holder may keep the writer lock before others may take it over (ms, default 2000). */
  readonly leaseMs?: number;
  /** Clock for the lease (default `realClock`; a `ManualClock` in tests). Shared with every thread that attaches. */
  readonly clock?: Clock;
  /**
   * Allocate the region at the start of a shared `WebAssembly.Memory`
   * (`handle.memory`), so that WebAssembly kernels can work on its rows in
   * place. Default false (a plain `SharedArrayBuffer`, also the fallback
   * when the runtime cannot make the memory: check `handle.memory`).
   */
  readonly wasmMemory?: boolean;
  /**
   * With `wasmMemory`: zeroed bytes the memory holds past the region (from
   * `Seqlock.regionBytes(rows, cols)`), where the caller places regions of
   * its own that its kernels use with the rows. Default 0.
   */
  readonly wasmMemoryExtraBytes?: number;
}

/** Status codes: hot calls return these instead of throwing. */
export const SEQ_OK = 0;
/** A reader gave up: a write was in progress through every retry. */
export const SEQ_STALLED = 1;
/** The writer lock was not acquired within the timeout. */
export const SEQ_TIMED_OUT = 2;
/** The caller's lock was taken over (its lease expired); its write may be torn. */
export const SEQ_LOST = 3;
/** Done, after taking over a lock whose holder died or outlived its lease. */
export const SEQ_RECOVERED = 4;
/** Arguments out of range (rows, destination size); nothing was read or written. */
export const SEQ_INVALID = 5;
/** Main thread: the writer lock is held by another thread; nothing was written (the main thread never waits for it). */
export const SEQ_BUSY = 6;
export type SeqStatus = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export const SEQ_STATUS_NAMES = ['ok', 'stalled', 'timed-out', 'lost', 'recovered', 'invalid', 'busy'] as const;

export const SEQLOCK_MAX_BYTES = 2 ** 31;
export const DEFAULT_LEASE_MS = DEFAULT_LOCK_LEASE_MS;
/**
 * Default number of times a reader retries before it reports `SEQ_STALLED`.
 * After `READ_SPINS` retries on a write in progress a worker-thread reader
 * naps `READ_NAP_MS` per retry, so the default bounds a stall at roughly a
 * second in workers and well under a millisecond on the main thread.
 */
export const DEFAULT_READ_RETRIES = 20_000;
const READ_SPINS = 256;
const READ_NAP_MS = 0.05;
/** Loads a fence makes before it sleeps until the shared writers have left. */
const FENCE_SPINS = 256;

const L = seqlockLayout(1, 1);
const ROWS = indexOf(L, 'rows');
const COLS = indexOf(L, 'cols');
const LEASE = indexOf(L, 'leaseMs');
const SEQ = indexOf(L, 'seq');
const WRITE_START = indexOf(L, 'writeRowStart');
const WRITE_COUNT = indexOf(L, 'writeRowCount');
const TORN_START = indexOf(L, 'tornRowStart');
const TORN_COUNT = indexOf(L, 'tornRowCount');
const WRITES = indexOf(L, 'writes');
const SHARED = indexOf(L, 'sharedWriters');
const DATA_OFFSET = offsetOf(L, 'data');

/** Lock statuses as seqlock statuses. */
function seqStatus(s: LockStatus): SeqStatus {
  switch (s) {
    case LOCK_OK:
      return SEQ_OK;
    case LOCK_RECOVERED:
      return SEQ_RECOVERED;
    case LOCK_BUSY:
      return SEQ_BUSY;
    case LOCK_TIMED_OUT:
      return SEQ_TIMED_OUT;
    case LOCK_LOST:
      return SEQ_LOST;
    default:
      return SEQ_INVALID;
  }
}

export class Seqlock {
  readonly handle: SeqlockHandle;
  readonly rows: number;
  readonly cols: number;
  readonly leaseMs: number;
  /** Zero-copy view of all rows. Reading it races with writers by design (Hogwild). */
  readonly data: Float32Array;
  /** Retries the last successful `read` on this object needed. */
  lastRetries = 0;
  /**
   * Extra repair run under the lock after this region's own (the counter)
   * when a stale writer is taken over through this object: a layer that
   * keeps more state under the same lock (the parameter server) sets it.
   */
  onRecover: ((stale: StaleHolder) => void) | undefined;
  /** The writer lock (the project's one owner lock). */
  readonly writerLock: OwnerLock;

  private readonly ctl: Int32Array;
  /** The odd sequence value this object's write in progress set. */
  private writeSeq = 0;

  private constructor(handle: SeqlockHandle, clock: Clock) {
    this.handle = handle;
    this.rows = handle.rows;
    this.cols = handle.cols;
    this.ctl = new Int32Array(handle.sab, 0, DATA_OFFSET / 4);
    this.data = new Float32Array(handle.sab, DATA_OFFSET, handle.rows * handle.cols);
    this.leaseMs = this.ctl[LEASE]!;
    this.writerLock = new OwnerLock(this.ctl, L, this.leaseMs, clock, (stale) => this.repair(stale));
  }

  /** Allocate a zeroed region. Call on the allocating thread; send `handle` to others. */
  static create(options: SeqlockOptions): Seqlock {
    const { rows, cols } = validateShape('Seqlock.create', options);
    const leaseMs = checkLease('Seqlock.create', options.leaseMs ?? DEFAULT_LEASE_MS);
    const clock = clockOption('Seqlock.create', options.clock);
    const layout = seqlockLayout(rows, cols);
    // A region in a wasm memory when asked and the runtime can make one; a plain buffer otherwise.
    const memory =
      options.wasmMemory === true
        ? (createRegionMemory(layout.byteLength + (options.wasmMemoryExtraBytes ?? 0)) ?? undefined)
        : undefined;
    let sab: SharedArrayBuffer;
    if (memory !== undefined) {
      sab = memory.buffer;
      writeHeader(sab, layout);
    } else {
      sab = allocate(layout);
    }
    const ctl = new Int32Array(sab, 0, DATA_OFFSET / 4);
    ctl[ROWS] = rows;
    ctl[COLS] = cols;
    ctl[LEASE] = leaseMs;
    const handle: SeqlockHandle = { kind: 'seqlock', sab, rows, cols, clock: clock.handle };
    return new Seqlock(memory === undefined ? handle : { ...handle, memory }, clock);
  }

  /** Bytes of a region of `rows` x `cols` floats (a multiple of 64). */
  static regionBytes(rows: number, cols: number): number {
    return seqlockLayout(rows, cols).byteLength;
  }

  /** Wrap an existing region from its handle, on any thread. */
  static attach(handle: SeqlockHandle): Seqlock {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'seqlock') {
      throw badHandle('Seqlock.attach', "handle.kind must be 'seqlock'", (handle as { kind?: unknown } | null)?.kind);
    }
    const { rows, cols } = validateShape('Seqlock.attach', handle);
    const memory = handle.memory;
    if (memory !== undefined && !isSharedWasmMemory(memory)) {
      throw badHandle('Seqlock.attach', 'handle.memory must be a shared WebAssembly.Memory', memory);
    }
    // In a memory, the region is the start of a buffer of whole pages.
    const sab = checkHeader(
      memory === undefined ? handle.sab : memory.buffer,
      seqlockLayout(rows, cols),
      memory === undefined ? undefined : 0,
    );
    const ctl = new Int32Array(sab, 0, DATA_OFFSET / 4);
    if (ctl[ROWS] !== rows) throw layoutSizeMismatch('seqlock', 'rows', rows, ctl[ROWS]!);
    if (ctl[COLS] !== cols) throw layoutSizeMismatch('seqlock', 'cols', cols, ctl[COLS]!);
    const clock = attachClock(handle.clock, 'Seqlock.attach');
    const attached: SeqlockHandle = { kind: 'seqlock', sab, rows, cols, clock: clock.handle };
    return new Seqlock(memory === undefined ? attached : { ...attached, memory }, clock);
  }

  // ------------------------------------------------------------ readers

  /**
   * Any thread: copy rows [rowStart, rowStart + rowCount) into `dst` (from
   * index 0) so that the copy equals the rows as they were at one instant.
   * Returns `SEQ_OK`; `SEQ_RECOVERED` when it first had to take over a lock
   * whose holder outlived its lease; `SEQ_STALLED` when a write was in
   * progress through `maxRetries` retries (then `dst` holds no consistent
   * copy); `SEQ_INVALID` for a range or destination that does not fit.
   * Allocates nothing for a whole-region read, one view otherwise.
   */
  read(dst: Float32Array, rowStart = 0, rowCount = this.rows, maxRetries = DEFAULT_READ_RETRIES): SeqStatus {
    if (!(rowStart >= 0 && rowCount >= 0 && rowStart + rowCount <= this.rows && dst.length >= rowCount * this.cols)) {
      return SEQ_INVALID;
    }
    const src =
      rowStart === 0 && rowCount === this.rows
        ? this.data
        : this.data.subarray(rowStart * this.cols, (rowStart + rowCount) * this.cols);
    if (this.tryRead(dst, src, maxRetries)) return SEQ_OK;
    // A write stayed in progress through every retry. If its holder has
    // outlived the lease, take the lock over (repairing the counter), then
    // read once more.
    if (this.writerLock.recoverIfStale() && this.tryRead(dst, src, maxRetries)) return SEQ_RECOVERED;
    return SEQ_STALLED;
  }

  /*
   * The counter is even when no write is in progress. Both loads are
   * sequentially consistent and the copy between them is plain: if the
   * counter is the same even value before and after, no write began or
   * ended during the copy (a writer makes it odd before touching rows and
   * even after), so the copy is consistent. Otherwise retry.
   */
  private tryRead(dst: Float32Array, src: Float32Array, maxRetries: number): boolean {
    const ctl = this.ctl;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const before = Atomics.load(ctl, SEQ);
      if ((before & 1) === 0) {
        dst.set(src);
        if (Atomics.load(ctl, SEQ) === before) {
          this.lastRetries = attempt;
          return true;
        }
      } else if (attempt >= READ_SPINS && !isMainThread) {
        // A write has been in progress for a while: its thread may have been
        // descheduled (more threads than cores). Sleep a moment on the
        // counter rather than spin, giving the writer the core. Writers do
        // not notify; the short timeout bounds the nap.
        Atomics.wait(ctl, SEQ, before, READ_NAP_MS);
      }
    }
    return false;
  }

  /**
   * Any thread: begin an optimistic read of several things the writer
   * changes together (rows and counters written between `beginWrite` and
   * `endWrite`). Returns the even sequence value to pass to `readValidate`,
   * or -1 while a write is in progress (try again, or `recoverIfStale`).
   */
  readBegin(): number {
    const s = Atomics.load(this.ctl, SEQ);
    return (s & 1) === 0 ? s : -1;
  }

  /**
   * Any thread: whether no write began or ended since `readBegin` returned
   * `seq` (the reads between are consistent).
   */
  readValidate(seq: number): boolean {
    return Atomics.load(this.ctl, SEQ) === seq;
  }

  /**
   * Any thread not holding the lock: if the lock is held past its lease,
   * take it over, repair the counter and release it. Returns whether a stale
   * holder was (or is being) recovered.
   */
  recoverIfStale(): boolean {
    return this.writerLock.recoverIfStale();
  }

  /** Any thread: the sequence counter (even when no write is in progress). */
  sequence(): number {
    return Atomics.load(this.ctl, SEQ);
  }

  // ------------------------------------------------------------ writer lock

  /**
   * Take the writer lock. Worker threads wait up to `timeoutMs` (on the
   * region's clock), sleeping; the main thread makes one attempt and never
   * waits. Returns `SEQ_OK`, `SEQ_RECOVERED` (taken over from a holder that
   * died or outlived its lease; the counter was repaired), `SEQ_BUSY` (main
   * thread, held elsewhere), `SEQ_TIMED_OUT` (worker), or `SEQ_INVALID`
   * (this object already holds it).
   */
  lock(timeoutMs: number = this.leaseMs * 2): SeqStatus {
    return seqStatus(this.writerLock.lock(timeoutMs));
  }

  /**
   * Any thread: one attempt at the writer lock, never waiting (`SEQ_OK`,
   * `SEQ_RECOVERED`, `SEQ_BUSY`, `SEQ_INVALID`).
   */
  tryLock(): SeqStatus {
    return seqStatus(this.writerLock.tryLock());
  }

  /** Any thread, including the main thread: `lock` that parks with `Atomics.waitAsync` instead of sleeping. */
  async lockAsync(timeoutMs: number = this.leaseMs * 2): Promise<SeqStatus> {
    return seqStatus(await this.writerLock.lockAsync(timeoutMs));
  }

  /**
   * Lock holder: release the writer lock. Returns `SEQ_OK`, or `SEQ_LOST`
   * when the lock had been taken over from this holder.
   */
  unlock(): SeqStatus {
    return seqStatus(this.writerLock.unlock());
  }

  /** Whether this object holds the writer lock (as far as it knows). */
  holdsLock(): boolean {
    return this.writerLock.holds();
  }

  /** Any thread: thread id of the current lock holder, or -1 when the lock is free. */
  owner(): number {
    return this.writerLock.owner();
  }

  /**
   * Any thread: if the lock is held by thread `deadThreadId` (which the
   * caller knows has exited), take it over at once, repair the counter and
   * release it. Returns whether it did.
   */
  recoverDeadOwner(deadThreadId: number): boolean {
    return this.writerLock.recoverDeadOwner(deadThreadId);
  }

  // ------------------------------------------------------------ writes

  /**
   * Lock holder: mark rows [rowStart, rowStart + rowCount) as being written
   * (readers retry until `endWrite`). Write them through `data` in between.
   */
  beginWrite(rowStart: number, rowCount: number): SeqStatus {
    if (!this.writerLock.holds()) return SEQ_INVALID;
    if (!(rowStart >= 0 && rowCount >= 0 && rowStart + rowCount <= this.rows)) return SEQ_INVALID;
    const ctl = this.ctl;
    Atomics.store(ctl, WRITE_START, rowStart);
    Atomics.store(ctl, WRITE_COUNT, rowCount);
    // The counter is even here: recovery repairs it before anyone else
    // holds the lock. Making it odd tells readers to retry.
    const odd = (Atomics.load(ctl, SEQ) + 1) | 0;
    this.writeSeq = odd;
    Atomics.store(ctl, SEQ, odd);
    return SEQ_OK;
  }

  /**
   * Lock holder: publish the rows written since `beginWrite`. Returns
   * `SEQ_OK`, or `SEQ_LOST` when the lock was taken over meanwhile (the
   * counter was repaired by the recoverer and is left alone).
   */
  endWrite(): SeqStatus {
    const odd = this.writeSeq;
    if (odd === 0) return SEQ_INVALID;
    this.writeSeq = 0;
    // Compare-and-swap, not a store: a recoverer may already have made the
    // counter even; a blind increment would then make it odd forever.
    if (Atomics.compareExchange(this.ctl, SEQ, odd, (odd + 1) | 0) !== odd) return SEQ_LOST;
    Atomics.add(this.ctl, WRITES, 1);
    return SEQ_OK;
  }

  /**
   * Any thread: lock, write `src` (whole rows) from row `rowStart`, publish,
   * unlock. Returns `SEQ_OK`, `SEQ_RECOVERED`, `SEQ_BUSY` (main thread), `SEQ_TIMED_OUT`, `SEQ_LOST`
   * or `SEQ_INVALID` (src not whole rows, or past the last row).
   */
  write(rowStart: number, src: Float32Array, timeoutMs: number = this.leaseMs * 2): SeqStatus {
    const rowCount = src.length / this.cols;
    if (!Number.isInteger(rowCount) || !(rowStart >= 0) || rowStart + rowCount > this.rows) return SEQ_INVALID;
    const locked = this.lock(timeoutMs);
    if (locked !== SEQ_OK && locked !== SEQ_RECOVERED) return locked;
    this.beginWrite(rowStart, rowCount);
    this.data.set(src, rowStart * this.cols);
    const ended = this.endWrite();
    const unlocked = this.unlock();
    if (ended !== SEQ_OK) return ended;
    if (unlocked !== SEQ_OK) return unlocked;
    return locked;
  }

  // ------------------------------------------------------------ shared writers and fences

  /**
   * Real milliseconds the last `enterShared` on this object waited for a
   * fence to lift (0 when it found none): the pause a snapshot cost this writer.
   */
  lastSharedWaitMs = 0;

  /**
   * A shared (Hogwild) writer: announce this thread as writing rows in place
   * without the lock (see the module note). Waits while a fence is up
   * (worker threads, up to `timeoutMs` on the region's clock per fence).
   * Returns `SEQ_OK` (inside: write, then `leaveShared`), `SEQ_TIMED_OUT`,
   * or `SEQ_BUSY` on the main thread when a fence is up (it never waits).
   * Allocates nothing, never throws.
   */
  enterShared(timeoutMs: number = this.leaseMs * 2): SeqStatus {
    const ctl = this.ctl;
    const lock = this.writerLock;
    let started = 0;
    for (;;) {
      if (lock.isHeld()) {
        if (started === 0) started = performance.now();
        const s = lock.awaitFree(timeoutMs);
        if (s !== OWNER_LOCK_OK) {
          this.lastSharedWaitMs = performance.now() - started;
          return seqStatus(s);
        }
      }
      Atomics.add(ctl, SHARED, 1);
      if (!lock.isHeld()) {
        this.lastSharedWaitMs = started === 0 ? 0 : performance.now() - started;
        return SEQ_OK;
      }
      // A fence went up between the check and the announcement: step back out of its way.
      this.leaveShared();
      if (started === 0) started = performance.now();
    }
  }

  /** A shared writer leaves (after a successful `enterShared`); wakes a fence waiting for the last one. */
  leaveShared(): void {
    if (Atomics.sub(this.ctl, SHARED, 1) === 1 && this.writerLock.isHeld()) Atomics.notify(this.ctl, SHARED);
  }

  /** Any thread: shared writers inside now. */
  sharedWriters(): number {
    return Atomics.load(this.ctl, SHARED);
  }

  /**
   * Worker threads: raise a fence (take the writer lock, then wait until no
   * shared writer is inside), up to `timeoutMs` in all on the region's clock. Returns `SEQ_OK` or
   * `SEQ_RECOVERED` (fenced: read the rows, then `unfence`), or the lock's
   * failure (`SEQ_BUSY` on the main thread, `SEQ_TIMED_OUT`); a fence that
   * times out waiting for the writers is lowered again.
   */
  fence(timeoutMs: number = this.leaseMs * 2): SeqStatus {
    const deadline = this.writerLock.clock.now() + timeoutMs;
    const s = this.lock(timeoutMs);
    if (s !== SEQ_OK && s !== SEQ_RECOVERED) return s;
    for (let i = 0; ; i++) {
      const n = i < FENCE_SPINS ? Atomics.load(this.ctl, SHARED) : this.drainStep(deadline);
      if (n === 0) return s;
      if (n < 0) return SEQ_TIMED_OUT;
      if (i >= FENCE_SPINS) Atomics.wait(this.ctl, SHARED, n, this.drainSliceMs(deadline));
    }
  }

  /** `fence` that parks with `Atomics.waitAsync`; any thread, including the main thread. */
  async fenceAsync(timeoutMs: number = this.leaseMs * 2): Promise<SeqStatus> {
    const deadline = this.writerLock.clock.now() + timeoutMs;
    const s = await this.lockAsync(timeoutMs);
    if (s !== SEQ_OK && s !== SEQ_RECOVERED) return s;
    for (;;) {
      const n = this.drainStep(deadline);
      if (n === 0) return s;
      if (n < 0) return SEQ_TIMED_OUT;
      await waitAsync(this.ctl, SHARED, n, this.drainSliceMs(deadline));
    }
  }

  /**
   * One step of a raised fence waiting for the shared writers inside to
   * leave, shared by `fence` and `fenceAsync`: 0 when none is inside, -1
   * when `deadline` (on the region's clock) has passed (the fence is then
   * lowered), else the count inside, to park on until the last one leaves
   * (`leaveShared` notifies).
   */
  private drainStep(deadline: number): number {
    const n = Atomics.load(this.ctl, SHARED);
    if (n === 0) return 0;
    if (deadline - this.writerLock.clock.now() <= 0) {
      this.unlock();
      return -1;
    }
    return n;
  }

  /** How long a draining fence parks before it looks at the count and the clock again. */
  private drainSliceMs(deadline: number): number {
    const clock = this.writerLock.clock;
    return clock.sliceMs(Math.min(Math.max(0, deadline - clock.now()), 1));
  }

  /** Fence holder: lower the fence (release the writer lock, waking every shared writer waiting at the gate). */
  unfence(): SeqStatus {
    return seqStatus(this.writerLock.unlock(true));
  }

  // ------------------------------------------------------------ statistics

  /** Any thread: how many stale locks have been taken over in this region's life. */
  recoveries(): number {
    return this.writerLock.recoveries();
  }

  /** Any thread: completed writes. */
  writes(): number {
    return Atomics.load(this.ctl, WRITES);
  }

  /** Any thread: the rows a dead writer had marked at the last recovery (their values may be torn). */
  lastTorn(): { rowStart: number; rowCount: number } {
    return { rowStart: Atomics.load(this.ctl, TORN_START), rowCount: Atomics.load(this.ctl, TORN_COUNT) };
  }

  // ------------------------------------------------------------ internals

  /**
   * Recovery hook (under the lock, after taking over a stale writer). If it
   * died mid-write the counter is odd: record the rows it had marked and make
   * the counter even so readers proceed. Then the layer above's repair.
   */
  private repair(stale: StaleHolder): void {
    const ctl = this.ctl;
    const seq = Atomics.load(ctl, SEQ);
    if ((seq & 1) !== 0) {
      Atomics.store(ctl, TORN_START, Atomics.load(ctl, WRITE_START));
      Atomics.store(ctl, TORN_COUNT, Atomics.load(ctl, WRITE_COUNT));
      Atomics.store(ctl, SEQ, (seq + 1) | 0);
    }
    this.onRecover?.(stale);
  }
}

function validateShape(where: string, o: { rows: number; cols: number }): { rows: number; cols: number } {
  if (o === null || typeof o !== 'object') throw invalidArgument(where, 'options', o, 'an object');
  const { rows, cols } = o;
  if (!Number.isInteger(rows) || rows < 1) throw invalidArgument(where, 'rows', rows, 'a positive integer');
  if (!Number.isInteger(cols) || cols < 1) throw invalidArgument(where, 'cols', cols, 'a positive integer');
  if (rows * cols * 4 > SEQLOCK_MAX_BYTES) {
    throw outOfRange(where, 'rows * cols * 4 (bytes)', rows * cols * 4, 4, SEQLOCK_MAX_BYTES);
  }
  return { rows, cols };
}
