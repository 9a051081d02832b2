/**
 * Per-model training defaults, next to the models: what the library (the
 * `Trainer`, `runTraining`) and `kgshard train` use for every setting an
 * options object leaves unset (`resolveTrainOptions`). A model starts from
 * the base defaults of the settings table (`hyper.ts`) and changes the
 * fields below.
 *
 * They were chosen by the sweep (`npm run sweep -- --model M`) on the
 * **valid** split of the leak-free built-in graph (`wordnet-lf`), never on
 * test; the README ("Defaults chosen on held-out data") lists the grid and
 * the figures, and `bench/results/sweep-<model>.json` holds them.
 */
import { BASE_DEFAULTS, setting } from './hyper.js';
import type { TrainOptions } from './trainer.js';

/** The model `kgshard train` (and `npm start`, and `resolveTrainOptions`) trains when none is given. */
export const DEFAULT_MODEL = setting('model').default as string;

/**
 * The settings a model's defaults fix: every training option but the
 * model, the threads and the seed. `margin` is the logit offset γ of the
 * logistic loss, or the ranking margin with `loss: 'margin'`: the distance
 * models (TransE, RotatE) score minus a distance, so they need γ > 0 to
 * put the decision boundary at distance γ; the bilinear models use γ = 0.
 * `maxNorm` keeps entity rows in the L2 ball of that radius (0: none).
 */
export type ModelDefaults = Required<
  Pick<
    TrainOptions,
    | 'dim'
    | 'epochs'
    | 'batch'
    | 'neg'
    | 'chunk'
    | 'lr'
    | 'optimizer'
    | 'loss'
    | 'margin'
    | 'adversarial'
    | 'reg'
    | 'regKind'
    | 'maxNorm'
  >
>;

const BASE: ModelDefaults = {
  dim: BASE_DEFAULTS.dim,
  epochs: BASE_DEFAULTS.epochs,
  batch: BASE_DEFAULTS.batch,
  neg: BASE_DEFAULTS.neg,
  chunk: BASE_DEFAULTS.chunk,
  lr: BASE_DEFAULTS.lr,
  optimizer: BASE_DEFAULTS.optimizer,
  loss: BASE_DEFAULTS.loss,
  margin: BASE_DEFAULTS.margin,
  adversarial: BASE_DEFAULTS.adversarial,
  reg: BASE_DEFAULTS.reg,
  regKind: BASE_DEFAULTS.regKind,
  maxNorm: BASE_DEFAULTS.maxNorm,
};

/*
 * The sweep's grids (45 s of training per point, 2 workers, valid MRR; the
 * figures are in the README and bench/results/sweep-<model>.json):
 * - TransE (L1, margin loss, max-norm 1): lr {0.05, 0.1, 0.2} x margin {4, 8, 12}; best lr 0.1, margin 8.
 * - DistMult (logistic, N3): lr {0.05, 0.1, 0.2, 0.4} x reg {0.01, 0.03, 0.1}; best lr 0.4, reg 0.03.
 * - ComplEx (logistic, N3): lr {0.05, 0.1, 0.2, 0.4} x reg {0.01, 0.03, 0.1}; best lr 0.2, reg 0.03.
 * - RotatE (logistic, self-adversarial): lr {0.05, 0.1} x γ {6, 12} x α {0.5, 1}; best lr 0.1, γ 6, α 1.
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
