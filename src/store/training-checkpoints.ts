/**
 * Checkpoints of a training run: the glue between a run's state and the
 * checkpoint store. A run is identified by its problem key (dataset
 * content, id maps, model, shapes and the hyper-parameters that change the
 * result; not the number of epochs, so a run resumed with more epochs is
 * the same problem) and offers its entries to warm starts of near-matches
 * (same entities, relations and shapes).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { KgError, invalidArgument } from '../errors.js';
import type { Clock } from '../shm/clock.js';
import { CheckpointStore, writeBreakerOptions, type StoreEntry } from './checkpoint-store.js';
import { problemKeys, type ProblemDescription, type ProblemKeys } from './fingerprint.js';
import { Session } from './session.js';
import { decodeTrainerSnapshot, encodeTrainerSnapshot, type TrainingState } from './train-state.js';

/** How a run's checkpoint writes are paced and paused when they fail. */
export interface CheckpointWriteOptions {
  /** Failed writes in a row that pause checkpoints: an integer in [1, 1023]; default 1. */
  readonly failureThreshold?: number;
  /** How long (ms) checkpoints are then skipped before one is tried again: [1, 2^31 - 1]; default 30 000. */
  readonly coolDownMs?: number;
  /**
   * The clock of that pause and of the rate limit between checkpoints
   * (default `realClock`; tests pass a `ManualClock` and move it).
   */
  readonly clock?: Clock;
}

export interface TrainingCheckpointerOptions {
  readonly dir: string;
  readonly problem: ProblemDescription;
  readonly minIntervalMs?: number;
  readonly onWarning?: (message: string) => void;
  /** The store's write breaker and the checkpoint clock; defaults: 1 failure, 30 s, the real clock. */
  readonly writes?: CheckpointWriteOptions;
}

export interface LoadedTraining {
  readonly state: TrainingState;
  readonly entry: StoreEntry;
}

export class TrainingCheckpointer {
  readonly keys: ProblemKeys;
  readonly store: CheckpointStore;
  readonly session: Session;
  /** The iteration (epochs done) of the last entry this run wrote; -1 before the first. */
  lastWritten = -1;

  private constructor(store: CheckpointStore, keys: ProblemKeys, minIntervalMs: number | undefined, clock: Clock) {
    this.store = store;
    this.keys = keys;
    this.session = Session.open(store, keys.problem, {
      nearKey: keys.nearMatch,
      ...(minIntervalMs !== undefined ? { minIntervalMs } : {}),
      clock: () => clock.now(),
    });
  }

  static open(o: TrainingCheckpointerOptions): TrainingCheckpointer {
    const breaker = writeBreakerOptions('TrainingCheckpointer.open', o.writes, 'writes');
    const store = CheckpointStore.open(o.dir, { ...(o.onWarning ? { onWarning: o.onWarning } : {}), breaker });
    return new TrainingCheckpointer(store, problemKeys(o.problem), o.minIntervalMs, breaker.clock);
  }

  /**
   * The latest entry of this problem in the store, decoded; null when there
   * is none. A run resumes from it. See `latestTraining`.
   */
  latest(): LoadedTraining | null {
    return latestTraining(this.store, this.keys.problem);
  }

  /**
   * A warm-start seed for this run: from `ref`, a store directory (its best
   * near-match entry: same entities, relations and shapes) or a problem
   * fingerprint in this run's store (which must be a near-match). Null when
   * nothing matches.
   */
  warmStartSeed(ref: string): LoadedTraining | null {
    let entry: StoreEntry | null;
    if (/^[0-9a-f]{64}$/.test(ref)) {
      entry = this.store.lookup(ref);
      if (entry !== null && entry.nearKey !== this.keys.nearMatch) {
        throw invalidArgument('warm start', 'fingerprint', ref, 'a run with the same entities, relations and shapes');
      }
    } else {
      if (!existsSync(ref) || !statSync(ref).isDirectory())
        throw invalidArgument('warm start', 'ref', ref, 'a checkpoint directory or a 64-hex fingerprint');
      entry = CheckpointStore.open(ref).lookupNear(this.keys.nearMatch);
    }
    if (entry === null) return null;
    this.session.preload(entry);
    const loaded = this.session.tryLoadWithSource();
    const e = loaded?.entry ?? entry;
    return { entry: e, state: decodeTrainerSnapshot(e.payload, this.store.slotPath(e.fingerprint, e.runId)) };
  }

  /**
   * Offer the state after `epochs` epochs; written when the session's rate
   * limit or an improvement allows. `objective`: a finite number (lower is
   * better) or null when none is known.
   */
  checkpoint(state: TrainingState, objective: number | null, epochs: number): boolean {
    checkEpochs('TrainingCheckpointer.checkpoint', state, epochs);
    const wrote = this.session.checkpoint(encodeTrainerSnapshot(state), objective, epochs);
    if (wrote) this.lastWritten = epochs;
    return wrote;
  }

  /** The final entry of the run (always written unless the disk refuses); `objective` as for `checkpoint`. */
  finalize(state: TrainingState, objective: number | null, epochs: number): boolean {
    checkEpochs('TrainingCheckpointer.finalize', state, epochs);
    const wrote = this.session.finalize(encodeTrainerSnapshot(state), objective, epochs);
    if (wrote) this.lastWritten = epochs;
    return wrote;
  }
}

/**
 * The latest entry (most epochs done, then newest) of problem `fingerprint`
 * in `store`, decoded; null when there is none. An entry whose payload is
 * not a training state, or holds another number of epochs than its
 * iteration says, is reported once through the store's warnings and passed
 * over for the next latest: it is never loaded. Safe while another process
 * writes to the store: entries are renamed into place whole, and each is
 * read once. `entries`: the store's entries when the caller has just read
 * them (`store.entries()`, the default).
 */
export function latestTraining(
  store: CheckpointStore,
  fingerprint: string,
  entries: readonly StoreEntry[] = store.entries(),
): LoadedTraining | null {
  const mine = entries.filter((e) => e.fingerprint === fingerprint);
  mine.sort((a, b) => (b.iteration ?? -1) - (a.iteration ?? -1) || b.writtenAt - a.writtenAt);
  for (const entry of mine) {
    const path = store.slotPath(entry.fingerprint, entry.runId);
    let state: TrainingState;
    try {
      state = decodeTrainerSnapshot(entry.payload, path);
    } catch (e) {
      if (!(e instanceof KgError)) throw e;
      store.warnOnce(path, `checkpoint store: skipping ${path}: ${e.message}`);
      continue;
    }
    if (entry.iteration !== null && state.epochs.length !== entry.iteration) {
      store.warnOnce(
        path,
        `checkpoint store: skipping ${path}: its entry says epoch ${entry.iteration}, ` +
          `its training state holds ${state.epochs.length} epochs`,
      );
      continue;
    }
    return { entry, state };
  }
  return null;
}

/** The entry's iteration is the number of epochs its state holds. */
function checkEpochs(where: string, state: TrainingState, epochs: number): void {
  if (epochs !== state.epochs.length)
    throw invalidArgument(where, 'epochs', epochs, `the epochs the state holds (${state.epochs.length})`);
}

/** A digest of a dataset's triples, for the problem key. */
export function tripleDigest(...splits: Int32Array[]): string {
  const h = createHash('sha256');
  for (const s of splits) {
    h.update(String(s.length));
    h.update(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  }
  return h.digest('hex');
}
