/**
 * Trained embeddings on disk: what `kgshard train --out DIR` writes and
 * `kgshard eval --embeddings DIR` reads.
 *
 * A directory holds five files:
 *
 * | file | content |
 * | --- | --- |
 * | `entities.f32`  | entity table: `num_entities` rows of `entity_width` float32, little-endian, row-major, row i = entity id i |
 * | `relations.f32` | relation table: `num_relations` rows of `relation_width` float32, the same way |
 * | `entities.tsv`  | entity id map: `id<TAB>name` per line, ids 0, 1, 2, ... in order |
 * | `relations.tsv` | relation id map, the same way |
 * | `config.json`   | `format` (`"kgshard-embeddings"`), `version` (1), `model`, `dim`, the widths and counts, `dtype` (`"float32"`), `byte_order` (`"little"`), `files`, and whatever the writer adds: `dataset`, `hyper`, `training`, `metrics` |
 *
 * The widths follow the model (see `model.ts`): TransE and DistMult rows are
 * `dim` reals; ComplEx rows are `2*dim` (the `dim` real parts, then the
 * `dim` imaginary parts); RotatE entity rows are `2*dim` and its relation
 * rows `dim` phases in radians. In NumPy:
 * `np.fromfile('entities.f32', '<f4').reshape(num_entities, entity_width)`.
 *
 * Every file is written to a temporary name and renamed over the target;
 * `config.json` is removed first and written last, so a directory with a
 * `config.json` holds a complete save. `loadEmbeddings` checks the format,
 * the widths against the model, every file's size and every id-map line
 * (names unique, without control characters, strict UTF-8), and fails with
 * an error naming the file (and line) that is wrong.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { KgError, datasetError, dimMismatch, duplicateId, invalidArgument, parseError } from '../errors.js';
import { createModel } from './models/index.js';
import { writeFileAtomic } from '../atomic-write.js';
import { CLEAN_NAME, NO_FIELD, checkNameValue, cleanName, decodeUtf8, parseJsonText, readNameText, tabField } from '../data/text-input.js';

const ID_MAP_FIELDS = tabField(['id', 'name']);

export const EMBEDDINGS_FORMAT = 'kgshard-embeddings';
export const EMBEDDINGS_VERSION = 1;

export const EMBEDDING_FILES = {
  entities: 'entities.f32',
  relations: 'relations.f32',
  entityIds: 'entities.tsv',
  relationIds: 'relations.tsv',
  config: 'config.json',
} as const;

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

export interface Embeddings {
  readonly model: string;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
  /** Names by id. */
  readonly entities: readonly string[];
  readonly relations: readonly string[];
  /** `entities.length * entityWidth` floats; SharedArrayBuffer-backed after `loadEmbeddings`. */
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
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
function checkShape(where: string, e: Pick<Embeddings, 'model' | 'dim' | 'entityWidth' | 'relationWidth'>): void {
  const shapes = createModel(e.model).shapes(e.dim);
  if (shapes.entityWidth !== e.entityWidth) throw dimMismatch(where, `entity rows of ${e.model} dim ${e.dim}`, shapes.entityWidth, e.entityWidth);
  if (shapes.relationWidth !== e.relationWidth) throw dimMismatch(where, `relation rows of ${e.model} dim ${e.dim}`, shapes.relationWidth, e.relationWidth);
}

function checkNames(where: string, field: string, names: readonly string[]): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!cleanName(name)) throw invalidArgument(where, `${field}[${i}]`, name, CLEAN_NAME);
    const first = seen.get(name);
    if (first !== undefined) throw duplicateId(where, field === 'entities' ? 'entity' : 'relation', name, first, i);
    seen.set(name, i);
  }
}

/**
 * Write `embeddings` into `dir` (created if missing), replacing a previous
 * save there. `extra` goes into `config.json` beside the fixed keys (it may
 * not override them). Tables must not be written to while this runs.
 * Throws E_INVALID_ARGUMENT / E_DIM_MISMATCH for inconsistent input and
 * E_DATASET when a file cannot be written.
 */
export function saveEmbeddings(dir: string, embeddings: Embeddings, extra: Record<string, unknown> = {}): SaveResult {
  const where = 'saveEmbeddings';
  const e = embeddings;
  checkShape(where, e);
  checkNames(where, 'entities', e.entities);
  checkNames(where, 'relations', e.relations);
  if (e.entityTable.length !== e.entities.length * e.entityWidth) {
    throw dimMismatch(where, 'entityTable', e.entities.length * e.entityWidth, e.entityTable.length);
  }
  if (e.relationTable.length !== e.relations.length * e.relationWidth) {
    throw dimMismatch(where, 'relationTable', e.relations.length * e.relationWidth, e.relationTable.length);
  }
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw datasetError(out, `cannot create the embeddings directory (${errnoText(err)})`);
  }
  const path = (k: keyof typeof EMBEDDING_FILES): string => join(out, EMBEDDING_FILES[k]);
  rmSync(path('config'), { force: true });
  let bytes = 0;
  bytes += writeAtomic(path('entities'), floatBytes(e.entityTable));
  bytes += writeAtomic(path('relations'), floatBytes(e.relationTable));
  bytes += writeAtomic(path('entityIds'), Buffer.from(idMapText(e.entities), 'utf8'));
  bytes += writeAtomic(path('relationIds'), Buffer.from(idMapText(e.relations), 'utf8'));
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
  bytes += writeAtomic(path('config'), Buffer.from(`${JSON.stringify(config, null, 2)}\n`, 'utf8'));
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
 * Read a directory written by `saveEmbeddings`. Tables come back in
 * SharedArrayBuffers (worker threads read them in place). Throws E_DATASET
 * for a missing or unreadable file, a `config.json` that is not this format
 * or a table of the wrong size, E_PARSE (`file:line`) for a bad id-map line,
 * E_DIM_MISMATCH when the widths do not fit the model and dim.
 */
export function loadEmbeddings(dir: string): LoadedEmbeddings {
  const root = resolve(dir);
  const configPath = join(root, EMBEDDING_FILES.config);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(configPath);
  } catch (err) {
    const code = errnoText(err);
    throw datasetError(
      configPath,
      code === 'ENOENT' ? 'no config.json: not an embeddings directory (write one with kgshard train --out DIR)' : `cannot read (${code})`,
    );
  }
  const text = decodeUtf8(bytes, configPath, NO_FIELD);
  const raw = parseJsonText(text, configPath);
  const c = raw as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || c['format'] !== EMBEDDINGS_FORMAT) {
    throw datasetError(configPath, `format must be ${JSON.stringify(EMBEDDINGS_FORMAT)}, got ${JSON.stringify(c?.['format'])}`);
  }
  if (c['version'] !== EMBEDDINGS_VERSION) throw datasetError(configPath, `version ${String(c['version'])} is not supported (expected ${EMBEDDINGS_VERSION})`);
  for (const key of ['dim', 'entity_width', 'relation_width', 'num_entities', 'num_relations']) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw datasetError(configPath, `${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  if (typeof c['model'] !== 'string') throw datasetError(configPath, `model must be a string, got ${JSON.stringify(c['model'])}`);
  if (c['dtype'] !== 'float32' || c['byte_order'] !== 'little') {
    throw datasetError(configPath, `only dtype "float32", byte_order "little" is supported, got ${JSON.stringify(c['dtype'])}, ${JSON.stringify(c['byte_order'])}`);
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
  const shape = { model: config.model, dim: config.dim, entityWidth: config.entity_width, relationWidth: config.relation_width };
  try {
    checkShape(`loadEmbeddings(${configPath})`, shape);
  } catch (err) {
    if (err instanceof KgError && (err.code === 'E_INVALID_ARGUMENT' || err.code === 'E_OUT_OF_RANGE')) throw datasetError(configPath, err.message);
    throw err;
  }
  const entities = readIdMap(join(root, EMBEDDING_FILES.entityIds), config.num_entities);
  const relations = readIdMap(join(root, EMBEDDING_FILES.relationIds), config.num_relations);
  const entityTable = readFloats(join(root, EMBEDDING_FILES.entities), config.num_entities, config.entity_width);
  const relationTable = readFloats(join(root, EMBEDDING_FILES.relations), config.num_relations, config.relation_width);
  return { dir: root, config, ...shape, entities, relations, entityTable, relationTable };
}

/**
 * Tables whose rows follow another id order: row i of the result is the row
 * of the entity named `entities[i]` (and the same for relations). Returns
 * `embeddings`' own tables when the orders already agree. Throws
 * E_UNKNOWN_ID naming the first entity or relation without an embedding;
 * names the embeddings have beyond the list are left out (`unused`).
 */
export function alignEmbeddings(
  embeddings: Embeddings,
  entities: readonly string[],
  relations: readonly string[],
): { entityTable: Float32Array; relationTable: Float32Array; unused: { entities: number; relations: number } } {
  const one = (kind: 'entity' | 'relation', have: readonly string[], want: readonly string[], table: Float32Array, width: number) => {
    if (have.length === want.length && have.every((n, i) => n === want[i])) return { table, unused: 0 };
    const index = new Map<string, number>();
    have.forEach((n, i) => index.set(n, i));
    const out = new Float32Array(new SharedArrayBuffer(Math.max(4, want.length * width * 4)), 0, want.length * width);
    for (let i = 0; i < want.length; i++) {
      const j = index.get(want[i]!);
      if (j === undefined) {
        throw new KgError('E_UNKNOWN_ID', `alignEmbeddings: the ${kind} ${JSON.stringify(want[i])} of the dataset has no embedding (${have.length} ${kind === 'entity' ? 'entities' : 'relations'} saved)`, {
          where: 'alignEmbeddings',
          kind,
          id: want[i],
        });
      }
      out.set(table.subarray(j * width, (j + 1) * width), i * width);
    }
    return { table: out, unused: have.length - want.length };
  };
  const e = one('entity', embeddings.entities, entities, embeddings.entityTable, embeddings.entityWidth);
  const r = one('relation', embeddings.relations, relations, embeddings.relationTable, embeddings.relationWidth);
  return { entityTable: e.table, relationTable: r.table, unused: { entities: e.unused, relations: r.unused } };
}

// ---------------------------------------------------------------- files

function idMapText(names: readonly string[]): string {
  const lines = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) lines[i] = `${i}\t${names[i]}\n`;
  return lines.join('');
}

function readIdMap(path: string, count: number): string[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw datasetError(path, `cannot read the id map (${errnoText(err)})`);
  }
  const text = readNameText(bytes, path, ID_MAP_FIELDS);
  const names: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const tab = line.indexOf('\t');
    if (tab < 0) throw parseError(path, i + 1, 'expected id<TAB>name', line);
    const id = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (id !== String(names.length)) throw parseError(path, i + 1, `expected id ${names.length}, found ${JSON.stringify(id)}`, line);
    if (name === '' || name.includes('\t')) throw parseError(path, i + 1, 'expected a non-empty name without tabs', line);
    const first = seen.get(name);
    if (first !== undefined) throw parseError(path, i + 1, `name ${JSON.stringify(name)} repeats line ${first}`, line);
    seen.set(name, i + 1);
    names.push(name);
  }
  if (names.length !== count) throw datasetError(path, `has ${names.length} ids, config.json says ${count}`);
  return names;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The table's bytes as little-endian float32 (a view when the host is little-endian). */
function floatBytes(table: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const out = Buffer.alloc(table.byteLength);
  for (let i = 0; i < table.length; i++) out.writeFloatLE(table[i]!, i * 4);
  return out;
}

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
      throw datasetError(path, `has ${size} bytes, expected ${rows} rows x ${width} float32 = ${expected} bytes`, { size, expected });
    }
    const sab = new SharedArrayBuffer(Math.max(4, expected));
    const bytes = new Uint8Array(sab, 0, expected);
    let off = 0;
    while (off < expected) {
      const got = readSync(fd, bytes, off, expected - off, off);
      if (got === 0) throw datasetError(path, `ended after ${off} of ${expected} bytes`);
      off += got;
    }
    const table = new Float32Array(sab, 0, n);
    if (!LITTLE_ENDIAN) {
      const view = new DataView(sab);
      for (let i = 0; i < n; i++) table[i] = view.getFloat32(i * 4, true);
    }
    return table;
  } finally {
    closeSync(fd);
  }
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (e instanceof Error ? e.message : String(e));
}

function writeAtomic(path: string, bytes: Buffer): number {
  try {
    return writeFileAtomic(path, bytes);
  } catch (err) {
    throw datasetError(path, `cannot write (${errnoText(err)})`);
  }
}
