/**
 * Proves a layout sane. Returns every violation found (an empty list means
 * the layout is sound); `assertLayout` throws on the first report.
 */
import { layoutError } from '../src/errors.js';
import { CACHE_LINE, ELEMENT_BYTES, HEADER, type RegionLayout } from './layout.js';

export interface LayoutViolation {
  readonly rule: 'overlap' | 'alignment' | 'false-sharing' | 'size' | 'header' | 'duplicate-name';
  readonly message: string;
}

export function checkLayout(layout: RegionLayout): LayoutViolation[] {
  const out: LayoutViolation[] = [];
  const name = layout.region;
  const seen = new Set<string>();
  for (const f of layout.fields) {
    if (seen.has(f.name)) out.push({ rule: 'duplicate-name', message: `${name}: field ${f.name} is declared twice` });
    seen.add(f.name);
  }

  // Header: magic, version and byte length at their fixed places.
  for (const [key, spec] of Object.entries(HEADER)) {
    const f = layout.fields.find((x) => x.name === key);
    if (!f || f.offset !== spec.offset || f.type !== spec.type || f.writer !== 'creator') {
      out.push({
        rule: 'header',
        message: `${name}: header field ${key} must be a creator-written ${spec.type} at offset ${spec.offset}`,
      });
    }
  }

  // Alignment, and every field inside the region.
  for (const f of layout.fields) {
    const size = ELEMENT_BYTES[f.type];
    if (f.offset % size !== 0) {
      out.push({
        rule: 'alignment',
        message: `${name}: field ${f.name} (${f.type}) at offset ${f.offset} is not ${size}-byte aligned`,
      });
    }
    const end = f.offset + size * f.count;
    if (f.offset < 0 || end > layout.byteLength) {
      out.push({
        rule: 'size',
        message: `${name}: field ${f.name} spans [${f.offset}, ${end}) outside byteLength ${layout.byteLength}`,
      });
    }
  }
  if (layout.byteLength % CACHE_LINE !== 0 || layout.byteLength < CACHE_LINE) {
    out.push({ rule: 'size', message: `${name}: byteLength ${layout.byteLength} is not a positive multiple of 64` });
  }

  // Overlap: sort by offset and compare neighbours (zero-length fields take no bytes).
  const sized = layout.fields.filter((f) => f.count > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sized.length; i++) {
    const a = sized[i - 1]!;
    const b = sized[i]!;
    const aEnd = a.offset + ELEMENT_BYTES[a.type] * a.count;
    if (b.offset < aEnd) {
      out.push({
        rule: 'overlap',
        message: `${name}: field ${b.name} @${b.offset} overlaps ${a.name} [${a.offset}, ${aEnd})`,
      });
    }
  }

  // False sharing: per cache line, at most one non-creator writer role.
  const lineWriters = new Map<number, Map<string, string>>();
  for (const f of sized) {
    if (f.writer === 'creator') continue;
    const first = Math.floor(f.offset / CACHE_LINE);
    const last = Math.floor((f.offset + ELEMENT_BYTES[f.type] * f.count - 1) / CACHE_LINE);
    for (let line = first; line <= last; line++) {
      let roles = lineWriters.get(line);
      if (!roles) lineWriters.set(line, (roles = new Map<string, string>()));
      if (!roles.has(f.writer)) roles.set(f.writer, f.name);
    }
  }
  for (const [line, roles] of lineWriters) {
    if (roles.size > 1) {
      const who = [...roles].map(([role, field]) => `${field} (${role})`).join(', ');
      out.push({
        rule: 'false-sharing',
        message:
          `${name}: cache line ${line} (bytes ${line * CACHE_LINE}..${line * CACHE_LINE + 63}) ` +
          `is written by different roles: ${who}`,
      });
    }
  }
  return out;
}

export function assertLayout(layout: RegionLayout): void {
  const v = checkLayout(layout);
  if (v.length > 0) throw layoutError(layout.region, v.map((x) => x.message).join('; '));
}
