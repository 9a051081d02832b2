/**
 * Loader for knowledge graphs in the TSV form public benchmarks ship
 * (FB15k-237, WN18RR, CoDEx, ...): one `head<TAB>relation<TAB>tail` triple
 * per line, in a directory holding `train`, `valid` and `test` files with a
 * `.tsv` or `.txt` extension.
 *
 * Rules:
 * - Lines end in `\n` or `\r\n`. Blank and whitespace-only lines are
 *   skipped, and so is a trailing newline. A UTF-8 byte-order mark at the
 *   start of a file is ignored.
 * - Files are strict UTF-8 without control characters (see
 *   `text-input.ts`): invalid UTF-8, and C0 controls other than tab, DEL
 *   and C1 controls anywhere (a CR other than that of a CRLF ending
 *   included), are an `E_PARSE` error naming the line, the field and the
 *   code point (or byte).
 * - Every other line has exactly three tab-separated, non-empty fields.
 *   Fields are taken verbatim (no trimming, no unquoting): `a b` and `a b `
 *   are different names. Anything else is an `E_PARSE` error whose message
 *   is `file:line: what is wrong`, and nothing is loaded.
 * - Ids are assigned in order of first appearance in train (see
 *   `buildDataset`): `entities[id]` / `relations[id]` give the names back.
 * - Duplicate triples within a split are dropped; the count per split is in
 *   `report.duplicatesDropped` and a notice such as
 *   `train.tsv: 3 duplicate triples dropped`.
 * - Unseen entities and relations: a valid or test triple whose head,
 *   relation or tail never occurs in train is excluded, as PyKEEN does
 *   (a model has no embedding for it, so it cannot be ranked). The count per
 *   split is in `report.unseenExcluded` and a notice such as
 *   `test.tsv: 2 triples excluded (entity or relation not in train)`.
 *   Entities that occur only in valid/test therefore get no id.
 *
 * Loading is synchronous (it runs once on the main thread, before any
 * worker starts) and reads each file whole into a string, so a single file
 * must stay below V8's string limit (about 512 MiB).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { datasetError, parseError } from '../errors.js';
import { buildDataset, type Dataset } from './dataset.js';
import { decodeUtf8, firstForbidden, forbiddenCharError, tabField } from './text-input.js';

export type StringTriple = [string, string, string];

const FIELD_NAMES = ['head', 'relation', 'tail'] as const;
const FIELD_AT = tabField(FIELD_NAMES);
const SPLITS = ['train', 'valid', 'test'] as const;
const EXTENSIONS = ['.tsv', '.txt'] as const;

/**
 * Walk TSV text a line at a time under the input rules of the split files:
 * `\n` or `\r\n` line ends, blank lines skipped, no control characters
 * (the line holding the first one fails), exactly 3 non-empty
 * tab-separated fields. `shape` says what the fields are in the error
 * message. Calls `onLine(fields, lineNo, line)` for each line, in order.
 * Throws `E_PARSE` (`file:line: problem`) on the first malformed line.
 */
export function forEachTabLine(
  text: string,
  file: string,
  shape: string,
  onLine: (fields: StringTriple, lineNo: number, line: string) => void,
): void {
  let start = 0;
  let lineNo = 0;
  const n = text.length;
  // One scan for the first control character; the line holding it fails
  // when the loop reaches it, so errors come in file order.
  const bad = firstForbidden(text);
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    lineNo++;
    if (bad !== -1 && bad < end) throw forbiddenCharError(file, text, bad, FIELD_AT);
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    if (fields.length !== 3) {
      throw parseError(file, lineNo, `expected 3 tab-separated fields (${shape}), found ${fields.length}`, line);
    }
    for (let k = 0; k < 3; k++) {
      if (fields[k] === '') throw parseError(file, lineNo, `empty ${FIELD_NAMES[k]!} field`, line);
    }
    onLine(fields as StringTriple, lineNo, line);
  }
}

/**
 * Parse TSV text into string triples, in file order (duplicates kept).
 * `file` is used only in error messages (`${file}:${line}: ...`).
 * Throws `E_PARSE` on the first malformed line (a control character
 * included).
 */
export function parseTriples(text: string, file: string): StringTriple[] {
  const out: StringTriple[] = [];
  forEachTabLine(text, file, 'head, relation, tail', (fields) => out.push(fields));
  return out;
}

/**
 * Find the split files in `dir`: for each of train/valid/test, exactly one
 * of `<split>.tsv` and `<split>.txt` must exist. Returns the file names.
 * Throws `E_DATASET` if the directory cannot be read, a split is missing,
 * or both extensions exist for one split.
 */
export function findSplitFiles(dir: string): { train: string; valid: string; test: string } {
  let names: Set<string>;
  try {
    names = new Set(readdirSync(dir));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
    const why =
      code === 'ENOENT'
        ? 'dataset directory does not exist'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'dataset directory is not readable (permission denied)'
            : `cannot read dataset directory (${code})`;
    throw datasetError(dir, why, { errno: code });
  }
  const found: Partial<Record<(typeof SPLITS)[number], string>> = {};
  for (const split of SPLITS) {
    const candidates = EXTENSIONS.map((ext) => `${split}${ext}`);
    const present = candidates.filter((c) => names.has(c));
    if (present.length === 0) {
      throw datasetError(dir, `no ${split} split: looked for ${candidates.join(' and ')}`, {
        split,
        lookedFor: candidates,
      });
    }
    if (present.length > 1) {
      const paths = present.map((p) => join(dir, p));
      throw datasetError(dir, `ambiguous ${split} split: both ${paths.join(' and ')} exist; keep one`, {
        split,
        paths,
      });
    }
    found[split] = present[0]!;
  }
  return { train: found.train!, valid: found.valid!, test: found.test! };
}

function readSplit(dir: string, fileName: string): StringTriple[] {
  const path = join(dir, fileName);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
    throw datasetError(path, `cannot read split file (${code})`, { errno: code });
  }
  return parseTriples(
    decodeUtf8(bytes, path, FIELD_AT, (above) => parseTriples(above, path)),
    path,
  );
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Load a benchmark directory (`train`, `valid`, `test` as `.tsv` or `.txt`)
 * into a Dataset with SharedArrayBuffer-backed triples. `name` defaults to
 * the directory's base name. Synchronous. Throws `E_DATASET` for a missing,
 * ambiguous or unreadable file or directory, or a train split without
 * triples (valid/test may be empty), and `E_PARSE` for a malformed
 * line (the message names the file path and the 1-based line).
 */
export function loadTsvDir(dir: string, name?: string): Dataset {
  const files = findSplitFiles(dir);
  const train = readSplit(dir, files.train);
  if (train.length === 0) throw datasetError(join(dir, files.train), 'train split has no triples');
  const valid = readSplit(dir, files.valid);
  const test = readSplit(dir, files.test);
  const ds = buildDataset(name ?? basename(resolve(dir)), { train, valid, test });
  const { duplicatesDropped: dups, unseenExcluded: unseen } = ds.report;
  const notices: string[] = [...ds.report.notices];
  for (const split of SPLITS) {
    if (dups[split] > 0)
      notices.push(`${files[split]}: ${plural(dups[split], 'duplicate triple', 'duplicate triples')} dropped`);
  }
  for (const split of ['valid', 'test'] as const) {
    if (unseen[split] > 0) {
      notices.push(
        `${files[split]}: ${plural(unseen[split], 'triple', 'triples')} excluded (entity or relation not in train)`,
      );
    }
  }
  return { ...ds, report: { ...ds.report, notices } };
}
