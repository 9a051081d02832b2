/** TSV tables: one line per row in id order, `name\tv1\tv2...`. */
import { readNameText } from '../../data/text-input.js';
import { readBytes, textLines } from './files.js';
import { TextRows, rowsText, valueField } from './text-table.js';
import type { ImportedTable } from './types.js';

const TSV_FIELDS = valueField('\t');

export function tsvText(names: readonly string[], table: Float32Array, dim: number): string {
  return rowsText(names, table, dim, '\t', (name) => name);
}

/** Read a TSV table; `dim`, when given, is checked (and is needed for an empty file). */
export function readTsvTable(file: string, dim?: number): ImportedTable {
  const lines = textLines(readNameText(readBytes(file), file, TSV_FIELDS));
  const rows = new TextRows(file, dim);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fields = line.split('\t');
    rows.add(fields.shift()!, fields, i + 1, line);
  }
  return rows.table();
}
