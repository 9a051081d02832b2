/**
 * .npy writer and reader against the NumPy format specification (NEP 1):
 * the bytes for a small known array are spelled out by hand below; the
 * reader takes them (and version 2.0 files) back, and names the file and
 * the problem for wrong magic, version, dtype, order, shape or length.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from '../../src/store/embeddings/npy.js';
import { check } from '../helpers/prop.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-npy-'));

/** [[1, 2, 3], [4, 5, 6]] as '<f4', written out by hand. */
function expectedBytes(): Uint8Array {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93 N U M P Y
  const version = [0x01, 0x00]; // 1.0
  // dict is 59 characters; 10 + 59 + 1 ('\n') = 70, padded to 128 with 58 spaces: header length 118 = 0x76
  const headerLen = [0x76, 0x00];
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const header = dict + ' '.repeat(58) + '\n';
  const data = [
    0x00,
    0x00,
    0x80,
    0x3f, // 1.0
    0x00,
    0x00,
    0x00,
    0x40, // 2.0
    0x00,
    0x00,
    0x40,
    0x40, // 3.0
    0x00,
    0x00,
    0x80,
    0x40, // 4.0
    0x00,
    0x00,
    0xa0,
    0x40, // 5.0
    0x00,
    0x00,
    0xc0,
    0x40, // 6.0
  ];
  return Uint8Array.from([...magic, ...version, ...headerLen, ...[...header].map((c) => c.charCodeAt(0)), ...data]);
}

test('a 2x3 float32 table is exactly the bytes the specification prescribes', () => {
  const got = encodeNpy(2, 3, Float32Array.of(1, 2, 3, 4, 5, 6));
  const want = expectedBytes();
  assert.is(want.length, 152);
  assert.equal([...got], [...want]);
  const back = decodeNpy(want, 'hand.npy');
  assert.is(back.rows, 2);
  assert.is(back.cols, 3);
  assert.equal([...back.data], [1, 2, 3, 4, 5, 6]);
});

test('property: header is 64-aligned and ends with a newline; write/read is bit-exact', async () => {
  await check(
    fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 12 }), fc.integer(), (rows, cols, seed) => {
      const data = new Float32Array(rows * cols);
      const bits = new Uint32Array(data.buffer);
      let s = seed >>> 0 || 1;
      for (let i = 0; i < bits.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        bits[i] = s; // any bit pattern, NaNs included
      }
      const bytes = encodeNpy(rows, cols, data);
      const headerLen = bytes[8]! | (bytes[9]! << 8);
      assert.is((10 + headerLen) % 64, 0);
      assert.is(bytes[10 + headerLen - 1], 0x0a);
      assert.is(bytes.length, 10 + headerLen + rows * cols * 4);
      const back = decodeNpy(bytes, 'p.npy');
      assert.equal([rows, cols], [back.rows, back.cols]);
      assert.equal([...new Uint32Array(back.data.buffer)], [...bits]);
    }),
    100,
  );
});

test('reads a version 2.0 file', () => {
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }";
  const pad = 64 - ((12 + dict.length + 1) % 64);
  const header = Buffer.from(dict + ' '.repeat(pad) + '\n', 'latin1');
  const pre = Buffer.alloc(12);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(pre);
  pre.writeUInt32LE(header.length, 8);
  const data = Buffer.from(Float32Array.of(0.5, -2).buffer);
  const t = decodeNpy(Buffer.concat([pre, header, data]), 'v2.npy');
  assert.equal([t.rows, t.cols, ...t.data], [1, 2, 0.5, -2]);
});

test('writeNpy / readNpy through a file', () => {
  const p = join(dir, 't.npy');
  writeNpy(p, 3, 1, Float32Array.of(0.1, 0.2, 0.3));
  const t = readNpy(p);
  assert.equal([...t.data], [...Float32Array.of(0.1, 0.2, 0.3)]);
});

function damaged(mutate: (b: Uint8Array) => Uint8Array): Uint8Array {
  return mutate(Uint8Array.from(expectedBytes()));
}

function withHeader(dict: string, data = new Uint8Array(24)): Uint8Array {
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = Buffer.from(dict + ' '.repeat(pad % 64) + '\n', 'latin1');
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  return Buffer.concat([pre, header, data]);
}

test('bad files: errors name the file and what is wrong', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['wrong magic', damaged((b) => ((b[1] = 0x6e), b)), /wrong magic/],
    ['not npy at all', Buffer.from('{"a": 1}\n'), /wrong magic/],
    ['version 3.0', damaged((b) => ((b[6] = 3), b)), /format version 3\.0/],
    [
      'wrong dtype',
      withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(48)),
      /dtype "<f8"/,
    ],
    ['big-endian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"), /dtype ">f4"/],
    [
      'fortran order',
      withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"),
      /fortran_order is True/,
    ],
    ['1-D shape', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"), /not a 2-D table/],
    ['3-D shape', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }"), /not a 2-D table/],
    ['truncated data', expectedBytes().subarray(0, 150), /needs 24 data bytes, the file has 22 \(truncated\?\)/],
    ['truncated header', expectedBytes().subarray(0, 60), /header says 118 bytes/],
    ['truncated preamble', expectedBytes().subarray(0, 7), /shorter than the \.npy preamble/],
    [
      'shape mismatch (extra data)',
      Buffer.concat([expectedBytes(), new Uint8Array(4)]),
      /needs 24 data bytes, the file has 28/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    const p = join(dir, `${name.replace(/\W+/g, '-')}.npy`);
    writeFileSync(p, bytes);
    try {
      readNpy(p);
      assert.unreachable(`${name}: read without error`);
    } catch (e) {
      if (!(e instanceof KgError)) throw e;
      assert.is(e.code, 'E_DATASET', name);
      assert.ok(e.message.startsWith(p), `${name}: ${e.message}`);
      assert.match(e.message, message, name);
    }
  }
  assert.throws(() => readNpy(join(dir, 'missing.npy')), /missing\.npy: cannot read \(ENOENT\)/);
  assert.throws(() => encodeNpy(2, 2, new Float32Array(3)), /expected 4/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
