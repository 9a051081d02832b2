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
import type { LossKind, OptimizerKind, RegKind } from './train-core.js';
import { DEFAULT_TRAIN } from './trainer.js';

/** The model `kgshard train` (and `npm start`) trains when `--model` is not given. */
export const DEFAULT_MODEL = 'complex';

export interface ModelDefaults {
  readonly dim: number;
  readonly epochs: number;
  readonly batch: number;
  readonly neg: number;
  readonly chunk: number;
  readonly lr: number;
  readonly optimizer: OptimizerKind;
  readonly loss: LossKind;
  /**
   * The logit offset γ of the logistic loss, or the ranking margin with
   * `loss: 'margin'`: the distance models (TransE, RotatE) score minus a
   * distance, so they need γ > 0 to put the decision boundary at distance
   * γ; the bilinear models use γ = 0.
   */
  readonly margin: number;
  readonly adversarial: number;
  readonly reg: number;
  readonly regKind: RegKind;
  /** Entity rows are kept in the L2 ball of this radius (0: unconstrained). */
  readonly maxNorm: number;
}

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

const TRANSE: ModelDefaults = { ...BASE, loss: 'margin', margin: 8, maxNorm: 1 };

/** Per-model defaults, by every name `createModel` accepts. */
export const MODEL_DEFAULTS: Readonly<Record<string, ModelDefaults>> = {
  transe: TRANSE,
  'transe-l1': TRANSE,
  'transe-l2': TRANSE,
  distmult: { ...BASE, reg: 0.03, regKind: 'n3' },
  complex: { ...BASE, reg: 0.03, regKind: 'n3' },
  rotate: { ...BASE, margin: 6, adversarial: 1 },
};
