/**
 * Training options from the settings table (`hyper.ts`): defaults filled in
 * per model (`resolveTrainOptions`), every field checked
 * (`validateTrainOptions`, `validateRunOptions`), and the records derived
 * from the options: the hyper-parameters of a problem's fingerprint and of
 * saved embeddings (`hyperParameters`) and the settings of a JSON summary
 * (`settingsJson`).
 */
import { simdTrainBlocker } from '../wasm/train-kernels.js';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KgError, invalidArgument, outOfRange } from '../../errors.js';
import { writeBreakerOptions } from '../../store/checkpoint-store.js';
import type { CheckpointWriteOptions } from '../../store/training-checkpoints.js';
import { DEFAULT_MODEL, MODEL_DEFAULTS } from '../defaults.js';
import type { Embeddings } from '../embeddings-io.js';
import { BASE_DEFAULTS, SETTINGS, type Setting } from '../hyper.js';
import { ComplEx, DistMult, MODEL_NAMES, RotatE, TransE, createModel, type KgeModel } from '../models/index.js';
import { isKgeModel } from '../train-core.js';
import type { TrainOptions } from '../trainer.js';

/** Training options with any field left unset: `resolveTrainOptions` fills them in. */
export type TrainSettings = { readonly [K in keyof TrainOptions]?: TrainOptions[K] | undefined };

const HYPER = SETTINGS.filter((s) => s.scope === 'hyper');
const RUN = SETTINGS.filter((s) => s.scope === 'run');

/**
 * The base defaults (before any model's): every setting of the table but
 * the model. A library user can start from them; `resolveTrainOptions`
 * gives the model's own defaults instead.
 */
export const DEFAULT_TRAIN: Omit<TrainOptions, 'model'> = {
  ...BASE_DEFAULTS,
  workers: availableParallelism(),
};

/**
 * `options` with every unset setting given its default: the model's
 * (`MODEL_DEFAULTS`) where it has one, else the base default; the model
 * `DEFAULT_MODEL` and the threads `os.availableParallelism()`. The shard
 * count stays unset: its default depends on the dataset (the `Trainer`
 * never makes more shards than entities). Fields that
 * are set are kept as they are (checked by `validateTrainOptions`).
 */
export function resolveTrainOptions(options: TrainSettings): TrainOptions {
  if (options === null || typeof options !== 'object') return options;
  const model = options.model ?? DEFAULT_MODEL;
  const own =
    typeof model === 'string' && Object.hasOwn(MODEL_DEFAULTS, model)
      ? (MODEL_DEFAULTS[model] as unknown as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = { ...options, model };
  for (const s of HYPER) {
    // The shard count's default depends on the dataset (never more shards than entities): the Trainer sets it.
    if (out[s.name] !== undefined || s.name === 'shards') continue;
    out[s.name] = s.type === 'threads' ? availableParallelism() : (own[s.name] ?? s.default);
  }
  return out as unknown as TrainOptions;
}

/** "'a', 'b' or 'c'" */
function quotedChoices(choices: readonly string[]): string {
  const q = choices.map((c) => `'${c}'`);
  return q.length > 1 ? `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}` : q.join('');
}

/** Check `value` against its row of the table; throws a KgError naming the field and the value. */
export function checkSetting(where: string, s: Setting, value: unknown): void {
  const v = value;
  switch (s.type) {
    case 'int':
    case 'threads': {
      const min = s.type === 'threads' ? 1 : s.min!;
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw invalidArgument(
          where,
          s.name,
          v,
          min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : 'an integer',
        );
      }
      if (s.rangeOnFlagOnly !== true && (v < min || v > s.max!)) throw outOfRange(where, s.name, v, min, s.max!);
      return;
    }
    case 'number': {
      const min = s.min!;
      if (!(typeof v === 'number' && Number.isFinite(v) && (s.minExclusive ? v > min : v >= min))) {
        throw invalidArgument(
          where,
          s.name,
          v,
          `a finite number ${s.minExclusive ? '>' : '>='} ${min}${s.note ? ` ${s.note}` : ''}`,
        );
      }
      return;
    }
    case 'choice':
      if (!s.choices!.includes(v as string)) throw invalidArgument(where, s.name, v, quotedChoices(s.choices!));
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw invalidArgument(where, s.name, v, 'a boolean');
      return;
    case 'path':
      if (typeof v !== 'string' || v.trim() === '')
        throw invalidArgument(
          where,
          s.name,
          v,
          s.name === 'warmStart' ? 'a directory path or a 64-hex fingerprint' : 'a directory path',
        );
      return;
    case 'model':
      return; // checked with the model object, in validateTrainOptions
    case 'schedule': {
      if (!Array.isArray(v)) throw invalidArgument(where, s.name, v, `an array of { epoch, ${s.schedule!.key} }`);
      const key = s.schedule!.key;
      v.forEach((e: unknown, i) => {
        const x = e as Record<string, unknown> | null;
        if (x === null || typeof x !== 'object' || !Number.isInteger(x.epoch) || (x.epoch as number) < 1)
          throw invalidArgument(where, `${s.name}[${i}].epoch`, x?.epoch, 'an integer >= 1');
        const val = x[key];
        if (s.schedule!.value === 'path') {
          if (typeof val !== 'string' || val.trim() === '')
            throw invalidArgument(where, `${s.name}[${i}].${key}`, val, 'a directory path');
        } else if (!Number.isInteger(val) || (val as number) < s.min! || (val as number) > s.max!)
          throw outOfRange(where, `${s.name}[${i}].${key}`, val, s.min!, s.max!);
      });
      return;
    }
  }
}

/** A built-in model object: `createModel(model.name)` rebuilds it in a worker. */
function isBuiltIn(model: KgeModel): boolean {
  return model instanceof TransE || model instanceof DistMult || model instanceof ComplEx || model instanceof RotatE;
}

/** A model module's URL: an absolute path or a `file:` URL, as a `file:` URL string; null if it is neither. */
export function moduleHref(v: string): string | null {
  if (isAbsolute(v)) return pathToFileURL(v).href;
  try {
    const u = new URL(v);
    return u.protocol === 'file:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * Check every option (throwing a KgError that names the field and the
 * value) before anything is allocated or started; returns `o` itself.
 * `model` is the user-defined model the Trainer is given, if any.
 */
export function validateTrainOptions(o: TrainOptions, model?: KgeModel): TrainOptions {
  if (o === null || typeof o !== 'object') throw invalidArgument('train', 'options', o, 'an object');
  const fields = o as unknown as Record<string, unknown>;
  for (const s of HYPER) {
    const v = fields[s.name];
    if (v === undefined && s.optional === true) continue;
    checkSetting('train', s, v);
  }
  if (o.inThread !== undefined && typeof o.inThread !== 'boolean')
    throw invalidArgument('train', 'inThread', o.inThread, 'a boolean or undefined');
  if (o.inThread === true && o.mode === 'sync') {
    throw invalidArgument(
      'train',
      'inThread',
      o.inThread,
      "false in sync mode (the parameter server's barrier is met by pool workers)",
    );
  }
  if (o.dataPath !== undefined && o.dataPath !== 'ps' && o.dataPath !== 'direct')
    throw invalidArgument('train', 'dataPath', o.dataPath, "'ps' or 'direct'");
  if (o.dataPath === 'direct' && (o.shards ?? 1) !== 1)
    throw invalidArgument('train', 'shards', o.shards, "1 with dataPath 'direct' (it reads one shard in place)");
  for (const g of o.growAt ?? []) {
    if (g.epoch > o.epochs)
      throw invalidArgument(
        'train',
        'growAt',
        `${g.epoch}:${g.dir}`,
        `an epoch at most the run's epochs (${o.epochs})`,
      );
    if (o.mode === 'sync')
      throw invalidArgument(
        'train',
        'growAt',
        `${g.epoch}:${g.dir}`,
        'unset in sync mode (growth is for async training)',
      );
  }
  for (const r of o.reshardAt ?? []) {
    if (r.epoch > o.epochs)
      throw invalidArgument(
        'train',
        'reshardAt',
        `${r.epoch}:${r.shards}`,
        `an epoch at most the run's epochs (${o.epochs})`,
      );
    if (o.dataPath === 'direct')
      throw invalidArgument('train', 'reshardAt', `${r.epoch}:${r.shards}`, "unset with dataPath 'direct' (one shard)");
  }
  if (model === undefined) {
    let builtIn: KgeModel;
    try {
      builtIn = createModel(o.model);
    } catch (e) {
      if (e instanceof KgError) {
        throw invalidArgument(
          'train',
          'model',
          o.model,
          `a built-in model (${MODEL_NAMES.join(', ')}), or the name of a user-defined model passed to the Trainer`,
        );
      }
      throw e;
    }
    checkKernels(builtIn, o);
    if (o.modelModule !== undefined) {
      throw invalidArgument(
        'train',
        'modelModule',
        o.modelModule,
        'absent for a built-in model (it names the module of a user-defined model passed to the Trainer)',
      );
    }
    return o;
  }
  if (!isKgeModel(model)) throw invalidArgument('Trainer', 'model', model, 'a KgeModel from defineModel');
  if (o.model !== model.name)
    throw invalidArgument(
      'train',
      'model',
      o.model,
      `the name of the model passed to the Trainer, ${JSON.stringify(model.name)}`,
    );
  checkKernels(model, o);
  if (isBuiltIn(model) && o.modelModule === undefined) return o; // workers rebuild it by its (canonical) name
  if (o.modelModule !== undefined) {
    if (typeof o.modelModule !== 'string' || moduleHref(o.modelModule) === null) {
      throw invalidArgument('train', 'modelModule', o.modelModule, 'an absolute path or a file: URL of an ES module');
    }
  } else if (o.inThread !== true) {
    throw invalidArgument(
      'train',
      'modelModule',
      o.modelModule,
      `the URL of an ES module whose default export is the model ${JSON.stringify(model.name)}: ` +
        "a pool's workers load a user-defined model from it (or train with inThread: true)",
    );
  }
  return o;
}

/** Where the final evaluation runs. */
export type EvalSplit = 'valid' | 'test';

/** The settings of a training run beyond the `Trainer`'s (rows of scope `run` in the table). */
export interface TrainingRunOptions {
  /** Validate every N epochs (and after the last) and stop early on valid MRR; 0 (default): never. */
  readonly evalEvery?: number;
  /** Validations without improvement before an early stop; default 3. */
  readonly patience?: number;
  /** The split of the final evaluation; default `test`. */
  readonly evalSplit?: EvalSplit;
  /** Evaluation threads; default the training threads. */
  readonly evalWorkers?: number;
  /** Stop after the epoch that passes this many seconds of training; 0 (default): no limit. */
  readonly maxTrainSeconds?: number;
  /** A checkpoint store: checkpoints during training and a final entry at the end. */
  readonly checkpointDir?: string;
  /** Also checkpoint every this many seconds while an epoch runs (0, the default: at epoch ends only). */
  readonly checkpointEverySeconds?: number;
  /** Continue the latest entry of this problem in `checkpointDir`. */
  readonly resume?: boolean;
  /**
   * Start from another run's tables: a checkpoint store directory (its best
   * near-match), a problem fingerprint in `checkpointDir`, or embeddings
   * already read (`{ from, embeddings }`, rows matched by name).
   */
  readonly warmStart?: string | EmbeddingsWarmStart;
  /** Save the final tables, id maps and config.json here. */
  readonly out?: string;
  /** What saved embeddings record as the dataset (so `kgshard eval` can load it again). */
  readonly datasetRef?: { readonly name: string; readonly path?: string };
  /**
   * Library only (no flag): when failing checkpoint writes pause
   * checkpointing (by default 1 failed write skips checkpoints for 30 s,
   * then one is tried again) and the clock of that pause and of the
   * checkpoint rate limit (tests pass a `ManualClock`).
   */
  readonly checkpointWrites?: CheckpointWriteOptions;
}

/** Embeddings to warm-start from (saved by `--out` or exported), as read by the caller. */
export interface EmbeddingsWarmStart {
  /** Where they came from (reported). */
  readonly from: string;
  readonly embeddings: Embeddings;
}

/** Everything `runTraining` takes: the Trainer's settings and the run's. */
export type TrainingOptions = TrainSettings & TrainingRunOptions;

/** The run's settings with their defaults filled in. */
export interface ResolvedRunOptions {
  readonly evalEvery: number;
  readonly patience: number;
  readonly evalSplit: EvalSplit;
  readonly evalWorkers: number;
  readonly maxTrainSeconds: number;
  readonly checkpointDir: string | undefined;
  readonly checkpointEverySeconds: number;
  readonly resume: boolean;
  readonly warmStart: string | EmbeddingsWarmStart | undefined;
  readonly out: string | undefined;
  readonly datasetRef: { readonly name: string; readonly path?: string } | undefined;
  readonly checkpointWrites: CheckpointWriteOptions | undefined;
}

/** The run settings of `options` with defaults (`evalWorkers`: the training threads), each checked. */
export function validateRunOptions(options: TrainingRunOptions, workers: number): ResolvedRunOptions {
  const fields = options as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const s of RUN) {
    let v = fields[s.name];
    if (v === undefined) v = s.name === 'evalWorkers' ? workers : s.default;
    if (v !== undefined && !(s.name === 'warmStart' && typeof v === 'object' && v !== null))
      checkSetting('train', s, v);
    out[s.name] = v;
  }
  out['datasetRef'] = options.datasetRef;
  // A library option (no row in the table): checked here, before any work, with the store's own check.
  const writes = options.checkpointWrites;
  if (writes !== undefined) writeBreakerOptions('train', writes, 'checkpointWrites');
  out['checkpointWrites'] = writes;
  return out as unknown as ResolvedRunOptions;
}

/**
 * The hyper-parameters that change the result (not the epochs or the
 * threads), by their JSON keys: part of the checkpoint problem key and
 * recorded with saved embeddings.
 */
export function hyperParameters(o: TrainOptions): Record<string, string | number | boolean> {
  return record(o, (s) => s.fingerprint === true);
}

/** Every Trainer setting but the model, by its JSON key (`epochs_planned`, `reg_kind`, ...): the JSON summary's. */
export function settingsJson(o: TrainOptions): Record<string, string | number | boolean> {
  return record(o, (s) => s.scope === 'hyper' && s.type !== 'model' && s.jsonKey !== null);
}

function record(o: TrainOptions, pick: (s: Setting) => boolean): Record<string, string | number | boolean> {
  const fields = o as unknown as Record<string, string | number | boolean | undefined>;
  const out: Record<string, string | number | boolean> = {};
  for (const s of SETTINGS) if (pick(s)) out[s.jsonKey!] = fields[s.name] ?? (s.default as string | number | boolean);
  return out;
}

/** `kernels: 'simd'` asks for what the model must allow: say why it does not, before training starts. */
function checkKernels(model: KgeModel, o: TrainOptions): void {
  const shapes = model.shapes(o.dim);
  if (o.kernels !== 'simd') return;
  const blocker = simdTrainBlocker(model.queryPlan, o.dim, shapes.entityWidth);
  if (blocker !== null)
    throw invalidArgument(
      'train',
      'kernels',
      o.kernels,
      `'auto' or 'js' for ${model.name} at dim ${o.dim} (${blocker})`,
    );
}
