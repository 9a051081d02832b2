/**
 * File mutations as fast-check arbitraries, for the mutation campaign: every
 * file kgshard reads is damaged in every way a disk, a copy or a person can
 * damage it, and the loader must either fail with a one-line KgError naming
 * the file or load exactly what the damaged bytes say.
 *
 * A `Mutator` is a pure function of the original bytes; positions are drawn
 * as unbounded naturals and taken modulo the length, so one arbitrary serves
 * files of any size (and shrinks towards the start of the file).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { KgError } from '../../src/errors.js';

export interface Mutator {
  /** What was done, e.g. `flip bit 3 of byte 17` (for failure reports). */
  readonly label: string;
  apply(bytes: Uint8Array): Uint8Array;
}

/**
 * A size a file declares (a header count, a shape, a length field), found
 * in the original bytes and rewritten: `rewrite(bytes, f)` returns the
 * bytes with the declared value v replaced by f(v), or null when the file
 * has no such field.
 */
export interface DeclaredSize {
  readonly field: string;
  rewrite(bytes: Uint8Array, f: (v: number) => number): Uint8Array | null;
}

/** A mutator prints as its label in fast-check's counterexamples. */
function named(label: string, apply: (b: Uint8Array) => Uint8Array): Mutator {
  return { label, apply, [fc.toStringMethod]: () => label } as Mutator;
}

/**
 * A copy of `b` in memory of its own. (`Buffer#slice` is a view, and a small
 * Buffer lives in a shared pool: writing through a view would damage other
 * Buffers, file paths included.)
 */
const copy = (b: Uint8Array): Uint8Array => Uint8Array.from(b);

const pick = (n: number, len: number): number => (len === 0 ? 0 : n % len);

/** Cut the file after any byte (0 to all of them). */
export const truncate: fc.Arbitrary<Mutator> = fc.nat().map((n) => ({
  label: `truncate at ${n} mod (length+1)`,
  apply: (b) => copy(b.subarray(0, n % (b.length + 1))),
}));

/** Flip one bit of one byte. */
export const flipBit: fc.Arbitrary<Mutator> = fc.tuple(fc.nat(), fc.nat(7)).map(([n, bit]) => ({
  label: `flip bit ${bit} of byte ${n} mod length`,
  apply: (b) => {
    const out = copy(b);
    if (out.length > 0) out[pick(n, out.length)]! ^= 1 << bit;
    return out;
  },
}));

/** The bytes most likely to confuse a parser: NUL, controls, separators, invalid UTF-8 leads, digits, quotes. */
const NASTY = [
  0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x27, 0x2c, 0x2d, 0x30, 0x39, 0x5c, 0x7f, 0x80, 0x85, 0xc0, 0xc3, 0xed,
  0xef, 0xff,
];

/** Overwrite one byte with a nasty or arbitrary value. */
export const setByte: fc.Arbitrary<Mutator> = fc
  .tuple(fc.nat(), fc.oneof(fc.constantFrom(...NASTY), fc.integer({ min: 0, max: 255 })))
  .map(([n, v]) => ({
    label: `set byte ${n} mod length to 0x${v.toString(16)}`,
    apply: (b) => {
      const out = copy(b);
      if (out.length > 0) out[pick(n, out.length)] = v;
      return out;
    },
  }));

/** Insert 1 to 4 nasty bytes anywhere. */
export const insertBytes: fc.Arbitrary<Mutator> = fc
  .tuple(fc.nat(), fc.array(fc.constantFrom(...NASTY), { minLength: 1, maxLength: 4 }))
  .map(([n, ins]) => ({
    label: `insert [${ins.map((v) => `0x${v.toString(16)}`).join(', ')}] at ${n} mod (length+1)`,
    apply: (b) => {
      const at = n % (b.length + 1);
      return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    },
  }));

/** Line spans `[start, end)` of `b`, each including its `\n` if any. */
function lines(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      out.push([s, i + 1]);
      s = i + 1;
    }
  }
  if (s < b.length) out.push([s, b.length]);
  return out;
}

/** Repeat one line (in a binary file: one run of bytes up to a 0x0A). */
export const duplicateLine: fc.Arbitrary<Mutator> = fc.nat().map((n) => ({
  label: `duplicate line ${n} mod lines`,
  apply: (b) => {
    const ls = lines(b);
    if (ls.length === 0) return copy(b);
    const [s, e] = ls[pick(n, ls.length)]!;
    return Uint8Array.from([...b.subarray(0, e), ...b.subarray(s, e), ...b.subarray(e)]);
  },
}));

/** Remove one line. */
export const dropLine: fc.Arbitrary<Mutator> = fc.nat().map((n) => ({
  label: `drop line ${n} mod lines`,
  apply: (b) => {
    const ls = lines(b);
    if (ls.length === 0) return copy(b);
    const [s, e] = ls[pick(n, ls.length)]!;
    return Uint8Array.from([...b.subarray(0, s), ...b.subarray(e)]);
  },
}));

/** Swap two lines. */
export const swapLines: fc.Arbitrary<Mutator> = fc.tuple(fc.nat(), fc.nat()).map(([x, y]) => ({
  label: `swap lines ${x} and ${y} mod lines`,
  apply: (b) => {
    const ls = lines(b);
    if (ls.length < 2) return copy(b);
    const [i, j] = [pick(x, ls.length), pick(y, ls.length)].sort((p, q) => p - q) as [number, number];
    const parts = ls.map(([s, e]) => b.subarray(s, e));
    [parts[i], parts[j]] = [parts[j]!, parts[i]!];
    return Uint8Array.from(parts.flatMap((p) => [...p]));
  },
}));

/** New values for a declared size: off by a little, zero, negative, huge, past 2^32 and 2^53. */
export const sizeChange: fc.Arbitrary<{ label: string; f: (v: number) => number }> = fc.oneof(
  fc
    .integer({ min: -3, max: 3 })
    .filter((d) => d !== 0)
    .map((d) => ({ label: `${d > 0 ? '+' : ''}${d}`, f: (v: number) => v + d })),
  fc
    .constantFrom(0, 1, -1, 2 ** 16, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32 + 3, 1e12, 2 ** 53 + 2, 0.5)
    .map((c) => ({ label: `= ${c}`, f: () => c })),
  fc.integer({ min: 2, max: 1000 }).map((k) => ({ label: `x ${k}`, f: (v: number) => v * k })),
);

/** Rewrite one of `sizes` (a no-op, labelled so, when the file lacks it). */
export function changeSize(sizes: readonly DeclaredSize[]): fc.Arbitrary<Mutator> {
  if (sizes.length === 0) return flipBit;
  return fc.tuple(fc.nat(sizes.length - 1), sizeChange).map(([i, c]) => ({
    label: `declared ${sizes[i]!.field} ${c.label}`,
    apply: (b) => sizes[i]!.rewrite(b, c.f) ?? copy(b),
  }));
}

/** Replace the whole file by one of `others` (files of other kinds). */
export function swapKind(others: readonly { kind: string; bytes: Uint8Array }[]): fc.Arbitrary<Mutator> {
  if (others.length === 0) return truncate;
  return fc
    .nat(others.length - 1)
    .map((i) => ({ label: `replace by a ${others[i]!.kind} file`, apply: () => copy(others[i]!.bytes) }));
}

/** Any one mutation of a file that declares `sizes` and can be swapped for `others`. */
export function oneMutator(
  sizes: readonly DeclaredSize[] = [],
  others: readonly { kind: string; bytes: Uint8Array }[] = [],
): fc.Arbitrary<Mutator> {
  return fc
    .oneof(
      truncate,
      flipBit,
      setByte,
      insertBytes,
      duplicateLine,
      dropLine,
      swapLines,
      changeSize(sizes),
      swapKind(others),
    )
    .map((m) => named(m.label, m.apply));
}

/** One mutation, or (one time in four) two or three applied in turn. */
export function mutator(
  sizes: readonly DeclaredSize[] = [],
  others: readonly { kind: string; bytes: Uint8Array }[] = [],
): fc.Arbitrary<Mutator> {
  const one = oneMutator(sizes, others);
  return fc.oneof(
    { weight: 3, arbitrary: one },
    {
      weight: 1,
      arbitrary: fc
        .array(one, { minLength: 2, maxLength: 3 })
        .map((ms) => named(ms.map((m) => m.label).join(', then '), (b) => ms.reduce((acc, m) => m.apply(acc), b))),
    },
  );
}

// ---------------------------------------------------------------- declared sizes of the formats

/** A little-endian unsigned field of `width` bytes at `offset` (values outside its range wrap; negative → max). */
export function binarySize(
  field: string,
  offset: number | ((b: Uint8Array) => number | null),
  width: 2 | 4 | 8,
): DeclaredSize {
  return {
    field,
    rewrite(b, f) {
      const at = typeof offset === 'number' ? offset : offset(b);
      if (at === null || at + width > b.length) return null;
      const out = copy(b);
      const dv = new DataView(out.buffer);
      const max = 2 ** (8 * width);
      const old =
        width === 2 ? dv.getUint16(at, true) : width === 4 ? dv.getUint32(at, true) : Number(dv.getBigUint64(at, true));
      let v = Math.floor(f(old));
      v = v < 0 ? max - 1 : v % max;
      if (width === 2) dv.setUint16(at, v, true);
      else if (width === 4) dv.setUint32(at, v, true);
      else dv.setBigUint64(at, BigInt(Math.min(v, Number.MAX_SAFE_INTEGER)), true);
      return out;
    },
  };
}

/** The `n`-th decimal number matching `re` (group 1) in the text, rewritten in place. */
export function textSize(field: string, re: RegExp, n = 0): DeclaredSize {
  return {
    field,
    rewrite(b, f) {
      const text = Buffer.from(b).toString('latin1');
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      let m: RegExpExecArray | null;
      let k = 0;
      while ((m = g.exec(text)) !== null) {
        if (k++ < n) continue;
        const start = m.index + m[0].indexOf(m[1]!);
        const v = f(Number(m[1]));
        return Buffer.from(text.slice(0, start) + numberText(v) + text.slice(start + m[1]!.length), 'latin1');
      }
      return null;
    },
  };
}

/** A number field of a JSON file at `path` (e.g. `['run', 'dim']`), rewritten by parsing and re-serializing. */
export function jsonSize(field: string, path: readonly string[]): DeclaredSize {
  return {
    field,
    rewrite(b, f) {
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.from(b).toString('utf8'));
      } catch {
        return null;
      }
      let o = doc as Record<string, unknown>;
      for (const k of path.slice(0, -1)) {
        if (o === null || typeof o[k] !== 'object') return null;
        o = o[k] as Record<string, unknown>;
      }
      const last = path[path.length - 1]!;
      if (o === null || typeof o[last] !== 'number') return null;
      o[last] = f(o[last]);
      return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
    },
  };
}

function numberText(v: number): string {
  return Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v);
}

// ---------------------------------------------------------------- checks

/** SHA-256 over every file (name, size, bytes) under `dir`, recursively: equal before and after a load. */
export function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      h.update(`${rel}/${name}\0${st.isDirectory() ? 'dir' : st.size}\0`);
      if (st.isDirectory()) walk(p, `${rel}/${name}`);
      else h.update(readFileSync(p));
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

/** How a load of a mutant ended. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: KgError };

/**
 * Run `load`; a KgError becomes `{ ok: false }`, anything else thrown
 * (a TypeError, a RangeError from an allocation) fails the property with
 * the mutation named.
 */
export function attempt<T>(label: string, load: () => T): Outcome<T> {
  try {
    return { ok: true, value: load() };
  } catch (e) {
    if (e instanceof KgError) return { ok: false, error: e };
    throw new Error(
      `${label}: the loader threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}, not a KgError`,
      { cause: e },
    );
  }
}

/** A one-line KgError message that names `where` (a path). */
export function assertOneLine(label: string, message: string, where: string): void {
  if (/[\r\n]/.test(message)) throw new Error(`${label}: the error is not one line: ${JSON.stringify(message)}`);
  if (!message.includes(where))
    throw new Error(`${label}: the error does not name ${where}: ${JSON.stringify(message)}`);
}

/**
 * Bytes of ArrayBuffers (SharedArrayBuffers included) alive now; used to
 * check that what a load holds is bounded by the size of the files it read.
 */
export function bufferBytes(): number {
  return process.memoryUsage().arrayBuffers;
}
