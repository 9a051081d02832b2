/**
 * The owner lock: the one cross-thread mutual-exclusion lock in kgshard. The
 * seqlock's writer lock, the shard mapper's lock and (through the seqlock)
 * the parameter server's shard locks are all this lock. It lives in words of
 * the region of the structure it guards (`ownerLockContendedFields` and
 * `ownerLockHolderFields` in native-layout), so one attach of that region
 * gives every thread the lock too.
 *
 * Protocol
 * - The lock word is 0 when free, else a token unique to one acquisition
 *   (a per-thread serial and the thread id). Taking the lock is one
 *   compare-and-swap 0 -> token.
 * - The holder then stamps the acquisition: held-since (ms on the lock's
 *   clock), owner thread, and last the token the stamp belongs to. A reader
 *   of the stamp checks the stamped token first, so when it matches the lock
 *   word the time and owner it reads next belong to that same acquisition.
 * - Lease: an acquisition held longer than `leaseMs` on the clock is stale.
 *   Any contender may take it over with a compare-and-swap of that exact
 *   token, so two recoverers cannot both win, and a holder that released
 *   and re-acquired in between (new token) is never robbed. A holder that
 *   died between its compare-and-swap and its stamp leaves a token with no
 *   stamp: a contender that keeps seeing that same unstamped token for a
 *   lease (on its own observation) treats it as stale too.
 * - Recovery hook: when a stale holder is taken over, the new holder runs
 *   the structure's recovery hook (under the lock, before the operation it
 *   wanted) with what is known of the dead holder. The hook brings the
 *   structure back to a consistent state: the seqlock makes its counter even,
 *   the mapper rebuilds its counts and selection table from its slots, the
 *   parameter server discards a half-accumulated sync step. A thread that
 *   learns another thread exited (a worker's `exit` event) can recover at
 *   once with `recoverDeadOwner(threadId)`, which runs the same hook.
 * - A live holder that outlives its lease loses the lock: its `unlock`
 *   fails (it compares-and-swaps its own token) and reports `LOCK_LOST`.
 *   The lease must therefore exceed any real critical section (default
 *   2 s; sections take micro- to milliseconds).
 *
 * Threads
 * - Worker threads: `lock(timeoutMs)` spins briefly, then sleeps on the lock
 *   word with `Atomics.wait` in slices (announced through the sleeper count,
 *   so `unlock` notifies only when someone sleeps), re-checking for a stale
 *   holder after each slice.
 * - The main thread never spins and never blocks: there `lock` is
 *   `tryLock` (one attempt, taking over a stale holder) and returns
 *   `LOCK_BUSY` when the lock is held; `lockAsync` parks with
 *   `Atomics.waitAsync` instead and may be used on any thread.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { indexOf, type RegionLayout } from '../../native-layout/index.js';
import { invalidArgument, outOfRange } from '../errors.js';
import type { Clock } from './clock.js';
import { Park, park, parkAsync, waitAsync } from './wait.js';

/** Lock statuses: lock calls return these instead of throwing. */
export const LOCK_OK = 0;
/** Taken, after taking over a holder that died or outlived its lease (the recovery hook ran). */
export const LOCK_RECOVERED = 1;
/** Held by another thread; returned at once on the main thread (it never waits). */
export const LOCK_BUSY = 2;
/** Not taken within the timeout (worker threads, `lockAsync`). */
export const LOCK_TIMED_OUT = 3;
/** `unlock`: the lock had been taken over from this holder (its lease expired). */
export const LOCK_LOST = 4;
/** This object already holds the lock (`lock`), or holds none (`unlock`). */
export const LOCK_MISUSED = 5;
export type LockStatus = 0 | 1 | 2 | 3 | 4 | 5;
export const LOCK_STATUS_NAMES = ['ok', 'recovered', 'busy', 'timed-out', 'lost', 'misused'] as const;

export const DEFAULT_LOCK_LEASE_MS = 2000;
export const MAX_LOCK_LEASE_MS = 3_600_000;

/** What the recovery hook learns about the holder it replaced. */
export interface StaleHolder {
  /** Token of the dead acquisition. */
  readonly token: number;
  /** Its thread id, or -1 when it died before stamping the lock. */
  readonly ownerThread: number;
  /** When it took the lock (ms on the lock's clock, truncated to 32 bits), or -1 when unknown. */
  readonly heldSinceMs: number;
}

/**
 * Runs under the lock, in the thread that took over a stale holder, before
 * that thread's own operation. Must leave the guarded structure consistent
 * and must not throw (nor take the same lock).
 */
export type RecoveryHook = (stale: StaleHolder) => void;

/** Loads a contender makes before it sleeps (workers). */
const LOCK_SPINS = 200;

/** Per-thread acquisition serial: with the thread id it makes each lock token unique. */
let serial = 0;
function nextToken(): number {
  serial = serial >= 0xfffff ? 1 : serial + 1;
  return (serial << 11) | ((threadId + 1) & 0x7ff) || 1;
}

export class OwnerLock {
  readonly leaseMs: number;
  readonly clock: Clock;
  /** The structure's recovery hook (may be replaced, e.g. by a layer above that adds its own repair). */
  onRecover: RecoveryHook | undefined;

  private readonly i32: Int32Array;
  private readonly WORD: number;
  private readonly SLEEPERS: number;
  private readonly TOKEN: number;
  private readonly OWNER: number;
  private readonly SINCE: number;
  private readonly RECOVERIES: number;
  /** Token of the acquisition this object holds, 0 when none. */
  private token = 0;
  /** An unstamped token this object saw in the lock word, and when (clock ms) it first saw it. */
  private unstamped = 0;
  private unstampedSeen = 0;

  /**
   * Wrap the owner-lock words of a region. `i32` views the whole region;
   * `layout` is its layout (it must hold the owner-lock fields). Any thread;
   * every thread wraps the same words with the same lease and clock.
   */
  constructor(i32: Int32Array, layout: RegionLayout, leaseMs: number, clock: Clock, onRecover?: RecoveryHook) {
    checkLease('OwnerLock', leaseMs);
    this.i32 = i32;
    this.leaseMs = leaseMs;
    this.clock = clock;
    this.onRecover = onRecover;
    this.WORD = indexOf(layout, 'lockWord');
    this.SLEEPERS = indexOf(layout, 'lockSleepers');
    this.TOKEN = indexOf(layout, 'heldToken');
    this.OWNER = indexOf(layout, 'ownerThread');
    this.SINCE = indexOf(layout, 'heldSinceMs');
    this.RECOVERIES = indexOf(layout, 'recoveries');
  }

  /**
   * Any thread: one attempt. Takes a free lock (`LOCK_OK`) or a stale one
   * (`LOCK_RECOVERED`, after running the recovery hook); otherwise
   * `LOCK_BUSY` at once. Never waits.
   */
  tryLock(): LockStatus {
    if (this.token !== 0) return LOCK_MISUSED;
    const me = nextToken();
    const cur = Atomics.load(this.i32, this.WORD);
    if (cur === 0)
      return Atomics.compareExchange(this.i32, this.WORD, 0, me) === 0 ? this.took(me, undefined) : LOCK_BUSY;
    return this.takeOverIfStale(cur, me) ?? LOCK_BUSY;
  }

  /**
   * Take the lock, waiting up to `timeoutMs` (on the lock's clock) on worker
   * threads; on the main thread this is `tryLock` (never spins, never
   * blocks). Returns `LOCK_OK`, `LOCK_RECOVERED`, `LOCK_BUSY` (main thread),
   * `LOCK_TIMED_OUT` (workers) or `LOCK_MISUSED` (already held by this object).
   */
  lock(timeoutMs: number = 2 * this.leaseMs): LockStatus {
    if (isMainThread) return this.tryLock();
    if (this.token !== 0) return LOCK_MISUSED;
    const me = nextToken();
    const i32 = this.i32;
    for (let i = 0; i < LOCK_SPINS; i++) {
      if (Atomics.load(i32, this.WORD) === 0 && Atomics.compareExchange(i32, this.WORD, 0, me) === 0)
        return this.took(me, undefined);
    }
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const cur = Atomics.load(i32, this.WORD);
      if (cur === 0) {
        if (Atomics.compareExchange(i32, this.WORD, 0, me) === 0) return this.took(me, undefined);
        continue;
      }
      const taken = this.takeOverIfStale(cur, me);
      if (taken !== undefined) return taken;
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) return LOCK_TIMED_OUT;
      // Sleep on the lock word in slices short enough to notice a stale
      // holder (and a manual clock moving). Announce the sleep first:
      // `unlock` notifies only when it sees a sleeper, and Atomics.wait
      // re-checks the word before sleeping, so a release between our load
      // and the wait cannot be missed.
      Atomics.add(i32, this.SLEEPERS, 1);
      Atomics.wait(i32, this.WORD, cur, this.clock.sliceMs(Math.min(remaining, this.staleSliceMs())));
      Atomics.sub(i32, this.SLEEPERS, 1);
    }
  }

  /**
   * Any thread, including the main thread: take the lock without blocking
   * the thread, parking with `Atomics.waitAsync` between attempts. Resolves
   * to `LOCK_OK`, `LOCK_RECOVERED` or `LOCK_TIMED_OUT`. Several async
   * callers may share one object: they take the lock in turn. The caller
   * holds the lock from resolution until its `unlock`; keep that section
   * free of awaits.
   */
  async lockAsync(timeoutMs: number = 2 * this.leaseMs): Promise<LockStatus> {
    const i32 = this.i32;
    let deadline = NaN;
    for (;;) {
      const cur = Atomics.load(i32, this.WORD);
      // While another async caller on this same object holds the lock (this
      // object's token), wait for its unlock like any other contender.
      if (this.token === 0) {
        const me = nextToken();
        if (cur === 0) {
          if (Atomics.compareExchange(i32, this.WORD, 0, me) === 0) return this.took(me, undefined);
          continue;
        }
        const taken = this.takeOverIfStale(cur, me);
        if (taken !== undefined && taken !== LOCK_BUSY) return taken;
      }
      const now = this.clock.now();
      if (Number.isNaN(deadline)) deadline = now + timeoutMs;
      const remaining = deadline - now;
      if (remaining <= 0) return LOCK_TIMED_OUT;
      // Same announce-then-park order as `lock`; `Atomics.notify` wakes
      // waitAsync waiters too.
      Atomics.add(i32, this.SLEEPERS, 1);
      await waitAsync(i32, this.WORD, cur, this.clock.sliceMs(Math.min(remaining, this.staleSliceMs())));
      Atomics.sub(i32, this.SLEEPERS, 1);
    }
  }

  /**
   * Lock holder: release. `LOCK_OK`, `LOCK_LOST` when it had been taken over,
   * `LOCK_MISUSED` when this object holds none. A sleeping contender is
   * woken (one: only one can take the lock), or with `wakeAll` every
   * sleeper: threads waiting in `awaitFree` all proceed once it is free.
   */
  unlock(wakeAll = false): LockStatus {
    const me = this.token;
    if (me === 0) return LOCK_MISUSED;
    this.token = 0;
    if (Atomics.compareExchange(this.i32, this.WORD, me, 0) !== me) return LOCK_LOST;
    if (Atomics.load(this.i32, this.SLEEPERS) > 0) Atomics.notify(this.i32, this.WORD, wakeAll ? Infinity : 1);
    return LOCK_OK;
  }

  /** Whether this object holds the lock (as far as the lock word says now). */
  holds(): boolean {
    return this.token !== 0 && Atomics.load(this.i32, this.WORD) === this.token;
  }

  /** Any thread: whether anyone holds the lock now (one atomic load; no allocation). */
  isHeld(): boolean {
    return Atomics.load(this.i32, this.WORD) !== 0;
  }

  /**
   * Worker threads: wait until the lock is free, without taking it, for at
   * most `timeoutMs` on the lock's clock. Spins briefly, then sleeps on the
   * lock word announced as a sleeper (so `unlock` wakes it), taking over a
   * stale holder like any contender. Returns `LOCK_OK` once the lock has
   * been seen free, `LOCK_TIMED_OUT`, or `LOCK_BUSY` on the main thread
   * (which never waits). Allocates nothing.
   */
  awaitFree(timeoutMs: number = 2 * this.leaseMs): LockStatus {
    for (let i = 0; i < LOCK_SPINS; i++) if (Atomics.load(this.i32, this.WORD) === 0) return LOCK_OK;
    if (isMainThread) return LOCK_BUSY;
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const step = this.freeStep(deadline);
      if (!(step instanceof Park)) return step;
      park(step);
    }
  }

  /** `awaitFree` that parks with `Atomics.waitAsync`; any thread, including the main thread. */
  async awaitFreeAsync(timeoutMs: number = 2 * this.leaseMs): Promise<LockStatus> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const step = this.freeStep(deadline);
      if (!(step instanceof Park)) return step;
      await parkAsync(step);
    }
  }

  /**
   * One step of waiting for the lock to be free, shared by `awaitFree` and
   * `awaitFreeAsync`: `LOCK_OK` (free), `LOCK_TIMED_OUT` (past `deadline`),
   * or where to park (on the lock word, announced as a sleeper so `unlock`
   * wakes it; in slices short enough to notice a stale holder). A stale
   * holder is taken over and released on the way.
   */
  private freeStep(deadline: number): LockStatus | Park {
    for (;;) {
      const cur = Atomics.load(this.i32, this.WORD);
      if (cur === 0) return LOCK_OK;
      if (this.recoverIfStale()) continue;
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) return LOCK_TIMED_OUT;
      return new Park(
        this.i32,
        this.WORD,
        cur,
        this.clock.sliceMs(Math.min(remaining, this.staleSliceMs())),
        this.SLEEPERS,
      );
    }
  }

  /** Any thread: thread id of the current holder, or -1 when free (or just taken and not yet stamped). */
  owner(): number {
    const cur = Atomics.load(this.i32, this.WORD);
    if (cur === 0) return -1;
    return Atomics.load(this.i32, this.TOKEN) === cur ? Atomics.load(this.i32, this.OWNER) : -1;
  }

  /** Any thread: stale holders taken over in the region's life. */
  recoveries(): number {
    return Atomics.load(this.i32, this.RECOVERIES);
  }

  /**
   * Any thread not holding the lock: if its holder is stale, take it over
   * (running the recovery hook) and release it. Returns whether a stale
   * holder was recovered, by this call or by a racing one.
   */
  recoverIfStale(): boolean {
    if (this.token !== 0) return false;
    const cur = Atomics.load(this.i32, this.WORD);
    if (cur === 0) return false;
    const me = nextToken();
    const taken = this.takeOverIfStale(cur, me);
    if (taken === undefined) return false;
    if (taken !== LOCK_BUSY) this.unlock();
    return true;
  }

  /**
   * Any thread: if the lock is held by thread `deadThreadId` (which the
   * caller knows has exited, e.g. from a worker's `exit` event), take it
   * over at once, run the recovery hook and release. Returns whether it did.
   */
  recoverDeadOwner(deadThreadId: number): boolean {
    if (this.token !== 0) return false;
    const i32 = this.i32;
    const cur = Atomics.load(i32, this.WORD);
    if (cur === 0 || Atomics.load(i32, this.TOKEN) !== cur) return false;
    const owner = Atomics.load(i32, this.OWNER);
    const since = Atomics.load(i32, this.SINCE);
    if (owner !== deadThreadId || Atomics.load(i32, this.WORD) !== cur) return false;
    const me = nextToken();
    if (Atomics.compareExchange(i32, this.WORD, cur, me) !== cur) return false;
    this.took(me, { token: cur, ownerThread: owner, heldSinceMs: since });
    this.unlock();
    return true;
  }

  // ------------------------------------------------------------ internals

  private nowStamp(): number {
    return Math.floor(this.clock.now()) | 0;
  }

  /** A sleeping contender looks for a stale holder at least this often (clock ms). */
  private staleSliceMs(): number {
    return Math.max(1, this.leaseMs / 4);
  }

  /*
   * Stamp order: held-since, owner, then the token. See the module note.
   */
  private took(me: number, stale: StaleHolder | undefined): LockStatus {
    const i32 = this.i32;
    this.token = me;
    Atomics.store(i32, this.SINCE, this.nowStamp());
    Atomics.store(i32, this.OWNER, threadId);
    Atomics.store(i32, this.TOKEN, me);
    if (stale === undefined) return LOCK_OK;
    Atomics.add(i32, this.RECOVERIES, 1);
    this.onRecover?.(stale);
    return LOCK_RECOVERED;
  }

  /**
   * If acquisition `cur` is stale, try to take it over as `me`: returns
   * `LOCK_RECOVERED` when this call took it (hook run), `LOCK_BUSY` when a
   * racing call took it over first, undefined when `cur` is not stale.
   */
  private takeOverIfStale(cur: number, me: number): LockStatus | undefined {
    const i32 = this.i32;
    let stale: StaleHolder;
    if (Atomics.load(i32, this.TOKEN) === cur) {
      const since = Atomics.load(i32, this.SINCE);
      const owner = Atomics.load(i32, this.OWNER);
      // Re-check the word: the stamp we read belongs to `cur` only if `cur`
      // still holds the lock (its token was stamped before its fields).
      if (Atomics.load(i32, this.WORD) !== cur) return undefined;
      if (((this.nowStamp() - since) | 0) <= this.leaseMs) return undefined;
      stale = { token: cur, ownerThread: owner, heldSinceMs: since };
    } else {
      // Taken but not stamped: normally an instant; a holder that died in
      // between never stamps. Judge it by how long we have seen it.
      const now = this.clock.now();
      if (this.unstamped !== cur) {
        this.unstamped = cur;
        this.unstampedSeen = now;
        return undefined;
      }
      if (now - this.unstampedSeen <= this.leaseMs) return undefined;
      stale = { token: cur, ownerThread: -1, heldSinceMs: -1 };
    }
    if (Atomics.compareExchange(i32, this.WORD, cur, me) !== cur) return LOCK_BUSY;
    return this.took(me, stale);
  }
}

export function checkLease(where: string, leaseMs: unknown): number {
  if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs))
    throw invalidArgument(where, 'leaseMs', leaseMs, 'an integer');
  if (leaseMs < 1 || leaseMs > MAX_LOCK_LEASE_MS) throw outOfRange(where, 'leaseMs', leaseMs, 1, MAX_LOCK_LEASE_MS);
  return leaseMs;
}
