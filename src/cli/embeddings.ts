/** Opening embeddings for the commands that read them (eval, train --warm-start). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KgError, show } from '../errors.js';
import { checkNameValue } from '../data/text-input.js';
import { MAX_DIM } from '../kge/model.js';
import { createModel } from '../kge/models/index.js';
import { loadEmbeddings, type EmbeddingsConfig, type LoadedEmbeddings } from '../kge/embeddings-io.js';
import { EXPORT_FORMAT, importEmbeddings } from '../store/export.js';

/** Whether `dir` holds embeddings (saved or exported): a config.json of either format. */
export function isEmbeddingsDir(dir: string): boolean {
  if (!existsSync(join(dir, 'config.json'))) return false;
  try {
    const f = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { format?: unknown }).format;
    return f === EXPORT_FORMAT || f === 'kgshard-embeddings';
  } catch {
    return false;
  }
}

/**
 * Embeddings saved by `kgshard train --out`, or exported by `kgshard export`
 * (npy, tsv or word2vec; the run's configuration in the export's
 * config.json supplies the model's dim and the dataset).
 */
export function openEmbeddings(dir: string): LoadedEmbeddings {
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (format !== EXPORT_FORMAT) return loadEmbeddings(dir);
  const imp = importEmbeddings(dir);
  const run = imp.config as Partial<EmbeddingsConfig>;
  const configPath = join(dir, 'config.json');
  // eval opens the dataset the run names: those names follow the input rule too.
  const ds = run.dataset as unknown;
  if (ds !== null && typeof ds === 'object') {
    checkNameValue(configPath, 'run.dataset.name', (ds as Record<string, unknown>)['name']);
    checkNameValue(configPath, 'run.dataset.path', (ds as Record<string, unknown>)['path']);
  }
  if (run.dim === undefined) {
    throw new KgError('E_DATASET', `${configPath}: the export records no run dim (export it from 'kgshard train --out' embeddings)`, { path: configPath });
  }
  // The model and dim must give the tables' widths, or every row would be read out of step.
  if (typeof run.dim !== 'number' || !Number.isInteger(run.dim) || run.dim < 1) {
    throw new KgError('E_DATASET', `${configPath}: run dim must be a positive integer, got ${show(run.dim)}`, { path: configPath });
  }
  let shapes: { entityWidth: number; relationWidth: number };
  try {
    shapes = createModel(imp.model).shapes(run.dim);
  } catch (err) {
    if (!(err instanceof KgError)) throw err;
    const why = err.code === 'E_OUT_OF_RANGE' ? `run dim must be in [1, ${MAX_DIM}], got ${show(run.dim)}` : `model: ${err.message}`;
    throw new KgError('E_DATASET', `${configPath}: ${why}`, { path: configPath });
  }
  if (shapes.entityWidth !== imp.entityDim || shapes.relationWidth !== imp.relationDim) {
    throw new KgError(
      'E_DATASET',
      `${configPath}: ${imp.model} dim ${run.dim} has rows of ${shapes.entityWidth} and ${shapes.relationWidth} floats, the tables have ${imp.entityDim} and ${imp.relationDim}`,
      { path: configPath },
    );
  }
  return {
    dir,
    model: imp.model,
    dim: run.dim,
    entityWidth: imp.entityDim,
    relationWidth: imp.relationDim,
    entities: imp.entities,
    relations: imp.relations,
    entityTable: imp.entityTable,
    relationTable: imp.relationTable,
    config: run as EmbeddingsConfig,
  };
}
