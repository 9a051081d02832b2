/**
 * word2vec text tables: a `<count> <dim>` line, then `name v1 v2 ...` per
 * row. Fields are separated by single spaces, so a name is escaped: `\` is
 * written `\\` and a space `\s`; any other backslash sequence is a parse
 * error. A name without spaces or backslashes is written as is.
 */
import { parseError, datasetError } from '../../errors.js';
import { readNameText, type FieldAt } from '../../data/text-input.js';
import { readBytes, textLines } from './files.js';
import { TextRows, rowsText, valueField } from './text-table.js';
import type { ImportedTable } from './types.js';

const ROW_FIELDS = valueField(' ');
const WORD2VEC_FIELDS: FieldAt = (line, col, lineNo) => (lineNo === 1 ? 'header' : ROW_FIELDS(line, col, lineNo));

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

export function word2vecText(names: readonly string[], table: Float32Array, dim: number): string {
  return `${names.length} ${dim}\n${rowsText(names, table, dim, ' ', escapeWord2vecName)}`;
}

/** Read a word2vec table; `dim`, when given, must be the header's. */
export function readWord2vecTable(file: string, dim?: number): ImportedTable {
  const lines = textLines(readNameText(readBytes(file), file, WORD2VEC_FIELDS));
  const head = lines.length > 0 ? lines[0]!.trim() : '';
  const m = /^(\d+) (\d+)$/.exec(head);
  if (!m) throw parseError(file, 1, 'expected the word2vec header "<count> <dim>"', head);
  const count = Number(m[1]);
  const headerDim = Number(m[2]);
  if (dim !== undefined && headerDim !== dim) throw parseError(file, 1, `dim ${headerDim}, expected ${dim}`, head);
  if (lines.length - 1 !== count)
    throw datasetError(file, `header says ${count} rows, the file has ${lines.length - 1}`, {
      expected: count,
      actual: lines.length - 1,
    });
  const rows = new TextRows(file, headerDim);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.replace(/ +$/, '');
    // Fields are separated by spaces; a tab is a control character here (a name never holds one).
    const tab = line.indexOf('\t');
    if (tab !== -1)
      throw parseError(
        file,
        i + 1,
        `control character U+0009 in the ${WORD2VEC_FIELDS(line, tab, i + 1)!} field`,
        line,
      );
    const fields = line.split(' ');
    const raw = fields.shift()!;
    const name = unescapeWord2vecName(raw);
    if (name === null)
      throw parseError(file, i + 1, `bad escape in name ${JSON.stringify(raw)} (only \\\\ and \\s)`, line);
    rows.add(name, fields, i + 1, line);
  }
  return rows.table();
}
