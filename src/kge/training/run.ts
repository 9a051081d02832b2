/**
 * A whole training run as one library call, the one `kgshard train`
 * makes: settings resolved and checked (per-model defaults included), the
 * start (fresh, warm or resumed; `start.ts`), epochs with an optional
 * validation schedule and early stopping on valid MRR, checkpoints into a
 * store (objective: -valid MRR when validated, else the training loss),
 * per-relation loss statistics persisted beside the store, a time limit,
 * cancellation by an AbortSignal (after the epoch in progress, with a final
 * checkpoint), then the best tables put back, the final evaluation and the
 * saved embeddings. Everything the run did comes back in one report.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dataset } from '../../data/dataset.js';
import { KgError } from '../../errors.js';
import { Cursor } from '../../shm/cursor.js';
import { RelationStats, StatsPersister } from '../../store/running-stats.js';
import { EarlyStopping } from '../early-stopping.js';
import { saveEmbeddings } from '../embeddings-io.js';
import { flagOf } from '../hyper.js';
import { Trainer, type GrowthEntry, type PsTrainingReport, type ReshardEntry, type TrainOptions } from '../trainer.js';
import { RunEvaluator, outcomeJson, type EvalOutcome } from './evaluation.js';
import {
  hyperParameters,
  resolveTrainOptions,
  validateRunOptions,
  validateTrainOptions,
  type ResolvedRunOptions,
  type TrainingOptions,
} from './options.js';
import { checkStartOptions, startRun, type CheckpointInfo } from './start.js';

export type StopReason = 'epochs' | 'early-stopping' | 'time-limit' | 'interrupt';

/** Said during a run: `nothing-left` when a resumed run holds every epoch already (it only evaluates). */
export interface TrainingNotice {
  readonly kind: 'info' | 'warning' | 'nothing-left';
  readonly message: string;
}

export interface EpochProgress {
  /** Epochs done (1-based count), of `epochs`. */
  readonly done: number;
  readonly epochs: number;
  /** Mean loss per positive of this epoch. */
  readonly loss: number;
  /** Positive triples per second over every epoch so far, and the seconds of training. */
  readonly triplesPerSecond: number;
  readonly trainSeconds: number;
}

export interface ValidationRecord {
  /** Epochs done when validated. */
  readonly epoch: number;
  readonly outcome: EvalOutcome;
  readonly loss: number;
  /** The best validation so far (this one included). */
  readonly best: { readonly epoch: number; readonly mrr: number };
}

/**
 * What the run is doing: `training` from the first epoch until training ends (`trained`), `validating`,
 * `evaluating` (final).
 */
export type TrainingPhase =
  | { readonly kind: 'training' }
  | { readonly kind: 'validating'; readonly epoch: number }
  | { readonly kind: 'trained' }
  | { readonly kind: 'evaluating'; readonly split: 'valid' | 'test'; readonly triples: number }
  | { readonly kind: 'evaluated' };

export interface TrainingHooks {
  /** After every epoch (before its validation). */
  onEpoch?(progress: EpochProgress): void;
  onValidation?(validation: ValidationRecord): void;
  onPhase?(phase: TrainingPhase): void;
  onNotice?(notice: TrainingNotice): void;
  /** Aborted: stop after the epoch in progress (a final checkpoint included), then evaluate and report as usual. */
  readonly signal?: AbortSignal;
}

/** A run's settings, resolved and checked (see `prepareTraining`). */
export interface PreparedTraining {
  readonly options: TrainOptions;
  readonly run: ResolvedRunOptions;
}

/** One epoch of a run, as a report plots it (`TrainingReport.history`). */
export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  /** Mean loss per positive. */
  readonly loss: number;
  /** Positive triples trained, and the seconds the epoch took. */
  readonly positives: number;
  readonly seconds: number;
  /** Restored from the store this run resumed from (its figures below are then null or 0). */
  readonly resumed: boolean;
  /** Mean staleness of the epoch's async pushes; null in sync mode, for a resumed epoch, or without a push. */
  readonly meanStaleness: number | null;
  /** Snapshots of the parameter server taken while the epoch ran (mid-epoch checkpoints, validations). */
  readonly snapshots: number;
  /** Pushes that waited at a shard fenced by a snapshot during the epoch. */
  readonly writerPauses: number;
  /** Checkpoints written during the epoch and at its end (the run's final one included). */
  readonly checkpoints: number;
}

export interface RelationStatsRecord {
  readonly relation: string;
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
}

export interface TrainingReport {
  /** The canonical model name (`transe` is `transe-l1`). */
  readonly model: string;
  /** The resolved settings the run trained with. */
  readonly options: TrainOptions;
  readonly run: ResolvedRunOptions;
  readonly dataset: {
    readonly name: string;
    readonly entities: number;
    readonly relations: number;
    readonly trainTriples: number;
    readonly validTriples: number;
    readonly testTriples: number;
  };
  /** Epochs the tables hold (resumed ones included), of `options.epochs`. */
  readonly epochs: number;
  readonly stoppedBy: StopReason;
  /** A resumed run that held every epoch already: nothing was trained. */
  readonly nothingLeftToTrain: boolean;
  /** The epoch of the tables kept: the best validation's, else the last. */
  readonly bestEpoch: number;
  /** The best validation, or null without validations. */
  readonly best: { readonly epoch: number; readonly mrr: number } | null;
  readonly trainSeconds: number;
  readonly triplesPerSecond: number;
  /** The last epoch's loss, or null when no epoch ran. */
  readonly finalLoss: number | null;
  readonly validations: readonly ValidationRecord[];
  /** Every epoch the tables hold, in order (those of a resumed run's store first). */
  readonly history: readonly EpochRecord[];
  /** The final evaluation on `run.evalSplit`, or null when that split is empty. */
  readonly evaluation: EvalOutcome | null;
  readonly checkpoint: CheckpointInfo;
  /** Per-relation statistics of the per-positive training loss (continued from the store's file on a resume). */
  readonly relationStats: readonly RelationStatsRecord[];
  readonly relationStatsFile: string | null;
  /** The directory the embeddings were saved to, or null. */
  readonly out: string | null;
  /** The tables kept (the best validation's, else the last epoch's). */
  readonly tables: { readonly entities: Float32Array; readonly relations: Float32Array };
  /** What training saw of the parameter server: shards, reads, pushes, staleness, snapshots and writer pauses. */
  readonly ps: PsTrainingReport;
  /** The parameter server's reshards during the run (`reshardAt`), in order. */
  readonly reshards: readonly ReshardEntry[];
  /** The data's growths during the run (`growAt`), in order. */
  readonly growth: readonly GrowthEntry[];
}

/**
 * Resolve and check a run's settings before any work: the Trainer's
 * (`resolveTrainOptions`, `validateTrainOptions`), the run's
 * (`validateRunOptions`), an `out` directory that can be written, and the
 * start options. Errors about an option name it in `details.field`.
 */
export function prepareTraining(options: TrainingOptions): PreparedTraining {
  const o = validateTrainOptions(resolveTrainOptions(options));
  const run = validateRunOptions(options, o.workers);
  if (run.out !== undefined) {
    // Fail before training, not after it, when the output cannot be written.
    const outDir = resolve(run.out);
    try {
      mkdirSync(outDir, { recursive: true });
      accessSync(outDir, constants.W_OK);
    } catch (e) {
      throw new KgError(
        'E_DATASET',
        `train: ${flagOf('out')} ${JSON.stringify(run.out)}: ` +
          `cannot write to ${outDir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        { flag: flagOf('out'), path: outDir },
      );
    }
  }
  checkStartOptions(run);
  return { options: o, run };
}

/**
 * Train on `dataset` as `options` say (unset settings take the model's
 * defaults) and report. Built-in models only (a user-defined model trains
 * with the `Trainer`).
 */
export async function runTraining(
  dataset: Dataset,
  options: TrainingOptions | PreparedTraining,
  hooks: TrainingHooks = {},
): Promise<TrainingReport> {
  const { options: o, run } = isPrepared(options) ? options : prepareTraining(options);
  const notice = (n: TrainingNotice): void => hooks.onNotice?.(n);
  if (run.evalEvery > 0 && dataset.valid.count === 0) {
    throw new KgError(
      'E_INVALID_ARGUMENT',
      `train: ${flagOf('evalEvery')} ${run.evalEvery} needs validation triples, ` +
        `but the valid split of ${dataset.name} is empty`,
      {
        field: 'evalEvery',
        flag: flagOf('evalEvery'),
      },
    );
  }
  if (dataset[run.evalSplit].count === 0)
    notice({ kind: 'info', message: `the ${run.evalSplit} split is empty: no final metrics` });

  const trainer = new Trainer(dataset, o);
  const canonical = trainer.model.name;
  const evaluator = new RunEvaluator(dataset, canonical, o.dim, run.evalWorkers, run.evalEvery > 0);
  // The dataset each table size belongs to: growth (`growAt`) adds entities,
  // and the tables kept for the final evaluation may be from before it.
  const datasets = new Map<number, Dataset>([[dataset.entities.length, dataset]]);
  const evaluateOn = (split: 'valid' | 'test', tables: { entities: Float32Array; relations: Float32Array }) => {
    datasets.set(trainer.dataset.entities.length, trainer.dataset);
    evaluator.setDataset(datasets.get(tables.entities.length / trainer.ps.dim) ?? trainer.dataset);
    return evaluator.evaluate(split, tables);
  };
  try {
    const start = startRun(trainer, run, notice);
    const ckpt = start.checkpointer;
    const resumed = start.resumed;
    // The objective of the state the tables hold: the resumed entry's until
    // this run finishes an epoch (null: none known).
    let lastObjective: number | null = resumed?.objective ?? null;
    // The last checkpointed epoch, in shared memory: any thread holding its
    // handle reads it, and concurrent advances never move it backwards. A
    // resumed run starts from the epoch of the entry it resumed.
    const lastCheckpointed = Cursor.create();
    if (resumed !== null) lastCheckpointed.advance(resumed.epochs);
    // Per-relation statistics of the per-positive training loss, merged from
    // every worker at each epoch end; with a checkpoint store, persisted beside
    // it (at the first epoch end that brings 10,000 or more new samples, and at
    // the end, so the file always holds whole epochs) and continued on the
    // next run. Workers report only at epoch ends: that is the finest grain.
    const statsFile = run.checkpointDir !== undefined ? join(resolve(run.checkpointDir), 'relation-stats.kgs') : null;
    const persister =
      statsFile !== null
        ? new StatsPersister(statsFile, dataset.relations.length, {
            every: 10_000,
            onWarning: (message) => notice({ kind: 'warning', message }),
          })
        : undefined;
    const relationStats = persister?.stats ?? new RelationStats(dataset.relations.length);
    const validations: ValidationRecord[] = [];
    const early = new EarlyStopping(run.patience);
    let stoppedBy: StopReason = 'epochs';

    // Checkpoints while an epoch runs: every `checkpointEverySeconds`, a
    // snapshot shard by shard (the workers keep training) with where each
    // worker is in the epoch, offered to the store like any checkpoint.
    let midEpoch = 0;
    // Per epoch (1-based index): checkpoints written, and what the parameter server saw.
    const checkpointsAt: number[] = [];
    const wrote = (epoch: number): void => {
      checkpointsAt[epoch] = (checkpointsAt[epoch] ?? 0) + 1;
    };
    const psAt = new Map<number, Pick<EpochRecord, 'meanStaleness' | 'snapshots' | 'writerPauses'>>();
    let psBefore = trainer.psTotals();
    const ticker =
      ckpt !== null && run.checkpointEverySeconds > 0
        ? new Ticker(run.checkpointEverySeconds * 1000, async () => {
            const state = await trainer.checkpointState();
            if (state.partial === undefined) return; // between epochs: the epoch end checkpoints
            if (ckpt.checkpoint(state, lastObjective, state.epochs.length)) {
              midEpoch++;
              wrote(state.epochs.length + 1);
            }
          })
        : null;
    hooks.onPhase?.({ kind: 'training' });
    try {
      await trainer.train({
        onEpoch: async (report, t) => {
          const done = report.epoch + 1;
          const psNow = trainer.psTotals();
          const pushes = psNow.pushes - psBefore.pushes;
          psAt.set(done, {
            meanStaleness:
              o.mode === 'async' && pushes > 0 ? (psNow.stalenessSum - psBefore.stalenessSum) / pushes : null,
            snapshots: psNow.snapshots - psBefore.snapshots,
            writerPauses: psNow.writerPauses - psBefore.writerPauses,
          });
          psBefore = psNow;
          hooks.onEpoch?.({
            done,
            epochs: o.epochs,
            loss: report.loss,
            triplesPerSecond: t.triplesPerSecond(),
            trainSeconds: t.trainSeconds,
          });
          if (!Number.isFinite(report.loss)) {
            throw new KgError(
              'E_NON_FINITE',
              `train: the loss of epoch ${done} is ${report.loss}; lower ${flagOf('lr')} or add ${flagOf('reg')}`,
              { epoch: done },
            );
          }
          lastObjective = report.loss;
          // Every worker's part first, then one merge: a write never holds part of an epoch.
          const epochStats = new RelationStats(dataset.relations.length);
          for (const m of t.lastRelationMoments) epochStats.merge(RelationStats.fromMoments(m));
          if (persister !== undefined) persister.merge(epochStats);
          else relationStats.merge(epochStats);
          if (run.evalEvery > 0 && (done % run.evalEvery === 0 || done === o.epochs)) {
            hooks.onPhase?.({ kind: 'validating', epoch: done });
            const tables = t.tables();
            const outcome = await evaluateOn('valid', tables);
            const mrr = outcome.both.mrr;
            lastObjective = -mrr;
            const verdict = early.record(done, mrr, tables);
            const best = early.best()!;
            const v: ValidationRecord = {
              epoch: done,
              outcome,
              loss: report.loss,
              best: { epoch: best.epoch, mrr: best.score },
            };
            validations.push(v);
            hooks.onValidation?.(v);
            if (verdict === 'stop') {
              stoppedBy = 'early-stopping';
              return 'stop';
            }
          }
          if (ckpt !== null && done < o.epochs && ckpt.checkpoint(t.snapshot(), lastObjective, done)) {
            lastCheckpointed.advance(done);
            wrote(done);
          }
          if (hooks.signal?.aborted === true) {
            stoppedBy = 'interrupt';
            return 'stop';
          }
          if (run.maxTrainSeconds > 0 && t.trainSeconds >= run.maxTrainSeconds && done < o.epochs) {
            stoppedBy = 'time-limit';
            return 'stop';
          }
          return undefined;
        },
      });
    } finally {
      await ticker?.stop();
      hooks.onPhase?.({ kind: 'trained' });
    }

    const epochsRun = trainer.epochs.length;
    // The final entry holds the state training stopped in (also when aborted), before the best tables are put back.
    // A resume that trained nothing writes nothing: the entry it resumed from already holds that state.
    const trainedNow = epochsRun - (resumed?.epochs ?? 0);
    if (ckpt !== null && trainedNow > 0 && ckpt.finalize(trainer.snapshot(), lastObjective, epochsRun)) {
      lastCheckpointed.advance(epochsRun);
      wrote(epochsRun);
    }
    try {
      persister?.flush(true);
    } catch (e) {
      // The tables are what the run is for: a statistics file that cannot be written costs a warning, not the run.
      if (!(e instanceof KgError)) throw e;
      notice({ kind: 'warning', message: `relation statistics not saved: ${e.message}` });
    }
    const tables = trainer.tables();
    // Keep the tables of the best validation (training has ended: no thread writes them now).
    early.restoreBest(tables, epochsRun);
    const bestSeen = early.best();
    const best = bestSeen === null ? null : { epoch: bestSeen.epoch, mrr: bestSeen.score };

    let evaluation: EvalOutcome | null = null;
    const split = dataset[run.evalSplit];
    if (split.count > 0) {
      hooks.onPhase?.({ kind: 'evaluating', split: run.evalSplit, triples: split.count });
      try {
        evaluation = await evaluateOn(run.evalSplit, tables);
      } finally {
        hooks.onPhase?.({ kind: 'evaluated' });
      }
    }

    const last = trainer.epochs[trainer.epochs.length - 1];
    const report: TrainingReport = {
      model: canonical,
      options: trainer.options,
      run,
      dataset: {
        name: dataset.name,
        entities: trainer.dataset.entities.length,
        relations: dataset.relations.length,
        trainTriples: trainer.dataset.train.count,
        validTriples: dataset.valid.count,
        testTriples: dataset.test.count,
      },
      epochs: epochsRun,
      stoppedBy,
      nothingLeftToTrain: resumed !== null && resumed.epochs === o.epochs,
      bestEpoch: best !== null ? best.epoch : epochsRun,
      best,
      trainSeconds: trainer.trainSeconds,
      triplesPerSecond: trainer.triplesPerSecond(),
      finalLoss: last ? last.loss : null,
      validations,
      history: trainer.epochs.map((e, k): EpochRecord => {
        const ps = psAt.get(k + 1);
        return {
          epoch: k + 1,
          loss: e.loss,
          positives: e.positives,
          seconds: e.seconds,
          resumed: ps === undefined,
          meanStaleness: ps?.meanStaleness ?? null,
          snapshots: ps?.snapshots ?? 0,
          writerPauses: ps?.writerPauses ?? 0,
          checkpoints: checkpointsAt[k + 1] ?? 0,
        };
      }),
      evaluation,
      checkpoint: {
        dir: ckpt !== null ? resolve(run.checkpointDir!) : null,
        fingerprint: start.fingerprint,
        resumedFrom: resumed?.epochs ?? null,
        warmStartedFrom: start.warmStartedFrom,
        lastEpoch: ckpt !== null && lastCheckpointed.get() > 0 ? lastCheckpointed.get() : null,
        midEpoch,
      },
      ps: trainer.psReport(),
      reshards: [...trainer.reshards],
      growth: [...trainer.growth],
      relationStats: dataset.relations.map((relation, r) => {
        const st = relationStats.get(r);
        return { relation, count: st.count, mean: st.mean, variance: st.variance };
      }),
      relationStatsFile: statsFile,
      out: null,
      tables,
    };
    return run.out === undefined ? report : { ...report, out: save(trainer, report, run.out) };
  } finally {
    await evaluator.close();
  }
}

function isPrepared(o: TrainingOptions | PreparedTraining): o is PreparedTraining {
  return 'run' in o && 'options' in o && typeof o.run === 'object';
}

/** Save the kept tables with the run's configuration; returns the directory. */
function save(trainer: Trainer, report: TrainingReport, out: string): string {
  const o = report.options;
  const shapes = trainer.model.shapes(o.dim);
  const dataset = trainer.dataset;
  const saved = saveEmbeddings(
    out,
    {
      model: report.model,
      dim: o.dim,
      entityWidth: shapes.entityWidth,
      relationWidth: shapes.relationWidth,
      entities: dataset.entities,
      relations: dataset.relations,
      entityTable: report.tables.entities,
      relationTable: report.tables.relations,
    },
    {
      dataset: report.run.datasetRef ?? { name: dataset.name },
      hyper: hyperParameters(o),
      training: {
        epochs: report.epochs,
        epochs_planned: o.epochs,
        best_epoch: report.bestEpoch,
        stopped_by: report.stoppedBy,
        workers: o.workers,
        train_s: report.trainSeconds,
        triples_per_s: report.triplesPerSecond,
        final_loss: report.finalLoss,
      },
      metrics: report.evaluation ? outcomeJson(report.evaluation) : null,
      created: new Date().toISOString(),
    },
  );
  return saved.dir;
}

/**
 * Runs `task` every `periodMs` (real time) until stopped, one run at a time:
 * a run that overlaps the next tick delays it. A failing run is reported by
 * `stop`, which waits for the run in progress.
 */
class Ticker {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private current: Promise<void> | null = null;
  private error: Error | null = null;
  private stopped = false;

  constructor(
    private readonly periodMs: number,
    private readonly task: () => Promise<void>,
  ) {
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.task()
        .catch((e: unknown) => {
          this.error ??= e instanceof Error ? e : new Error(String(e));
        })
        .finally(() => {
          this.current = null;
          this.arm();
        });
    }, this.periodMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.current !== null) await this.current;
    if (this.error !== null) throw this.error;
  }
}
