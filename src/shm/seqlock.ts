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
 *   which does both). Only the lock holder calls `beginWrite`/`endWrite` and
 *   writes rows through `data`. Worker threads sleep on a contended lock with
 *   `Atomics.wait` (in slices, with a timeout); the main thread only polls.
 *
 * Dead writers
 * The lock word holds a token unique to one acquisition (thread id and a
 * per-thread serial). The holder stamps when it took the lock (`heldSinceMs`,
 * ms since the region's epoch) and which token the stamp belongs to. A lock
 * held by one token for longer than the region's lease (`leaseMs`) is stale:
 * any writer waiting for it, or any reader that gave up retrying, takes it
 * over with a compare-and-swap of that exact token, so two recoverers cannot
 * both win and a holder that released and re-acquired in between (new token)
 * is never robbed. A thread that learns another thread died (a worker's
 * `exit` event) can recover at once with `recoverDeadOwner(threadId)`.
 * Recovery makes the sequence counter even again, so readers proceed, and
 * records the rows the dead writer had marked (`lastTorn()`): their values
 * may mix old and new data until they are written again.
 * A live writer that outlives its lease loses the lock: its `endWrite` and
 * `unlock` fail (they compare-and-swap its own values) and report
 * `SEQ_LOST`, and the sequence counter is never left odd by it. The lease
 * must therefore exceed any real write (default 2 s; writes take micro- to
 * milliseconds).
 */
import { threadId, isMainThread } from 'node:worker_threads';
import { badHandle, invalidArgument, layoutSizeMismatch, outOfRange } from '../errors.js';
import { allocate, checkHeader, indexOf, offsetOf, seqlockLayout } from '../../native-layout/index.js';

export interface SeqlockHandle {
  readonly kind: 'seqlock';
  readonly sab: SharedArrayBuffer;
  readonly rows: number;
  readonly cols: number;
}

export interface SeqlockOptions {
  readonly rows: number;
  readonly cols: number;
  /** How long a holder may keep the writer lock before others may take it over (ms, default 2000). */
  readonly leaseMs?: number;
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
export type SeqStatus = 0 | 1 | 2 | 3 | 4 | 5;

export const SEQ_STATUS_NAMES = ['ok', 'stalled', 'timed-out', 'lost', 'recovered', 'invalid'] as const;

export const SEQLOCK_MAX_BYTES = 2 ** 31;
export const DEFAULT_LEASE_MS = 2000;
/**
 * Default number of times a reader retries before it reports `SEQ_STALLED`.
 * After `READ_SPINS` retries on a write in progress a worker-thread reader
 * naps `READ_NAP_MS` per retry, so the default bounds a stall at roughly a
 * second in workers and well under a millisecond on the main thread.
 */
export const DEFAULT_READ_RETRIES = 20_000;
const READ_SPINS = 256;
const READ_NAP_MS = 0.05;
const LOCK_SPINS = 200;

const L = seqlockLayout(1, 1);
const ROWS = indexOf(L, 'rows');
const COLS = indexOf(L, 'cols');
const LEASE = indexOf(L, 'leaseMs');
const EPOCH_F64 = indexOf(L, 'epochMs');
const LOCK = indexOf(L, 'lockWord');
const SLEEPERS = indexOf(L, 'lockSleepers');
const SEQ = indexOf(L, 'seq');
const HELD_TOKEN = indexOf(L, 'heldToken');
const HELD_SINCE = indexOf(L, 'heldSinceMs');
const OWNER_THREAD = indexOf(L, 'ownerThread');
const WRITE_START = indexOf(L, 'writeRowStart');
const WRITE_COUNT = indexOf(L, 'writeRowCount');
const RECOVERIES = indexOf(L, 'recoveries');
const TORN_START = indexOf(L, 'tornRowStart');
const TORN_COUNT = indexOf(L, 'tornRowCount');
const WRITES = indexOf(L, 'writes');
const DATA_OFFSET = offsetOf(L, 'data');

/** Per-thread acquisition serial: with the thread id it makes each lock token unique. */
let serial = 0;
function nextToken(): number {
  serial = serial >= 0xfffff ? 1 : serial + 1;
  return (serial << 11) | ((threadId + 1) & 0x7ff);
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

  private readonly ctl: Int32Array;
  private readonly epochMs: number;
  /** Token of the lock this object holds, 0 when it holds none. */
  private token = 0;
  /** The odd sequence value this object's write in progress set. */
  private writeSeq = 0;

  private constructor(handle: SeqlockHandle) {
    this.handle = handle;
    this.rows = handle.rows;
    this.cols = handle.cols;
    this.ctl = new Int32Array(handle.sab, 0, DATA_OFFSET / 4);
    this.data = new Float32Array(handle.sab, DATA_OFFSET, handle.rows * handle.cols);
    this.leaseMs = this.ctl[LEASE]!;
    this.epochMs = new Float64Array(handle.sab, 0, DATA_OFFSET / 8)[EPOCH_F64]!;
  }

  /** Allocate a zeroed region. Call on the allocating thread; send `handle` to others. */
  static create(options: SeqlockOptions): Seqlock {
    const { rows, cols } = validateShape('Seqlock.create', options);
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > 3_600_000) {
      throw outOfRange('Seqlock.create', 'leaseMs', leaseMs, 1, 3_600_000);
    }
    const sab = allocate(seqlockLayout(rows, cols));
    const ctl = new Int32Array(sab, 0, DATA_OFFSET / 4);
    ctl[ROWS] = rows;
    ctl[COLS] = cols;
    ctl[LEASE] = leaseMs;
    new Float64Array(sab, 0, DATA_OFFSET / 8)[EPOCH_F64] = Date.now();
    return new Seqlock({ kind: 'seqlock', sab, rows, cols });
  }

  /** Wrap an existing region from its handle, on any thread. */
  static attach(handle: SeqlockHandle): Seqlock {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'seqlock') {
      throw badHandle('Seqlock.attach', "handle.kind must be 'seqlock'", (handle as { kind?: unknown } | null)?.kind);
    }
    const { rows, cols } = validateShape('Seqlock.attach', handle);
    const sab = checkHeader(handle.sab, seqlockLayout(rows, cols));
    const ctl = new Int32Array(sab, 0, DATA_OFFSET / 4);
    if (ctl[ROWS] !== rows) throw layoutSizeMismatch('seqlock', 'rows', rows, ctl[ROWS]!);
    if (ctl[COLS] !== cols) throw layoutSizeMismatch('seqlock', 'cols', cols, ctl[COLS]!);
    return new Seqlock({ kind: 'seqlock', sab, rows, cols });
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
    if (this.recoverStale() && this.tryRead(dst, src, maxRetries)) return SEQ_RECOVERED;
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

  /** Any thread: whether no write began or ended since `readBegin` returned `seq` (the reads between are consistent). */
  readValidate(seq: number): boolean {
    return Atomics.load(this.ctl, SEQ) === seq;
  }

  /**
   * Any thread not holding the lock: if the lock is held past its lease,
   * take it over, repair the counter and release it. Returns whether a stale
   * holder was (or is being) recovered.
   */
  recoverIfStale(): boolean {
    return this.recoverStale();
  }

  /** Any thread: the sequence counter (even when no write is in progress). */
  sequence(): number {
    return Atomics.load(this.ctl, SEQ);
  }

  // ------------------------------------------------------------ writer lock

  /**
   * Any thread: take the writer lock, waiting up to `timeoutMs`. Returns
   * `SEQ_OK`, `SEQ_RECOVERED` (taken over from a holder that died or
   * outlived its lease), or `SEQ_TIMED_OUT`. Workers sleep while they wait;
   * the main thread polls, so keep its timeout short.
   */
  lock(timeoutMs: number = this.leaseMs * 2): SeqStatus {
    if (this.token !== 0) return SEQ_INVALID; // this object already holds it
    const me = nextToken();
    const ctl = this.ctl;
    for (let i = 0; i < LOCK_SPINS; i++) {
      if (Atomics.load(ctl, LOCK) === 0 && Atomics.compareExchange(ctl, LOCK, 0, me) === 0) return this.took(me, false);
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const cur = Atomics.load(ctl, LOCK);
      if (cur === 0) {
        if (Atomics.compareExchange(ctl, LOCK, 0, me) === 0) return this.took(me, false);
        continue;
      }
      if (this.isStale(cur) && Atomics.compareExchange(ctl, LOCK, cur, me) === cur) return this.took(me, true);
      const remaining = deadline - performance.now();
      if (remaining <= 0) return SEQ_TIMED_OUT;
      if (isMainThread) continue;
      // Sleep on the lock word in slices short enough to notice a stale
      // holder. Announce the sleep first: `unlock` notifies only when it sees
      // a sleeper, and Atomics.wait re-checks the word before sleeping, so a
      // release between our load and the wait cannot be missed.
      Atomics.add(ctl, SLEEPERS, 1);
      Atomics.wait(ctl, LOCK, cur, Math.min(remaining, Math.max(1, this.leaseMs / 4)));
      Atomics.sub(ctl, SLEEPERS, 1);
    }
  }

  /**
   * Lock holder: release the writer lock. Returns `SEQ_OK`, or `SEQ_LOST`
   * when the lock had been taken over from this holder.
   */
  unlock(): SeqStatus {
    const me = this.token;
    if (me === 0) return SEQ_INVALID;
    this.token = 0;
    if (Atomics.compareExchange(this.ctl, LOCK, me, 0) !== me) return SEQ_LOST;
    if (Atomics.load(this.ctl, SLEEPERS) > 0) Atomics.notify(this.ctl, LOCK, 1);
    return SEQ_OK;
  }

  /** Whether this object holds the writer lock (as far as it knows). */
  holdsLock(): boolean {
    return this.token !== 0 && Atomics.load(this.ctl, LOCK) === this.token;
  }

  /** Any thread: thread id of the current lock holder, or -1 when the lock is free. */
  owner(): number {
    const cur = Atomics.load(this.ctl, LOCK);
    if (cur === 0) return -1;
    return Atomics.load(this.ctl, HELD_TOKEN) === cur ? Atomics.load(this.ctl, OWNER_THREAD) : -1;
  }

  /**
   * Any thread: if the lock is held by thread `deadThreadId` (which the
   * caller knows has exited), take it over at once, repair the counter and
   * release it. Returns whether it did.
   */
  recoverDeadOwner(deadThreadId: number): boolean {
    const cur = Atomics.load(this.ctl, LOCK);
    if (cur === 0 || this.token !== 0) return false;
    if (Atomics.load(this.ctl, HELD_TOKEN) !== cur || Atomics.load(this.ctl, OWNER_THREAD) !== deadThreadId) return false;
    const me = nextToken();
    if (Atomics.compareExchange(this.ctl, LOCK, cur, me) !== cur) return false;
    this.took(me, true);
    this.unlock();
    return true;
  }

  // ------------------------------------------------------------ writes

  /**
   * Lock holder: mark rows [rowStart, rowStart + rowCount) as being written
   * (readers retry until `endWrite`). Write them through `data` in between.
   */
  beginWrite(rowStart: number, rowCount: number): SeqStatus {
    if (this.token === 0) return SEQ_INVALID;
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
   * unlock. Returns `SEQ_OK`, `SEQ_RECOVERED`, `SEQ_TIMED_OUT`, `SEQ_LOST`
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

  // ------------------------------------------------------------ statistics

  /** Any thread: how many stale locks have been taken over in this region's life. */
  recoveries(): number {
    return Atomics.load(this.ctl, RECOVERIES);
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

  private nowMs(): number {
    return (Date.now() - this.epochMs) | 0;
  }

  /*
   * Stamp order: heldSince, ownerThread, then heldToken. A reader of the
   * stamp checks heldToken first, so when it matches the token in the lock
   * word, the time and owner it reads next belong to that same acquisition.
   */
  private took(me: number, recovered: boolean): SeqStatus {
    const ctl = this.ctl;
    this.token = me;
    Atomics.store(ctl, HELD_SINCE, this.nowMs());
    Atomics.store(ctl, OWNER_THREAD, threadId);
    Atomics.store(ctl, HELD_TOKEN, me);
    if (!recovered) return SEQ_OK;
    // The previous holder is gone. If it died mid-write the counter is odd:
    // record the rows it had marked and make the counter even so readers
    // proceed.
    const seq = Atomics.load(ctl, SEQ);
    if ((seq & 1) !== 0) {
      Atomics.store(ctl, TORN_START, Atomics.load(ctl, WRITE_START));
      Atomics.store(ctl, TORN_COUNT, Atomics.load(ctl, WRITE_COUNT));
      Atomics.store(ctl, SEQ, (seq + 1) | 0);
    }
    Atomics.add(ctl, RECOVERIES, 1);
    return SEQ_RECOVERED;
  }

  /** Whether the acquisition `token` has held the lock past the lease. */
  private isStale(token: number): boolean {
    const ctl = this.ctl;
    if (Atomics.load(ctl, HELD_TOKEN) !== token) return false; // not stamped yet: just taken
    const since = Atomics.load(ctl, HELD_SINCE);
    if (Atomics.load(ctl, LOCK) !== token) return false;
    return ((this.nowMs() - since) | 0) > this.leaseMs;
  }

  /** Take over and release a stale lock. Returns whether the region is now free of a stale holder. */
  private recoverStale(): boolean {
    const cur = Atomics.load(this.ctl, LOCK);
    if (cur === 0 || this.token !== 0 || !this.isStale(cur)) return false;
    const me = nextToken();
    if (Atomics.compareExchange(this.ctl, LOCK, cur, me) !== cur) return true; // someone else recovered it
    this.took(me, true);
    this.unlock();
    return true;
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
