/**
 * A session ties a checkpoint store to one run of one problem: it loads the
 * best seed (a preloaded near-match entry first, then the store's best entry
 * for the exact fingerprint) and saves this run's checkpoints and final
 * result into the run's own slot, overwriting it each time.
 *
 * Checkpoints are rate-limited to one write per `minIntervalMs` (default
 * 2 s) so a tight loop cannot thrash the disk, except that a checkpoint
 * whose objective is strictly better than the best this session has
 * written is written at once. `finalize` is never rate-limited. A failed
 * write is reported through the store's warning channel and returns false;
 * the previous entry of the slot stays intact.
 *
 * Failing disks: every write goes through the store's write breaker
 * (`CheckpointStore.writeBreaker`, by default opened by 1 failed write for
 * 30 s). While it is open, `checkpoint` returns false without touching the
 * disk, and the store warns once per open period, in one line naming the
 * directory and the cool-down (the line of the failure that opened it).
 * After the cool-down the next checkpoint is the breaker's probe: one
 * write, whose success closes the breaker and whose failure opens it again
 * for another cool-down. `finalize` asks the breaker too (it serves as the
 * probe when one is due) but writes even when refused: the final entry is
 * the run's last chance to be saved, and one more failing write costs
 * little. Its outcome is reported like any write's (a success while the
 * breaker is open changes nothing: only a probe closes it).
 */
import { performance } from 'node:perf_hooks';
import { KgError } from '../errors.js';
import {
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_OPEN,
  BREAKER_REFUSED,
  type Breaker,
} from '../shm/breaker.js';
import type { CheckpointStore, StoreEntry } from './checkpoint-store.js';

export const MIN_CHECKPOINT_INTERVAL_MS = 2000;
const IMPROVE_EPS = 1e-12;

export type LoadSource = 'exact' | 'preloaded';

export interface LoadedEntry {
  readonly entry: StoreEntry;
  readonly source: LoadSource;
}

export interface SessionOptions {
  /** This run's slot name; default `ckpt-r<pid hex>-<time hex><random>`. */
  readonly runId?: string;
  /** Near-match key stored with every entry (for warm starts of other problems). */
  readonly nearKey?: string;
  /** Minimum gap between non-improving checkpoints; default 2000 ms. */
  readonly minIntervalMs?: number;
  /** Monotonic clock in ms (tests); default performance.now. */
  readonly clock?: () => number;
}

let counter = 0;

function defaultRunId(): string {
  const t = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  counter = (counter + 1) % 0x10000;
  return `ckpt-r${process.pid.toString(16)}-${t.toString(16)}${counter.toString(16)}`;
}

export class Session {
  readonly store: CheckpointStore;
  readonly fingerprint: string;
  readonly runId: string;
  readonly nearKey: string;
  readonly minIntervalMs: number;
  /** The error of the last failed write, if the last write failed. */
  lastError: KgError | null = null;
  /** Checkpoints skipped, without touching the disk, because the store's write breaker was open. */
  skippedByBreaker = 0;
  readonly #clock: () => number;
  #lastWrite: number | null = null;
  #bestSeen: number | null = null;
  #preloaded: StoreEntry | null = null;

  private constructor(store: CheckpointStore, fingerprint: string, opts: SessionOptions) {
    this.store = store;
    this.fingerprint = fingerprint;
    this.runId = opts.runId ?? defaultRunId();
    this.nearKey = opts.nearKey ?? '';
    this.minIntervalMs = opts.minIntervalMs ?? MIN_CHECKPOINT_INTERVAL_MS;
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** A session for `fingerprint`; validates the fingerprint and run id. */
  static open(store: CheckpointStore, fingerprint: string, opts: SessionOptions = {}): Session {
    const s = new Session(store, fingerprint, opts);
    store.slotPath(fingerprint, s.runId); // throws E_INVALID_ARGUMENT for a bad key or run id
    if (s.nearKey !== '' && !/^[0-9a-f]{8,128}$/.test(s.nearKey)) {
      throw new KgError(
        'E_INVALID_ARGUMENT',
        `Session.open: nearKey must be '' or 8 to 128 lowercase hex digits, got ${JSON.stringify(s.nearKey)}`,
        { nearKey: s.nearKey },
      );
    }
    if (!(s.minIntervalMs >= 0)) {
      throw new KgError(
        'E_INVALID_ARGUMENT',
        `Session.open: minIntervalMs must be a non-negative number, got ${s.minIntervalMs}`,
        { minIntervalMs: s.minIntervalMs },
      );
    }
    return s;
  }

  /**
   * Stash a near-match entry (e.g. from `store.lookupNear`) that the next
   * `tryLoad` returns instead of the store's entry. Writes still go to this
   * session's own fingerprint.
   */
  preload(entry: StoreEntry): void {
    this.#preloaded = entry;
  }

  /** The preloaded seed (consumed) or else the store's best entry for this fingerprint. */
  tryLoadWithSource(): LoadedEntry | null {
    const seed = this.#preloaded;
    if (seed !== null) {
      this.#preloaded = null;
      return { entry: seed, source: 'preloaded' };
    }
    return this.#fromStore();
  }

  tryLoad(): StoreEntry | null {
    return this.tryLoadWithSource()?.entry ?? null;
  }

  /** As `tryLoadWithSource`, but leaves a preloaded seed in place. */
  peekLoadWithSource(): LoadedEntry | null {
    if (this.#preloaded !== null) return { entry: this.#preloaded, source: 'preloaded' };
    return this.#fromStore();
  }

  peekLoad(): StoreEntry | null {
    return this.peekLoadWithSource()?.entry ?? null;
  }

  /**
   * Save a mid-run checkpoint unless the rate limit or the store's open
   * write breaker holds it back; returns whether it was written.
   */
  checkpoint(payload: Uint8Array, objective: number | null = null, iteration: number | null = null): boolean {
    const now = this.#clock();
    const improves = objective !== null && (this.#bestSeen === null || objective < this.#bestSeen - IMPROVE_EPS);
    if (!improves && this.#lastWrite !== null && now - this.#lastWrite < this.minIntervalMs) return false;
    if (!this.#save(payload, objective, iteration, 'checkpoint')) return false;
    this.#lastWrite = now;
    if (objective !== null) this.#bestSeen = this.#bestSeen === null ? objective : Math.min(this.#bestSeen, objective);
    return true;
  }

  /**
   * Save the end-of-run result as a final entry, with no rate limit and
   * even while the store's write breaker is open; returns whether it was
   * written.
   */
  finalize(payload: Uint8Array, objective: number | null = null, iteration: number | null = null): boolean {
    return this.#save(payload, objective, iteration, 'final');
  }

  #save(
    payload: Uint8Array,
    objective: number | null,
    iteration: number | null,
    kind: 'checkpoint' | 'final',
  ): boolean {
    const breaker = this.store.writeBreaker();
    if (breaker.allow() === BREAKER_REFUSED && kind === 'checkpoint') {
      this.skippedByBreaker++;
      // Refused while open: say so once per open period (the failure that opened it usually has). Refused in
      // half-open, another caller's probe is out: its outcome will tell.
      if (breaker.state() === BREAKER_OPEN) {
        this.store.warnOnce(
          openPeriodKey(breaker),
          `checkpoint store: skipping checkpoints to ${this.store.dir} for up to ${seconds(breaker)} ` +
            'after a failed write, then trying again',
        );
      }
      return false;
    }
    try {
      this.store.save(this.fingerprint, this.runId, payload, { objective, iteration, kind, nearKey: this.nearKey });
    } catch (e) {
      if (!(e instanceof KgError) || e.code !== 'E_STORE_WRITE') throw e;
      this.lastError = e;
      const opened = breaker.recordFailure();
      const message = `checkpoint store: ${kind} of run ${this.runId} not saved: ${e.message}`;
      if (opened === BREAKER_CLOSED_TO_OPEN || opened === BREAKER_HALF_OPEN_TO_OPEN) {
        this.store.warnOnce(
          openPeriodKey(breaker),
          `${message}; skipping checkpoints to ${this.store.dir} for ${seconds(breaker)}, then trying again`,
        );
      } else {
        this.store.warn(message);
      }
      return false;
    }
    breaker.recordSuccess();
    this.lastError = null;
    return true;
  }

  #fromStore(): LoadedEntry | null {
    const entry = this.store.lookup(this.fingerprint);
    return entry === null ? null : { entry, source: 'exact' };
  }
}

/** The store's warn-once key of the breaker's current open period (a NUL keeps it apart from file paths). */
function openPeriodKey(breaker: Breaker): string {
  return `\0write-breaker-open-${breaker.generation()}`;
}

function seconds(breaker: Breaker): string {
  return `${breaker.coolDownMs / 1000} s`;
}
