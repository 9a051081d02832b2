/**
 * What every embeddings format shares: the checks on names and tables a
 * writer makes, reading and writing files with errors that name them, the
 * id maps (`<index>\t<name>` per line), `config.json`, and float32 bytes in
 * little-endian order. The character rule for names is `data/text-input.ts`.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../atomic-write.js';
import { datasetError, dimMismatch, duplicateId, invalidArgument, parseError } from '../../errors.js';
import {
  CLEAN_NAME,
  NO_FIELD,
  cleanName,
  decodeUtf8,
  parseJsonText,
  readNameText,
  tabField,
} from '../../data/text-input.js';

// ---------------------------------------------------------------- checks on what a writer is given

/** `names` are clean (see `cleanName`) and unique; E_INVALID_ARGUMENT / E_DUPLICATE_ID otherwise. */
export function checkNames(where: string, field: 'entities' | 'relations', names: readonly string[]): void {
  const seen = new Map<string, number>();
  const list: unknown = names; // checked as unknown: Array.isArray would narrow `names` to any[]
  if (!Array.isArray(list)) throw invalidArgument(where, field, names, 'an array of names');
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (!cleanName(name)) throw invalidArgument(where, `${field}[${i}]`, name, CLEAN_NAME);
    const first = seen.get(name);
    if (first !== undefined) throw duplicateId(where, field === 'entities' ? 'entity' : 'relation', name, first, i);
    seen.set(name, i);
  }
}

/** `table` holds `rows` rows of `width` floats; E_DIM_MISMATCH naming `field` otherwise. */
export function checkTable(where: string, field: string, table: Float32Array, rows: number, width: number): void {
  if (table.length !== rows * width) throw dimMismatch(where, field, rows * width, table.length);
}

// ---------------------------------------------------------------- files

export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (e instanceof Error ? e.message : String(e));
}

/** The file's bytes, or E_DATASET `path: cannot read[ what] (code)`. */
export function readBytes(path: string, what?: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw datasetError(path, `cannot read${what === undefined ? '' : ` ${what}`} (${errnoText(err)})`);
  }
}

/** `writeFileAtomic`, or E_DATASET `path: cannot write (code)`. Returns the bytes written. */
export function writeBytes(path: string, bytes: Uint8Array): number {
  try {
    return writeFileAtomic(path, bytes);
  } catch (err) {
    throw datasetError(path, `cannot write (${errnoText(err)})`);
  }
}

/**
 * Write a set of files into `dir` (created if missing; `what` names it in
 * the error), each atomically, `config.json` removed first and written
 * last, so a directory with a `config.json` holds a complete set. Returns
 * the bytes written.
 */
export function writeFileSet(
  dir: string,
  what: string,
  files: readonly (readonly [string, Uint8Array])[],
  config: object,
): number {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw datasetError(dir, `cannot create the ${what} directory (${errnoText(err)})`);
  }
  const configPath = join(dir, CONFIG_FILE);
  rmSync(configPath, { force: true });
  let bytes = 0;
  for (const [name, content] of files) bytes += writeBytes(join(dir, name), content);
  return bytes + writeBytes(configPath, Buffer.from(`${JSON.stringify(config, null, 2)}\n`, 'utf8'));
}

// ---------------------------------------------------------------- config.json

export const CONFIG_FILE = 'config.json';

/**
 * Parse `config.json` (given its bytes) and check the keys every format
 * has, `format` and `version`; E_DATASET naming the file otherwise.
 */
export function parseConfig(path: string, bytes: Uint8Array, format: string, version: number): Record<string, unknown> {
  const c = parseJsonText(decodeUtf8(bytes, path, NO_FIELD), path) as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || c['format'] !== format) {
    throw datasetError(path, `format must be ${JSON.stringify(format)}, got ${JSON.stringify(c?.['format'])}`);
  }
  if (c['version'] !== version)
    throw datasetError(path, `version ${String(c['version'])} is not supported (expected ${version})`);
  return c;
}

/** The `keys` of config `c` are non-negative integers; E_DATASET naming the file otherwise. */
export function checkCounts(path: string, c: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw datasetError(path, `${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
}

// ---------------------------------------------------------------- id maps

/** `<index>\t<name>` per line, indexes 0, 1, 2, ... */
export function idMapText(names: readonly string[]): string {
  const lines = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) lines[i] = `${i}\t${names[i]}\n`;
  return lines.join('');
}

/** How a format's errors call an id map's first column. */
export interface IdMapWords {
  /** The first field's name, e.g. `id`. */
  readonly index: string;
  /** The expected line, e.g. `id<TAB>name`. */
  readonly line: string;
  /** The read error's object, e.g. `the id map`, or none. */
  readonly what?: string;
}

/** Read an id map; E_PARSE `file:line` for a bad line or a repeated name. */
export function readIdMap(path: string, words: IdMapWords): string[] {
  const text = readNameText(readBytes(path, words.what), path, tabField([words.index, 'name']));
  const lines = textLines(text);
  const names: string[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const tab = line.indexOf('\t');
    if (tab < 0) throw parseError(path, i + 1, `expected ${words.line}`, line);
    const id = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (id !== String(names.length))
      throw parseError(path, i + 1, `expected ${words.index} ${names.length}, found ${JSON.stringify(id)}`, line);
    if (name === '' || name.includes('\t'))
      throw parseError(path, i + 1, 'expected a non-empty name without tabs', line);
    noRepeat(path, seen, name, i + 1, line);
    names.push(name);
  }
  return names;
}

/** The lines of `text` without the last empty one and without the CR of CRLF endings. */
export function textLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/** A name names one row: a repeat is E_PARSE at its line, naming the first. */
export function noRepeat(file: string, seen: Map<string, number>, name: string, lineNo: number, line: string): void {
  const first = seen.get(name);
  if (first !== undefined) throw parseError(file, lineNo, `name ${JSON.stringify(name)} repeats line ${first}`, line);
  seen.set(name, lineNo);
}

// ---------------------------------------------------------------- float32 bytes

const LITTLE_ENDIAN = endianness() === 'LE';

/** The table's bytes as little-endian float32 (a view when the host is little-endian). */
export function littleEndianBytes(table: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  const out = new Uint8Array(table.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < table.length; i++) dv.setFloat32(i * 4, table[i]!, true);
  return out;
}

/** Turn a table whose bytes were read as little-endian float32 into host order, in place. */
export function fromLittleEndian(table: Float32Array): Float32Array {
  if (LITTLE_ENDIAN) return table;
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let i = 0; i < table.length; i++) table[i] = dv.getFloat32(i * 4, true);
  return table;
}
