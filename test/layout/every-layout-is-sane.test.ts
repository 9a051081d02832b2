import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  allLayouts,
  allocate,
  checkHeader,
  checkLayout,
  LayoutBuilder,
  magicOf,
  ringLayout,
  seqlockLayout,
  type RegionLayout,
} from '../../native-layout/index.js';
import { errorText } from '../helpers/errors.js';

test('every registered layout passes the checker', () => {
  for (const layout of allLayouts()) {
    assert.equal(checkLayout(layout), [], `${layout.region} (${layout.byteLength} bytes)`);
  }
});

test('magics are distinct per region kind', () => {
  const byRegion = new Map<string, number>();
  for (const l of allLayouts()) byRegion.set(l.region, l.magic);
  const magics = [...byRegion.values()];
  assert.is(new Set(magics).size, magics.length);
});

test('checker reports overlapping fields', () => {
  const bad: RegionLayout = {
    ...ringLayout(4, 1),
    fields: [...ringLayout(4, 1).fields, { name: 'intruder', type: 'i32', offset: 64, count: 1, writer: 'producer' }],
  };
  assert.ok(checkLayout(bad).some((v) => v.rule === 'overlap'));
});

test('checker reports misaligned fields', () => {
  const l = new LayoutBuilder('t', magicOf('TEST'), 1).field('a', 'u8', 'creator').build();
  const bad: RegionLayout = {
    ...l,
    fields: [...l.fields, { name: 'f', type: 'f64', offset: 20, count: 1, writer: 'creator' }],
  };
  assert.ok(checkLayout(bad).some((v) => v.rule === 'alignment'));
});

test('checker reports two writer roles on one cache line', () => {
  const bad = new LayoutBuilder('t', magicOf('TEST'), 1)
    .line()
    .field('head', 'i32', 'producer')
    .field('tail', 'i32', 'consumer') // same line: false sharing
    .build();
  const v = checkLayout(bad);
  assert.ok(
    v.some((x) => x.rule === 'false-sharing' && /head.*tail|tail.*head/.test(x.message)),
    JSON.stringify(v),
  );
});

test('checker reports a field past the end and a bad total size', () => {
  const l = seqlockLayout(2, 2);
  const bad: RegionLayout = { ...l, byteLength: l.byteLength - 64 };
  assert.ok(checkLayout(bad).some((v) => v.rule === 'size'));
  const odd: RegionLayout = { ...l, byteLength: l.byteLength + 4 };
  assert.ok(checkLayout(odd).some((v) => v.rule === 'size'));
});

test('checker reports a missing or moved header', () => {
  const l = ringLayout(4, 1);
  const bad: RegionLayout = { ...l, fields: l.fields.filter((f) => f.name !== 'version') };
  assert.ok(checkLayout(bad).some((v) => v.rule === 'header'));
});

test('attach checks magic, then version, then size, saying what was expected', () => {
  const ring = ringLayout(8, 2);
  const sab = allocate(ring);
  checkHeader(sab, ring);

  const seq = seqlockLayout(1, 8);
  const wrongKind = errorText(() => checkHeader(allocate(seq), ring));
  assert.match(wrongKind, /^E_LAYOUT_MAGIC: attach ring: magic mismatch, expected 0x[0-9a-f]{8}/);

  const v2 = { ...ring, version: 2 };
  assert.match(
    errorText(() => checkHeader(sab, v2)),
    /^E_LAYOUT_VERSION: .*expected 2, found 1/,
  );

  const bigger = ringLayout(16, 2);
  assert.match(
    errorText(() => checkHeader(sab, bigger)),
    /^E_LAYOUT_SIZE: .*expected \d+, found \d+/,
  );

  assert.match(
    errorText(() => checkHeader(new ArrayBuffer(64), ring)),
    /^E_BAD_HANDLE: .*SharedArrayBuffer/,
  );
  assert.match(
    errorText(() => checkHeader(new SharedArrayBuffer(8), ring)),
    /^E_LAYOUT_SIZE/,
  );
});

test.run();
