import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTsvDir, parseTriples } from '../../src/data/tsv.js';

test('CRLF endings, blank and whitespace-only lines and a trailing newline are accepted', () => {
  const text = '\r\na\tr\tb\r\n   \r\n\t \r\n\nb\tr\tc\r\n\r\n';
  assert.equal(parseTriples(text, 'x.tsv'), [
    ['a', 'r', 'b'],
    ['b', 'r', 'c'],
  ]);
  assert.equal(parseTriples('a\tr\tb', 'x.tsv'), [['a', 'r', 'b']], 'no trailing newline');
  assert.equal(parseTriples('a\tr\tb\n', 'x.tsv'), [['a', 'r', 'b']]);
  assert.equal(parseTriples('', 'x.tsv'), []);
  assert.equal(parseTriples('\n\r\n  \n', 'x.tsv'), []);
});

test('fields are kept verbatim apart from the line ending', () => {
  assert.equal(parseTriples(' a \tr r\tb.c/d\r\n', 'x.tsv'), [[' a ', 'r r', 'b.c/d']]);
});

test('a directory of CRLF files with a byte-order mark and blank lines loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-tsv-crlf-'));
  try {
    writeFileSync(join(dir, 'train.tsv'), '\uFEFFa\tr\tb\r\n\r\nb\tr\tc\r\n');
    writeFileSync(join(dir, 'valid.tsv'), '\r\n\r\n');
    writeFileSync(join(dir, 'test.tsv'), 'c\tr\ta\r\n\r\n');
    const ds = loadTsvDir(dir, 'crlf');
    assert.equal(ds.entities, ['a', 'b', 'c'], 'the byte-order mark is not part of the first name');
    assert.equal(Array.from(ds.train.triples), [0, 0, 1, 1, 0, 2]);
    assert.is(ds.valid.count, 0, 'an empty valid split is allowed');
    assert.equal(Array.from(ds.test.triples), [2, 0, 0]);
    assert.equal(ds.report.notices, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
