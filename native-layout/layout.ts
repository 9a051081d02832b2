/**
 * The vocabulary of shared-region layouts: element types, fields, the
 * builder every region's layout is written with, the header every region
 * starts with, and the checks `attach` performs.
 *
 * Rules (proved for every layout by `checkLayout`, run in CI):
 * - a region starts with a 64-byte header line: magic (u32 @0), layout
 *   version (u32 @4), byte length (f64 @8), then region parameters, all
 *   written once by the creator;
 * - fields never overlap and each is aligned for its element type;
 * - two fields written (after creation) by different roles never share a
 *   64-byte cache line, so one thread's writes never invalidate the line
 *   another thread is writing;
 * - the byte length is a multiple of 64 and covers every field.
 */
import {
  layoutError,
  layoutMagicMismatch,
  layoutSizeMismatch,
  layoutVersionMismatch,
  badHandle,
} from '../src/errors.js';

export const CACHE_LINE = 64;

export type ElementType = 'u8' | 'i32' | 'u32' | 'f32' | 'f64' | 'u64' | 'i64';

export const ELEMENT_BYTES: Readonly<Record<ElementType, number>> = {
  u8: 1,
  i32: 4,
  u32: 4,
  f32: 4,
  f64: 8,
  u64: 8,
  i64: 8,
};

/**
 * The role that writes a field once the region is shared. `creator` means
 * written only by `create()` before any other thread sees the region, and is
 * exempt from the cache-line rule. Any other string names a group of writers
 * (`producer`, `consumer`, `lock-holder`, `parties`, ...): fields of
 * different groups never share a line.
 */
export type WriterRole = string;

export interface Field {
  readonly name: string;
  readonly type: ElementType;
  /** Byte offset from the start of the region. */
  readonly offset: number;
  /** Number of elements. */
  readonly count: number;
  readonly writer: WriterRole;
}

export interface RegionLayout {
  /** Region kind, e.g. `ring`; used in error messages. */
  readonly region: string;
  readonly magic: number;
  readonly version: number;
  readonly byteLength: number;
  readonly fields: readonly Field[];
}

/** Header fields, identical in every region. */
export const HEADER = {
  magic: { offset: 0, type: 'u32' },
  version: { offset: 4, type: 'u32' },
  byteLength: { offset: 8, type: 'f64' },
} as const;
/** First byte after the fixed header fields, where region parameters start. */
export const HEADER_PARAMS_OFFSET = 16;

/** Four ASCII characters as a u32 tag (little-endian byte order in memory). */
export function magicOf(tag: string): number {
  if (tag.length !== 4) throw layoutError(tag, `magic tag must be 4 characters, got ${JSON.stringify(tag)}`);
  return (tag.charCodeAt(0) | (tag.charCodeAt(1) << 8) | (tag.charCodeAt(2) << 16) | (tag.charCodeAt(3) << 24)) >>> 0;
}

export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * Builds a layout by appending fields in order. Each field is aligned for
 * its type; `line()` starts a new cache line. Offsets are computed here and
 * nowhere else.
 */
export class LayoutBuilder {
  private readonly fields: Field[] = [];
  private cursor = HEADER_PARAMS_OFFSET;

  constructor(
    private readonly region: string,
    private readonly magic: number,
    private readonly version: number,
  ) {
    this.fields.push(
      { name: 'magic', type: 'u32', offset: HEADER.magic.offset, count: 1, writer: 'creator' },
      { name: 'version', type: 'u32', offset: HEADER.version.offset, count: 1, writer: 'creator' },
      { name: 'byteLength', type: 'f64', offset: HEADER.byteLength.offset, count: 1, writer: 'creator' },
    );
  }

  /** Append a field, aligned for its element type (and to `align` bytes if given). */
  field(name: string, type: ElementType, writer: WriterRole, count = 1, align = ELEMENT_BYTES[type]): this {
    if (!Number.isInteger(count) || count < 0) {
      throw layoutError(this.region, `field ${name}: count must be a non-negative integer, got ${count}`);
    }
    this.cursor = alignUp(this.cursor, Math.max(align, ELEMENT_BYTES[type]));
    this.fields.push({ name, type, offset: this.cursor, count, writer });
    this.cursor += ELEMENT_BYTES[type] * count;
    return this;
  }

  /** Start the next field on a fresh 64-byte cache line. */
  line(): this {
    this.cursor = alignUp(this.cursor, CACHE_LINE);
    return this;
  }

  build(): RegionLayout {
    const byteLength = alignUp(this.cursor, CACHE_LINE);
    return Object.freeze({
      region: this.region,
      magic: this.magic,
      version: this.version,
      byteLength,
      fields: Object.freeze(this.fields.map((f) => Object.freeze({ ...f }))),
    });
  }
}

export function fieldOf(layout: RegionLayout, name: string): Field {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) throw layoutError(layout.region, `no field named ${JSON.stringify(name)}`);
  return f;
}

/** Index of a field's first element in a typed-array view of its element size. */
export function indexOf(layout: RegionLayout, name: string): number {
  const f = fieldOf(layout, name);
  return f.offset / ELEMENT_BYTES[f.type];
}

/** Byte offset of a field. */
export function offsetOf(layout: RegionLayout, name: string): number {
  return fieldOf(layout, name).offset;
}

/** Write magic, version and byte length into a freshly allocated region (starting at byte `at` of `sab`). */
export function writeHeader(sab: SharedArrayBuffer, layout: RegionLayout, at = 0): void {
  const u32 = new Uint32Array(sab, at, 4);
  u32[HEADER.magic.offset / 4] = layout.magic;
  u32[HEADER.version.offset / 4] = layout.version;
  new Float64Array(sab, at, 2)[HEADER.byteLength.offset / 8] = layout.byteLength;
}

/** Allocate a zeroed region for `layout` with its header written. */
export function allocate(layout: RegionLayout): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(layout.byteLength);
  writeHeader(sab, layout);
  return sab;
}

/**
 * Check that `sab` is a region of `layout`: magic, then version, then byte
 * length, each failing with an error that says what was expected. With
 * `at`, the region starts at byte `at` (a multiple of 64) of a longer buffer
 * (regions inside a shared `WebAssembly.Memory`, whose buffer is whole pages
 * and may grow): the buffer must hold the region's bytes from there.
 * Without it, the region is the whole buffer.
 */
export function checkHeader(sab: unknown, layout: RegionLayout, at?: number): SharedArrayBuffer {
  if (!(sab instanceof SharedArrayBuffer)) {
    throw badHandle(`attach ${layout.region}`, 'region must be a SharedArrayBuffer', sab);
  }
  const start = at ?? 0;
  if (start % CACHE_LINE !== 0 || sab.byteLength < start + CACHE_LINE) {
    throw layoutSizeMismatch(layout.region, 'buffer byteLength', start + layout.byteLength, sab.byteLength);
  }
  const u32 = new Uint32Array(sab, start, 4);
  const magic = u32[HEADER.magic.offset / 4]!;
  if (magic !== layout.magic) throw layoutMagicMismatch(layout.region, layout.magic, magic);
  const version = u32[HEADER.version.offset / 4]!;
  if (version !== layout.version) throw layoutVersionMismatch(layout.region, layout.version, version);
  const recorded = new Float64Array(sab, start, 2)[HEADER.byteLength.offset / 8]!;
  if (recorded !== layout.byteLength) {
    throw layoutSizeMismatch(layout.region, 'recorded byteLength', layout.byteLength, recorded);
  }
  if (at === undefined ? sab.byteLength !== layout.byteLength : sab.byteLength < start + layout.byteLength) {
    throw layoutSizeMismatch(layout.region, 'buffer byteLength', start + layout.byteLength, sab.byteLength);
  }
  return sab;
}

/** Read the magic of any region, to tell what kind a buffer is. */
export function readMagic(sab: SharedArrayBuffer): number {
  return sab.byteLength >= 4 ? new Uint32Array(sab, 0, 1)[0]! : 0;
}
