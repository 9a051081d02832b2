/**
 * Training on all cores in one process: the main thread owns the shared
 * tables (a one-shard parameter server, rows in dataset id order), shuffles
 * the epoch's order of positives into shared memory, and hands each worker
 * of a Piscina pool a contiguous range of it. Workers read and write the
 * tables in place (see train-core.ts for the update modes).
 */
import { Piscina } from 'piscina';
import { invalidArgument, outOfRange } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { ParameterServer } from '../ps/server.js';
import { createModel } from './models/index.js';
import { TrainContext, mulberry32, type TrainHandle, type TrainHyper, type TaskResult, type TrainTask } from './train-core.js';

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

export interface TrainHooks {
  /** After every epoch; return `'stop'` to end training early. */
  onEpoch?(report: EpochReport, trainer: Trainer): Promise<void | 'stop'> | void | 'stop';
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'model'> = {
  dim: 100,
  batch: 1024,
  neg: 64,
  chunk: 64,
  lr: 0.1,
  optimizer: 'adagrad',
  loss: 'logistic',
  margin: 0,
  adversarial: 0,
  reg: 0,
  regKind: 'l2',
  mode: 'async',
  epochs: 10,
  workers: 2,
  seed: 1,
};

export class Trainer {
  readonly options: TrainOptions;
  readonly dataset: Dataset;
  readonly ps: ParameterServer;
  readonly handle: TrainHandle;
  readonly epochs: EpochReport[] = [];
  /** Seconds spent in training epochs (evaluation excluded). */
  trainSeconds = 0;
  positives = 0;
  private pool: Piscina | null = null;
  private local: TrainContext | null = null;

  constructor(dataset: Dataset, options: TrainOptions) {
    this.options = validateTrainOptions(options);
    this.dataset = dataset;
    const o = this.options;
    const model = createModel(o.model);
    const shapes = model.shapes(o.dim);
    this.ps = ParameterServer.create(
      {
        dim: shapes.entityWidth,
        relationDim: shapes.relationWidth,
        numShards: 1,
        strategy: 'range',
        mode: o.mode,
        expectedWorkers: o.mode === 'sync' ? o.workers : 1,
        learningRate: o.lr,
        maxStaleness: 2 ** 31 - 1,
        barrierTimeoutMs: 120_000,
      },
      dataset.entities,
      dataset.relations,
    );
    if (model.initRelation) {
      const rand = mulberry32(o.seed ^ 0x5eed);
      const R = this.ps.relationView();
      for (let r = 0; r < dataset.relations.length; r++) model.initRelation(R, r * shapes.relationWidth, o.dim, rand);
    }
    const n = dataset.train.count;
    const order = new Int32Array(new SharedArrayBuffer(Math.max(4, n * 4)), 0, n);
    this.handle = {
      hyper: o,
      ps: this.ps.handle,
      train: dataset.train.triples,
      order,
      adagrad: new Float32Array(new SharedArrayBuffer(Math.max(4, (dataset.entities.length + dataset.relations.length) * 4))),
      numEntities: dataset.entities.length,
      numRelations: dataset.relations.length,
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
      this.local ??= new TrainContext(this.handle);
      results = tasks.map((t) => this.local!.run(t));
    } else {
      this.pool ??= new Piscina({
        filename: new URL('../../workers/train-task.js', import.meta.url).href,
        minThreads: w,
        maxThreads: w,
        concurrentTasksPerWorker: 1,
        idleTimeout: 60_000,
        workerData: { handle: this.handle },
      });
      results = (await Promise.all(tasks.map((t) => this.pool!.run(t)))) as TaskResult[];
    }
    const seconds = (performance.now() - started) / 1000;
    const positives = results.reduce((s, r) => s + r.positives, 0);
    const loss = results.reduce((s, r) => s + r.loss, 0) / Math.max(1, positives);
    this.trainSeconds += seconds;
    this.positives += positives;
    const report = { epoch, loss, positives, seconds };
    this.epochs.push(report);
    return report;
  }

  /** Positive triples per second over all epochs so far. */
  triplesPerSecond(): number {
    return this.trainSeconds > 0 ? this.positives / this.trainSeconds : 0;
  }

  /** The shared tables (entity rows in dataset id order, relation rows). */
  tables(): { entities: Float32Array; relations: Float32Array } {
    return { entities: this.ps.view(0), relations: this.ps.relationView() };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.destroy();
  }
}

function positiveInt(field: string, v: unknown, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument('train', field, v, 'a positive integer');
  if (v < 1 || v > max) throw outOfRange('train', field, v, 1, max);
}

export function validateTrainOptions(o: TrainOptions): TrainOptions {
  positiveInt('dim', o.dim, 65_536);
  positiveInt('epochs', o.epochs, 1_000_000);
  positiveInt('batch', o.batch, 1 << 20);
  positiveInt('neg', o.neg, 1 << 16);
  positiveInt('chunk', o.chunk, 1 << 16);
  positiveInt('workers', o.workers, 256);
  if (!(typeof o.lr === 'number' && Number.isFinite(o.lr) && o.lr > 0)) throw invalidArgument('train', 'lr', o.lr, 'a finite number > 0');
  if (!(typeof o.margin === 'number' && Number.isFinite(o.margin) && o.margin >= 0)) throw invalidArgument('train', 'margin', o.margin, 'a finite number >= 0');
  if (!(typeof o.reg === 'number' && Number.isFinite(o.reg) && o.reg >= 0)) throw invalidArgument('train', 'reg', o.reg, 'a finite number >= 0');
  if (!(typeof o.adversarial === 'number' && Number.isFinite(o.adversarial) && o.adversarial >= 0)) {
    throw invalidArgument('train', 'adversarial', o.adversarial, 'a finite number >= 0');
  }
  if (o.optimizer !== 'sgd' && o.optimizer !== 'adagrad') throw invalidArgument('train', 'optimizer', o.optimizer, "'sgd' or 'adagrad'");
  if (o.loss !== 'logistic' && o.loss !== 'margin') throw invalidArgument('train', 'loss', o.loss, "'logistic' or 'margin'");
  if (o.regKind !== 'l2' && o.regKind !== 'n3') throw invalidArgument('train', 'regKind', o.regKind, "'l2' or 'n3'");
  if (o.mode !== 'async' && o.mode !== 'sync') throw invalidArgument('train', 'mode', o.mode, "'async' or 'sync'");
  if (o.mode === 'sync' && o.optimizer !== 'sgd') {
    throw invalidArgument('train', 'optimizer', o.optimizer, "'sgd' in sync mode (the parameter server applies averaged gradients with plain SGD)");
  }
  if (!Number.isInteger(o.seed)) throw invalidArgument('train', 'seed', o.seed, 'an integer');
  createModel(o.model).shapes(o.dim);
  return o;
}
