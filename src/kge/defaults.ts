/**
 * Per-model training defaults: what `kgshard train` (and `npm start`) uses
 * when a flag is not given, and what a library user can start from
 * (`{ ...DEFAULT_TRAIN, ...MODEL_DEFAULTS.complex, model: 'complex' }`).
 *
 * They were chosen by the sweep (`npm run sweep -- --model M`) on the
 * **valid** split of the leak-free built-in graph (`wordnet-lf`), never on
 * test; the README ("Defaults chosen on held-out data") lists the grid and
 * the figures, and `bench/results/sweep-<model>.json` holds them.
 */
import { DEFAULT_TRAIN, type TrainOptions } from './trainer.js';

/** The model `kgshard train` (and `npm start`) trains when `--model` is not given. */
export const DEFAULT_MODEL = 'complex';

/**
 * The settings a model's defaults fix: every training option but the
 * model, the threads and the seed. `margin` is the logit offset γ of the
 * logistic loss, or the ranking margin with `loss: 'margin'`: the distance
 * models (TransE, RotatE) score minus a distance, so they need γ > 0 to
 * put the decision boundary at distance γ; the bilinear models use γ = 0.
 * `maxNorm` keeps entity rows in the L2 ball of that radius (0: none).
 */
export type ModelDefaults = Required<Pick<TrainOptions, 'dim' | 'epochs' | 'batch' | 'neg' | 'chunk' | 'lr' | 'optimizer' | 'loss' | 'margin' | 'adversarial' | 'reg' | 'regKind' | 'maxNorm'>>;

const BASE: ModelDefaults = {
  dim: DEFAULT_TRAIN.dim,
  epochs: DEFAULT_TRAIN.epochs,
  batch: DEFAULT_TRAIN.batch,
  neg: DEFAULT_TRAIN.neg,
  chunk: DEFAULT_TRAIN.chunk,
  lr: DEFAULT_TRAIN.lr,
  optimizer: DEFAULT_TRAIN.optimizer,
  loss: DEFAULT_TRAIN.loss,
  margin: DEFAULT_TRAIN.margin,
  adversarial: DEFAULT_TRAIN.adversarial,
  reg: DEFAULT_TRAIN.reg,
  regKind: DEFAULT_TRAIN.regKind,
  maxNorm: 0,
};

/*
 * Sweep results (45 s of training per point, 2 workers, valid MRR):
 * - TransE (L1, margin loss, max-norm 1): lr {0.05, 0.1, 0.2} x margin {4, 8, 12}; best lr 0.1, margin 8 (0.109).
 * - DistMult (logistic, N3): lr {0.05, 0.1, 0.2, 0.4} x reg {0.01, 0.03, 0.1} (lr 0.4 with reg 0.01 and 0.03 only); best lr 0.4, reg 0.03 (0.119; lr 0.2: 0.116).
 * - ComplEx (logistic, N3): lr {0.05, 0.1, 0.2, 0.4} x reg {0.01, 0.03, 0.1}; best lr 0.2, reg 0.03 (0.160; lr 0.4 ties at 0.160).
 * - RotatE (logistic, self-adversarial): lr {0.05, 0.1} x γ {6, 12} x α {0.5, 1}; best lr 0.1, γ 6, α 1 (0.145).
 * Epochs: what trains in about 1.5-2 minutes on 2 cores at these settings.
 */
const TRANSE: ModelDefaults = { ...BASE, epochs: 100, loss: 'margin', margin: 8, maxNorm: 1 };

/** Per-model defaults, by every name `createModel` accepts. */
export const MODEL_DEFAULTS: Readonly<Record<string, ModelDefaults>> = {
  transe: TRANSE,
  'transe-l1': TRANSE,
  'transe-l2': TRANSE,
  distmult: { ...BASE, epochs: 80, lr: 0.4, reg: 0.03, regKind: 'n3' },
  complex: { ...BASE, epochs: 40, lr: 0.2, reg: 0.03, regKind: 'n3' },
  rotate: { ...BASE, epochs: 40, lr: 0.1, margin: 6, adversarial: 1 },
};
