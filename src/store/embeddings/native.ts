/**
 * Trained embeddings on disk: what `kgshard train --out DIR` writes and
 * `kgshard eval --embeddings DIR` reads.
 *
 * A directory holds five files:
 *
 * - `entities.f32`: entity table: `num_entities` rows of `entity_width` float32, little-endian,
 *   row-major, row i = entity id i;
 * - `relations.f32`: relation table: `num_relations` rows of `relation_width` float32, the same way;
 * - `entities.tsv`: entity id map: `id<TAB>name` per line, ids 0, 1, 2, ... in order;
 * - `relations.tsv`: relation id map, the same way;
 * - `config.json`: `format` (`"kgshard-embeddings"`), `version` (1), `model`, `dim`, the widths
 *   and counts, `dtype` (`"float32"`), `byte_order` (`"little"`), `files`, and whatever the
 *   writer adds: `dataset`, `hyper`, `training`, `metrics`.
 *
 * The widths follow the model (see `kge/model.ts`): TransE and DistMult rows
 * are `dim` reals; ComplEx rows are `2*dim` (the `dim` real parts, then the
 * `dim` imaginary parts); RotatE entity rows are `2*dim` and its relation
 * rows `dim` phases in radians. In NumPy:
 * `np.fromfile('entities.f32', '<f4').reshape(num_entities, entity_width)`.
 *
 * Every file is written to a temporary name and renamed over the target;
 * `config.json` is removed first and written last, so a directory with a
 * `config.json` holds a complete save. `readNative` checks the format,
 * the widths against the model, every file's size and every id-map line
 * (names unique, without control characters, strict UTF-8), and fails with
 * an error naming the file (and line) that is wrong.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KgError, datasetError, dimMismatch } from '../../errors.js';
import { checkNameValue } from '../../data/text-input.js';
import {
  checkCounts,
  checkNames,
  checkTable,
  errnoText,
  fromLittleEndian,
  idMapText,
  littleEndianBytes,
  parseConfig,
  readIdMap,
  writeFileSet,
  type IdMapWords,
} from './files.js';
import type { Embeddings, RowWidths } from './types.js';

export const EMBEDDINGS_FORMAT = 'kgshard-embeddings';
export const EMBEDDINGS_VERSION = 1;

export const EMBEDDING_FILES = {
  entities: 'entities.f32',
  relations: 'relations.f32',
  entityIds: 'entities.tsv',
  relationIds: 'relations.tsv',
  config: 'config.json',
} as const;

const ID_MAP: IdMapWords = { index: 'id', line: 'id<TAB>name', what: 'the id map' };

/** What `config.json` holds. Keys other than these are kept as written. */
export interface EmbeddingsConfig {
  readonly format: typeof EMBEDDINGS_FORMAT;
  readonly version: number;
  /** Canonical model name (`createModel(model)` rebuilds the score function). */
  readonly model: string;
  readonly dim: number;
  readonly entity_width: number;
  readonly relation_width: number;
  readonly num_entities: number;
  readonly num_relations: number;
  readonly dtype: 'float32';
  readonly byte_order: 'little';
  readonly files: typeof EMBEDDING_FILES;
  /** The data trained on: `name`, and `path` for a TSV directory. */
  readonly dataset?: { readonly name: string; readonly path?: string };
  readonly [extra: string]: unknown;
}

export interface LoadedEmbeddings extends Embeddings {
  readonly dir: string;
  readonly config: EmbeddingsConfig;
}

export interface SaveResult {
  readonly dir: string;
  /** Absolute paths of the files written, by role. */
  readonly files: { readonly [K in keyof typeof EMBEDDING_FILES]: string };
  readonly bytes: number;
  readonly config: EmbeddingsConfig;
}

/** Model name, dim and the widths it implies; throws E_INVALID_ARGUMENT / E_DIM_MISMATCH. */
function checkShape(
  where: string,
  e: Pick<Embeddings, 'model' | 'dim' | 'entityWidth' | 'relationWidth'>,
  rows: RowWidths,
): void {
  const shapes = rows.widths(e.model, e.dim);
  if (shapes.entityWidth !== e.entityWidth)
    throw dimMismatch(where, `entity rows of ${e.model} dim ${e.dim}`, shapes.entityWidth, e.entityWidth);
  if (shapes.relationWidth !== e.relationWidth)
    throw dimMismatch(where, `relation rows of ${e.model} dim ${e.dim}`, shapes.relationWidth, e.relationWidth);
}

/**
 * Write `embeddings` into `dir` (created if missing), replacing a previous
 * save there. `extra` goes into `config.json` beside the fixed keys (it may
 * not override them). Tables must not be written to while this runs.
 * Throws E_INVALID_ARGUMENT / E_DIM_MISMATCH for inconsistent input and
 * E_DATASET when a file cannot be written.
 */
export function writeNative(
  dir: string,
  embeddings: Embeddings,
  extra: Record<string, unknown>,
  rows: RowWidths,
): SaveResult {
  const where = 'saveEmbeddings';
  const e = embeddings;
  checkShape(where, e, rows);
  checkNames(where, 'entities', e.entities);
  checkNames(where, 'relations', e.relations);
  checkTable(where, 'entityTable', e.entityTable, e.entities.length, e.entityWidth);
  checkTable(where, 'relationTable', e.relationTable, e.relations.length, e.relationWidth);
  const out = resolve(dir);
  const config: EmbeddingsConfig = {
    ...extra,
    format: EMBEDDINGS_FORMAT,
    version: EMBEDDINGS_VERSION,
    model: e.model,
    dim: e.dim,
    entity_width: e.entityWidth,
    relation_width: e.relationWidth,
    num_entities: e.entities.length,
    num_relations: e.relations.length,
    dtype: 'float32',
    byte_order: 'little',
    files: EMBEDDING_FILES,
  };
  const F = EMBEDDING_FILES;
  const bytes = writeFileSet(
    out,
    'embeddings',
    [
      [F.entities, littleEndianBytes(e.entityTable)],
      [F.relations, littleEndianBytes(e.relationTable)],
      [F.entityIds, Buffer.from(idMapText(e.entities), 'utf8')],
      [F.relationIds, Buffer.from(idMapText(e.relations), 'utf8')],
    ],
    config,
  );
  const path = (k: keyof typeof EMBEDDING_FILES): string => join(out, F[k]);
  return {
    dir: out,
    files: {
      entities: path('entities'),
      relations: path('relations'),
      entityIds: path('entityIds'),
      relationIds: path('relationIds'),
      config: path('config'),
    },
    bytes,
    config,
  };
}

/**
 * Read a directory written by `writeNative`. Tables come back in
 * SharedArrayBuffers (worker threads read them in place). Throws E_DATASET
 * for a missing or unreadable file, a `config.json` that is not this format
 * or a table of the wrong size, E_PARSE (`file:line`) for a bad id-map line,
 * E_DIM_MISMATCH when the widths do not fit the model and dim.
 */
export function readNative(dir: string, rows: RowWidths): LoadedEmbeddings {
  const root = resolve(dir);
  const configPath = join(root, EMBEDDING_FILES.config);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(configPath);
  } catch (err) {
    const code = errnoText(err);
    throw datasetError(
      configPath,
      code === 'ENOENT'
        ? 'no config.json: not an embeddings directory (write one with kgshard train --out DIR)'
        : `cannot read (${code})`,
    );
  }
  const c = parseConfig(configPath, bytes, EMBEDDINGS_FORMAT, EMBEDDINGS_VERSION);
  checkCounts(configPath, c, ['dim', 'entity_width', 'relation_width', 'num_entities', 'num_relations']);
  if (typeof c['model'] !== 'string')
    throw datasetError(configPath, `model must be a string, got ${JSON.stringify(c['model'])}`);
  if (c['dtype'] !== 'float32' || c['byte_order'] !== 'little') {
    throw datasetError(
      configPath,
      'only dtype "float32", byte_order "little" is supported, ' +
        `got ${JSON.stringify(c['dtype'])}, ${JSON.stringify(c['byte_order'])}`,
    );
  }
  checkNameValue(configPath, 'model', c['model']);
  const ds = c['dataset'];
  if (ds !== null && typeof ds === 'object') {
    for (const k of ['name', 'path']) {
      const v = (ds as Record<string, unknown>)[k];
      if (typeof v === 'string') checkNameValue(configPath, `dataset.${k}`, v);
    }
  }
  const config = c as EmbeddingsConfig;
  const shape = {
    model: config.model,
    dim: config.dim,
    entityWidth: config.entity_width,
    relationWidth: config.relation_width,
  };
  try {
    checkShape(`loadEmbeddings(${configPath})`, shape, rows);
  } catch (err) {
    if (err instanceof KgError && (err.code === 'E_INVALID_ARGUMENT' || err.code === 'E_OUT_OF_RANGE'))
      throw datasetError(configPath, err.message);
    throw err;
  }
  const entities = readCountedIdMap(join(root, EMBEDDING_FILES.entityIds), config.num_entities);
  const relations = readCountedIdMap(join(root, EMBEDDING_FILES.relationIds), config.num_relations);
  const entityTable = readFloats(join(root, EMBEDDING_FILES.entities), config.num_entities, config.entity_width);
  const relationTable = readFloats(join(root, EMBEDDING_FILES.relations), config.num_relations, config.relation_width);
  return { dir: root, config, ...shape, entities, relations, entityTable, relationTable };
}

function readCountedIdMap(path: string, count: number): string[] {
  const names = readIdMap(path, ID_MAP);
  if (names.length !== count) throw datasetError(path, `has ${names.length} ids, config.json says ${count}`);
  return names;
}

/** A `.f32` table into a SharedArrayBuffer, its size checked before anything is allocated. */
function readFloats(path: string, rows: number, width: number): Float32Array {
  const n = rows * width;
  const expected = n * 4;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw datasetError(path, `cannot read the table (${errnoText(err)})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== expected) {
      throw datasetError(path, `has ${size} bytes, expected ${rows} rows x ${width} float32 = ${expected} bytes`, {
        size,
        expected,
      });
    }
    const sab = new SharedArrayBuffer(Math.max(4, expected));
    const bytes = new Uint8Array(sab, 0, expected);
    let off = 0;
    while (off < expected) {
      const got = readSync(fd, bytes, off, expected - off, off);
      if (got === 0) throw datasetError(path, `ended after ${off} of ${expected} bytes`);
      off += got;
    }
    return fromLittleEndian(new Float32Array(sab, 0, n));
  } finally {
    closeSync(fd);
  }
}
