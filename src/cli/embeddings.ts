/** Opening embeddings for the commands that read them (eval, train --warm-start). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KgError } from '../errors.js';
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
  if (typeof run.dim !== 'number') {
    throw new KgError('E_DATASET', `${dir}/config.json: the export records no run dim (export it from 'kgshard train --out' embeddings)`, { path: dir });
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
