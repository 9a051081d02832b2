/**
 * Training on all cores in one process: the main thread owns the shared
 * tables (a parameter server of `shards` entity shards by range of dataset
 * id, relations replicated), shuffles the epoch's order of positives into
 * shared memory, and hands each worker of a Piscina pool a contiguous range
 * of it. Workers read and write the tables through the server's client
 * (see train-core.ts for the update modes).
 *
 * Snapshots: `tables()` and `snapshot()` copy the tables between epochs;
 * `snapshotTables()` and `checkpointState()` copy them while an epoch runs,
 * each shard fenced in turn (`ParameterServer.snapshotInto`), and the
 * latter records where every worker is in the epoch's order, so `restore`
 * continues from that point of the epoch.
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
import { allocate, trainProgressLayout, indexOf } from '../../native-layout/index.js';
import type { Dataset } from '../data/dataset.js';
import { ParameterServer, type SnapshotTarget } from '../ps/server.js';
import { FilterIndex } from './filter.js';
import { setting } from './hyper.js';
import { readExtraTriples } from '../data/extra-triples.js';
import { sharedSplit } from '../data/dataset.js';
import {
  PsFigures,
  addSegments,
  checkPartial,
  type PartialEpoch,
  type PsTotals,
  type PsTrainingReport,
} from './train-figures.js';
import { createModel, type KgeModel } from './models/index.js';
import { moduleHref, resolveTrainOptions, validateTrainOptions, type TrainSettings } from './training/options.js';
import {
  TrainContext,
  loadModelModule,
  mulberry32,
  type TrainData,
  type TrainHandle,
  type TrainHyper,
  type TaskResult,
  type TrainTask,
} from './train-core.js';

export { DEFAULT_TRAIN, resolveTrainOptions, validateTrainOptions, type TrainSettings } from './training/options.js';
export type { PartialEpoch, PsTotals, PsTrainingReport } from './train-figures.js';

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
  /** Entity shards of the parameter server (default: the settings table's). */
  readonly shards?: number;
  /**
   * Reshard the parameter server while training runs: during epoch
   * `epoch` (1-based), move the entity tables onto `shards` shards (in
   * async mode while the workers train; in sync mode before the epoch's
   * steps). See `ParameterServer.reshard`.
   */
  readonly reshardAt?: readonly { readonly epoch: number; readonly shards: number }[];
  /**
   * Grow the training data while the run goes on: at the start of epoch
   * `epoch` (1-based), read the extra train triples in directory `dir`
   * (`train.tsv` or `train.txt`; known relations only), add their new
   * entities to the parameter server (rows initialised as at the start,
   * placed as new chunks while the tables stay live) and train on every
   * triple from that epoch on. Async mode only.
   */
  readonly growAt?: readonly { readonly epoch: number; readonly dir: string }[];
}

/** One growth of a run (`Trainer.growth`). */
export interface GrowthEntry {
  readonly epoch: number;
  readonly dir: string;
  /** Train triples added (duplicates of known train triples left out), and new entities. */
  readonly triples: number;
  readonly newEntities: number;
  /** New chunks, scheduler steps, and the time until every new chunk was placed (ms). */
  readonly chunks: number;
  readonly steps: number;
  readonly placeMs: number;
}

/** One reshard of a run (`Trainer.reshards`). */
export interface ReshardEntry {
  /** The epoch (1-based) it ran in. */
  readonly epoch: number;
  readonly from: number;
  readonly to: number;
  /** Scheduler steps that moved chunks, chunks moved, the longest writer pause (µs). */
  readonly steps: number;
  readonly chunksMoved: number;
  readonly maxWriterPauseUs: number;
  /** All moves' writer pauses together (µs). */
  readonly totalWriterPauseUs: number;
  /** From the start of the reshard until the placement was the ideal one (ms). */
  readonly convergeMs: number;
  /** Old copies still draining when it converged (freed as workers confirm). */
  readonly draining: number;
}

export interface EpochReport {
  readonly epoch: number;
  /**
   * Mean loss per positive over the epoch (over the part trained by this
   * process, for an epoch resumed from a mid-epoch checkpoint).
   */
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
  /** Taken while an epoch ran: that epoch's progress (`epochs` holds the epochs completed before it). */
  readonly partial?: PartialEpoch;
}

export interface TrainHooks {
  /** After every epoch; return `'stop'` to end training early. */
  onEpoch?(report: EpochReport, trainer: Trainer): Promise<void | 'stop'> | void | 'stop';
}

/** Entity shards when `shards` is unset (the settings table's default). */
const DEFAULT_SHARDS = setting('shards').default as number;

export class Trainer {
  readonly options: TrainOptions;
  /** The model being trained (this thread's instance). */
  readonly model: KgeModel;
  /** The dataset trained on: the one given, with the triples and entities added by `growAt` since. */
  dataset: Dataset;
  readonly ps: ParameterServer;
  /** What workers attach to; after growth, its train split, order, entity count and filter are the grown ones. */
  handle: TrainHandle;
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
  /** Each worker's next position in the running epoch (`trainProgressLayout`). */
  private readonly progress: Int32Array;
  /** An epoch to continue from a mid-epoch checkpoint (set by `restore`). */
  private partial: PartialEpoch | null = null;
  /** The epoch running now, for `checkpointState`. */
  private running: {
    readonly epoch: number;
    readonly tasks: TrainTask[];
    readonly started: number;
    /** Positions of the epoch's order each task index stands for (null: the identity). */
    readonly map: Int32Array | null;
    readonly basePositives: number;
    readonly baseSeconds: number;
  } | null = null;
  /** The epoch's full order, kept while the order is compacted for a resumed epoch. */
  private scratchOrder: Int32Array | null = null;
  /** What the workers' tasks and the snapshots saw of the parameter server. */
  private readonly psFigures = new PsFigures();

  /**
   * `options`: any setting left unset takes the model's default, as
   * `kgshard train` does (`resolveTrainOptions`; `options.model` defaults
   * to `DEFAULT_MODEL`). `model`: a user-defined model (from `defineModel`)
   * named `options.model`; absent for a built-in model. Every option is
   * checked before anything is allocated; no thread starts before the
   * first pooled epoch.
   */
  constructor(dataset: Dataset, options: TrainSettings, model?: KgeModel) {
    const resolved = validateTrainOptions(resolveTrainOptions(options), model);
    // Unset, the shard count is the default, but never more than the entities (a tiny graph trains on
    // fewer shards); a count given explicitly is checked below instead.
    this.options =
      resolved.shards === undefined
        ? { ...resolved, shards: Math.min(DEFAULT_SHARDS, Math.max(1, dataset.entities?.length ?? 0)) }
        : resolved;
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
    const shards = o.shards ?? 1;
    const entities = dataset.entities.length;
    if (shards > Math.max(1, entities)) {
      throw invalidArgument('Trainer', 'shards', shards, `at most the entities (${entities})`);
    }
    const plan = o.reshardAt ?? [];
    plan.forEach((r, i) => {
      if (r.epoch > o.epochs)
        throw invalidArgument('Trainer', `reshardAt[${i}].epoch`, r.epoch, `at most the run's epochs (${o.epochs})`);
      if (r.shards > Math.max(1, entities))
        throw invalidArgument('Trainer', `reshardAt[${i}].shards`, r.shards, `at most the entities (${entities})`);
    });
    this.reshardPlan = plan;
    const grow = o.growAt ?? [];
    grow.forEach((g, i) => {
      if (g.epoch > o.epochs)
        throw invalidArgument('Trainer', `growAt[${i}].epoch`, g.epoch, `at most the run's epochs (${o.epochs})`);
    });
    if (grow.length > 0 && o.mode === 'sync')
      throw invalidArgument('Trainer', 'growAt', 'sync', "mode 'async' (sync steps size their buffers once)");
    // Regions for the most shards the run uses; each with room for twice its
    // share at the fewest shards (old copies drain while new ones arrive).
    const counts = [shards, ...plan.map((r) => r.shards)];
    const regions = Math.max(...counts);
    const chunkRows = Math.min(1024, Math.max(16, 2 ** Math.floor(Math.log2(Math.max(1, entities / 64)))));
    // Growth: room for the extra triples' new entities (read and checked now, before any work).
    const grownEntities = grow.reduce((n, g) => n + readExtraTriples(g.dir, dataset).newEntities.length, 0);
    const total = entities + grownEntities;
    const capacity =
      plan.length === 0 && grow.length === 0
        ? 0
        : Math.min(total, 2 * Math.ceil(total / Math.min(...counts)) + 2 * chunkRows);
    this.ps = ParameterServer.create(
      {
        dim: shapes.entityWidth,
        relationDim: shapes.relationWidth,
        numShards: regions,
        activeShards: shards,
        shardCapacityRows: capacity,
        entityCapacity: total,
        chunkRows,
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
      // Adagrad's accumulators live in the server's shared memory (beside
      // each table's rows, where the update kernels reach them); checkpoints
      // copy them out with the tables.
      {},
    );
    if (model.initRelation) {
      const rand = mulberry32(o.seed ^ 0x5eed);
      const R = this.ps.relationView();
      for (let r = 0; r < dataset.relations.length; r++) model.initRelation(R, r * shapes.relationWidth, o.dim, rand);
    }
    if (model.initEntity) {
      const rand = mulberry32(o.seed ^ 0xe7717);
      const t = this.tablesTarget(false);
      this.ps.copyInto(t);
      for (let e = 0; e < dataset.entities.length; e++)
        model.initEntity(t.entities, e * shapes.entityWidth, o.dim, rand);
      this.ps.overwrite(t);
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
      dataPath: o.dataPath ?? 'ps',
      kernels: o.kernels ?? 'auto',
    };
    const threads = o.inThread ? 1 : o.workers;
    const progressLayout = trainProgressLayout(threads);
    const progress = allocate(progressLayout);
    new Uint32Array(progress)[indexOf(progressLayout, 'workers')] = threads;
    this.progress = new Int32Array(progress, indexOf(progressLayout, 'position') * 4, threads);
    this.handle = {
      hyper,
      ps: this.ps.handle,
      train: dataset.train.triples,
      order,
      numEntities: dataset.entities.length,
      numRelations: dataset.relations.length,
      filter: o.filterNegatives
        ? FilterIndex.build(dataset.entities.length, dataset.relations.length, [
            { name: 'train', triples: dataset.train.triples },
          ]).handle
        : undefined,
      progress,
    };
  }

  /** Run `options.epochs` epochs (or until a hook says stop). */
  /** The reshards this run made, in order. */
  readonly reshards: ReshardEntry[] = [];
  /** The growths of this run, in order. */
  readonly growth: GrowthEntry[] = [];
  /** The grown data workers switch to (sent with every task once the data grew). */
  private grownData: TrainData | undefined;

  /** Grow the data as `growAt` says for `epoch` (0-based), before its tasks start. */
  private async growFor(epoch: number): Promise<void> {
    for (const g of this.options.growAt ?? []) {
      if (g.epoch !== epoch + 1) continue;
      const d = this.dataset;
      const extra = readExtraTriples(g.dir, d);
      const r = extra.newEntities.length > 0 ? await this.ps.addEntities(extra.newEntities) : null;
      const shapes = this.model.shapes(this.options.dim);
      const w = shapes.entityWidth;
      if (r !== null && this.model.initEntity) {
        // The model's own initial rows for the new entities, as it started the others.
        const rand = mulberry32((this.options.seed ^ 0xe7717) + epoch);
        const row = new Float32Array(w);
        for (let i = 0; i < r.entities; i++) {
          const { shard, row: at } = this.ps.locateIndex(r.firstEntity + i);
          this.model.initEntity(row, 0, this.options.dim, rand);
          this.ps.view(shard).set(row, at * w);
        }
      }
      const values = new Int32Array(d.train.triples.length + extra.triples.length);
      values.set(d.train.triples);
      values.set(extra.triples, d.train.triples.length);
      const train = sharedSplit(values);
      const entities = [...d.entities, ...extra.newEntities];
      this.dataset = { ...d, entities, train };
      const order = new Int32Array(new SharedArrayBuffer(Math.max(4, train.count * 4)), 0, train.count);
      const filter = this.options.filterNegatives
        ? FilterIndex.build(entities.length, d.relations.length, [{ name: 'train', triples: train.triples }]).handle
        : undefined;
      this.grownData = { train: train.triples, order, numEntities: entities.length, filter };
      this.handle = { ...this.handle, ...this.grownData };
      this.scratchOrder = null;
      this.growth.push({
        epoch: g.epoch,
        dir: g.dir,
        triples: extra.triples.length / 3,
        newEntities: extra.newEntities.length,
        chunks: r?.chunks ?? 0,
        steps: r?.steps ?? 0,
        placeMs: r?.placeMs ?? 0,
      });
    }
  }
  private readonly reshardPlan: readonly { readonly epoch: number; readonly shards: number }[];

  /** Run the reshard planned for `epoch` (0-based), if any, and record it. */
  private async reshardFor(epoch: number): Promise<void> {
    for (const r of this.reshardPlan) {
      if (r.epoch !== epoch + 1) continue;
      // Sync mode reshards before the epoch's steps: no worker is in a step.
      const rep = await this.ps.reshard(r.shards, { quiescent: this.options.mode === 'sync' });
      this.reshards.push({
        epoch: r.epoch,
        from: rep.from,
        to: rep.to,
        steps: rep.steps,
        chunksMoved: rep.chunksMoved,
        maxWriterPauseUs: rep.maxWriterPauseUs,
        totalWriterPauseUs: rep.totalWriterPauseUs,
        convergeMs: rep.convergeMs,
        draining: rep.draining,
      });
    }
  }

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

  /**
   * One epoch: shuffle, split among the workers, run, report. An epoch
   * resumed from a mid-epoch checkpoint trains only the positions it had
   * not trained (compacted to the front of the order, then split).
   */
  async epoch(epoch: number): Promise<EpochReport> {
    const o = this.options;
    await this.growFor(epoch);
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
    let active = n;
    let map: Int32Array | null = null;
    let basePositives = 0;
    let baseSeconds = 0;
    const partial = this.partial;
    this.partial = null;
    if (partial !== null && partial.epoch === epoch) {
      const full = (this.scratchOrder ??= new Int32Array(n));
      full.set(order);
      map = new Int32Array(n);
      active = 0;
      for (let s = 0; s < partial.remaining.length; s += 2) {
        for (let p = partial.remaining[s]!; p < partial.remaining[s + 1]!; p++) {
          order[active] = full[p]!;
          map[active++] = p;
        }
      }
      basePositives = partial.positives;
      baseSeconds = partial.seconds;
    }
    const w = o.inThread ? 1 : o.workers;
    const share = Math.ceil(active / w);
    const steps = Math.ceil(share / o.batch);
    const tasks: TrainTask[] = [];
    for (let k = 0; k < w; k++) {
      tasks.push({
        epoch,
        start: Math.min(active, k * share),
        end: Math.min(active, (k + 1) * share),
        steps,
        worker: k,
        seed:
          (o.seed * 7919 + epoch * 104_729 + k * 1_299_709 + (map === null ? 0 : 0x9e37 * (basePositives + 1))) >>> 0,
        ...(this.grownData === undefined ? {} : { data: this.grownData }),
      });
    }
    for (const t of tasks) Atomics.store(this.progress, t.worker, t.start);
    const started = performance.now();
    this.running = { epoch, tasks, started, map, basePositives, baseSeconds };
    let results: TaskResult[];
    try {
      if (o.inThread) {
        await this.reshardFor(epoch);
        this.local ??= new TrainContext(this.handle, this.model);
        results = tasks.map((t) => this.local!.run(t));
      } else {
        this.pool ??= await this.startPool(w);
        if (o.mode === 'sync') await this.reshardFor(epoch);
        const running = Promise.all(tasks.map((t) => this.pool!.run(t)));
        // Async (Hogwild): the chunks move while the workers train.
        const moving = o.mode === 'sync' ? Promise.resolve() : this.reshardFor(epoch);
        const [done] = await Promise.all([running, moving]);
        results = done as TaskResult[];
      }
    } finally {
      this.running = null;
    }
    const seconds = (performance.now() - started) / 1000;
    const trained = results.reduce((s, r) => s + r.positives, 0);
    const loss = results.reduce((s, r) => s + r.loss, 0) / Math.max(1, trained);
    this.trainSeconds += seconds;
    this.positives += trained;
    const report = { epoch, loss, positives: basePositives + trained, seconds: baseSeconds + seconds };
    this.epochs.push(report);
    this.lastRelationMoments = results.map((r) => r.relationMoments);
    for (const r of results) this.psFigures.addTask(r);
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

  /**
   * Positives trained so far in the epoch running now (those of its resumed
   * part included), or null between epochs. Any time; reads the workers'
   * progress words.
   */
  epochProgress(): number | null {
    const r = this.running;
    if (r === null) return null;
    let done = r.basePositives;
    for (const t of r.tasks) done += Math.max(0, Math.min(t.end, Atomics.load(this.progress, t.worker)) - t.start);
    return done;
  }

  /** Positive triples per second over all epochs so far. */
  triplesPerSecond(): number {
    return this.trainSeconds > 0 ? this.positives / this.trainSeconds : 0;
  }

  /**
   * A copy of the tables (entity rows in dataset id order, relation rows),
   * exact between epochs (no worker writes then). While an epoch runs, use
   * `snapshotTables`.
   */
  tables(): { entities: Float32Array; relations: Float32Array } {
    const t = this.tablesTarget(false);
    this.ps.copyInto(t);
    return { entities: t.entities, relations: t.relations };
  }

  /**
   * A point-in-time copy of the tables at any moment, also while an epoch
   * runs: each shard (then the relation table) is fenced in turn while it
   * is copied, so no row is half-updated and every push is wholly in or out.
   */
  async snapshotTables(): Promise<{ entities: Float32Array; relations: Float32Array }> {
    const t = this.tablesTarget(false);
    this.psFigures.addSnapshot(await this.ps.snapshotInto(t));
    return { entities: t.entities, relations: t.relations };
  }

  /**
   * Everything a resumed run needs to continue where this one is: the
   * epochs done (with their reports), the entity and relation tables and
   * the optimizer's accumulators, copied. Call between epochs (see
   * `checkpointState` for a copy while an epoch runs).
   */
  snapshot(): TrainerSnapshot {
    const t = this.tablesTarget(true);
    this.ps.copyInto(t);
    return this.snapshotOf(t, undefined);
  }

  /**
   * `snapshot` at any moment. While an epoch runs, each worker's position in
   * the epoch's order is read first, then the tables are copied shard by
   * shard (`snapshotTables`), so every positive before those positions is in
   * the copy; the snapshot's `partial` says which positions remain. Training
   * does not stop: a writer waits only while the shard it pushes to is copied.
   */
  async checkpointState(): Promise<TrainerSnapshot> {
    const running = this.running;
    const positions = running?.tasks.map((t) => Atomics.load(this.progress, t.worker)) ?? [];
    const t = this.tablesTarget(true);
    this.psFigures.addSnapshot(await this.ps.snapshotInto(t));
    if (running === null) return this.snapshotOf(t, undefined);
    const remaining: number[] = [];
    let done = 0;
    running.tasks.forEach((task, k) => {
      const from = Math.max(task.start, Math.min(task.end, positions[k]!));
      done += from - task.start;
      addSegments(remaining, running.map, from, task.end);
    });
    return this.snapshotOf(t, {
      epoch: running.epoch,
      remaining,
      positives: running.basePositives + done,
      seconds: running.baseSeconds + (performance.now() - running.started) / 1000,
    });
  }

  /**
   * Continue from `snap` (taken by `snapshot` or `checkpointState` of a run
   * with the same dataset, model and shapes): tables, optimizer state and
   * epoch count are restored, so `train()` runs the remaining epochs (the
   * rest of a partial epoch first). Shapes are checked before anything
   * changes. Call before training.
   */
  restore(snap: TrainerSnapshot): void {
    const e = this.dataset.entities.length * this.ps.dim;
    const r = this.dataset.relations.length * this.ps.relationDim;
    const check = (field: string, got: number, want: number): void => {
      if (got !== want)
        throw invalidArgument(
          'Trainer.restore',
          field,
          `${got} values`,
          `${want} values (same dataset, model and dim)`,
        );
    };
    check('entities', snap.entities.length, e);
    check('relations', snap.relations.length, r);
    // Under SGD there is no state to restore (older checkpoints hold one unused float).
    if (this.options.optimizer !== 'sgd') check('optimizer', snap.optimizer.length, this.ps.optimizerStateFloats());
    if (snap.epochs.length > this.options.epochs) {
      throw invalidArgument(
        'Trainer.restore',
        'epochs',
        snap.epochs.length,
        `at most the run's epochs (${this.options.epochs})`,
      );
    }
    const p = snap.partial;
    if (p !== undefined) checkPartial(p, snap.epochs.length, this.dataset.train.count);
    this.ps.overwrite({
      entities: snap.entities,
      relations: snap.relations,
      ...(this.options.optimizer === 'sgd' ? {} : { optimizer: snap.optimizer }),
    });
    this.epochs.length = 0;
    this.epochs.push(...snap.epochs.map((x) => ({ ...x })));
    this.positives = snap.positives;
    this.trainSeconds = snap.trainSeconds;
    this.partial = p === undefined ? null : { ...p, remaining: [...p.remaining] };
  }

  /**
   * Seed this run's tables from another run's (a warm start: same entities,
   * relations and shapes; other hyper-parameters). The optimizer state and
   * epoch count start fresh.
   */
  warmStart(entitiesTable: Float32Array, relationsTable: Float32Array): void {
    const e = this.dataset.entities.length * this.ps.dim;
    const r = this.dataset.relations.length * this.ps.relationDim;
    if (entitiesTable.length !== e || relationsTable.length !== r) {
      throw invalidArgument(
        'Trainer.warmStart',
        'tables',
        `${entitiesTable.length} + ${relationsTable.length} values`,
        `${e} + ${r} (same entities, relations and shapes)`,
      );
    }
    this.ps.overwrite({ entities: entitiesTable, relations: relationsTable });
  }

  /** What training has seen of the parameter server so far. */
  psReport(): PsTrainingReport {
    return this.psFigures.report(this.ps, this.options.mode);
  }

  /** The running totals behind `psReport` (no percentiles: cheap after every epoch). */
  psTotals(): PsTotals {
    return this.psFigures.totals();
  }

  /**
   * Where tables (and, with `optimizer`, the optimizer state in the server's
   * layout) are copied to: shared memory, so evaluation workers read the
   * copy in place.
   */
  private tablesTarget(optimizer: boolean): SnapshotTarget {
    const shared = (floats: number): Float32Array =>
      new Float32Array(new SharedArrayBuffer(Math.max(4, floats * 4)), 0, floats);
    const e = shared(this.dataset.entities.length * this.ps.dim);
    const r = shared(this.dataset.relations.length * this.ps.relationDim);
    if (!optimizer || this.options.optimizer === 'sgd') return { entities: e, relations: r };
    return { entities: e, relations: r, optimizer: new Float32Array(this.ps.optimizerStateFloats()) };
  }

  private snapshotOf(t: SnapshotTarget, partial: PartialEpoch | undefined): TrainerSnapshot {
    return {
      epochs: this.epochs.map((e) => ({ ...e })),
      positives: this.positives,
      trainSeconds: this.trainSeconds,
      entities: t.entities,
      relations: t.relations,
      // Under SGD there is no optimizer state.
      optimizer: t.optimizer ?? new Float32Array(0),
      ...(partial === undefined ? {} : { partial }),
    };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }
}
