/**
 * Training on all cores in one process: the main thread owns the shared
 * tables (a one-shard parameter server, rows in dataset id order), shuffles
 * the epoch's order of positives into shared memory, and hands each worker
 * of a Piscina pool a contiguous range of it. Workers read and write the
 * tables in place (see train-core.ts for the update modes).
 *
 * The model is a built-in one by name, or a user-defined one (a KgeModel
 * from `defineModel`, passed to the constructor; `options.model` is its
 * name). In-thread training takes the object as it is; a pool's workers
 * cannot receive code, so they load a user-defined model from
 * `options.modelModule`, an ES module whose default export is the model.
 * Options stay plain data either way.
 */
import { Piscina } from 'piscina';
import { invalidArgument } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { ParameterServer } from '../ps/server.js';
import { FilterIndex } from './filter.js';
import { createModel, type KgeModel } from './models/index.js';
import { moduleHref, resolveTrainOptions, validateTrainOptions, type TrainSettings } from './training/options.js';
import {
  TrainContext,
  loadModelModule,
  optimizerStateSize,
  mulberry32,
  type TrainHandle,
  type TrainHyper,
  type TaskResult,
  type TrainTask,
} from './train-core.js';

export { DEFAULT_TRAIN, resolveTrainOptions, validateTrainOptions, type TrainSettings } from './training/options.js';

/**
 * `model` is a built-in model's name (see `createModel`), or the name of the
 * user-defined model given to the `Trainer` constructor. A user-defined
 * model trained in a pool (not `inThread`) also needs `modelModule`: the
 * absolute path or `file:` URL of an ES module whose default export is that
 * model (or a function returning it), which every worker imports.
 */
export interface TrainOptions extends TrainHyper {
  readonly epochs: number;
  /** Worker threads; 1 with `inThread` trains on the calling thread. */
  readonly workers: number;
  readonly seed: number;
  /** Train on the calling thread instead of a pool (one worker; for tests and exact reproducibility). */
  readonly inThread?: boolean;
}

export interface EpochReport {
  readonly epoch: number;
  /** Mean loss per positive over the epoch. */
  readonly loss: number;
  readonly positives: number;
  readonly seconds: number;
}

/** A trainer's resumable state (see `Trainer.snapshot`). */
export interface TrainerSnapshot {
  readonly epochs: EpochReport[];
  readonly positives: number;
  readonly trainSeconds: number;
  readonly entities: Float32Array;
  readonly relations: Float32Array;
  /** Adagrad accumulators (entities then relations; see `optimizerStateSize`); empty under SGD. */
  readonly optimizer: Float32Array;
}

export interface TrainHooks {
  /** After every epoch; return `'stop'` to end training early. */
  onEpoch?(report: EpochReport, trainer: Trainer): Promise<void | 'stop'> | void | 'stop';
}

export class Trainer {
  readonly options: TrainOptions;
  /** The model being trained (this thread's instance). */
  readonly model: KgeModel;
  readonly dataset: Dataset;
  readonly ps: ParameterServer;
  readonly handle: TrainHandle;
  readonly epochs: EpochReport[] = [];
  /** Seconds spent in training epochs (evaluation excluded). */
  trainSeconds = 0;
  positives = 0;
  /**
   * Each worker's per-relation moments of the per-positive loss in the last
   * epoch, packed [count, mean, M2] per relation: merge them exactly (Chan
   * et al.) for the epoch's statistics.
   */
  lastRelationMoments: Float64Array[] = [];
  private pool: Piscina | null = null;
  private local: TrainContext | null = null;

  /**
   * `options`: any setting left unset takes the model's default, as
   * `kgshard train` does (`resolveTrainOptions`; `options.model` defaults
   * to `DEFAULT_MODEL`). `model`: a user-defined model (from `defineModel`)
   * named `options.model`; absent for a built-in model. Every option is
   * checked before anything is allocated; no thread starts before the
   * first pooled epoch.
   */
  constructor(dataset: Dataset, options: TrainSettings, model?: KgeModel) {
    this.options = validateTrainOptions(resolveTrainOptions(options), model);
    if (dataset.train.count === 0) {
      // An epoch of no triples has no loss (and nothing to checkpoint an objective for).
      throw invalidArgument(
        'Trainer',
        'dataset.train.count',
        0,
        `at least 1 (the train split of ${JSON.stringify(dataset.name)} has no triples)`,
      );
    }
    this.dataset = dataset;
    const o = this.options;
    model ??= createModel(o.model);
    this.model = model;
    const shapes = model.shapes(o.dim);
    // Adagrad's accumulators live in shared memory: the trainer's buffer
    // (checkpointed with the tables) is also the server's optimizer state,
    // which sync mode applies at the barrier.
    const optimizerState = new SharedArrayBuffer(
      Math.max(
        4,
        optimizerStateSize(
          o.optimizer,
          dataset.entities.length,
          shapes.entityWidth,
          dataset.relations.length,
          shapes.relationWidth,
        ) * 4,
      ),
    );
    this.ps = ParameterServer.create(
      {
        dim: shapes.entityWidth,
        relationDim: shapes.relationWidth,
        numShards: 1,
        strategy: 'range',
        mode: o.mode,
        expectedWorkers: o.mode === 'sync' ? o.workers : 1,
        learningRate: o.lr,
        optimizer: o.optimizer,
        maxNorm: o.maxNorm ?? 0,
        maxStaleness: 2 ** 31 - 1,
        barrierTimeoutMs: 120_000,
      },
      dataset.entities,
      dataset.relations,
      o.optimizer === 'sgd' ? {} : { optimizerState },
    );
    if (model.initRelation) {
      const rand = mulberry32(o.seed ^ 0x5eed);
      const R = this.ps.relationView();
      for (let r = 0; r < dataset.relations.length; r++) model.initRelation(R, r * shapes.relationWidth, o.dim, rand);
    }
    if (model.initEntity) {
      const rand = mulberry32(o.seed ^ 0xe7717);
      const E = this.ps.view(0);
      for (let e = 0; e < dataset.entities.length; e++) model.initEntity(E, e * shapes.entityWidth, o.dim, rand);
    }
    const n = dataset.train.count;
    const order = new Int32Array(new SharedArrayBuffer(Math.max(4, n * 4)), 0, n);
    // The hyperparameters workers receive: plain data only (no model object).
    const hyper: TrainHyper = {
      model: model.name,
      modelModule: o.modelModule === undefined ? undefined : (moduleHref(o.modelModule) ?? undefined),
      dim: o.dim,
      batch: o.batch,
      neg: o.neg,
      chunk: o.chunk,
      lr: o.lr,
      optimizer: o.optimizer,
      loss: o.loss,
      margin: o.margin,
      adversarial: o.adversarial,
      reg: o.reg,
      regKind: o.regKind,
      mode: o.mode,
      filterNegatives: o.filterNegatives === true,
      maxNorm: o.maxNorm ?? 0,
    };
    this.handle = {
      hyper,
      ps: this.ps.handle,
      train: dataset.train.triples,
      order,
      adagrad: new Float32Array(optimizerState),
      numEntities: dataset.entities.length,
      numRelations: dataset.relations.length,
      filter: o.filterNegatives
        ? FilterIndex.build(dataset.entities.length, dataset.relations.length, [
            { name: 'train', triples: dataset.train.triples },
          ]).handle
        : undefined,
    };
  }

  /** Run `options.epochs` epochs (or until a hook says stop). */
  async train(hooks: TrainHooks = {}): Promise<void> {
    const o = this.options;
    try {
      for (let epoch = this.epochs.length; epoch < o.epochs; epoch++) {
        const report = await this.epoch(epoch);
        if ((await hooks.onEpoch?.(report, this)) === 'stop') break;
      }
    } finally {
      await this.close();
    }
  }

  /** One epoch: shuffle, split among the workers, run, report. */
  async epoch(epoch: number): Promise<EpochReport> {
    const o = this.options;
    const order = this.handle.order;
    const n = order.length;
    const rand = mulberry32((o.seed * 1_000_003 + epoch) >>> 0);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    const w = o.inThread ? 1 : o.workers;
    const share = Math.ceil(n / w);
    const steps = Math.ceil(share / o.batch);
    const tasks: TrainTask[] = [];
    for (let k = 0; k < w; k++) {
      tasks.push({
        epoch,
        start: Math.min(n, k * share),
        end: Math.min(n, (k + 1) * share),
        steps,
        worker: k,
        seed: (o.seed * 7919 + epoch * 104_729 + k * 1_299_709) >>> 0,
      });
    }
    const started = performance.now();
    let results: TaskResult[];
    if (o.inThread) {
      this.local ??= new TrainContext(this.handle, this.model);
      results = tasks.map((t) => this.local!.run(t));
    } else {
      this.pool ??= await this.startPool(w);
      results = (await Promise.all(tasks.map((t) => this.pool!.run(t)))) as TaskResult[];
    }
    const seconds = (performance.now() - started) / 1000;
    const positives = results.reduce((s, r) => s + r.positives, 0);
    const loss = results.reduce((s, r) => s + r.loss, 0) / Math.max(1, positives);
    this.trainSeconds += seconds;
    this.positives += positives;
    const report = { epoch, loss, positives, seconds };
    this.epochs.push(report);
    this.lastRelationMoments = results.map((r) => r.relationMoments);
    return report;
  }

  /**
   * The pool. A model from a module is first imported here and checked (so a
   * wrong export fails on this thread, with a KgError); each worker's entry
   * file then imports the same module before it builds its context.
   */
  private async startPool(threads: number): Promise<Piscina> {
    const href = this.handle.hyper.modelModule;
    if (href !== undefined) {
      const where = `Trainer(${JSON.stringify(this.model.name)})`;
      const m = await loadModelModule(where, href, this.model.name);
      const a = m.shapes(this.options.dim);
      const b = this.model.shapes(this.options.dim);
      if (a.entityWidth !== b.entityWidth || a.relationWidth !== b.relationWidth) {
        throw invalidArgument(
          where,
          'modelModule',
          href,
          `a module exporting the same model (its rows are ${a.entityWidth}/${a.relationWidth} floats wide, ` +
            `not ${b.entityWidth}/${b.relationWidth})`,
        );
      }
    }
    return new Piscina({
      filename: new URL('../../workers/train-task.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      workerData: { handle: this.handle },
    });
  }

  /** Positive triples per second over all epochs so far. */
  triplesPerSecond(): number {
    return this.trainSeconds > 0 ? this.positives / this.trainSeconds : 0;
  }

  /** The shared tables (entity rows in dataset id order, relation rows). */
  tables(): { entities: Float32Array; relations: Float32Array } {
    return { entities: this.ps.view(0), relations: this.ps.relationView() };
  }

  /**
   * Everything a resumed run needs to continue where this one is: the
   * epochs done (with their reports), the entity and relation tables and
   * the optimizer's accumulators, copied. Call between epochs.
   */
  snapshot(): TrainerSnapshot {
    const { entities, relations } = this.tables();
    return {
      epochs: this.epochs.map((e) => ({ ...e })),
      positives: this.positives,
      trainSeconds: this.trainSeconds,
      entities: entities.slice(),
      relations: relations.slice(),
      optimizer: this.handle.adagrad.slice(),
    };
  }

  /**
   * Continue from `snap` (taken by `snapshot` of a run with the same
   * dataset, model and shapes): tables, optimizer state and epoch count are
   * restored, so `train()` runs the remaining epochs. Shapes are checked
   * before anything changes. Call before training.
   */
  restore(snap: TrainerSnapshot): void {
    const { entities, relations } = this.tables();
    const check = (field: string, got: number, want: number): void => {
      if (got !== want)
        throw invalidArgument(
          'Trainer.restore',
          field,
          `${got} values`,
          `${want} values (same dataset, model and dim)`,
        );
    };
    check('entities', snap.entities.length, entities.length);
    check('relations', snap.relations.length, relations.length);
    check('optimizer', snap.optimizer.length, this.handle.adagrad.length);
    if (snap.epochs.length > this.options.epochs) {
      throw invalidArgument(
        'Trainer.restore',
        'epochs',
        snap.epochs.length,
        `at most the run's epochs (${this.options.epochs})`,
      );
    }
    entities.set(snap.entities);
    relations.set(snap.relations);
    this.handle.adagrad.set(snap.optimizer);
    this.epochs.length = 0;
    this.epochs.push(...snap.epochs.map((e) => ({ ...e })));
    this.positives = snap.positives;
    this.trainSeconds = snap.trainSeconds;
  }

  /**
   * Seed this run's tables from another run's (a warm start: same entities,
   * relations and shapes; other hyper-parameters). The optimizer state and
   * epoch count start fresh.
   */
  warmStart(entitiesTable: Float32Array, relationsTable: Float32Array): void {
    const { entities, relations } = this.tables();
    if (entitiesTable.length !== entities.length || relationsTable.length !== relations.length) {
      throw invalidArgument(
        'Trainer.warmStart',
        'tables',
        `${entitiesTable.length} + ${relationsTable.length} values`,
        `${entities.length} + ${relations.length} (same entities, relations and shapes)`,
      );
    }
    entities.set(entitiesTable);
    relations.set(relationsTable);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }
}
