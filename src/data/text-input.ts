/**
 * The rule every text file kgshard reads names from (dataset TSVs, id maps,
 * TSV and word2vec tables, config.json) follows:
 *
 * - The bytes are UTF-8; one byte-order mark at the start is ignored. An
 *   invalid sequence (a stray continuation byte, a truncated or overlong
 *   sequence, an encoded surrogate) is an error, never replaced by U+FFFD.
 * - No control character: C0 (U+0000–U+001F) other than tab and line feed,
 *   DEL (U+007F) and C1 (U+0080–U+009F) are errors. The CR of a CRLF line
 *   ending is allowed; a CR anywhere else is not.
 *
 * Errors are `E_PARSE` with the message `file:line: problem in the <field>
 * field` (1-based line), the offending code point written `U+0000`, or the
 * offending byte `0xFF` for invalid UTF-8.
 *
 * `decodeUtf8` asks the native decoder first (`TextDecoder` with `fatal`)
 * and only walks the bytes itself to find the line when that fails, so a
 * good file costs one native decode and one regular-expression scan.
 */
import { KgError, parseError } from '../errors.js';

/**
 * Which field of line `lineNo` (1-based) the character at `col` (a UTF-16
 * index into `line`) is in, e.g. `head`; null when the file has no fields
 * (JSON).
 */
export type FieldAt = (line: string, col: number, lineNo: number) => string | null;

/** For files without fields. */
export const NO_FIELD: FieldAt = () => null;

const inField = (field: string | null): string => (field === null ? '' : ` in the ${field} field`);

const DECODER = new TextDecoder('utf-8', { fatal: true });
const LENIENT = new TextDecoder('utf-8');

/** A control character no name may hold (see the module comment); CR only when not followed by LF. */
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/;

/** In a single name (not a line of a file) line breaks are forbidden too. */
const NAME_FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** What `cleanName` asks of a name, for writers' argument errors. */
export const CLEAN_NAME = 'a non-empty name without control characters (tabs and line breaks included)';

/** Whether `name` is a string a writer may put in any kgshard file (the readers take it back). */
export function cleanName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !/[\x00-\x1f\x7f-\x9f]/.test(name);
}

/** The field of tab-separated `names` (`head`, `relation`, `tail`, ...) holding column `col`; beyond them `field N`. */
export function tabField(names: readonly string[]): FieldAt {
  return (line, col) => {
    let k = 0;
    for (let i = line.indexOf('\t'); i !== -1 && i < col; i = line.indexOf('\t', i + 1)) k++;
    return names[k] ?? `field ${k + 1}`;
  };
}

/** `U+0000` for code point `cp`. */
export function codePointText(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Index in `text` (from `from`) of the first character the rule forbids, or -1. */
export function firstForbidden(text: string, from = 0): number {
  if (from === 0) {
    const m = FORBIDDEN.exec(text);
    return m === null ? -1 : m.index;
  }
  const m = FORBIDDEN.exec(text.slice(from));
  return m === null ? -1 : m.index + from;
}

/** The error for the forbidden character at `index` of `text`, naming its line and field. */
export function forbiddenCharError(file: string, text: string, index: number, fieldAt: FieldAt): KgError {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  let end = text.indexOf('\n', index);
  if (end === -1) end = text.length;
  const line = lineNumber(text, index);
  const lineText = text.slice(start, end);
  const cp = text.charCodeAt(index);
  return parseError(
    file,
    line,
    `control character ${codePointText(cp)}${inField(fieldAt(lineText, index - start, line))}`,
    lineText,
  );
}

/** Throw `forbiddenCharError` for the first forbidden character of `text`, if any. */
export function checkControls(file: string, text: string, fieldAt: FieldAt): void {
  const i = firstForbidden(text);
  if (i !== -1) throw forbiddenCharError(file, text, i, fieldAt);
}

/**
 * Decode `bytes` as strict UTF-8 (a leading byte-order mark dropped).
 * Throws E_PARSE `file:line: invalid UTF-8 (byte 0xC3) in the <field> field`
 * at the first invalid sequence. Errors come in file order: before that
 * one, the lines above the bad one go to `checkLines` (the caller's own
 * parser, which must check control characters in its order too), or else
 * are checked for control characters; an error there wins.
 */
export function decodeUtf8(
  bytes: Uint8Array,
  file: string,
  fieldAt: FieldAt,
  checkLines?: (text: string) => void,
): string {
  try {
    return DECODER.decode(bytes);
  } catch {
    const at = invalidUtf8At(bytes);
    if (at === -1) throw new KgError('E_PARSE', `${file}: not valid UTF-8`, { file });
    let start = at;
    while (start > 0 && bytes[start - 1] !== 0x0a) start--;
    const above = LENIENT.decode(bytes.subarray(0, start));
    if (checkLines) checkLines(above);
    else checkControls(file, above, fieldAt);
    let line = 1;
    for (let i = 0; i < start; i++) if (bytes[i] === 0x0a) line++;
    let end = bytes.indexOf(0x0a, at);
    if (end === -1) end = bytes.length;
    const before = LENIENT.decode(bytes.subarray(start, at));
    const lineText = LENIENT.decode(bytes.subarray(start, end));
    const b = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
    throw parseError(
      file,
      line,
      `invalid UTF-8 (byte 0x${b})${inField(fieldAt(lineText, before.length, line))}`,
      lineText,
    );
  }
}

/** `decodeUtf8` then `checkControls`: the whole rule for a line-oriented text file. */
export function readNameText(
  bytes: Uint8Array,
  file: string,
  fieldAt: FieldAt,
  checkLines?: (text: string) => void,
): string {
  const text = decodeUtf8(bytes, file, fieldAt, checkLines);
  checkControls(file, text, fieldAt);
  return text;
}

/**
 * A name read from a structured file (e.g. config.json's `model`): the
 * first control character (line breaks included), if any, as an error
 * naming the file and field.
 */
export function checkNameValue(file: string, field: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const m = NAME_FORBIDDEN.exec(value);
  if (m === null) return;
  const i = m.index;
  throw new KgError('E_PARSE', `${file}: control character ${codePointText(value.charCodeAt(i))} in ${field}`, {
    file,
    field,
  });
}

/**
 * `JSON.parse(text)`, or E_DATASET `file[:line]: not valid JSON (reason)` in
 * one line: the parser's excerpt of the text has its control characters
 * escaped, and the line is named when the parser gives a position.
 */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(
      /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    const pos = /at position (\d+)/.exec(reason);
    const where = pos ? `${file}:${lineNumber(text, Number(pos[1]))}` : file;
    return datasetErrorThrow(where, `not valid JSON (${reason})`, file);
  }
}

function datasetErrorThrow(where: string, problem: string, file: string): never {
  throw new KgError('E_DATASET', `${where}: ${problem}`, { path: file, problem });
}

/** 1-based line of `index` in `text`. */
function lineNumber(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Offset of the first byte of the first invalid UTF-8 sequence in `b`, or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => j < n && b[j]! >= lo && b[j]! <= hi;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return i;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return -1;
}
