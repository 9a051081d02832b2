/**
 * The built-in models and `createModel`, the registry that builds one by
 * name. See `../model.ts` for the interface and its conventions.
 */
import { KgError, invalidArgument, show } from '../../errors.js';
import type { KgeModel } from '../model.js';
import { ComplEx } from './complex.js';
import { DistMult } from './distmult.js';
import { RotatE } from './rotate.js';
import { TransE, type TransENorm } from './transe.js';

export {
  defineModel,
  newBlock,
  newBlockGrad,
  checkDim,
  loopScoreTails,
  loopScoreHeads,
  loopGradTails,
  loopGradHeads,
  MAX_DIM,
} from '../model.js';
export type { KgeModel, ModelShapes, ModelSpec, Block, BlockGrad } from '../model.js';
export { TransE, type TransENorm } from './transe.js';
export { DistMult } from './distmult.js';
export { ComplEx } from './complex.js';
export { RotatE } from './rotate.js';

/** Names `createModel` accepts. `'transe'` is TransE with the L1 distance, the reference's default (`--p 1`). */
export const MODEL_NAMES = ['transe', 'transe-l1', 'transe-l2', 'distmult', 'complex', 'rotate'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelOptions {
  /** TransE's distance, for `'transe'` only (`'transe-l1'` and `'transe-l2'` fix it). Default `'l1'`. */
  norm?: TransENorm;
}

const KNOWN_OPTIONS: readonly string[] = ['norm'];

/**
 * A new built-in model by name. Each call returns a fresh object (models own
 * scratch buffers; use one per thread). The returned model's `name` is
 * canonical (`'transe'` becomes `'transe-l1'` or `'transe-l2'`), so
 * `createModel(model.name)` rebuilds it.
 *
 * Throws a KgError `E_INVALID_ARGUMENT` naming the value for an unknown name
 * (listing the known ones), an unknown option, a bad `norm`, or a `norm`
 * given to a model it does not apply to. Options whose value is `undefined`
 * count as absent.
 */
export function createModel(name: ModelName | (string & {}), options: ModelOptions = {}): KgeModel {
  if (!(MODEL_NAMES as readonly unknown[]).includes(name)) {
    throw new KgError(
      'E_INVALID_ARGUMENT',
      `createModel: unknown model ${show(name)}; known models: ${MODEL_NAMES.join(', ')}`,
      { where: 'createModel', field: 'name', value: name, expected: MODEL_NAMES },
    );
  }
  if (options === null || typeof options !== 'object') {
    throw invalidArgument(`createModel(${show(name)})`, 'options', options, 'an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw invalidArgument(
        `createModel(${show(name)})`,
        `options.${key}`,
        (options as Record<string, unknown>)[key],
        `absent (known options: ${KNOWN_OPTIONS.join(', ')})`,
      );
    }
  }
  const norm = options.norm;
  if (norm !== undefined) {
    if (name !== 'transe') {
      throw invalidArgument(
        `createModel(${show(name)})`,
        'options.norm',
        norm,
        `absent: norm applies only to "transe" ("transe-l1" and "transe-l2" fix it)`,
      );
    }
    if (norm !== 'l1' && norm !== 'l2')
      throw invalidArgument('createModel("transe")', 'options.norm', norm, "'l1' or 'l2'");
  }
  switch (name as ModelName) {
    case 'transe':
      return new TransE(norm ?? 'l1');
    case 'transe-l1':
      return new TransE('l1');
    case 'transe-l2':
      return new TransE('l2');
    case 'distmult':
      return new DistMult();
    case 'complex':
      return new ComplEx();
    case 'rotate':
      return new RotatE();
  }
}
