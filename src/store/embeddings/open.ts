/**
 * Opening embeddings for the commands that read them (eval, train
 * --warm-start): a directory saved by `kgshard train --out` (the native
 * format) or exported by `kgshard export` (npy, tsv or word2vec; the run's
 * configuration in the export's config.json supplies the model's dim and
 * the dataset).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KgError, show } from '../../errors.js';
import { checkNameValue } from '../../data/text-input.js';
import { CONFIG_FILE } from './files.js';
import { EXPORT_FORMAT, importEmbeddings } from './export.js';
import { EMBEDDINGS_FORMAT, readNative, type EmbeddingsConfig, type LoadedEmbeddings } from './native.js';
import type { RowWidths } from './types.js';

/** The `format` of `dir/config.json`; undefined when there is none or it does not parse. */
function configFormat(dir: string): unknown {
  try {
    return (JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds embeddings (saved or exported): a config.json of either format. */
export function isEmbeddingsDir(dir: string): boolean {
  const f = configFormat(dir);
  return f === EXPORT_FORMAT || f === EMBEDDINGS_FORMAT;
}

/**
 * Embeddings saved (`readNative`) or exported (`importEmbeddings`), as
 * saved embeddings. An export must record the run's dim, and `rows` must
 * give the tables' widths for its model and dim; E_DATASET naming
 * config.json otherwise.
 */
export function openEmbeddingsDir(dir: string, rows: RowWidths): LoadedEmbeddings {
  if (configFormat(dir) !== EXPORT_FORMAT) return readNative(dir, rows);
  const imp = importEmbeddings(dir);
  const run = imp.config as Partial<EmbeddingsConfig>;
  const configPath = join(dir, CONFIG_FILE);
  // eval opens the dataset the run names: those names follow the input rule too.
  const ds = run.dataset as unknown;
  if (ds !== null && typeof ds === 'object') {
    checkNameValue(configPath, 'run.dataset.name', (ds as Record<string, unknown>)['name']);
    checkNameValue(configPath, 'run.dataset.path', (ds as Record<string, unknown>)['path']);
  }
  if (run.dim === undefined) {
    throw new KgError(
      'E_DATASET',
      `${configPath}: the export records no run dim (export it from 'kgshard train --out' embeddings)`,
      { path: configPath },
    );
  }
  // The model and dim must give the tables' widths, or every row would be read out of step.
  if (typeof run.dim !== 'number' || !Number.isInteger(run.dim) || run.dim < 1) {
    throw new KgError('E_DATASET', `${configPath}: run dim must be a positive integer, got ${show(run.dim)}`, {
      path: configPath,
    });
  }
  let shapes: { entityWidth: number; relationWidth: number };
  try {
    shapes = rows.widths(imp.model, run.dim);
  } catch (err) {
    if (!(err instanceof KgError)) throw err;
    const why =
      err.code === 'E_OUT_OF_RANGE'
        ? `run dim must be in [1, ${rows.maxDim}], got ${show(run.dim)}`
        : `model: ${err.message}`;
    throw new KgError('E_DATASET', `${configPath}: ${why}`, { path: configPath });
  }
  if (shapes.entityWidth !== imp.entityDim || shapes.relationWidth !== imp.relationDim) {
    throw new KgError(
      'E_DATASET',
      `${configPath}: ${imp.model} dim ${run.dim} has rows of ${shapes.entityWidth} and ${shapes.relationWidth} ` +
        `floats, the tables have ${imp.entityDim} and ${imp.relationDim}`,
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
