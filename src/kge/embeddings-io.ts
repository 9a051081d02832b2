/**
 * Saved embeddings with the models' row widths: the store's embeddings
 * module (`store/embeddings/`) reads and writes the files and knows no
 * models; this adapter hands it the model registry's widths, so a save or
 * a load is checked against the model it names. The file format is
 * described in `store/embeddings/native.ts`.
 */
import { MAX_DIM } from './model.js';
import { createModel } from './models/index.js';
import { readNative, writeNative, type LoadedEmbeddings, type SaveResult } from '../store/embeddings/native.js';
import { isEmbeddingsDir, openEmbeddingsDir } from '../store/embeddings/open.js';
import type { Embeddings, RowWidths } from '../store/embeddings/types.js';

export { alignEmbeddings } from '../store/embeddings/align.js';
export { isEmbeddingsDir };
export type { Embeddings, EmbeddingTables } from '../store/embeddings/types.js';
export type { EmbeddingsConfig, LoadedEmbeddings, SaveResult } from '../store/embeddings/native.js';

/** The row widths of every registered model. */
export const MODEL_ROWS: RowWidths = { maxDim: MAX_DIM, widths: (model, dim) => createModel(model).shapes(dim) };

/**
 * Write `embeddings` into `dir` (created if missing), replacing a previous
 * save there. `extra` goes into `config.json` beside the fixed keys (it may
 * not override them). Tables must not be written to while this runs.
 * Throws E_INVALID_ARGUMENT / E_DIM_MISMATCH for inconsistent input (the
 * widths must be the model's) and E_DATASET when a file cannot be written.
 */
export function saveEmbeddings(dir: string, embeddings: Embeddings, extra: Record<string, unknown> = {}): SaveResult {
  return writeNative(dir, embeddings, extra, MODEL_ROWS);
}

/**
 * Read a directory written by `saveEmbeddings`. Tables come back in
 * SharedArrayBuffers (worker threads read them in place). Throws E_DATASET
 * for a missing or unreadable file, a `config.json` that is not this format
 * or a table of the wrong size, E_PARSE (`file:line`) for a bad id-map line,
 * E_DIM_MISMATCH when the widths do not fit the model and dim.
 */
export function loadEmbeddings(dir: string): LoadedEmbeddings {
  return readNative(dir, MODEL_ROWS);
}

/**
 * Embeddings saved by `kgshard train --out`, or exported by `kgshard export`
 * (npy, tsv or word2vec; the run's configuration in the export's
 * config.json supplies the model's dim and the dataset).
 */
export function openEmbeddings(dir: string): LoadedEmbeddings {
  return openEmbeddingsDir(dir, MODEL_ROWS);
}
