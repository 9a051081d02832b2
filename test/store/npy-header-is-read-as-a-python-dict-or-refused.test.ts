/**
 * The `.npy` header is read as numpy reads it, a Python dict literal with
 * exactly descr, fortran_order and shape: a damaged header (a stray
 * character, a repeated or unknown key, a one-element "tuple" without its
 * comma, text after the closing brace) is refused, never loaded as the
 * table a lenient pattern match would find in it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeNpy } from '../../src/store/embeddings/npy.js';
import { errorText } from '../helpers/errors.js';

function npy(dict: string, floats: number, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const pad = (64 - ((pre + dict.length + 1) % 64)) % 64;
  const header = Buffer.from(dict + ' '.repeat(pad) + '\n', 'latin1');
  const len = major === 1 ? [header.length & 255, header.length >> 8] : [header.length & 255, header.length >> 8, 0, 0];
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, ...len]),
    header,
    Buffer.alloc(floats * 4),
  ]);
}

test('headers numpy would refuse are refused, naming the file', () => {
  const bad: [string, number][] = [
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1)- }", 0],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (1, 1), }", 1],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", 6],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", 6],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) 'x': 1}", 6],
    ["{'dexcr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 6],
    ["{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2, 3), }", 6],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3), }", 6],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", 6],
    ["x{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 6],
  ];
  for (const [dict, floats] of bad) {
    assert.match(
      errorText(() => decodeNpy(npy(dict, floats), 'e.npy')),
      /^E_DATASET: e\.npy: not a readable \.npy table: header .* is not a \.npy header dict \(/,
      dict,
    );
  }
});

test('headers numpy writes, in any of its spellings, load', () => {
  const good = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
    '{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}',
    "{'shape': (2, 3,), 'fortran_order': False, 'descr': '<f4'}",
    "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 3 ) , }",
  ];
  for (const dict of good) {
    const t = decodeNpy(npy(dict, 6), 'g.npy');
    assert.equal([t.rows, t.cols, t.data.length], [2, 3, 6], dict);
  }
  assert.is(decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", 2, 2), 'v2.npy').cols, 2);
});

test.run();
