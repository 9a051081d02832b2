/**
 * `kgshard train`: train embeddings on a dataset with the library's Trainer,
 * optionally validating every N epochs with early stopping on validation
 * MRR, then evaluate on the test split, print the metrics, and save the
 * embeddings with `--out`.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import { KgError } from '../errors.js';
import { alignEmbeddings, saveEmbeddings } from '../kge/embeddings-io.js';
import { isEmbeddingsDir, openEmbeddings } from '../kge/embeddings-io.js';
import { TrainingCheckpointer, tripleDigest } from '../store/training-checkpoints.js';
import { RelationStats, StatsPersister } from '../store/running-stats.js';
import { Cursor } from '../shm/cursor.js';
import { join } from 'node:path';
import { EVAL_TASK_FILENAME } from '../kge/eval.js';
import { FilterIndex } from '../kge/filter.js';
import { createModel, MODEL_NAMES } from '../kge/models/index.js';
import { DEFAULT_TRAIN, Trainer, validateTrainOptions, type TrainOptions } from '../kge/trainer.js';
import { datasetLine, openDataset } from './dataset.js';
import { asUsage, bool, choiceFlag, clock, compact, intFlag, numFlag, parseFlags, str, usage, workersFlag, type FlagSpecs } from './flags.js';
import { evaluateTables, metricsJson, metricsTable, type EvalOutcome } from './metrics.js';
import { StatusLine, TrainProgress } from './progress.js';
import { EarlyStopping } from '../kge/early-stopping.js';
import { DEFAULT_MODEL, MODEL_DEFAULTS } from '../kge/defaults.js';
export { DEFAULT_MODEL, MODEL_DEFAULTS, type ModelDefaults } from '../kge/defaults.js';

const BASE = MODEL_DEFAULTS['complex']!;

const FLAGS: FlagSpecs = {
  dataset: { type: 'string' },
  model: { type: 'string' },
  dim: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  neg: { type: 'string' },
  chunk: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  loss: { type: 'string' },
  margin: { type: 'string' },
  adversarial: { type: 'string' },
  reg: { type: 'string' },
  'reg-kind': { type: 'string' },
  'max-norm': { type: 'string' },
  mode: { type: 'string' },
  workers: { type: 'string' },
  seed: { type: 'string' },
  'eval-every': { type: 'string' },
  patience: { type: 'string' },
  'eval-split': { type: 'string' },
  'eval-workers': { type: 'string' },
  'max-train-s': { type: 'string' },
  out: { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  resume: { type: 'boolean' },
  'warm-start': { type: 'string' },
  rebuild: { type: 'boolean' },
  'filter-negatives': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function defaultsTable(): string {
  const rows = [['model', 'dim', 'epochs', 'lr', 'loss', 'margin', 'adversarial', 'reg', 'reg-kind', 'max-norm']];
  for (const name of ['transe', 'distmult', 'complex', 'rotate']) {
    const d = MODEL_DEFAULTS[name]!;
    const num = (x: number): string => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x));
    rows.push([name, String(d.dim), String(d.epochs), num(d.lr), d.loss, num(d.margin), num(d.adversarial), num(d.reg), d.regKind, num(d.maxNorm)]);
  }
  const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  return rows.map((r) => `  ${r.map((c, k) => c.padEnd(widths[k]!)).join('  ').trimEnd()}`).join('\n');
}

export function trainHelp(): string {
  return `Usage: kgshard train [--dataset wordnet|wordnet-lf|DIR] [--model NAME] [flags]

Train knowledge-graph embeddings on all cores (a Piscina pool over shared
tables), evaluate filtered link prediction on the test split, print the
metrics, and with --out save the embeddings for 'kgshard eval'.

Data and model:
  --dataset NAME|DIR      wordnet: the built-in WordNet graph, WN18RR-style
                          (default); wordnet-lf: its leak-free version; or a
                          directory holding train, valid and test as .tsv/.txt
  --model NAME            ${MODEL_NAMES.join(', ')}
                          (default ${DEFAULT_MODEL}; transe is transe-l1)
  --dim N                 rank: reals per row (TransE, DistMult) or complex
                          coordinates (ComplEx, RotatE)
Training:
  --epochs N              epochs to train (fewer with early stopping)
  --batch N               positives per batch (default ${BASE.batch})
  --neg N                 negatives per positive (default ${BASE.neg})
  --chunk N               positives sharing one set of negatives (default ${BASE.chunk})
  --lr X                  learning rate (default ${BASE.lr})
  --optimizer sgd|adagrad|adagrad-row
                          default ${BASE.optimizer} (in both modes);
                          adagrad is element-wise, adagrad-row keeps one
                          accumulator per row (less memory, learns less)
  --loss logistic|margin  default ${BASE.loss}
  --margin X              logit offset gamma of the logistic loss, or the
                          margin of the ranking loss
  --adversarial X         self-adversarial negative temperature (0 = uniform)
  --filter-negatives      leave out negatives that form a known training triple with their positive
  --reg X                 regularisation weight
  --reg-kind l2|n3        regularisation kind (N3 of ComplEx on complex moduli)
  --max-norm X            after each update, scale entity rows back into the
                          L2 ball of radius X (TransE's constraint; 0 = off)
  --mode async|sync       async: Hogwild updates in place (default); sync:
                          averaged gradients through the parameter server
  --workers N|auto        training threads (default auto = ${availableParallelism()} here)
  --seed N                default ${DEFAULT_TRAIN.seed}
  --max-train-s S         stop after the epoch that passes S seconds of
                          training (default 0: no limit)
Evaluation:
  --eval-every N          validate every N epochs (default 0: never) and stop
                          early when valid MRR has not improved for
                          --patience validations; the best tables are kept
  --patience N            default 3
  --eval-split valid|test the split of the final evaluation (default test)
  --eval-workers N|auto   evaluation threads (default: as --workers)
Checkpoints:
  --checkpoint-dir DIR    checkpoint into this store during training (objective:
                          -valid MRR when validated, else the training loss;
                          at most one non-improving write per 2 s) and write a
                          final entry at the end, Ctrl-C included
  --resume                continue the latest entry of the same problem in
                          --checkpoint-dir (tables, optimizer state, epochs);
                          when it holds every epoch, only evaluate
  --warm-start DIR|FP     start from the best near-match (same entities,
                          relations and shapes) in store DIR, from the run
                          with fingerprint FP in --checkpoint-dir, or from
                          embeddings in DIR (saved by --out or exported by
                          'kgshard export'; rows matched by name)
Output:
  --out DIR               save entities.f32, relations.f32 (float32 LE rows),
                          entities.tsv, relations.tsv (id<TAB>name) and
                          config.json (model, hyper-parameters, metrics)
  --json                  print one JSON object instead of the table
  --rebuild               build the WordNet split anew instead of the cache
  -h, --help              show this help

Per-model defaults (flags override them):
${defaultsTable()}
  every model: batch ${BASE.batch}, neg ${BASE.neg}, chunk ${BASE.chunk}, optimizer ${BASE.optimizer}, loss ${BASE.loss}

On a terminal, stderr shows one progress line (epoch, loss, positive
triples/s, ETA); otherwise training is quiet. Errors are one line on stderr;
a bad flag exits with code 2, any other failure with 1.
`;
}

/** A validation run during training. */
interface Validation {
  readonly epoch: number;
  readonly outcome: EvalOutcome;
}

/** Flags to TrainOptions field names, so library validation errors name the flag. */
const FIELD_FLAGS: Record<string, string> = {
  dim: '--dim',
  epochs: '--epochs',
  batch: '--batch',
  neg: '--neg',
  chunk: '--chunk',
  workers: '--workers',
  lr: '--lr',
  margin: '--margin',
  reg: '--reg',
  adversarial: '--adversarial',
  optimizer: '--optimizer',
  loss: '--loss',
  regKind: '--reg-kind',
  maxNorm: '--max-norm',
  mode: '--mode',
  seed: '--seed',
};

interface TrainPlan {
  readonly options: TrainOptions;
  /** The model name as given (`transe` is `transe-l1`; see `createModel`). */
  readonly model: string;
  readonly datasetSpec: string;
  readonly evalEvery: number;
  readonly patience: number;
  readonly evalSplit: 'valid' | 'test';
  readonly evalWorkers: number;
  readonly maxTrainSeconds: number;
  readonly out: string | undefined;
  readonly checkpointDir: string | undefined;
  readonly resume: boolean;
  readonly warmStart: string | undefined;
  readonly json: boolean;
  readonly rebuild: boolean;
}

/** Read and check every flag; throws usage errors (exit code 2). */
export function planTraining(args: readonly string[]): TrainPlan | 'help' {
  const c = 'train';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) return 'help';
  const model = choiceFlag(c, flags, 'model', MODEL_NAMES, DEFAULT_MODEL as (typeof MODEL_NAMES)[number]);
  const d = MODEL_DEFAULTS[model]!;
  const mode = choiceFlag(c, flags, 'mode', ['async', 'sync'] as const, 'async');
  const workers = workersFlag(c, flags, 'auto');
  const options: TrainOptions = {
    model,
    dim: intFlag(c, flags, 'dim', d.dim, 1, 65_536),
    epochs: intFlag(c, flags, 'epochs', d.epochs, 1, 1_000_000),
    batch: intFlag(c, flags, 'batch', d.batch, 1, 1 << 20),
    neg: intFlag(c, flags, 'neg', d.neg, 1, 1 << 16),
    chunk: intFlag(c, flags, 'chunk', d.chunk, 1, 1 << 16),
    lr: numFlag(c, flags, 'lr', d.lr, 0, true),
    optimizer: choiceFlag(c, flags, 'optimizer', ['sgd', 'adagrad', 'adagrad-row'] as const, d.optimizer),
    loss: choiceFlag(c, flags, 'loss', ['logistic', 'margin'] as const, d.loss),
    margin: numFlag(c, flags, 'margin', d.margin, 0),
    adversarial: numFlag(c, flags, 'adversarial', d.adversarial, 0),
    reg: numFlag(c, flags, 'reg', d.reg, 0),
    regKind: choiceFlag(c, flags, 'reg-kind', ['l2', 'n3'] as const, d.regKind),
    mode,
    workers,
    seed: intFlag(c, flags, 'seed', DEFAULT_TRAIN.seed, -(2 ** 31), 2 ** 31 - 1),
    filterNegatives: bool(flags, 'filter-negatives'),
    maxNorm: numFlag(c, flags, 'max-norm', d.maxNorm, 0),
  };
  try {
    validateTrainOptions(options);
  } catch (e) {
    if (e instanceof KgError) {
      const field = typeof e.details['field'] === 'string' ? e.details['field'] : '';
      const flag = FIELD_FLAGS[field];
      const message = flag ? e.message.replace(`train: ${field} `, `train: ${flag} `) : e.message;
      throw usage(new KgError(e.code, message, { ...e.details, flag }));
    }
    throw e;
  }
  const evalWorkers = workersFlag(c, flags, workers, 'eval-workers');
  return {
    options,
    model,
    datasetSpec: str(flags, 'dataset') ?? 'wordnet',
    evalEvery: intFlag(c, flags, 'eval-every', 0, 0, 1_000_000),
    patience: intFlag(c, flags, 'patience', 3, 1, 1_000_000),
    evalSplit: choiceFlag(c, flags, 'eval-split', ['valid', 'test'] as const, 'test'),
    evalWorkers,
    maxTrainSeconds: numFlag(c, flags, 'max-train-s', 0, 0),
    out: str(flags, 'out'),
    checkpointDir: str(flags, 'checkpoint-dir'),
    resume: bool(flags, 'resume'),
    warmStart: str(flags, 'warm-start'),
    json: bool(flags, 'json'),
    rebuild: bool(flags, 'rebuild'),
  };
}

export async function trainCommand(args: readonly string[]): Promise<number> {
  const plan = asUsage(() => planTraining(args));
  if (plan === 'help') {
    process.stdout.write(trainHelp());
    return 0;
  }
  const o = plan.options;
  const line = new StatusLine(process.stderr);
  if (plan.out !== undefined && plan.out.trim() === '') throw usage(new KgError('E_INVALID_ARGUMENT', 'train: --out must be a directory path, got ""', { flag: '--out' }));

  if (plan.out !== undefined) {
    // Fail before training, not after it, when --out cannot be written.
    const outDir = resolve(plan.out);
    try {
      mkdirSync(outDir, { recursive: true });
      accessSync(outDir, constants.W_OK);
    } catch (e) {
      throw new KgError('E_DATASET', `train: --out ${JSON.stringify(plan.out)}: cannot write to ${outDir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { flag: '--out', path: outDir });
    }
  }
  if (plan.resume && plan.checkpointDir === undefined) {
    throw usage(new KgError('E_USAGE', 'train: --resume needs --checkpoint-dir DIR (the store to resume from)', { flag: '--resume' }));
  }
  if (plan.resume && plan.warmStart !== undefined) {
    throw usage(new KgError('E_USAGE', 'train: --resume and --warm-start exclude each other (resume continues this problem; a warm start begins a new one)', { flag: '--warm-start' }));
  }
  if (plan.warmStart !== undefined && /^[0-9a-f]{64}$/.test(plan.warmStart) && plan.checkpointDir === undefined) {
    throw usage(new KgError('E_USAGE', 'train: --warm-start FINGERPRINT needs --checkpoint-dir DIR (the store holding that run)', { flag: '--warm-start' }));
  }
  if (plan.warmStart !== undefined && !/^[0-9a-f]{64}$/.test(plan.warmStart) && !isDirectory(plan.warmStart)) {
    throw usage(new KgError('E_USAGE', `train: --warm-start ${JSON.stringify(plan.warmStart)} is neither a checkpoint directory nor a 64-hex fingerprint`, { flag: '--warm-start' }));
  }
  const opened = openDataset(plan.datasetSpec, { rebuild: plan.rebuild });
  const dataset = opened.dataset;
  for (const notice of opened.notices) line.note(notice);
  line.note(datasetLine(dataset));
  if (plan.evalEvery > 0 && dataset.valid.count === 0) {
    throw usage(new KgError('E_INVALID_ARGUMENT', `train: --eval-every ${plan.evalEvery} needs validation triples, but the valid split of ${dataset.name} is empty`, { flag: '--eval-every' }));
  }
  if (dataset[plan.evalSplit].count === 0) line.note(`the ${plan.evalSplit} split is empty: no final metrics`);

  const canonical = createModel(plan.model).name;
  // The known true triples, built once for every evaluation of this run; with
  // validations, one evaluation pool for all of them (and the final one).
  let filter: FilterIndex | undefined;
  let evalPool: Piscina | undefined;
  const evaluateOn = async (split: 'valid' | 'test', t: { entities: Float32Array; relations: Float32Array }): Promise<EvalOutcome> => {
    filter ??= FilterIndex.fromDataset(dataset);
    if (evalPool === undefined && plan.evalEvery > 0 && plan.evalWorkers > 1) {
      evalPool = new Piscina({ filename: EVAL_TASK_FILENAME, minThreads: plan.evalWorkers, maxThreads: plan.evalWorkers, idleTimeout: 60_000 });
    }
    return evaluateTables({
      model: canonical, dim: o.dim, entityTable: t.entities, relationTable: t.relations, dataset, split, workers: plan.evalWorkers, filter,
      ...(evalPool ? { pool: evalPool } : {}),
    });
  };
  const trainer = new Trainer(dataset, o);
  // The hyper-parameters that change the result: recorded with saved
  // embeddings and part of the checkpoint problem key.
  const hyper = {
    dim: o.dim, batch: o.batch, neg: o.neg, chunk: o.chunk, lr: o.lr, optimizer: o.optimizer, loss: o.loss,
    margin: o.margin, adversarial: o.adversarial, reg: o.reg, reg_kind: o.regKind, mode: o.mode, seed: o.seed,
    filter_negatives: o.filterNegatives === true,
    max_norm: o.maxNorm ?? 0,
  };
  const ckptInfo = { dir: null as string | null, fingerprint: null as string | null, resumed_from: null as number | null, warm_started_from: null as string | null, last_epoch: null as number | null };
  let ckpt: TrainingCheckpointer | undefined;
  // The entry this run resumed from: its epochs and objective.
  let resumed: { epochs: number; objective: number | null } | null = null;
  const fromEmbeddings = plan.warmStart !== undefined && isEmbeddingsDir(plan.warmStart);
  if (fromEmbeddings) {
    // Warm start from saved or exported embeddings: rows matched by name.
    const emb = openEmbeddings(plan.warmStart!);
    const shapes = trainer.model.shapes(o.dim);
    if (emb.entityWidth !== shapes.entityWidth || emb.relationWidth !== shapes.relationWidth) {
      throw new KgError('E_DIM_MISMATCH', `train: --warm-start ${plan.warmStart}: rows are ${emb.entityWidth}/${emb.relationWidth} wide, ${canonical} dim ${o.dim} needs ${shapes.entityWidth}/${shapes.relationWidth}`, { flag: '--warm-start' });
    }
    const aligned = alignEmbeddings(emb, dataset.entities, dataset.relations);
    trainer.warmStart(aligned.entityTable, aligned.relationTable);
    line.note(`warm start from the embeddings in ${plan.warmStart}`);
  }
  const ckptInfo0 = fromEmbeddings ? resolve(plan.warmStart!) : null;
  if (plan.checkpointDir !== undefined || (plan.warmStart !== undefined && !fromEmbeddings)) {
    const shapes = trainer.model.shapes(o.dim);
    const problem = {
      dataset: tripleDigest(dataset.train.triples, dataset.valid.triples, dataset.test.triples),
      entities: dataset.entities,
      relations: dataset.relations,
      model: canonical,
      shapes: { entity: [dataset.entities.length, shapes.entityWidth], relation: [dataset.relations.length, shapes.relationWidth] },
      hyperParameters: hyper,
    };
    const warn = (m: string): void => line.note(`warning: ${m}`);
    ckpt = TrainingCheckpointer.open({ dir: plan.checkpointDir ?? plan.warmStart!, problem, onWarning: warn });
    ckptInfo.fingerprint = ckpt.keys.problem;
    if (plan.resume) {
      const latest = ckpt.latest();
      if (latest === null) line.note(`nothing to resume in ${plan.checkpointDir}: starting fresh`);
      else {
        const held = latest.state.epochs.length;
        if (held > o.epochs) {
          throw usage(new KgError('E_USAGE', `train: --epochs ${o.epochs}: the latest checkpoint in ${plan.checkpointDir} already holds epoch ${held}; resume with --epochs ${held} or more`, { flag: '--epochs', held }));
        }
        trainer.restore(latest.state);
        resumed = { epochs: held, objective: latest.entry.objective };
        ckptInfo.resumed_from = held;
        if (held === o.epochs) {
          // Nothing left to train: said on stderr even off a terminal, since the run only evaluates.
          line.clear();
          process.stderr.write(`nothing left to train: checkpoint holds epoch ${held} of ${o.epochs}\n`);
        } else line.note(`resumed from ${latest.entry.kind} at epoch ${held}`);
      }
    } else if (plan.warmStart !== undefined && !fromEmbeddings) {
      const seed = ckpt.warmStartSeed(plan.warmStart);
      if (seed === null) line.note(`no near-match to warm-start from in ${plan.warmStart}: starting fresh`);
      else {
        trainer.warmStart(seed.state.entities, seed.state.relations);
        ckptInfo.warm_started_from = seed.entry.fingerprint;
        line.note(`warm start from run ${seed.entry.fingerprint.slice(0, 12)} (epoch ${seed.entry.iteration ?? '?'})`);
      }
    }
    if (plan.checkpointDir === undefined) ckpt = undefined; // warm start only: this run writes no checkpoints
    else ckptInfo.dir = resolve(plan.checkpointDir);
  }
  if (ckptInfo0 !== null) ckptInfo.warm_started_from = ckptInfo0;
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
  const statsFile = plan.checkpointDir !== undefined ? join(resolve(plan.checkpointDir), 'relation-stats.kgs') : undefined;
  const persister = statsFile !== undefined
    ? new StatsPersister(statsFile, dataset.relations.length, { every: 10_000, onWarning: (m) => line.note(`warning: ${m}`) })
    : undefined;
  const relationStats = persister?.stats ?? new RelationStats(dataset.relations.length);
  const progress = new TrainProgress(line, o.epochs);
  const validations: Validation[] = [];
  const early = new EarlyStopping(plan.patience);
  const stop: { by: 'epochs' | 'early-stopping' | 'time-limit' | 'interrupt' } = { by: 'epochs' };
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    progress.note('interrupted: stopping after this epoch (Ctrl-C again to quit now)');
  };
  process.once('SIGINT', onSigint);

  progress.start();
  try {
    await trainer.train({
      onEpoch: async (report, t) => {
        progress.epochDone(report.epoch, report.loss, t.triplesPerSecond(), t.trainSeconds);
        const done = report.epoch + 1;
        if (!Number.isFinite(report.loss)) {
          throw new KgError('E_NON_FINITE', `train: the loss of epoch ${done} is ${report.loss}; lower --lr or add --reg`, { epoch: done });
        }
        lastObjective = report.loss;
        // Every worker's part first, then one merge: a write never holds part of an epoch.
        const epochStats = new RelationStats(dataset.relations.length);
        for (const m of t.lastRelationMoments) epochStats.merge(RelationStats.fromMoments(m));
        if (persister !== undefined) persister.merge(epochStats);
        else relationStats.merge(epochStats);
        if (plan.evalEvery > 0 && (done % plan.evalEvery === 0 || done === o.epochs)) {
          progress.setPhase('validating');
          const tables = t.tables();
          const outcome = await evaluateOn('valid', tables);
          validations.push({ epoch: done, outcome });
          const mrr = outcome.both.mrr;
          lastObjective = -mrr;
          const verdict = early.record(done, mrr, tables);
          const best = early.best()!;
          progress.setPhase('');
          progress.setExtra(`valid MRR ${mrr.toFixed(4)} (best ${best.score.toFixed(4)} @ ${best.epoch})`);
          if (!plan.json) progress.note(`epoch ${done}: loss ${report.loss.toFixed(4)}, valid MRR ${mrr.toFixed(4)}, Hits@10 ${outcome.both.hits10.toFixed(4)}`);
          if (verdict === 'stop') {
            stop.by = 'early-stopping';
            return 'stop';
          }
        }
        if (ckpt !== undefined && done < o.epochs && ckpt.checkpoint(t.snapshot(), lastObjective, done)) lastCheckpointed.advance(done);
        if (interrupted) {
          stop.by = 'interrupt';
          return 'stop';
        }
        if (plan.maxTrainSeconds > 0 && t.trainSeconds >= plan.maxTrainSeconds && done < o.epochs) {
          stop.by = 'time-limit';
          return 'stop';
        }
        return undefined;
      },
    });
  } catch (e) {
    await (evalPool as Piscina | undefined)?.destroy();
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.stop();
  }

  const epochsRun = trainer.epochs.length;
  // The final entry holds the state training stopped in (also on Ctrl-C), before the best tables are put back.
  // A resume that trained nothing writes nothing: the entry it resumed from already holds that state.
  const trainedNow = epochsRun - (resumed?.epochs ?? 0);
  if (ckpt !== undefined && trainedNow > 0 && ckpt.finalize(trainer.snapshot(), lastObjective, epochsRun)) lastCheckpointed.advance(epochsRun);
  if (ckpt !== undefined && lastCheckpointed.get() > 0) ckptInfo.last_epoch = lastCheckpointed.get();
  persister?.flush(true);
  const tables = trainer.tables();
  // Keep the tables of the best validation (training has ended: no thread writes them now).
  early.restoreBest(tables, epochsRun);
  const bestSeen = early.best();
  const kept = bestSeen === null ? null : { epoch: bestSeen.epoch, mrr: bestSeen.score };

  let outcome: EvalOutcome | null = null;
  try {
    if (dataset[plan.evalSplit].count > 0) {
      line.set(`evaluating on ${plan.evalSplit} (${dataset[plan.evalSplit].count.toLocaleString('en-US')} triples)`);
      try {
        outcome = await evaluateOn(plan.evalSplit, tables);
      } finally {
        line.clear();
      }
    }
  } finally {
    await (evalPool as Piscina | undefined)?.destroy();
  }

  const last = trainer.epochs[trainer.epochs.length - 1];
  const summary: Record<string, unknown> = {
    command: 'train',
    model: canonical,
    dataset: dataset.name,
    dataset_source: opened.source,
    entities: dataset.entities.length,
    relations: dataset.relations.length,
    train_triples: dataset.train.count,
    dim: o.dim,
    epochs: epochsRun,
    epochs_planned: o.epochs,
    stopped_by: stop.by,
    best_epoch: kept !== null ? kept.epoch : epochsRun,
    workers: o.workers,
    mode: o.mode,
    batch: o.batch,
    neg: o.neg,
    chunk: o.chunk,
    lr: o.lr,
    optimizer: o.optimizer,
    loss: o.loss,
    margin: o.margin,
    adversarial: o.adversarial,
    reg: o.reg,
    reg_kind: o.regKind,
    seed: o.seed,
    filter_negatives: o.filterNegatives === true,
    max_norm: o.maxNorm ?? 0,
    train_s: trainer.trainSeconds,
    triples_per_s: trainer.triplesPerSecond(),
    final_loss: last ? last.loss : null,
    ...(outcome ? metricsJson(outcome) : { eval_split: plan.evalSplit, eval_triples: 0, eval_s: 0, mrr: null, mr: null, hits1: null, hits3: null, hits10: null }),
    validation: validations.map((v) => ({ epoch: v.epoch, mrr: v.outcome.both.mrr, hits10: v.outcome.both.hits10, eval_s: v.outcome.seconds })),
    notices: opened.notices,
    checkpoint: ckptInfo,
    relation_stats: dataset.relations.map((name, r) => {
      const st = (persister?.stats ?? relationStats).get(r);
      return { relation: name, count: st.count, mean: st.mean, variance: st.variance };
    }),
    relation_stats_file: statsFile ?? null,
    out: null as string | null,
  };

  if (plan.out !== undefined) {
    const shapes = trainer.model.shapes(o.dim);
    const saved = saveEmbeddings(
      plan.out,
      {
        model: canonical, dim: o.dim, entityWidth: shapes.entityWidth, relationWidth: shapes.relationWidth,
        entities: dataset.entities, relations: dataset.relations, entityTable: tables.entities, relationTable: tables.relations,
      },
      {
        dataset: opened.ref,
        hyper,
        training: { epochs: epochsRun, epochs_planned: o.epochs, best_epoch: summary['best_epoch'], stopped_by: stop.by, workers: o.workers, train_s: summary['train_s'], triples_per_s: summary['triples_per_s'], final_loss: summary['final_loss'] },
        metrics: outcome ? metricsJson(outcome) : null,
        created: new Date().toISOString(),
      },
    );
    summary['out'] = saved.dir;
  }

  if (plan.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    `${canonical} dim ${o.dim} on ${datasetLine(dataset)}`,
    `trained ${epochsRun}/${o.epochs} epochs` +
      (stop.by === 'early-stopping' ? ` (early stop; best valid MRR ${kept!.mrr.toFixed(4)} at epoch ${kept!.epoch})`
      : stop.by === 'time-limit' ? ` (time limit ${plan.maxTrainSeconds} s)`
      : stop.by === 'interrupt' ? ' (interrupted)'
      : kept !== null ? ` (best valid MRR ${kept.mrr.toFixed(4)} at epoch ${kept.epoch})` : '') +
      ` on ${o.workers} worker${o.workers === 1 ? '' : 's'} (${o.mode}) in ${clock(trainer.trainSeconds)}: ` +
      `${compact(trainer.triplesPerSecond())} positive triples/s, final loss ${last ? last.loss.toFixed(4) : '-'}`,
    '',
    outcome ? metricsTable(outcome).trimEnd() : `no ${plan.evalSplit} triples: no metrics`,
  ];
  if (summary['out'] !== null) lines.push('', `saved embeddings to ${String(summary['out'])} (${n(dataset.entities.length)} entities, ${n(dataset.relations.length)} relations)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
