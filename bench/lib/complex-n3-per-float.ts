/**
 * ComplEx with its N3 regulariser taken per float (|re|³ + |im|³) instead of
 * on complex moduli (|z|³): the variant kgshard trained before it matched
 * the reference, kept for the `quality` suite's ablation. A user-defined
 * model module: its default export is the model (see `TrainHyper.modelModule`).
 */
import { ComplEx } from '../../src/kge/models/complex.js';
import type { KgeModel } from '../../src/kge/model.js';

export const NAME = 'complex-n3-per-float';

export default function complexN3PerFloat(): KgeModel {
  // The built-in model, renamed, with its n3Grad hidden so the trainer's per-float rule applies.
  return Object.assign(Object.create(new ComplEx()) as KgeModel, { name: NAME, n3Grad: undefined });
}
