/**
 * Where a training run starts from: fresh tables, embeddings (rows matched
 * by name), another run's near-match in a checkpoint store (a warm start),
 * or the latest entry of this problem in its own store (a resume). Also
 * opens the run's checkpoint store, keyed by the problem: the dataset's
 * content, id maps, model, shapes and hyper-parameters (`hyperParameters`),
 * and writes the run's description beside it (`store/run-description.ts`).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset } from '../../data/dataset.js';
import { KgError } from '../../errors.js';
import type { ProblemDescription } from '../../store/fingerprint.js';
import { writeRunDescription } from '../../store/run-description.js';
import { TrainingCheckpointer, tripleDigest } from '../../store/training-checkpoints.js';
import { MIN_CHECKPOINT_INTERVAL_MS } from '../../store/session.js';
import { alignEmbeddings, isEmbeddingsDir, openEmbeddings } from '../embeddings-io.js';
import { flagOf } from '../hyper.js';
import type { ModelShapes } from '../models/index.js';
import type { Trainer } from '../trainer.js';
import { hyperParameters, type ResolvedRunOptions } from './options.js';
import type { TrainingNotice } from './run.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** The run's checkpoint facts, as the report gives them. */
export interface CheckpointInfo {
  /** The store this run checkpoints into (absolute), or null. */
  readonly dir: string | null;
  /** The problem key of this run in a store, or null without one. */
  readonly fingerprint: string | null;
  /** Epochs held by the entry this run resumed from, or null. */
  readonly resumedFrom: number | null;
  /** The run (fingerprint) or embeddings directory this run warm-started from, or null. */
  readonly warmStartedFrom: string | null;
  /** The last epoch this run's store holds an entry for, or null. */
  readonly lastEpoch: number | null;
  /** Checkpoints written while an epoch ran (`checkpointEverySeconds`). */
  readonly midEpoch: number;
}

export interface RunStart {
  /** The store to write into (null: none). */
  readonly checkpointer: TrainingCheckpointer | null;
  readonly fingerprint: string | null;
  /** The entry resumed from: its epochs and objective. */
  readonly resumed: { readonly epochs: number; readonly objective: number | null } | null;
  readonly warmStartedFrom: string | null;
}

function optionError(
  code: 'E_USAGE' | 'E_INVALID_ARGUMENT',
  message: string,
  field: string,
  extra: Record<string, unknown> = {},
): KgError {
  return new KgError(code, message, { field, flag: flagOf(field), ...extra });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What makes a run the problem it is, the description its checkpoint
 * store's keys are computed from (`problemKeys`): the dataset's triples (a
 * digest), its id maps, the canonical model, the table shapes and the
 * hyper-parameters (`hyperParameters`, by JSON key).
 */
export function problemOf(
  dataset: Dataset,
  model: string,
  shapes: ModelShapes,
  hyper: Readonly<Record<string, string | number | boolean>>,
): ProblemDescription {
  return {
    dataset: tripleDigest(dataset.train.triples, dataset.valid.triples, dataset.test.triples),
    entities: dataset.entities,
    relations: dataset.relations,
    model,
    shapes: {
      entity: [dataset.entities.length, shapes.entityWidth],
      relation: [dataset.relations.length, shapes.relationWidth],
    },
    hyperParameters: hyper,
  };
}

/**
 * The checks of the run's start options that need no dataset: resume needs
 * a store, excludes a warm start, and a warm start names a directory or a
 * fingerprint (with a store). Errors name the option (`details.field`).
 */
export function checkStartOptions(run: ResolvedRunOptions): void {
  const ws = run.warmStart;
  if (run.resume && run.checkpointDir === undefined) {
    throw optionError(
      'E_USAGE',
      `train: ${flagOf('resume')} needs ${flagOf('checkpointDir')} DIR (the store to resume from)`,
      'resume',
    );
  }
  if (run.resume && ws !== undefined) {
    throw optionError(
      'E_USAGE',
      `train: ${flagOf('resume')} and ${flagOf('warmStart')} exclude each other ` +
        '(resume continues this problem; a warm start begins a new one)',
      'warmStart',
    );
  }
  if (typeof ws === 'string' && FINGERPRINT.test(ws) && run.checkpointDir === undefined) {
    throw optionError(
      'E_USAGE',
      `train: ${flagOf('warmStart')} FINGERPRINT needs ${flagOf('checkpointDir')} DIR (the store holding that run)`,
      'warmStart',
    );
  }
  if (typeof ws === 'string' && !FINGERPRINT.test(ws) && !isDirectory(ws)) {
    throw optionError(
      'E_USAGE',
      `train: ${flagOf('warmStart')} ${JSON.stringify(ws)} is neither a checkpoint directory nor a 64-hex fingerprint`,
      'warmStart',
    );
  }
}

/**
 * Put the trainer's tables (and with a resume its optimizer state and
 * epochs) where the run starts, and open the run's store. Call before
 * training.
 */
export function startRun(trainer: Trainer, run: ResolvedRunOptions, notice: (n: TrainingNotice) => void): RunStart {
  const o = trainer.options;
  const dataset = trainer.dataset;
  const canonical = trainer.model.name;
  const shapes = trainer.model.shapes(o.dim);
  // A warm start names a checkpoint store, a fingerprint in one, or a directory of saved or exported
  // embeddings (read here; rows are matched to the dataset by name).
  const named = run.warmStart;
  const ws =
    typeof named === 'string' && isEmbeddingsDir(named) ? { from: named, embeddings: openEmbeddings(named) } : named;
  let warmStartedFrom: string | null = null;
  if (typeof ws === 'object') {
    const emb = ws.embeddings;
    if (emb.entityWidth !== shapes.entityWidth || emb.relationWidth !== shapes.relationWidth) {
      throw new KgError(
        'E_DIM_MISMATCH',
        `train: ${flagOf('warmStart')} ${ws.from}: rows are ${emb.entityWidth}/${emb.relationWidth} wide, ` +
          `${canonical} dim ${o.dim} needs ${shapes.entityWidth}/${shapes.relationWidth}`,
        { flag: flagOf('warmStart') },
      );
    }
    const aligned = alignEmbeddings(emb, dataset.entities, dataset.relations);
    trainer.warmStart(aligned.entityTable, aligned.relationTable);
    notice({ kind: 'info', message: `warm start from the embeddings in ${ws.from}` });
    warmStartedFrom = resolve(ws.from);
  }
  if (run.checkpointDir === undefined && typeof ws !== 'string')
    return { checkpointer: null, fingerprint: null, resumed: null, warmStartedFrom };

  const problem = problemOf(dataset, canonical, shapes, hyperParameters(o));
  const ckpt = TrainingCheckpointer.open({
    dir: run.checkpointDir ?? (ws as string),
    problem,
    onWarning: (message) => notice({ kind: 'warning', message }),
    ...(run.checkpointWrites !== undefined ? { writes: run.checkpointWrites } : {}),
    // Checkpoints asked for every S seconds inside epochs are not held back by the 2 s rate limit when S is shorter.
    ...(run.checkpointEverySeconds > 0
      ? { minIntervalMs: Math.min(MIN_CHECKPOINT_INTERVAL_MS, run.checkpointEverySeconds * 1000) }
      : {}),
  });
  if (run.checkpointDir !== undefined) {
    // What the store's entries of this run mean (model, dim, widths, dataset), for readers of the store such as
    // `kgshard eval --checkpoint-dir`: written once, before the first entry.
    try {
      writeRunDescription(run.checkpointDir, {
        fingerprint: ckpt.keys.problem,
        nearKey: ckpt.keys.nearMatch,
        model: canonical,
        dim: o.dim,
        entityWidth: shapes.entityWidth,
        relationWidth: shapes.relationWidth,
        entities: dataset.entities.length,
        relations: dataset.relations.length,
        trainTriples: dataset.train.count,
        dataset: run.datasetRef ?? { name: dataset.name },
        hyper: problem.hyperParameters,
        epochsPlanned: o.epochs,
        created: new Date().toISOString(),
      });
    } catch (e) {
      if (!(e instanceof KgError) || e.code !== 'E_STORE_WRITE') throw e;
      notice({ kind: 'warning', message: `${e.message}; 'kgshard eval --checkpoint-dir' cannot read this run` });
    }
  }
  let resumed: RunStart['resumed'] = null;
  if (run.resume) {
    const latest = ckpt.latest();
    if (latest === null) notice({ kind: 'info', message: `nothing to resume in ${run.checkpointDir}: starting fresh` });
    else {
      const held = latest.state.epochs.length;
      if (held > o.epochs) {
        throw optionError(
          'E_USAGE',
          `train: ${flagOf('epochs')} ${o.epochs}: the latest checkpoint in ${run.checkpointDir} ` +
            `already holds epoch ${held}; resume with ${flagOf('epochs')} ${held} or more`,
          'epochs',
          { held },
        );
      }
      trainer.restore(latest.state);
      resumed = { epochs: held, objective: latest.entry.objective };
      // Nothing left to train: the run only evaluates (a caller says so even when otherwise quiet).
      if (held === o.epochs)
        notice({
          kind: 'nothing-left',
          message: `nothing left to train: checkpoint holds epoch ${held} of ${o.epochs}`,
        });
      else if (latest.state.partial !== undefined) {
        const p = latest.state.partial;
        notice({
          kind: 'info',
          message:
            `resumed from ${latest.entry.kind} in epoch ${p.epoch + 1} ` +
            `(${p.positives} of ${dataset.train.count} positives trained)`,
        });
      } else notice({ kind: 'info', message: `resumed from ${latest.entry.kind} at epoch ${held}` });
    }
  } else if (typeof ws === 'string') {
    const seed = ckpt.warmStartSeed(ws);
    if (seed === null) notice({ kind: 'info', message: `no near-match to warm-start from in ${ws}: starting fresh` });
    else {
      trainer.warmStart(seed.state.entities, seed.state.relations);
      warmStartedFrom = seed.entry.fingerprint;
      notice({
        kind: 'info',
        message: `warm start from run ${seed.entry.fingerprint.slice(0, 12)} (epoch ${seed.entry.iteration ?? '?'})`,
      });
    }
  }
  // A warm start alone writes no checkpoints.
  return {
    checkpointer: run.checkpointDir === undefined ? null : ckpt,
    fingerprint: ckpt.keys.problem,
    resumed,
    warmStartedFrom,
  };
}
