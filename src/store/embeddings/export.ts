/**
 * Export trained embeddings for other tools, and import them back (to
 * evaluate, or to warm-start training).
 *
 * `exportEmbeddings(dir, input)` writes, for `format`:
 *
 * - `npy`: `<dataset>_<model>_entity.npy`, `<dataset>_<model>_relation.npy` (the DGL-KE layout:
 *   2-D `'<f4'` tables, row i = id i), `entities.tsv` and `relations.tsv` (DGL-KE id maps,
 *   `<index>\t<name>` per line);
 * - `tsv`: `<dataset>_<model>_entity.tsv`, `<dataset>_<model>_relation.tsv`: one row per
 *   entity/relation in id order, `name\tv1\tv2...`;
 * - `word2vec`: `<dataset>_<model>_entity.txt`, `<dataset>_<model>_relation.txt`: word2vec text
 *   format, a `<count> <dim>` line then `name v1 v2 ...` per row;
 *
 * plus `config.json` for every format: `format` `"kgshard-export"`,
 * `version` 1, `layout` (the format), `dataset`, `model`, `num_entities`,
 * `num_relations`, `entity_dim`, `relation_dim`, `files`, and `run` (the
 * caller's run configuration, as given).
 *
 * Text values are the shortest decimal that reads back as the same float32
 * (`formatFloat32` in `text-table.ts`), so text round trips are exact; non-finite values are
 * written `nan`, `inf`, `-inf`.
 *
 * Names: non-empty, no control character (tab, CR and LF included), in
 * every format; files are read as strict UTF-8 and a control character in
 * them (other than tab, and the CR of a CRLF ending) is an E_PARSE
 * `file:line` error naming the field (see `data/text-input.ts`). In word2vec files,
 * whose fields are separated by single spaces, a name is escaped: `\` is
 * written `\\` and a space `\s`; `importEmbeddings` undoes this, and any
 * other backslash sequence is a parse error. A name without spaces or
 * backslashes is written as is. A name read twice in one table or id map
 * is a parse error at the second line.
 *
 * Every file is written atomically; `config.json` is removed first and
 * written last, so a directory with a `config.json` holds a complete export.
 * Errors: E_INVALID_ARGUMENT / E_DIM_MISMATCH for bad input, E_DATASET
 * naming the file for a missing or bad file, E_PARSE `file:line` for a bad
 * text line.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { datasetError, dimMismatch, invalidArgument } from '../../errors.js';
import { checkNameValue } from '../../data/text-input.js';
import {
  CONFIG_FILE,
  checkCounts,
  checkNames,
  checkTable,
  errnoText,
  idMapText,
  parseConfig,
  readBytes,
  readIdMap,
  writeFileSet,
  type IdMapWords,
} from './files.js';
import { encodeNpy, readNpyTable } from './npy.js';
import { readTsvTable, tsvText } from './tsv.js';
import { readWord2vecTable, word2vecText } from './word2vec.js';
import type { EmbeddingTables, ImportedTable } from './types.js';

const ID_MAP: IdMapWords = { index: 'index', line: '<index><TAB><name>' };

export const EXPORT_FORMAT = 'kgshard-export';
export const EXPORT_VERSION = 1;
export const EXPORT_FORMATS = ['npy', 'tsv', 'word2vec'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The tables to export; `entityTable` holds entities.length * entityDim floats, row-major. */
export interface ExportInput extends EmbeddingTables {
  readonly format: ExportFormat;
  readonly dataset: string;
  readonly model: string;
  readonly entityDim: number;
  readonly relationDim: number;
  /** The run's configuration, stored under `run` in config.json. */
  readonly config?: Record<string, unknown>;
}

export interface ExportFiles {
  readonly entity: string;
  readonly relation: string;
  /** npy only: the DGL-KE id maps. */
  readonly entityIds?: string;
  readonly relationIds?: string;
  readonly config: string;
}

export interface ExportResult {
  readonly dir: string;
  readonly format: ExportFormat;
  /** Absolute paths. */
  readonly files: ExportFiles;
  readonly bytes: number;
}

export interface ImportedEmbeddings extends EmbeddingTables {
  readonly dir: string;
  readonly format: ExportFormat;
  readonly dataset: string;
  readonly model: string;
  readonly entities: string[];
  readonly relations: string[];
  readonly entityDim: number;
  readonly relationDim: number;
  /** The `run` object of config.json ({} when there was none). */
  readonly config: Record<string, unknown>;
}

export interface ImportOptions {
  /**
   * For a DGL-KE directory without config.json: which `<dataset>_<model>_*.npy` to read (else the only pair present).
   */
  readonly dataset?: string;
  readonly model?: string;
  /** Checks for evaluate / warm start: counts or exact name lists, and widths. */
  readonly expect?: {
    readonly entities?: number | readonly string[];
    readonly relations?: number | readonly string[];
    readonly entityDim?: number;
    readonly relationDim?: number;
  };
}

/** One writer and one reader per table format. */
const TABLES: {
  readonly [F in ExportFormat]: {
    encode: (names: readonly string[], table: Float32Array, dim: number) => Uint8Array;
    read: (file: string, dim?: number) => ImportedTable;
  };
} = {
  npy: { encode: (names, table, dim) => encodeNpy(names.length, dim, table), read: readNpyTable },
  tsv: { encode: (names, table, dim) => Buffer.from(tsvText(names, table, dim), 'utf8'), read: readTsvTable },
  word2vec: {
    encode: (names, table, dim) => Buffer.from(word2vecText(names, table, dim), 'utf8'),
    read: readWord2vecTable,
  },
};

/** The file names `exportEmbeddings` writes (relative to the directory). */
export function exportFileNames(format: ExportFormat, dataset: string, model: string): ExportFiles {
  const stem = `${dataset}_${model}`;
  switch (format) {
    case 'npy':
      return {
        entity: `${stem}_entity.npy`,
        relation: `${stem}_relation.npy`,
        entityIds: 'entities.tsv',
        relationIds: 'relations.tsv',
        config: 'config.json',
      };
    case 'tsv':
      return { entity: `${stem}_entity.tsv`, relation: `${stem}_relation.tsv`, config: 'config.json' };
    case 'word2vec':
      return { entity: `${stem}_entity.txt`, relation: `${stem}_relation.txt`, config: 'config.json' };
  }
}

function checkStem(where: string, field: string, v: unknown): void {
  if (typeof v !== 'string' || v === '' || /[/\\\0]/.test(v))
    throw invalidArgument(where, field, v, 'a non-empty name usable in a file name');
}

function checkDim(where: string, field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw invalidArgument(where, field, v, 'a positive integer');
}

// ---------------------------------------------------------------- export

/** Write `input` into `dir` (created if missing) in `input.format`; see the module comment. */
export function exportEmbeddings(dir: string, input: ExportInput): ExportResult {
  const where = 'exportEmbeddings';
  if (input === null || typeof input !== 'object') throw invalidArgument(where, 'input', input, 'an object');
  if (!(EXPORT_FORMATS as readonly string[]).includes(input.format))
    throw invalidArgument(where, 'format', input.format, `one of ${EXPORT_FORMATS.join(', ')}`);
  checkStem(where, 'dataset', input.dataset);
  checkStem(where, 'model', input.model);
  checkDim(where, 'entityDim', input.entityDim);
  checkDim(where, 'relationDim', input.relationDim);
  checkNames(where, 'entities', input.entities);
  checkNames(where, 'relations', input.relations);
  if (!(input.entityTable instanceof Float32Array))
    throw invalidArgument(where, 'entityTable', input.entityTable, 'a Float32Array');
  if (!(input.relationTable instanceof Float32Array))
    throw invalidArgument(where, 'relationTable', input.relationTable, 'a Float32Array');
  checkTable(where, 'entityTable', input.entityTable, input.entities.length, input.entityDim);
  checkTable(where, 'relationTable', input.relationTable, input.relations.length, input.relationDim);
  const out = resolve(dir);
  const names = exportFileNames(input.format, input.dataset, input.model);
  const abs = (n: string): string => join(out, n);
  const { encode } = TABLES[input.format];
  const contents: [string, Uint8Array][] = [
    [names.entity, encode(input.entities, input.entityTable, input.entityDim)],
    [names.relation, encode(input.relations, input.relationTable, input.relationDim)],
  ];
  if (names.entityIds !== undefined && names.relationIds !== undefined) {
    contents.push([names.entityIds, Buffer.from(idMapText(input.entities), 'utf8')]);
    contents.push([names.relationIds, Buffer.from(idMapText(input.relations), 'utf8')]);
  }
  const config = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    layout: input.format,
    dataset: input.dataset,
    model: input.model,
    num_entities: input.entities.length,
    num_relations: input.relations.length,
    entity_dim: input.entityDim,
    relation_dim: input.relationDim,
    files: names,
    run: input.config ?? {},
  };
  const bytes = writeFileSet(out, 'export', contents, config);
  const files: ExportFiles = {
    entity: abs(names.entity),
    relation: abs(names.relation),
    ...(names.entityIds !== undefined ? { entityIds: abs(names.entityIds) } : {}),
    ...(names.relationIds !== undefined ? { relationIds: abs(names.relationIds) } : {}),
    config: abs(names.config),
  };
  return { dir: out, format: input.format, files, bytes };
}

// ---------------------------------------------------------------- import

/**
 * Read one table file. The format comes from `format` or the extension
 * (`.npy`, `.tsv`, anything else word2vec). `dim`, when given, is checked
 * (and is needed for an empty tsv file).
 */
export function importTable(file: string, format?: ExportFormat, dim?: number): ImportedTable {
  const f = format ?? (file.endsWith('.npy') ? 'npy' : file.endsWith('.tsv') ? 'tsv' : 'word2vec');
  return TABLES[f].read(file, dim);
}

/**
 * Read an export back: `path` is the export directory (or its config.json),
 * or a DGL-KE directory without config.json holding one
 * `<dataset>_<model>_entity.npy` / `_relation.npy` pair and the two id maps.
 * Every table is checked against the config (rows, widths) and the names
 * against the id maps / `options.expect`.
 */
export function importEmbeddings(path: string, options: ImportOptions = {}): ImportedEmbeddings {
  let dir = resolve(path);
  if (existsSync(dir) && statSync(dir).isFile()) {
    if (basename(dir) !== CONFIG_FILE) {
      throw datasetError(
        dir,
        'importEmbeddings takes an export directory or its config.json; read a single table with importTable',
      );
    }
    dir = dirname(dir);
  }
  if (!existsSync(dir)) throw datasetError(dir, 'no such directory');
  const configPath = join(dir, CONFIG_FILE);
  let result: ImportedEmbeddings;
  if (existsSync(configPath)) result = importWithConfig(dir, configPath);
  else result = importDglKe(dir, options);
  checkExpect(dir, result, options.expect);
  return result;
}

function importWithConfig(dir: string, configPath: string): ImportedEmbeddings {
  const c = parseConfig(configPath, readBytes(configPath), EXPORT_FORMAT, EXPORT_VERSION);
  const layout = c['layout'];
  if (typeof layout !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(layout)) {
    throw datasetError(configPath, `layout must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(layout)}`);
  }
  for (const k of ['dataset', 'model']) {
    if (typeof c[k] !== 'string' || c[k] === '')
      throw datasetError(configPath, `${k} must be a non-empty string, got ${JSON.stringify(c[k])}`);
  }
  checkCounts(configPath, c, ['num_entities', 'num_relations', 'entity_dim', 'relation_dim']);
  checkNameValue(configPath, 'dataset', c['dataset']);
  checkNameValue(configPath, 'model', c['model']);
  const format = layout as ExportFormat;
  const dataset = c['dataset'] as string;
  const model = c['model'] as string;
  const n = { entities: c['num_entities'] as number, relations: c['num_relations'] as number };
  const entityDim = c['entity_dim'] as number;
  const relationDim = c['relation_dim'] as number;
  const files = exportFileNames(format, dataset, model);
  const run = c['run'] !== null && typeof c['run'] === 'object' ? (c['run'] as Record<string, unknown>) : {};
  const e = loadSide(dir, format, files.entity, files.entityIds, entityDim, n.entities, 'config.json');
  const r = loadSide(dir, format, files.relation, files.relationIds, relationDim, n.relations, 'config.json');
  return {
    dir,
    format,
    dataset,
    model,
    entities: e.names,
    relations: r.names,
    entityTable: e.table,
    relationTable: r.table,
    entityDim,
    relationDim,
    config: run,
  };
}

function importDglKe(dir: string, options: ImportOptions): ImportedEmbeddings {
  let stem: string;
  if (options.dataset !== undefined && options.model !== undefined) {
    stem = `${options.dataset}_${options.model}`;
  } else {
    let listing: string[];
    try {
      listing = readdirSync(dir);
    } catch (err) {
      throw datasetError(dir, `cannot list (${errnoText(err)})`);
    }
    const stems = listing.filter((n) => n.endsWith('_entity.npy')).map((n) => n.slice(0, -'_entity.npy'.length));
    if (stems.length !== 1) {
      throw datasetError(
        dir,
        stems.length === 0
          ? 'no config.json and no *_entity.npy: not an embeddings export'
          : `no config.json and ${stems.length} *_entity.npy files (${stems.join(', ')}); pass dataset and model`,
      );
    }
    stem = stems[0]!;
  }
  const u = stem.lastIndexOf('_');
  const dataset = options.dataset ?? (u > 0 ? stem.slice(0, u) : stem);
  const model = options.model ?? (u > 0 ? stem.slice(u + 1) : '');
  const e = loadSide(dir, 'npy', `${stem}_entity.npy`, 'entities.tsv', undefined, undefined, 'the id map');
  const r = loadSide(dir, 'npy', `${stem}_relation.npy`, 'relations.tsv', undefined, undefined, 'the id map');
  return {
    dir,
    format: 'npy',
    dataset,
    model,
    entities: e.names,
    relations: r.names,
    entityTable: e.table,
    relationTable: r.table,
    entityDim: e.dim,
    relationDim: r.dim,
    config: {},
  };
}

function loadSide(
  dir: string,
  format: ExportFormat,
  tableFile: string,
  idsFile: string | undefined,
  dim: number | undefined,
  rows: number | undefined,
  source: string,
): { names: string[]; table: Float32Array; dim: number } {
  const tablePath = join(dir, tableFile);
  const t = importTable(tablePath, format, dim);
  if (rows !== undefined && t.rows !== rows)
    throw datasetError(tablePath, `has ${t.rows} rows, ${source} says ${rows}`, { expected: rows, actual: t.rows });
  let names = t.names;
  if (idsFile !== undefined) {
    const idsPath = join(dir, idsFile);
    names = readIdMap(idsPath, ID_MAP);
    if (names.length !== t.rows)
      throw datasetError(idsPath, `has ${names.length} ids, ${tableFile} has ${t.rows} rows`, {
        expected: t.rows,
        actual: names.length,
      });
  }
  if (names === null) throw datasetError(tablePath, 'a .npy table needs an id map');
  return { names, table: t.table, dim: t.dim };
}

function checkExpect(dir: string, got: ImportedEmbeddings, expect: ImportOptions['expect']): void {
  if (!expect) return;
  const side = (kind: 'entities' | 'relations', want: number | readonly string[] | undefined): void => {
    if (want === undefined) return;
    const have = got[kind];
    const n = typeof want === 'number' ? want : want.length;
    if (have.length !== n)
      throw datasetError(dir, `has ${have.length} ${kind}, expected ${n}`, { kind, expected: n, actual: have.length });
    if (typeof want !== 'number') {
      for (let i = 0; i < n; i++) {
        if (have[i] !== want[i])
          throw datasetError(
            dir,
            `${kind} id ${i} is ${JSON.stringify(have[i])}, expected ${JSON.stringify(want[i])}`,
            { kind, index: i },
          );
      }
    }
  };
  side('entities', expect.entities);
  side('relations', expect.relations);
  if (expect.entityDim !== undefined && got.entityDim !== expect.entityDim)
    throw dimMismatch(`importEmbeddings(${dir})`, 'entity rows', expect.entityDim, got.entityDim);
  if (expect.relationDim !== undefined && got.relationDim !== expect.relationDim)
    throw dimMismatch(`importEmbeddings(${dir})`, 'relation rows', expect.relationDim, got.relationDim);
}
