/**
 * Export trained embeddings for other tools, and import them back (to
 * evaluate, or to warm-start training).
 *
 * `exportEmbeddings(dir, input)` writes, for `format`:
 *
 * | format     | files |
 * | ---        | --- |
 * | `npy`      | `<dataset>_<model>_entity.npy`, `<dataset>_<model>_relation.npy` (the DGL-KE layout: 2-D `'<f4'` tables, row i = id i), `entities.tsv` and `relations.tsv` (DGL-KE id maps, `<index>\t<name>` per line) |
 * | `tsv`      | `<dataset>_<model>_entity.tsv`, `<dataset>_<model>_relation.tsv`: one row per entity/relation in id order, `name\tv1\tv2...` |
 * | `word2vec` | `<dataset>_<model>_entity.txt`, `<dataset>_<model>_relation.txt`: word2vec text format, a `<count> <dim>` line then `name v1 v2 ...` per row |
 *
 * plus `config.json` for every format: `format` `"kgshard-export"`,
 * `version` 1, `layout` (the format), `dataset`, `model`, `num_entities`,
 * `num_relations`, `entity_dim`, `relation_dim`, `files`, and `run` (the
 * caller's run configuration, as given).
 *
 * Text values are the shortest decimal that reads back as the same float32
 * (`formatFloat32`), so text round trips are exact; non-finite values are
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
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { datasetError, dimMismatch, duplicateId, invalidArgument, parseError } from '../errors.js';
import { encodeNpy, readNpy } from './npy.js';
import { CLEAN_NAME, NO_FIELD, checkNameValue, cleanName, decodeUtf8, parseJsonText, readNameText, tabField, type FieldAt } from '../data/text-input.js';

const ID_MAP_FIELDS = tabField(['index', 'name']);
const TSV_FIELDS: FieldAt = (line, col) => {
  let k = 0;
  for (let i = line.indexOf('\t'); i !== -1 && i < col; i = line.indexOf('\t', i + 1)) k++;
  return k === 0 ? 'name' : `value ${k}`;
};
const WORD2VEC_FIELDS: FieldAt = (line, col, lineNo) => {
  if (lineNo === 1) return 'header';
  let k = 0;
  for (let i = line.indexOf(' '); i !== -1 && i < col; i = line.indexOf(' ', i + 1)) k++;
  return k === 0 ? 'name' : `value ${k}`;
};

export const EXPORT_FORMAT = 'kgshard-export';
export const EXPORT_VERSION = 1;
export const EXPORT_FORMATS = ['npy', 'tsv', 'word2vec'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportInput {
  readonly format: ExportFormat;
  readonly dataset: string;
  readonly model: string;
  readonly entities: readonly string[];
  readonly relations: readonly string[];
  /** entities.length * entityDim floats, row-major. */
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
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

export interface ImportedEmbeddings {
  readonly dir: string;
  readonly format: ExportFormat;
  readonly dataset: string;
  readonly model: string;
  readonly entities: string[];
  readonly relations: string[];
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
  readonly entityDim: number;
  readonly relationDim: number;
  /** The `run` object of config.json ({} when there was none). */
  readonly config: Record<string, unknown>;
}

export interface ImportOptions {
  /** For a DGL-KE directory without config.json: which `<dataset>_<model>_*.npy` to read (else the only pair present). */
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

export interface ImportedTable {
  /** Names by row; null for a `.npy` table (its names live in a separate id map). */
  readonly names: string[] | null;
  readonly rows: number;
  readonly dim: number;
  readonly table: Float32Array;
}

/** The file names `exportEmbeddings` writes (relative to the directory). */
export function exportFileNames(format: ExportFormat, dataset: string, model: string): ExportFiles {
  const stem = `${dataset}_${model}`;
  switch (format) {
    case 'npy':
      return { entity: `${stem}_entity.npy`, relation: `${stem}_relation.npy`, entityIds: 'entities.tsv', relationIds: 'relations.tsv', config: 'config.json' };
    case 'tsv':
      return { entity: `${stem}_entity.tsv`, relation: `${stem}_relation.tsv`, config: 'config.json' };
    case 'word2vec':
      return { entity: `${stem}_entity.txt`, relation: `${stem}_relation.txt`, config: 'config.json' };
  }
}

// ---------------------------------------------------------------- floats and names

/** The shortest decimal text that parses back to the same float32 as `v`; `nan`, `inf`, `-inf` for non-finite. */
export function formatFloat32(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'nan';
  if (f === Infinity) return 'inf';
  if (f === -Infinity) return '-inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  for (let p = 1; p < 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return trimExponent(s);
  }
  return trimExponent(f.toPrecision(9));
}

function trimExponent(s: string): string {
  // toPrecision may write "1.50e+5" or "1.00"; both parse fine, but drop redundant zeros for tidiness.
  const m = /^(-?\d+)(\.\d*?)?0*(e[+-]\d+)?$/.exec(s);
  if (!m) return s;
  const frac = m[2] === '.' || m[2] === undefined ? '' : m[2];
  return `${m[1]}${frac}${m[3] ?? ''}`;
}

const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse one value written by `formatFloat32` (or any decimal float); null if it is not a number. */
export function parseFloat32(s: string): number | null {
  if (FLOAT_TEXT.test(s)) return Math.fround(Number(s));
  const l = s.toLowerCase();
  if (l === 'nan' || l === '+nan' || l === '-nan') return NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return null;
}

/** word2vec name escaping: `\` → `\\`, space → `\s`. */
export function escapeWord2vecName(name: string): string {
  return name.replace(/\\/g, '\\\\').replace(/ /g, '\\s');
}

/** Inverse of `escapeWord2vecName`; null for a bad escape sequence. */
export function unescapeWord2vecName(text: string): string | null {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = text[++i];
    if (n === '\\') out += '\\';
    else if (n === 's') out += ' ';
    else return null;
  }
  return out;
}

function checkNames(where: string, field: string, names: readonly string[]): void {
  const seen = new Map<string, number>();
  if (!Array.isArray(names)) throw invalidArgument(where, field, names, 'an array of names');
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!cleanName(name)) throw invalidArgument(where, `${field}[${i}]`, name, CLEAN_NAME);
    const first = seen.get(name);
    if (first !== undefined) throw duplicateId(where, field === 'entities' ? 'entity' : 'relation', name, first, i);
    seen.set(name, i);
  }
}

function checkStem(where: string, field: string, v: unknown): void {
  if (typeof v !== 'string' || v === '' || /[/\\\0]/.test(v)) throw invalidArgument(where, field, v, 'a non-empty name usable in a file name');
}

function checkDim(where: string, field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidArgument(where, field, v, 'a positive integer');
}

// ---------------------------------------------------------------- export

/** Write `input` into `dir` (created if missing) in `input.format`; see the module comment. */
export function exportEmbeddings(dir: string, input: ExportInput): ExportResult {
  const where = 'exportEmbeddings';
  if (input === null || typeof input !== 'object') throw invalidArgument(where, 'input', input, 'an object');
  if (!(EXPORT_FORMATS as readonly string[]).includes(input.format)) throw invalidArgument(where, 'format', input.format, `one of ${EXPORT_FORMATS.join(', ')}`);
  checkStem(where, 'dataset', input.dataset);
  checkStem(where, 'model', input.model);
  checkDim(where, 'entityDim', input.entityDim);
  checkDim(where, 'relationDim', input.relationDim);
  checkNames(where, 'entities', input.entities);
  checkNames(where, 'relations', input.relations);
  if (!(input.entityTable instanceof Float32Array)) throw invalidArgument(where, 'entityTable', input.entityTable, 'a Float32Array');
  if (!(input.relationTable instanceof Float32Array)) throw invalidArgument(where, 'relationTable', input.relationTable, 'a Float32Array');
  if (input.entityTable.length !== input.entities.length * input.entityDim) {
    throw dimMismatch(where, 'entityTable', input.entities.length * input.entityDim, input.entityTable.length);
  }
  if (input.relationTable.length !== input.relations.length * input.relationDim) {
    throw dimMismatch(where, 'relationTable', input.relations.length * input.relationDim, input.relationTable.length);
  }
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw datasetError(out, `cannot create the export directory (${errnoText(err)})`);
  }
  const names = exportFileNames(input.format, input.dataset, input.model);
  const abs = (n: string): string => join(out, n);
  rmSync(abs(names.config), { force: true });
  let bytes = 0;
  const tables: [string, readonly string[], Float32Array, number][] = [
    [names.entity, input.entities, input.entityTable, input.entityDim],
    [names.relation, input.relations, input.relationTable, input.relationDim],
  ];
  for (const [file, rowNames, table, dim] of tables) {
    let content: Uint8Array;
    if (input.format === 'npy') content = encodeNpy(rowNames.length, dim, table);
    else if (input.format === 'tsv') content = Buffer.from(tsvText(rowNames, table, dim), 'utf8');
    else content = Buffer.from(word2vecText(rowNames, table, dim), 'utf8');
    bytes += writeAtomic(abs(file), content);
  }
  if (names.entityIds !== undefined && names.relationIds !== undefined) {
    bytes += writeAtomic(abs(names.entityIds), Buffer.from(idMapText(input.entities), 'utf8'));
    bytes += writeAtomic(abs(names.relationIds), Buffer.from(idMapText(input.relations), 'utf8'));
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
  bytes += writeAtomic(abs(names.config), Buffer.from(`${JSON.stringify(config, null, 2)}\n`, 'utf8'));
  const files: ExportFiles = {
    entity: abs(names.entity),
    relation: abs(names.relation),
    ...(names.entityIds !== undefined ? { entityIds: abs(names.entityIds) } : {}),
    ...(names.relationIds !== undefined ? { relationIds: abs(names.relationIds) } : {}),
    config: abs(names.config),
  };
  return { dir: out, format: input.format, files, bytes };
}

function idMapText(names: readonly string[]): string {
  let s = '';
  for (let i = 0; i < names.length; i++) s += `${i}\t${names[i]}\n`;
  return s;
}

function rowText(table: Float32Array, row: number, dim: number, sep: string): string {
  const parts = new Array<string>(dim);
  for (let j = 0; j < dim; j++) parts[j] = formatFloat32(table[row * dim + j]!);
  return parts.join(sep);
}

function tsvText(names: readonly string[], table: Float32Array, dim: number): string {
  const lines: string[] = [];
  for (let i = 0; i < names.length; i++) lines.push(`${names[i]}\t${rowText(table, i, dim, '\t')}\n`);
  return lines.join('');
}

function word2vecText(names: readonly string[], table: Float32Array, dim: number): string {
  const lines: string[] = [`${names.length} ${dim}\n`];
  for (let i = 0; i < names.length; i++) lines.push(`${escapeWord2vecName(names[i]!)} ${rowText(table, i, dim, ' ')}\n`);
  return lines.join('');
}

// ---------------------------------------------------------------- import

/**
 * Read one table file. The format comes from `format` or the extension
 * (`.npy`, `.tsv`, anything else word2vec). `dim`, when given, is checked
 * (and is needed for an empty tsv file).
 */
export function importTable(file: string, format?: ExportFormat, dim?: number): ImportedTable {
  const f = format ?? (file.endsWith('.npy') ? 'npy' : file.endsWith('.tsv') ? 'tsv' : 'word2vec');
  if (f === 'npy') {
    const t = readNpy(file);
    if (dim !== undefined && t.cols !== dim) throw datasetError(file, `has ${t.cols} columns, expected ${dim}`, { expected: dim, actual: t.cols });
    return { names: null, rows: t.rows, dim: t.cols, table: t.data };
  }
  const text = readNameText(readBytes(file), file, f === 'tsv' ? TSV_FIELDS : WORD2VEC_FIELDS);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const clean = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);
  const names: string[] = [];
  const seen = new Map<string, number>();
  const values: number[] = [];
  let width = dim;
  const parseRow = (line: string, lineNo: number, fields: string[]): void => {
    if (width === undefined) width = fields.length;
    if (width < 1) throw parseError(file, lineNo, 'no values after the name', line);
    if (fields.length !== width) throw parseError(file, lineNo, `expected ${width} values, found ${fields.length}`, line);
    for (let j = 0; j < fields.length; j++) {
      const v = parseFloat32(fields[j]!);
      if (v === null) throw parseError(file, lineNo, `value ${j + 1} ${JSON.stringify(fields[j])} is not a number`, line);
      values.push(v);
    }
  };
  if (f === 'tsv') {
    for (let i = 0; i < lines.length; i++) {
      const line = clean(lines[i]!);
      const fields = line.split('\t');
      const name = fields.shift()!;
      if (name === '') throw parseError(file, i + 1, 'empty name', line);
      noRepeat(file, seen, name, i + 1, line);
      names.push(name);
      parseRow(line, i + 1, fields);
    }
  } else {
    const head = lines.length > 0 ? clean(lines[0]!).trim() : '';
    const m = /^(\d+) (\d+)$/.exec(head);
    if (!m) throw parseError(file, 1, 'expected the word2vec header "<count> <dim>"', head);
    const count = Number(m[1]);
    const headerDim = Number(m[2]);
    if (dim !== undefined && headerDim !== dim) throw parseError(file, 1, `dim ${headerDim}, expected ${dim}`, head);
    width = headerDim;
    if (lines.length - 1 !== count) throw datasetError(file, `header says ${count} rows, the file has ${lines.length - 1}`, { expected: count, actual: lines.length - 1 });
    for (let i = 1; i < lines.length; i++) {
      const line = clean(lines[i]!).replace(/ +$/, '');
      // Fields are separated by spaces; a tab is a control character here (a name never holds one).
      const tab = line.indexOf('\t');
      if (tab !== -1) throw parseError(file, i + 1, `control character U+0009 in the ${WORD2VEC_FIELDS(line, tab, i + 1)!} field`, line);
      const fields = line.split(' ');
      const raw = fields.shift()!;
      const name = unescapeWord2vecName(raw);
      if (name === null) throw parseError(file, i + 1, `bad escape in name ${JSON.stringify(raw)} (only \\\\ and \\s)`, line);
      if (name === '') throw parseError(file, i + 1, 'empty name', line);
      noRepeat(file, seen, name, i + 1, line);
      names.push(name);
      parseRow(line, i + 1, fields);
    }
  }
  const w = width ?? 0;
  if (names.length > 0 && w < 1) throw datasetError(file, 'rows have no values');
  return { names, rows: names.length, dim: w, table: Float32Array.from(values) };
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
    if (basename(dir) !== 'config.json') {
      throw datasetError(dir, 'importEmbeddings takes an export directory or its config.json; read a single table with importTable');
    }
    dir = dirname(dir);
  }
  if (!existsSync(dir)) throw datasetError(dir, 'no such directory');
  const configPath = join(dir, 'config.json');
  let result: ImportedEmbeddings;
  if (existsSync(configPath)) result = importWithConfig(dir, configPath);
  else result = importDglKe(dir, options);
  checkExpect(dir, result, options.expect);
  return result;
}

function importWithConfig(dir: string, configPath: string): ImportedEmbeddings {
  const c = parseJsonText(decodeUtf8(readBytes(configPath), configPath, NO_FIELD), configPath) as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || c['format'] !== EXPORT_FORMAT) {
    throw datasetError(configPath, `format must be ${JSON.stringify(EXPORT_FORMAT)}, got ${JSON.stringify(c?.['format'])}`);
  }
  if (c['version'] !== EXPORT_VERSION) throw datasetError(configPath, `version ${String(c['version'])} is not supported (expected ${EXPORT_VERSION})`);
  const layout = c['layout'];
  if (typeof layout !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(layout)) {
    throw datasetError(configPath, `layout must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(layout)}`);
  }
  for (const k of ['dataset', 'model']) {
    if (typeof c[k] !== 'string' || c[k] === '') throw datasetError(configPath, `${k} must be a non-empty string, got ${JSON.stringify(c[k])}`);
  }
  for (const k of ['num_entities', 'num_relations', 'entity_dim', 'relation_dim']) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw datasetError(configPath, `${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
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
  return { dir, format, dataset, model, entities: e.names, relations: r.names, entityTable: e.table, relationTable: r.table, entityDim, relationDim, config: run };
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
      throw datasetError(dir, stems.length === 0 ? 'no config.json and no *_entity.npy: not an embeddings export' : `no config.json and ${stems.length} *_entity.npy files (${stems.join(', ')}); pass dataset and model`);
    }
    stem = stems[0]!;
  }
  const u = stem.lastIndexOf('_');
  const dataset = options.dataset ?? (u > 0 ? stem.slice(0, u) : stem);
  const model = options.model ?? (u > 0 ? stem.slice(u + 1) : '');
  const e = loadSide(dir, 'npy', `${stem}_entity.npy`, 'entities.tsv', undefined, undefined, 'the id map');
  const r = loadSide(dir, 'npy', `${stem}_relation.npy`, 'relations.tsv', undefined, undefined, 'the id map');
  return { dir, format: 'npy', dataset, model, entities: e.names, relations: r.names, entityTable: e.table, relationTable: r.table, entityDim: e.dim, relationDim: r.dim, config: {} };
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
  if (rows !== undefined && t.rows !== rows) throw datasetError(tablePath, `has ${t.rows} rows, ${source} says ${rows}`, { expected: rows, actual: t.rows });
  let names = t.names;
  if (idsFile !== undefined) {
    const idsPath = join(dir, idsFile);
    names = readIdMap(idsPath);
    if (names.length !== t.rows) throw datasetError(idsPath, `has ${names.length} ids, ${tableFile} has ${t.rows} rows`, { expected: t.rows, actual: names.length });
  }
  if (names === null) throw datasetError(tablePath, 'a .npy table needs an id map');
  return { names, table: t.table, dim: t.dim };
}

function readIdMap(path: string): string[] {
  const text = readNameText(readBytes(path), path, ID_MAP_FIELDS);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const names: string[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const tab = line.indexOf('\t');
    if (tab < 0) throw parseError(path, i + 1, 'expected <index><TAB><name>', line);
    const id = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (id !== String(names.length)) throw parseError(path, i + 1, `expected index ${names.length}, found ${JSON.stringify(id)}`, line);
    if (name === '' || name.includes('\t')) throw parseError(path, i + 1, 'expected a non-empty name without tabs', line);
    noRepeat(path, seen, name, i + 1, line);
    names.push(name);
  }
  return names;
}

/** A name names one row: a repeat is E_PARSE at its line, naming the first. */
function noRepeat(file: string, seen: Map<string, number>, name: string, lineNo: number, line: string): void {
  const first = seen.get(name);
  if (first !== undefined) throw parseError(file, lineNo, `name ${JSON.stringify(name)} repeats line ${first}`, line);
  seen.set(name, lineNo);
}

function checkExpect(dir: string, got: ImportedEmbeddings, expect: ImportOptions['expect']): void {
  if (!expect) return;
  const side = (kind: 'entities' | 'relations', want: number | readonly string[] | undefined): void => {
    if (want === undefined) return;
    const have = got[kind];
    const n = typeof want === 'number' ? want : want.length;
    if (have.length !== n) throw datasetError(dir, `has ${have.length} ${kind}, expected ${n}`, { kind, expected: n, actual: have.length });
    if (typeof want !== 'number') {
      for (let i = 0; i < n; i++) {
        if (have[i] !== want[i]) throw datasetError(dir, `${kind} id ${i} is ${JSON.stringify(have[i])}, expected ${JSON.stringify(want[i])}`, { kind, index: i });
      }
    }
  };
  side('entities', expect.entities);
  side('relations', expect.relations);
  if (expect.entityDim !== undefined && got.entityDim !== expect.entityDim) throw dimMismatch(`importEmbeddings(${dir})`, 'entity rows', expect.entityDim, got.entityDim);
  if (expect.relationDim !== undefined && got.relationDim !== expect.relationDim) throw dimMismatch(`importEmbeddings(${dir})`, 'relation rows', expect.relationDim, got.relationDim);
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw datasetError(path, `cannot read (${errnoText(err)})`);
  }
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (e instanceof Error ? e.message : String(e));
}

function writeAtomic(path: string, bytes: Uint8Array): number {
  try {
    return writeFileAtomic(path, bytes);
  } catch (err) {
    throw datasetError(path, `cannot write (${errnoText(err)})`);
  }
}
