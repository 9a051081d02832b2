/**
 * The training settings, described once. Each row gives a setting's option
 * name, its `kgshard train` flag, its JSON key, its type and range (or
 * choices), its default (per model where `perModel`: see `defaults.ts`) and
 * its help. Everything else is derived from this table: the flag parser and
 * the help of `kgshard train`, the option checks (`validateTrainOptions`,
 * `validateRunOptions`), the hyper-parameters of the checkpoint fingerprint
 * and of saved embeddings, and the hyper-parameter keys of the JSON summary.
 *
 * Two scopes: `hyper` settings are fields of `TrainOptions` (what the
 * `Trainer` takes); `run` settings belong to a training run
 * (`runTraining`): validation schedule, time limit, checkpoints, output.
 */
import { invalidArgument } from '../errors.js';
import { MODEL_NAMES } from './models/index.js';

export type SettingType =
  /** An integer in [min, max] (min 1: "a positive integer"). */
  | 'int'
  /** A finite number >= min (> min with `minExclusive`). */
  | 'number'
  | 'choice'
  | 'boolean'
  /** Threads: an integer in [1, max], or `'auto'` (all cores) on the command line. */
  | 'threads'
  /** A built-in model's name (or, in the library, a user-defined model's). */
  | 'model'
  /** A path (or for `--warm-start`, a path or a fingerprint). */
  | 'path'
  /**
   * A schedule: `EPOCH:VALUE` pairs (the flag repeatable or comma-separated),
   * in the library an array of `{ epoch, <schedule.key> }`.
   */
  | 'schedule';

export type HelpSection = 'data' | 'training' | 'evaluation' | 'checkpoints' | 'output';

export interface Setting {
  /** The option's field name (`TrainOptions` or `TrainingRunOptions`). */
  readonly name: string;
  readonly flag: string;
  /** The value's placeholder in the help (`N`, `X`, `sgd|adagrad`); none for a boolean. */
  readonly arg?: string;
  /** Its key in the JSON summary and in saved embeddings' `hyper`; null when it is not printed. */
  readonly jsonKey: string | null;
  readonly type: SettingType;
  readonly scope: 'hyper' | 'run';
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  /**
   * For `int`: the library takes any integer and only the flag is read in
   * [min, max] (the seed is used modulo 2^32; the flag reads a 32-bit one).
   */
  readonly rangeOnFlagOnly?: boolean;
  readonly choices?: readonly string[];
  /** The default when the option is unset (the base default when `perModel`); undefined: none. */
  readonly default?: number | string | boolean;
  /** Its default is set per model (`MODEL_DEFAULTS`), shown in the help's per-model table. */
  readonly perModel?: boolean;
  /** Part of the problem key of a checkpoint store and of saved embeddings' `hyper`. */
  readonly fingerprint?: boolean;
  /** The library accepts the field unset (older options objects): it then means the default. */
  readonly optional?: boolean;
  /**
   * For `schedule`: the field each `EPOCH:VALUE` entry's value fills, and
   * whether it is an integer in [min, max] or a path.
   */
  readonly schedule?: { readonly key: string; readonly value: 'int' | 'path' };
  /** Said after "must be ..." in the library's error (e.g. what 0 means). */
  readonly note?: string;
  readonly section: HelpSection;
  /**
   * The help text after the flag, its lines as printed; `{default}` stands
   * for the default (the default model's, for a per-model setting) and
   * `{cores}` for the machine's parallelism.
   */
  readonly help: readonly string[];
}

/** The base defaults every model starts from (see `defaults.ts` for each model's). */
export const BASE_DEFAULTS = {
  dim: 100,
  epochs: 10,
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
  maxNorm: 0,
  mode: 'async',
  seed: 1,
  filterNegatives: false,
  kernels: 'auto',
} as const;

const B = BASE_DEFAULTS;

export const SETTINGS: readonly Setting[] = [
  {
    name: 'model',
    flag: '--model',
    arg: 'NAME',
    jsonKey: 'model',
    type: 'model',
    scope: 'hyper',
    choices: MODEL_NAMES,
    default: 'complex',
    section: 'data',
    fingerprint: false,
    help: [MODEL_NAMES.join(', '), '(default complex; transe is transe-l1)'],
  },
  {
    name: 'dim',
    flag: '--dim',
    arg: 'N',
    jsonKey: 'dim',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 65_536,
    default: B.dim,
    perModel: true,
    fingerprint: true,
    section: 'data',
    help: ['rank: reals per row (TransE, DistMult) or complex', 'coordinates (ComplEx, RotatE)'],
  },
  {
    name: 'epochs',
    flag: '--epochs',
    arg: 'N',
    jsonKey: 'epochs_planned',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 1_000_000,
    default: B.epochs,
    perModel: true,
    section: 'training',
    help: ['epochs to train (fewer with early stopping)'],
  },
  {
    name: 'batch',
    flag: '--batch',
    arg: 'N',
    jsonKey: 'batch',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 1 << 20,
    default: B.batch,
    fingerprint: true,
    section: 'training',
    help: ['positives per batch (default {default})'],
  },
  {
    name: 'neg',
    flag: '--neg',
    arg: 'N',
    jsonKey: 'neg',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 1 << 16,
    default: B.neg,
    fingerprint: true,
    section: 'training',
    help: ['negatives per positive (default {default})'],
  },
  {
    name: 'chunk',
    flag: '--chunk',
    arg: 'N',
    jsonKey: 'chunk',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 1 << 16,
    default: B.chunk,
    fingerprint: true,
    section: 'training',
    help: ['positives sharing one set of negatives (default {default})'],
  },
  {
    name: 'lr',
    flag: '--lr',
    arg: 'X',
    jsonKey: 'lr',
    type: 'number',
    scope: 'hyper',
    min: 0,
    minExclusive: true,
    default: B.lr,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['learning rate (default {default})'],
  },
  {
    name: 'optimizer',
    flag: '--optimizer',
    arg: 'sgd|adagrad|adagrad-row',
    jsonKey: 'optimizer',
    type: 'choice',
    scope: 'hyper',
    choices: ['sgd', 'adagrad', 'adagrad-row'],
    default: B.optimizer,
    fingerprint: true,
    section: 'training',
    help: [
      'default {default} (in both modes);',
      'adagrad is element-wise, adagrad-row keeps one',
      'accumulator per row (less memory, learns less)',
    ],
  },
  {
    name: 'loss',
    flag: '--loss',
    arg: 'logistic|margin',
    jsonKey: 'loss',
    type: 'choice',
    scope: 'hyper',
    choices: ['logistic', 'margin'],
    default: B.loss,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['default {default}'],
  },
  {
    name: 'margin',
    flag: '--margin',
    arg: 'X',
    jsonKey: 'margin',
    type: 'number',
    scope: 'hyper',
    min: 0,
    default: B.margin,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['logit offset gamma of the logistic loss, or the', 'margin of the ranking loss'],
  },
  {
    name: 'adversarial',
    flag: '--adversarial',
    arg: 'X',
    jsonKey: 'adversarial',
    type: 'number',
    scope: 'hyper',
    min: 0,
    default: B.adversarial,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['self-adversarial negative temperature (0 = uniform)'],
  },
  {
    name: 'filterNegatives',
    flag: '--filter-negatives',
    jsonKey: 'filter_negatives',
    type: 'boolean',
    scope: 'hyper',
    default: B.filterNegatives,
    optional: true,
    fingerprint: true,
    section: 'training',
    help: ['leave out negatives that form a known training triple with their positive'],
  },
  {
    name: 'reg',
    flag: '--reg',
    arg: 'X',
    jsonKey: 'reg',
    type: 'number',
    scope: 'hyper',
    min: 0,
    default: B.reg,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['regularisation weight'],
  },
  {
    name: 'regKind',
    flag: '--reg-kind',
    arg: 'l2|n3',
    jsonKey: 'reg_kind',
    type: 'choice',
    scope: 'hyper',
    choices: ['l2', 'n3'],
    default: B.regKind,
    perModel: true,
    fingerprint: true,
    section: 'training',
    help: ['regularisation kind (N3 of ComplEx on complex moduli)'],
  },
  {
    name: 'maxNorm',
    flag: '--max-norm',
    arg: 'X',
    jsonKey: 'max_norm',
    type: 'number',
    scope: 'hyper',
    min: 0,
    default: B.maxNorm,
    perModel: true,
    optional: true,
    note: '(0: no constraint)',
    fingerprint: true,
    section: 'training',
    help: ['after each update, scale entity rows back into the', "L2 ball of radius X (TransE's constraint; 0 = off)"],
  },
  {
    name: 'mode',
    flag: '--mode',
    arg: 'async|sync',
    jsonKey: 'mode',
    type: 'choice',
    scope: 'hyper',
    choices: ['async', 'sync'],
    default: B.mode,
    fingerprint: true,
    section: 'training',
    help: ['async: Hogwild updates in place (default); sync:', 'averaged gradients through the parameter server'],
  },
  {
    name: 'kernels',
    flag: '--kernels',
    arg: 'auto|simd|js',
    jsonKey: 'kernels',
    type: 'choice',
    scope: 'hyper',
    choices: ['auto', 'simd', 'js'],
    default: B.kernels,
    optional: true,
    section: 'training',
    help: [
      "kernels of the negatives' scores and gradients: auto",
      'uses WebAssembly SIMD where the model allows, else js',
    ],
  },
  {
    name: 'workers',
    flag: '--workers',
    arg: 'N|auto',
    jsonKey: 'workers',
    type: 'threads',
    scope: 'hyper',
    max: 256,
    default: 'auto',
    section: 'training',
    help: ['training threads (default auto = {cores} here)'],
  },
  {
    name: 'shards',
    flag: '--shards',
    arg: 'N',
    jsonKey: 'shards',
    type: 'int',
    scope: 'hyper',
    min: 1,
    max: 4096,
    default: 4,
    optional: true,
    section: 'training',
    help: [
      'entity shards of the parameter server (relations are',
      'replicated); every read and update goes through it',
      '(default {default})',
    ],
  },
  {
    name: 'reshardAt',
    flag: '--reshard-at',
    arg: 'EPOCH:SHARDS',
    jsonKey: 'reshard_at',
    type: 'schedule',
    schedule: { key: 'shards', value: 'int' },
    scope: 'hyper',
    min: 1,
    max: 4096,
    optional: true,
    section: 'training',
    help: [
      'reshard the parameter server to SHARDS shards while',
      'epoch EPOCH (1-based) trains; repeatable or',
      'comma-separated (e.g. 3:4,6:2)',
    ],
  },
  {
    name: 'growAt',
    flag: '--grow-at',
    arg: 'EPOCH:DIR',
    jsonKey: 'grow_at',
    type: 'schedule',
    schedule: { key: 'dir', value: 'path' },
    scope: 'hyper',
    optional: true,
    section: 'training',
    help: [
      'from epoch EPOCH (1-based) on, also train on the extra',
      'triples in DIR/train.tsv; their new entities join the',
      'parameter server live (async mode); repeatable',
    ],
  },
  {
    name: 'seed',
    flag: '--seed',
    arg: 'N',
    jsonKey: 'seed',
    type: 'int',
    scope: 'hyper',
    min: -(2 ** 31),
    max: 2 ** 31 - 1,
    rangeOnFlagOnly: true,
    default: B.seed,
    fingerprint: true,
    section: 'training',
    help: ['default {default}'],
  },
  {
    name: 'maxTrainSeconds',
    flag: '--max-train-s',
    arg: 'S',
    jsonKey: null,
    type: 'number',
    scope: 'run',
    min: 0,
    default: 0,
    section: 'training',
    help: ['stop after the epoch that passes S seconds of', 'training (default 0: no limit)'],
  },
  {
    name: 'evalEvery',
    flag: '--eval-every',
    arg: 'N',
    jsonKey: null,
    type: 'int',
    scope: 'run',
    min: 0,
    max: 1_000_000,
    default: 0,
    section: 'evaluation',
    help: [
      'validate every N epochs (default 0: never) and stop',
      'early when valid MRR has not improved for',
      '--patience validations; the best tables are kept',
    ],
  },
  {
    name: 'patience',
    flag: '--patience',
    arg: 'N',
    jsonKey: null,
    type: 'int',
    scope: 'run',
    min: 1,
    max: 1_000_000,
    default: 3,
    section: 'evaluation',
    help: ['default 3'],
  },
  {
    name: 'evalSplit',
    flag: '--eval-split',
    arg: 'valid|test',
    jsonKey: null,
    type: 'choice',
    scope: 'run',
    choices: ['valid', 'test'],
    default: 'test',
    section: 'evaluation',
    help: ['the split of the final evaluation (default test)'],
  },
  {
    name: 'evalWorkers',
    flag: '--eval-workers',
    arg: 'N|auto',
    jsonKey: null,
    type: 'threads',
    scope: 'run',
    max: 256,
    section: 'evaluation',
    help: ['evaluation threads (default: as --workers)'],
  },
  {
    name: 'checkpointDir',
    flag: '--checkpoint-dir',
    arg: 'DIR',
    jsonKey: null,
    type: 'path',
    scope: 'run',
    section: 'checkpoints',
    help: [
      'checkpoint into this store during training (objective:',
      '-valid MRR when validated, else the training loss;',
      'at most one non-improving write per 2 s) and write a',
      'final entry at the end, Ctrl-C included',
    ],
  },
  {
    name: 'checkpointEverySeconds',
    flag: '--checkpoint-every-s',
    arg: 'S',
    jsonKey: null,
    type: 'number',
    scope: 'run',
    min: 0,
    default: 0,
    section: 'checkpoints',
    help: [
      'also checkpoint every S seconds while an epoch runs',
      '(a per-shard snapshot; training does not stop; a',
      'resume continues from that point of the epoch)',
      '(default 0: at epoch ends only)',
    ],
  },
  {
    name: 'resume',
    flag: '--resume',
    jsonKey: null,
    type: 'boolean',
    scope: 'run',
    default: false,
    section: 'checkpoints',
    help: [
      'continue the latest entry of the same problem in',
      '--checkpoint-dir (tables, optimizer state, epochs);',
      'when it holds every epoch, only evaluate',
    ],
  },
  {
    name: 'warmStart',
    flag: '--warm-start',
    arg: 'DIR|FP',
    jsonKey: null,
    type: 'path',
    scope: 'run',
    section: 'checkpoints',
    help: [
      'start from the best near-match (same entities,',
      'relations and shapes) in store DIR, from the run',
      'with fingerprint FP in --checkpoint-dir, or from',
      'embeddings in DIR (saved by --out or exported by',
      "'kgshard export'; rows matched by name)",
    ],
  },
  {
    name: 'out',
    flag: '--out',
    arg: 'DIR',
    jsonKey: null,
    type: 'path',
    scope: 'run',
    section: 'output',
    help: [
      'save entities.f32, relations.f32 (float32 LE rows),',
      'entities.tsv, relations.tsv (id<TAB>name) and',
      'config.json (model, hyper-parameters, metrics)',
    ],
  },
];

const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));

/** The row of the setting named `name` (an option field name). */
export function setting(name: string): Setting {
  const s = BY_NAME.get(name);
  if (s === undefined) throw invalidArgument('setting', 'name', name, 'the name of a training setting');
  return s;
}

/** The flag of the option field `name`, or undefined when it has none. */
export function flagOf(name: string): string | undefined {
  return BY_NAME.get(name)?.flag;
}

/** The settings of the per-model defaults table (`perModel`), in table order. */
export const PER_MODEL_SETTINGS: readonly Setting[] = SETTINGS.filter((s) => s.perModel === true);
