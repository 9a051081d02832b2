/**
 * Prediction queries by name, and the query file of `kgshard predict
 * --queries FILE`: one query a line, tab-separated,
 *
 *   head<TAB>relation<TAB>?      the tails of (head, relation, ?)
 *   ?<TAB>relation<TAB>tail      the heads of (?, relation, tail)
 *
 * The file follows the input rules of the split files (`tsv.ts`): strict
 * UTF-8, no control characters, `\n` or `\r\n` line ends, blank lines
 * skipped, fields taken verbatim. A bad line is an `E_PARSE` error
 * `file:line: problem`, and nothing is read.
 */
import { readFileSync } from 'node:fs';
import { datasetError, parseError } from '../errors.js';
import { decodeUtf8, tabField } from './text-input.js';
import { forEachTabLine } from './tsv.js';

/** What a query's asked side is written as, in files and on the command line. */
export const ASKED_NAME = '?';

/** A query by name: exactly one of `head` and `tail` is given; the other is asked for. */
export type NamedQuery =
  | { readonly head: string; readonly relation: string; readonly tail?: undefined; readonly source?: string }
  | { readonly head?: undefined; readonly relation: string; readonly tail: string; readonly source?: string };

const FIELD_AT = tabField(['head', 'relation', 'tail']);
const SHAPE = 'head<TAB>relation<TAB>? or ?<TAB>relation<TAB>tail';

/**
 * Parse query-file text. `file` names the file in errors and in each
 * query's `source` (`file:line`). Throws `E_PARSE` at the first bad line.
 */
export function parseQueries(text: string, file: string): NamedQuery[] {
  const out: NamedQuery[] = [];
  forEachTabLine(text, file, SHAPE, ([head, relation, tail], lineNo, line) => {
    const source = `${file}:${lineNo}`;
    if (relation === ASKED_NAME)
      throw parseError(file, lineNo, `the relation cannot be asked for; write ${SHAPE}`, line);
    if (head === ASKED_NAME && tail === ASKED_NAME)
      throw parseError(file, lineNo, `both head and tail are ${ASKED_NAME}; ask for one side: ${SHAPE}`, line);
    if (head !== ASKED_NAME && tail !== ASKED_NAME)
      throw parseError(file, lineNo, `neither head nor tail is ${ASKED_NAME}; write ${SHAPE}`, line);
    out.push(head === ASKED_NAME ? { relation, tail, source } : { head, relation, source });
  });
  return out;
}

/** Read and parse a query file; `E_DATASET` naming the path when it cannot be read. */
export function readQueries(path: string): NamedQuery[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown';
    const why =
      code === 'ENOENT'
        ? 'query file does not exist'
        : code === 'EISDIR'
          ? 'is a directory, not a query file'
          : `cannot read query file (${code})`;
    throw datasetError(path, why, { errno: code });
  }
  const text = decodeUtf8(bytes, path, FIELD_AT, (above) => parseQueries(above, path));
  return parseQueries(text, path);
}
