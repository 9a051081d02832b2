/**
 * Fingerprints: a stable SHA-256 (hex) of everything that makes two runs
 * the same problem, built by absorbing named fields.
 *
 * Order: the digest is INDEPENDENT of the order in which fields are
 * absorbed (fields are sorted by name before hashing) and SENSITIVE to the
 * order of elements inside a value (an id map `['a','b']` differs from
 * `['b','a']`). A name may be absorbed once; a second absorb of the same
 * name throws E_INVALID_ARGUMENT instead of silently replacing it.
 *
 * Encoding (version tag "kgshard-fingerprint-v1"), per field:
 *   sha256(type tag, value bytes), where numbers are float64 little-endian
 *   (-0 folded to 0, every NaN to one NaN), booleans one byte, strings
 *   UTF-8, string arrays a count then each string length-prefixed, typed
 *   arrays their constructor name then their elements little-endian.
 * The digest hashes the version tag and then, in name order, each name
 * (length-prefixed) and its field hash. Nothing depends on the process, the
 * platform's byte order or the time, so it is stable across runs.
 *
 * Two keys for one problem (`problemKeys`): the problem key covers the
 * dataset content, entity and relation id maps, the model and its shapes
 * and the hyper-parameters; the near-match key covers only the entity and
 * relation id maps and the shapes, so a warm start can find a run of the
 * same problem with other hyper-parameters.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { invalidArgument } from '../errors.js';

export const FINGERPRINT_VERSION = 'kgshard-fingerprint-v1';

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export type FieldValue = string | number | boolean | TypedArray | readonly string[];

const BIG_ENDIAN = endianness() === 'BE';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

function lenPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function littleEndianBytes(v: TypedArray): Buffer {
  const view = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (!BIG_ENDIAN || v.BYTES_PER_ELEMENT === 1) return view;
  const copy = Buffer.from(view);
  if (v.BYTES_PER_ELEMENT === 2) copy.swap16();
  else if (v.BYTES_PER_ELEMENT === 4) copy.swap32();
  else copy.swap64();
  return copy;
}

/** Hash of one field's value (type-tagged); throws for a value of no supported type. */
function fieldHash(name: string, value: FieldValue): Buffer {
  const h = createHash('sha256');
  if (typeof value === 'string') {
    h.update('s').update(lenPrefixed(value));
  } else if (typeof value === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(Number.isNaN(value) ? Number.NaN : value === 0 ? 0 : value, 0);
    h.update('n').update(b);
  } else if (typeof value === 'boolean') {
    h.update('b').update(Buffer.from([value ? 1 : 0]));
  } else if (isTypedArray(value)) {
    h.update('t')
      .update(lenPrefixed(value.constructor.name))
      .update(u32(value.length))
      .update(littleEndianBytes(value));
  } else if (Array.isArray(value)) {
    h.update('a').update(u32(value.length));
    value.forEach((s: unknown, i: number) => {
      if (typeof s !== 'string') throw invalidArgument('Fingerprinter.absorb', `${name}[${i}]`, s, 'a string');
      h.update(lenPrefixed(s));
    });
  } else {
    throw invalidArgument(
      'Fingerprinter.absorb',
      name,
      value,
      'a string, number, boolean, typed array or array of strings',
    );
  }
  return h.digest();
}

export class Fingerprinter {
  readonly #fields = new Map<string, Buffer>();

  /** Absorb one named field; returns `this` for chaining. */
  absorb(name: string, value: FieldValue): this {
    if (typeof name !== 'string' || name.length === 0)
      throw invalidArgument('Fingerprinter.absorb', 'name', name, 'a non-empty string');
    if (this.#fields.has(name)) throw invalidArgument('Fingerprinter.absorb', 'name', name, 'absorbed only once');
    this.#fields.set(name, fieldHash(name, value));
    return this;
  }

  /** Names absorbed so far, sorted. */
  names(): string[] {
    return [...this.#fields.keys()].sort();
  }

  /** 64 lowercase hex characters; calling it again gives the same digest. */
  digest(): string {
    const h = createHash('sha256').update(lenPrefixed(FINGERPRINT_VERSION));
    for (const name of this.names()) h.update(lenPrefixed(name)).update(this.#fields.get(name)!);
    return h.digest('hex');
  }
}

/** What makes two runs the same problem. */
export interface ProblemDescription {
  /** The dataset's content (or a digest of it). */
  readonly dataset: string | TypedArray;
  /** Entity id map: position i holds the name of entity i. */
  readonly entities: readonly string[];
  /** Relation id map: position i holds the name of relation i. */
  readonly relations: readonly string[];
  /** Model name, e.g. "transe". */
  readonly model: string;
  /** Named parameter shapes, e.g. `{ entity: [n, dim], relation: [r, dim] }`. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  /** Hyper-parameters that change the result (not thread counts, log levels...). */
  readonly hyperParameters: Readonly<Record<string, string | number | boolean>>;
}

export interface ProblemKeys {
  /** Exact key: everything in the description. */
  readonly problem: string;
  /** Near-match key: entity and relation id maps and shapes only. */
  readonly nearMatch: string;
}

function absorbShapes(fp: Fingerprinter, shapes: Readonly<Record<string, readonly number[]>>): void {
  for (const [name, shape] of Object.entries(shapes)) {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw invalidArgument('problemKeys', `shapes.${name}`, shape, 'an array of non-negative integers');
    }
    fp.absorb(`shape.${name}`, Float64Array.from(shape));
  }
}

/**
 * The near-match key alone: entity and relation id maps and shapes. Equal
 * near-match keys mean the rows of one run's tables line up with the
 * other's ids.
 */
export function nearMatchKey(p: Pick<ProblemDescription, 'entities' | 'relations' | 'shapes'>): string {
  const near = new Fingerprinter()
    .absorb('$key', 'near-match')
    .absorb('entities', p.entities)
    .absorb('relations', p.relations);
  absorbShapes(near, p.shapes);
  return near.digest();
}

/** The problem key and the near-match key of a run. */
export function problemKeys(p: ProblemDescription): ProblemKeys {
  const exact = new Fingerprinter()
    .absorb('$key', 'problem')
    .absorb('dataset', p.dataset)
    .absorb('entities', p.entities)
    .absorb('relations', p.relations)
    .absorb('model', p.model);
  absorbShapes(exact, p.shapes);
  for (const [name, value] of Object.entries(p.hyperParameters)) exact.absorb(`hp.${name}`, value);
  return { problem: exact.digest(), nearMatch: nearMatchKey(p) };
}
