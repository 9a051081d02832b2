/**
 * User-defined models in a worker pool: a model is code, which cannot be
 * sent to a thread, so it reaches the workers as an ES module whose default
 * export is the model (or a function returning it). These load and check it.
 */
import { invalidArgument, show } from '../errors.js';
import type { KgeModel } from './models/index.js';

/**
 * Import a model module (an absolute `file:` URL whose default export is a
 * KgeModel, or a function returning one) and check it is the model named
 * `name`. Pool workers call it from their entry file before they build
 * their context; the trainer calls it on the main thread first, so a wrong
 * export fails there with a KgError.
 */
export async function loadModelModule(where: string, href: string, name: string): Promise<KgeModel> {
  const mod = (await import(href)) as { default?: unknown };
  return modelFromExport(where, href, mod.default, name);
}

const MODEL_METHODS = [
  'shapes',
  'score',
  'accumulateGrad',
  'scoreTails',
  'scoreHeads',
  'accumulateGradTails',
  'accumulateGradHeads',
] as const;

/** Whether `m` has the shape of a KgeModel (a name and every method). */
export function isKgeModel(m: unknown): m is KgeModel {
  if (m === null || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  return typeof o['name'] === 'string' && o['name'] !== '' && MODEL_METHODS.every((k) => typeof o[k] === 'function');
}

/**
 * The model a module's default export gives (the export itself, or what it
 * returns when it is a function), checked to be a KgeModel named `name`.
 */
export function modelFromExport(where: string, href: string, exported: unknown, name: string): KgeModel {
  const m = typeof exported === 'function' ? (exported as () => unknown)() : exported;
  if (!isKgeModel(m)) {
    throw invalidArgument(
      where,
      `the default export of modelModule ${href}`,
      m,
      'a KgeModel (from defineModel) or a function returning one',
    );
  }
  if (m.name !== name) {
    throw invalidArgument(
      where,
      'modelModule',
      href,
      `a module whose default export is the model named ${show(name)} (its model is named ${show(m.name)})`,
    );
  }
  return m;
}
