import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTsvDir, parseTriples } from '../../src/data/tsv.js';
import { errorText } from '../helpers/errors.js';

function withDir(files: Record<string, string | Uint8Array>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-tsv-ctl-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a control character in a field is file:line with the field and the code point', () => {
  const cases: [string, number, string, string][] = [
    ['a\tr\tb\nc\0d\tr\tb\n', 2, 'head', 'U+0000'],
    ['a\tr\x1b\tb\n', 1, 'relation', 'U+001B'],
    ['a\tr\tb\x7f\n', 1, 'tail', 'U+007F'],
    ['a\tr\tb\u0085\r\n', 1, 'tail', 'U+0085'],
    ['a\tr\u009f\tb\n', 1, 'relation', 'U+009F'],
    ['a\rb\tr\tc\n', 1, 'head', 'U+000D'],
    ['a\tr\tb\r', 1, 'tail', 'U+000D'],
    ['a\tr\tb\n\x0b\n', 2, 'head', 'U+000B'],
    ['a\tr\tb\x0c\tc\n', 1, 'tail', 'U+000C'],
    ['a\tr\tb\tc\x01\n', 1, 'field 4', 'U+0001'],
  ];
  for (const [text, line, field, cp] of cases) {
    assert.is(
      errorText(() => parseTriples(text, 'd/train.tsv')),
      `E_PARSE: d/train.tsv:${line}: control character ${cp} in the ${field} field`,
      JSON.stringify(text),
    );
  }
});

test('the first bad line in file order is the one reported', () => {
  assert.is(
    errorText(() => parseTriples('a\tr\nb\0\tr\tc\n', 'x.tsv')),
    'E_PARSE: x.tsv:1: expected 3 tab-separated fields (head, relation, tail), found 2',
  );
  assert.is(
    errorText(() => parseTriples('a\tr\tb\0\nb\tr\n', 'x.tsv')),
    'E_PARSE: x.tsv:1: control character U+0000 in the tail field',
  );
});

test('names outside ASCII, tabs as separators and CRLF endings stay accepted', () => {
  assert.equal(parseTriples('\u00e9\t\u2192 r\t\u{1f600}\u00a0x\r\nb\tr\tc', 'x.tsv'), [
    ['\u00e9', '\u2192 r', '\u{1f600}\u00a0x'],
    ['b', 'r', 'c'],
  ]);
});

test('a NUL inside an entity name of train.tsv fails the load naming the file', () => {
  withDir({ 'train.tsv': 'a\tr\tb\nb\0x\tr\tc\n', 'valid.tsv': '', 'test.tsv': '' }, (dir) => {
    assert.is(
      errorText(() => loadTsvDir(dir)),
      `E_PARSE: ${join(dir, 'train.tsv')}:2: control character U+0000 in the head field`,
    );
  });
});

test('invalid UTF-8 is file:line with the field and the byte, never replaced', () => {
  const enc = (s: string): number[] => [...Buffer.from(s, 'utf8')];
  const cases: [number[], number, string, string][] = [
    [[...enc('a\tr\tb\nx\tr\t'), 0xff, ...enc('\n')], 2, 'tail', '0xFF'],
    [[...enc('\u00e9\t'), 0xc0, 0x80, ...enc('\tb\n')], 1, 'relation', '0xC0'],
    [[0xe2, 0x82, ...enc('\tr\tb\n')], 1, 'head', '0xE2'],
    [[...enc('a\tr\t'), 0xed, 0xa0, 0x80, ...enc('\n')], 1, 'tail', '0xED'],
    [[...enc('a\tr\t'), 0x80], 1, 'tail', '0x80'],
    [[0xef, 0xbb, 0xbf, ...enc('a\tr\tb\nc\t'), 0xf4, 0x90, 0x80, 0x80, ...enc('\tb\n')], 2, 'relation', '0xF4'],
  ];
  for (const [bytes, line, field, b] of cases) {
    withDir({ 'train.tsv': Uint8Array.from(bytes), 'valid.tsv': '', 'test.tsv': '' }, (dir) => {
      assert.is(
        errorText(() => loadTsvDir(dir)),
        `E_PARSE: ${join(dir, 'train.tsv')}:${line}: invalid UTF-8 (byte ${b}) in the ${field} field`,
        JSON.stringify(bytes),
      );
    });
  }
});

test('a bad line above an invalid UTF-8 sequence is the one reported', () => {
  const cases: [number[], string][] = [
    [[0x00, 0x0a, 0xff], ':1: control character U+0000 in the head field'],
    [
      [...Buffer.from('a\tb\n\tr\tc\nx\t'), 0xc3],
      ':1: expected 3 tab-separated fields (head, relation, tail), found 2',
    ],
    [[...Buffer.from('a\tr\tb\n\tr\tc\nx\t'), 0xc3], ':2: empty head field'],
    [
      [...Buffer.from('0\ta\n\x11\tb\n'), 0x00, 0xff],
      ':1: expected 3 tab-separated fields (head, relation, tail), found 2',
    ],
  ];
  for (const [bytes, tail] of cases) {
    withDir({ 'train.tsv': 'a\tr\tb\n', 'valid.tsv': '', 'test.tsv': Uint8Array.from(bytes) }, (dir) => {
      assert.is(
        errorText(() => loadTsvDir(dir)),
        `E_PARSE: ${join(dir, 'test.tsv')}${tail}`,
        JSON.stringify(bytes),
      );
    });
  }
});

test('valid and test files follow the same rule', () => {
  withDir({ 'train.tsv': 'a\tr\tb\n', 'valid.tsv': 'a\tr\u0080\tb\n', 'test.txt': '' }, (dir) => {
    assert.is(
      errorText(() => loadTsvDir(dir)),
      `E_PARSE: ${join(dir, 'valid.tsv')}:1: control character U+0080 in the relation field`,
    );
  });
  withDir(
    { 'train.tsv': 'a\tr\tb\n', 'valid.tsv': '', 'test.txt': Uint8Array.from([0x61, 0x09, 0x72, 0x09, 0xc3, 0x0a]) },
    (dir) => {
      assert.is(
        errorText(() => loadTsvDir(dir)),
        `E_PARSE: ${join(dir, 'test.txt')}:1: invalid UTF-8 (byte 0xC3) in the tail field`,
      );
    },
  );
});

test.run();
