/**
 * NumPy `.npy` files holding a 2-D float32 table, the layout DGL-KE and
 * `numpy.save` use (NEP 1, "A simple file format for NumPy arrays").
 *
 *   offset  size  field
 *   0       6     magic "\x93NUMPY"
 *   6       2     format version: major, minor (we write 1.0; we read 1.0 and 2.0)
 *   8       2|4   header length H: u16 LE in 1.0, u32 LE in 2.0
 *   10|12   H     header: the Python dict literal
 *                 {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }
 *                 padded with spaces and ended by "\n" so that the data starts
 *                 at a multiple of 64 bytes
 *   ...           rows*cols float32, little-endian, row-major (C order)
 *
 * Only `'<f4'`, C order and 2-D shapes are read; anything else, a bad magic
 * or version, a header that is not exactly such a dict literal (see
 * `parseHeaderDict`), or a data length that does not match the shape is an
 * E_DATASET error naming the file and what is wrong. The data length is
 * checked against the shape before anything is allocated.
 */
import { datasetError, dimMismatch } from '../../errors.js';
import { fromLittleEndian, littleEndianBytes, readBytes, writeBytes } from './files.js';
import type { ImportedTable } from './types.js';

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
const ALIGN = 64;

export interface NpyTable {
  readonly rows: number;
  readonly cols: number;
  /** rows*cols float32, row-major. */
  readonly data: Float32Array;
}

/** The header dict text (without padding) for a 2-D '<f4' C-order array. */
export function npyHeaderDict(rows: number, cols: number): string {
  return `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
}

/** The bytes of a version 1.0 `.npy` file holding `data` as a rows x cols table. */
export function encodeNpy(rows: number, cols: number, data: Float32Array): Uint8Array {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw dimMismatch('encodeNpy', 'shape', rows * cols, data.length);
  }
  if (data.length !== rows * cols)
    throw dimMismatch('encodeNpy', `data of a ${rows} x ${cols} table`, rows * cols, data.length);
  const dict = npyHeaderDict(rows, cols);
  // magic(6) + version(2) + length(2) + dict + padding + '\n' ≡ 0 (mod 64)
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / ALIGN) * ALIGN;
  const headerLen = total - 10;
  if (headerLen > 0xffff) throw datasetError('encodeNpy', `header of ${headerLen} bytes does not fit format 1.0`);
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  const out = new Uint8Array(total + data.length * 4);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >>> 8;
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(littleEndianBytes(data), total);
  return out;
}

/** Parse `.npy` bytes; `file` names the source in errors. The table is copied into fresh memory. */
export function decodeNpy(bytes: Uint8Array, file: string): NpyTable {
  const bad = (problem: string, details: Record<string, unknown> = {}) =>
    datasetError(file, `not a readable .npy table: ${problem}`, details);
  for (let i = 0; i < NPY_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== NPY_MAGIC[i]) throw bad('wrong magic (expected \\x93NUMPY): not a NumPy .npy file');
  }
  if (bytes.length < 10) throw bad(`${bytes.length} bytes, shorter than the .npy preamble (truncated?)`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!((major === 1 || major === 2) && minor === 0))
    throw bad(`format version ${major}.${minor}; only 1.0 and 2.0 are read`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else {
    if (bytes.length < 12) throw bad(`${bytes.length} bytes, shorter than the version 2.0 preamble (truncated?)`);
    headerLen = dv.getUint32(8, true);
    start = 12;
  }
  const dataStart = start + headerLen;
  if (bytes.length < dataStart)
    throw bad(`header says ${headerLen} bytes but the file ends after ${bytes.length - start} (truncated?)`);
  const header = Buffer.from(bytes.subarray(start, dataStart)).toString('latin1');
  const dict = parseHeaderDict(header);
  if (typeof dict === 'string')
    throw bad(`header ${JSON.stringify(header.trim())} is not a .npy header dict (${dict})`);
  const { descr, fortran, shape } = dict;
  if (descr !== '<f4')
    throw bad(`dtype ${JSON.stringify(descr)}; only '<f4' (little-endian float32) is read`, { descr });
  if (fortran) throw bad('fortran_order is True; only C-order tables are read');
  if (shape.length !== 2) throw bad(`shape (${shape.join(', ')}) is not a 2-D table`);
  const rows = shape[0]!;
  const cols = shape[1]!;
  const expected = rows * cols * 4;
  const have = bytes.length - dataStart;
  if (have !== expected) {
    throw bad(
      `shape (${rows}, ${cols}) needs ${expected} data bytes, ` +
        `the file has ${have}${have < expected ? ' (truncated?)' : ''}`,
      {
        rows,
        cols,
        expected,
        have,
      },
    );
  }
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  return { rows, cols, data: fromLittleEndian(data) };
}

/**
 * The header dict, read as `numpy.lib.format` reads it (a Python literal):
 * `{` then exactly the keys 'descr' (a string), 'fortran_order' (True or
 * False) and 'shape' (a tuple of non-negative integers), each once, comma
 * separated with an optional trailing comma, then `}` and only whitespace
 * (the padding and the final newline). Anything else is refused with a
 * reason, so a damaged header never loads as something it does not say.
 */
function parseHeaderDict(h: string): { descr: string; fortran: boolean; shape: number[] } | string {
  let i = 0;
  const ws = (): void => {
    while (i < h.length && (h[i] === ' ' || h[i] === '\t' || h[i] === '\n' || h[i] === '\r')) i++;
  };
  const str = (): string | null => {
    const q = h[i];
    if (q !== "'" && q !== '"') return null;
    const end = h.indexOf(q, i + 1);
    if (end === -1) return null;
    const v = h.slice(i + 1, end);
    if (v.includes('\\') || /[^\x20-\x7e]/.test(v)) return null;
    i = end + 1;
    return v;
  };
  const int = (): number | null => {
    const m = /^(0|[1-9][0-9]*)/.exec(h.slice(i, i + 32));
    if (!m) return null;
    i += m[0].length;
    return Number(m[0]);
  };
  ws();
  if (h[i] !== '{') return 'no opening {';
  i++;
  const seen = new Map<string, string | boolean | number[]>();
  for (;;) {
    ws();
    if (h[i] === '}') break;
    const key = str();
    if (key === null) return `a key must be a quoted string at offset ${i}`;
    ws();
    if (h[i] !== ':') return `no : after ${JSON.stringify(key)}`;
    i++;
    ws();
    let value: string | boolean | number[] | null;
    if (h.startsWith('True', i)) {
      value = true;
      i += 4;
    } else if (h.startsWith('False', i)) {
      value = false;
      i += 5;
    } else if (h[i] === '(') {
      i++;
      const dims: number[] = [];
      let comma = true;
      for (;;) {
        ws();
        if (h[i] === ')') break;
        if (!comma) return 'a shape element without a comma before it';
        const d = int();
        if (d === null) return `shape elements must be non-negative integers (offset ${i})`;
        dims.push(d);
        ws();
        comma = h[i] === ',';
        if (comma) i++;
      }
      if (dims.length === 1 && !comma) return 'a shape in parentheses without a comma is not a tuple';
      i++;
      value = dims;
    } else {
      value = str();
    }
    if (value === null) return `bad value for ${JSON.stringify(key)}`;
    if (seen.has(key)) return `${JSON.stringify(key)} appears twice`;
    seen.set(key, value);
    ws();
    if (h[i] === ',') {
      i++;
      continue;
    }
    ws();
    if (h[i] !== '}') return `expected , or } at offset ${i}`;
  }
  i++;
  if (/[^ \t\n\r]/.test(h.slice(i))) return 'text after the closing }';
  const keys = [...seen.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape')
    return `keys must be descr, fortran_order and shape, found ${[...seen.keys()].join(', ') || 'none'}`;
  const descr = seen.get('descr');
  const fortran = seen.get('fortran_order');
  const shape = seen.get('shape');
  if (typeof descr !== 'string') return "'descr' is not a string";
  if (typeof fortran !== 'boolean') return "'fortran_order' is not True or False";
  if (!Array.isArray(shape)) return "'shape' is not a tuple";
  return { descr, fortran, shape };
}

/** Write a table to `path` atomically (temporary file, fsync, rename). Returns the bytes written. */
export function writeNpy(path: string, rows: number, cols: number, data: Float32Array): number {
  return writeBytes(path, encodeNpy(rows, cols, data));
}

/** Read a table from `path`; E_DATASET naming the file for a missing or bad file. */
export function readNpy(path: string): NpyTable {
  return decodeNpy(readBytes(path), path);
}

/** `readNpy` as an export table (no names: they live in an id map); `dim`, when given, must be the column count. */
export function readNpyTable(file: string, dim?: number): ImportedTable {
  const t = readNpy(file);
  if (dim !== undefined && t.cols !== dim)
    throw datasetError(file, `has ${t.cols} columns, expected ${dim}`, { expected: dim, actual: t.cols });
  return { names: null, rows: t.rows, dim: t.cols, table: t.data };
}
