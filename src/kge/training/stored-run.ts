/**
 * A training run read back from its checkpoint store, while it trains,
 * after it finished or after it was killed: the latest entry of the run
 * (most epochs done, then newest: the entry a resume starts from) with the
 * run's description (`store/run-description.ts`), which says what the
 * tables are (model, dim, row widths) and where the data came from.
 *
 * Reading never changes the store (it is opened read-only) and is safe
 * while the run writes to it: every entry is renamed into place whole by
 * its writer, each entry is read once, and one that does not decode is
 * reported through `onWarning` and passed over for the next latest. The
 * tables of an entry are one point-in-time state of each shard (the
 * trainer's fenced per-shard snapshots).
 */
import { resolve } from 'node:path';
import type { Dataset } from '../../data/dataset.js';
import { KgError, datasetError, dimMismatch, invalidArgument } from '../../errors.js';
import { CheckpointStore, type EntryKind, type StoreEntry } from '../../store/checkpoint-store.js';
import { nearMatchKey, problemKeys } from '../../store/fingerprint.js';
import {
  describedRuns,
  readRunDescription,
  runDescriptionPath,
  type RunDescription,
} from '../../store/run-description.js';
import { latestTraining } from '../../store/training-checkpoints.js';
import { createModel } from '../models/index.js';
import { problemOf } from './start.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;

export interface OpenStoredRunOptions {
  /** The run's problem key; may be left out when the store holds one run only. */
  readonly fingerprint?: string;
  /** Where skipped (damaged) entries are reported; default process.emitWarning. */
  readonly onWarning?: (message: string) => void;
}

/** One run (problem) a store holds: entries, a description, or both. */
export interface StoredRunSummary {
  readonly fingerprint: string;
  /** Entries of the run the store holds (any kind, decodable or not). */
  readonly entries: number;
  /** Its description, or null when it is missing or damaged. */
  readonly description: RunDescription | null;
}

export interface StoredRun {
  /** The store (absolute). */
  readonly dir: string;
  readonly fingerprint: string;
  readonly description: RunDescription;
  readonly descriptionFile: string;
  /** The entry read: its file, the run (process) that wrote it, its kind and time of writing (ms since the epoch). */
  readonly entry: {
    readonly path: string;
    readonly runId: string;
    readonly kind: EntryKind;
    readonly writtenAt: number;
    readonly objective: number | null;
  };
  /** Whole epochs the tables hold. */
  readonly epochs: number;
  /** For an entry written while an epoch ran: that epoch (1-based) and the positives of it trained, of `of`. */
  readonly partial: { readonly epoch: number; readonly positives: number; readonly of: number } | null;
  /** The entry's tables, in the run's id order, in SharedArrayBuffers (worker threads read them in place). */
  readonly tables: { readonly entities: Float32Array; readonly relations: Float32Array };
}

/**
 * One label per run for a list of them: `fp (model dim N on dataset)`, and
 * the hyper-parameters whose values differ between the described runs
 * (`fp (distmult dim 8 on tiny, lr 0.1)`).
 */
export function storedRunLabels(runs: readonly StoredRunSummary[]): string[] {
  const described = runs.flatMap((r) => (r.description === null ? [] : [r.description]));
  const keys = [...new Set(described.flatMap((d) => Object.keys(d.hyper)))].filter(
    (k) => k !== 'dim' && new Set(described.map((d) => String(d.hyper[k]))).size > 1,
  );
  return runs.map(({ fingerprint, description: d }) => {
    if (d === null) return `${fingerprint} (no description)`;
    const differing = keys.map((k) => `, ${k} ${String(d.hyper[k])}`).join('');
    return `${fingerprint} (${d.model} dim ${d.dim} on ${d.dataset.name}${differing})`;
  });
}

function summaries(dir: string, entries: readonly StoreEntry[]): StoredRunSummary[] {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.fingerprint, (counts.get(e.fingerprint) ?? 0) + 1);
  for (const fp of describedRuns(dir)) if (!counts.has(fp)) counts.set(fp, 0);
  return [...counts.keys()]
    .filter((fp) => FINGERPRINT.test(fp))
    .sort()
    .map((fingerprint) => {
      let description: RunDescription | null;
      try {
        description = readRunDescription(dir, fingerprint);
      } catch (e) {
        if (!(e instanceof KgError)) throw e;
        description = null;
      }
      return { fingerprint, entries: counts.get(fingerprint)!, description };
    });
}

/** The store in `dir`, read-only; a missing directory is an error about `dir` (`details.field`). */
function openReadOnly(dir: string, options: Pick<OpenStoredRunOptions, 'onWarning'>): CheckpointStore {
  try {
    return CheckpointStore.open(dir, {
      readOnly: true,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  } catch (e) {
    if (e instanceof KgError && e.code === 'E_DATASET')
      throw new KgError(e.code, e.message, { ...e.details, field: 'dir' });
    throw e;
  }
}

/**
 * The runs the checkpoint store in `dir` holds (by entries or by
 * descriptions), sorted by fingerprint. Throws E_DATASET when `dir` is not
 * a directory.
 */
export function storedRuns(dir: string, options: Pick<OpenStoredRunOptions, 'onWarning'> = {}): StoredRunSummary[] {
  const store = openReadOnly(dir, options);
  return summaries(dir, store.entries());
}

/**
 * The latest entry of one run in the checkpoint store in `dir`, with the
 * run's description, checked against each other. Errors (KgError, one
 * line; `details.field` names the option concerned):
 * - E_DATASET: `dir` is no directory, holds no run, or no loadable entry
 *   of the run yet (field `dir`); the run's description is missing or
 *   damaged (naming the file).
 * - E_USAGE (field `fingerprint`): no fingerprint and several runs in the
 *   store (`details.reason` 'ambiguous', `details.fingerprints`), or a
 *   fingerprint the store holds no run of ('unknown').
 * - E_INVALID_ARGUMENT: a fingerprint that is not 64 lowercase hex digits.
 * - E_DIM_MISMATCH: the description's widths do not fit its model and
 *   dim, or the entry's tables do not fit the description.
 */
export function openStoredRun(dir: string, options: OpenStoredRunOptions = {}): StoredRun {
  const where = 'openStoredRun';
  const wanted = options.fingerprint;
  if (wanted !== undefined && (typeof wanted !== 'string' || !FINGERPRINT.test(wanted)))
    throw invalidArgument(where, 'fingerprint', wanted, '64 lowercase hex digits (a run in the store)');
  const store = openReadOnly(dir, options);
  // One read of every entry: the choice of the run and of its latest entry see the same store.
  const entries = store.entries();
  const runs = summaries(dir, entries);
  if (runs.length === 0)
    throw datasetError(dir, 'holds no training run (no checkpoint entries, no run descriptions)', { field: 'dir' });
  let fingerprint: string;
  if (wanted === undefined) {
    if (runs.length > 1) {
      throw new KgError(
        'E_USAGE',
        `checkpoint store ${dir} holds ${runs.length} runs: ${storedRunLabels(runs).join(', ')}; ` +
          'name one by its fingerprint',
        { field: 'fingerprint', reason: 'ambiguous', fingerprints: runs.map((r) => r.fingerprint) },
      );
    }
    fingerprint = runs[0]!.fingerprint;
  } else {
    if (!runs.some((r) => r.fingerprint === wanted)) {
      throw new KgError(
        'E_USAGE',
        `checkpoint store ${dir} holds no run with fingerprint ${wanted}; it holds ${storedRunLabels(runs).join(', ')}`,
        { field: 'fingerprint', reason: 'unknown', value: wanted, fingerprints: runs.map((r) => r.fingerprint) },
      );
    }
    fingerprint = wanted;
  }

  const descriptionFile = runDescriptionPath(dir, fingerprint);
  const d = readRunDescription(dir, fingerprint);
  let shapes;
  try {
    shapes = createModel(d.model).shapes(d.dim);
  } catch (e) {
    if (!(e instanceof KgError)) throw e;
    throw datasetError(descriptionFile, `model ${JSON.stringify(d.model)} dim ${d.dim}: ${e.message}`);
  }
  if (shapes.entityWidth !== d.entityWidth || shapes.relationWidth !== d.relationWidth) {
    throw new KgError(
      'E_DIM_MISMATCH',
      `${descriptionFile}: rows ${d.entityWidth}/${d.relationWidth} wide, ` +
        `${d.model} dim ${d.dim} has ${shapes.entityWidth}/${shapes.relationWidth}`,
      { path: descriptionFile },
    );
  }

  const latest = latestTraining(store, fingerprint, entries);
  if (latest === null) {
    throw datasetError(dir, `holds no loadable entry of run ${fingerprint} yet`, { field: 'dir', fingerprint });
  }
  const { entry, state } = latest;
  const path = store.slotPath(entry.fingerprint, entry.runId);
  const fit = (field: string, table: Float32Array, rows: number, width: number): void => {
    if (table.length !== rows * width)
      throw dimMismatch(`${path} (described by ${descriptionFile})`, field, rows * width, table.length);
  };
  fit('entity table', state.entities, d.entities, d.entityWidth);
  fit('relation table', state.relations, d.relations, d.relationWidth);
  const p = state.partial;
  return {
    dir: resolve(dir),
    fingerprint,
    description: d,
    descriptionFile,
    entry: { path, runId: entry.runId, kind: entry.kind, writtenAt: entry.writtenAt, objective: entry.objective },
    epochs: state.epochs.length,
    partial: p === undefined ? null : { epoch: p.epoch + 1, positives: p.positives, of: d.trainTriples },
    tables: { entities: shared(state.entities), relations: shared(state.relations) },
  };
}

/**
 * Check that `dataset` is one the stored run's rows line up with: the
 * entity and relation counts of its description, and the same id maps
 * (its near-match key). Throws E_DATASET naming the dataset and the
 * description. Returns notices: one when the triples differ from the ones
 * the run trained on (the same ids, so the evaluation is still sound).
 */
export function checkStoredRunDataset(run: StoredRun, dataset: Dataset): string[] {
  const d = run.description;
  const label = `dataset ${dataset.name}`;
  if (dataset.entities.length !== d.entities || dataset.relations.length !== d.relations) {
    throw datasetError(
      label,
      `${dataset.entities.length} entities and ${dataset.relations.length} relations, but run ` +
        `${run.fingerprint.slice(0, 12)} trained on ${d.entities} and ${d.relations} (${run.descriptionFile})`,
      { field: 'dataset' },
    );
  }
  const shapes = { entityWidth: d.entityWidth, relationWidth: d.relationWidth };
  const problem = problemOf(dataset, d.model, shapes, d.hyper);
  if (nearMatchKey(problem) !== d.nearKey) {
    throw datasetError(
      label,
      `its entity and relation names or their order differ from the ones run ${run.fingerprint.slice(0, 12)} ` +
        `trained on (${run.descriptionFile}): the rows would not line up`,
      { field: 'dataset' },
    );
  }
  if (problemKeys(problem).problem !== run.fingerprint)
    return [`the triples of ${dataset.name} differ from the ones run ${run.fingerprint.slice(0, 12)} trained on`];
  return [];
}

function shared(a: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}
