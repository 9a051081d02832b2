/**
 * Tables as text (TSV and word2vec): one row per line, a name then the
 * values. Values are the shortest decimal that reads back as the same
 * float32 (`formatFloat32`), so text round trips are exact; non-finite
 * values are written `nan`, `inf`, `-inf`.
 */
import { datasetError, parseError } from '../../errors.js';
import type { FieldAt } from '../../data/text-input.js';
import { noRepeat } from './files.js';
import type { ImportedTable } from './types.js';

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

/** The lines `<name><sep><v1><sep><v2>...\n` of a table, the names as `nameText` writes them. */
export function rowsText(
  names: readonly string[],
  table: Float32Array,
  dim: number,
  sep: string,
  nameText: (name: string) => string,
): string {
  const lines = new Array<string>(names.length);
  const parts = new Array<string>(dim);
  for (let i = 0; i < names.length; i++) {
    for (let j = 0; j < dim; j++) parts[j] = formatFloat32(table[i * dim + j]!);
    lines[i] = `${nameText(names[i]!)}${sep}${parts.join(sep)}\n`;
  }
  return lines.join('');
}

/** The field of a line separated by `sep` holding column `col`: `name`, then `value 1`, `value 2`, ... */
export function valueField(sep: string): FieldAt {
  return (line, col) => {
    let k = 0;
    for (let i = line.indexOf(sep); i !== -1 && i < col; i = line.indexOf(sep, i + 1)) k++;
    return k === 0 ? 'name' : `value ${k}`;
  };
}

/**
 * Collects the rows of a text table as they are read: every name non-empty
 * and once, every row `width` values (the first row's count when no width
 * is given), every value a number; E_PARSE `file:line` otherwise.
 */
export class TextRows {
  private readonly names: string[] = [];
  private readonly seen = new Map<string, number>();
  private readonly values: number[] = [];

  constructor(
    private readonly file: string,
    private width: number | undefined,
  ) {}

  add(name: string, fields: readonly string[], lineNo: number, line: string): void {
    const file = this.file;
    if (name === '') throw parseError(file, lineNo, 'empty name', line);
    noRepeat(file, this.seen, name, lineNo, line);
    this.names.push(name);
    if (this.width === undefined) this.width = fields.length;
    if (this.width < 1) throw parseError(file, lineNo, 'no values after the name', line);
    if (fields.length !== this.width)
      throw parseError(file, lineNo, `expected ${this.width} values, found ${fields.length}`, line);
    for (let j = 0; j < fields.length; j++) {
      const v = parseFloat32(fields[j]!);
      if (v === null)
        throw parseError(file, lineNo, `value ${j + 1} ${JSON.stringify(fields[j])} is not a number`, line);
      this.values.push(v);
    }
  }

  table(): ImportedTable {
    const w = this.width ?? 0;
    if (this.names.length > 0 && w < 1) throw datasetError(this.file, 'rows have no values');
    return { names: this.names, rows: this.names.length, dim: w, table: Float32Array.from(this.values) };
  }
}
