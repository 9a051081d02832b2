import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTsvDir, parseTriples } from '../../src/data/tsv.js';
import { err, errorText } from '../helpers/errors.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/data/tsv/${name}/`, import.meta.url));

test('a wrong field count is reported as file:line with the count found', () => {
  const cases: [string, number, number][] = [
    ['a\tr\tb\nb\tr c\n', 2, 2],
    ['a\tr\tb\tc\n', 1, 4],
    ['\n\njust-one-field\n', 3, 1],
    ['a\tr\tb\r\nb\tr\r\n', 2, 2],
    ['a\tr\tb\t\n', 1, 4],
  ];
  for (const [text, line, found] of cases) {
    assert.is(
      errorText(() => parseTriples(text, 'data/train.tsv')),
      `E_PARSE: data/train.tsv:${line}: expected 3 tab-separated fields (head, relation, tail), found ${found}`,
      JSON.stringify(text),
    );
  }
});

test('an empty field is named', () => {
  const cases: [string, number, string][] = [
    ['\tr\tb\n', 1, 'head'],
    ['a\tr\tb\na\t\tb\n', 2, 'relation'],
    ['a\tr\t\r\n', 1, 'tail'],
    ['\t\tb\n', 1, 'head'],
  ];
  for (const [text, line, field] of cases) {
    assert.is(
      errorText(() => parseTriples(text, 'f.txt')),
      `E_PARSE: f.txt:${line}: empty ${field} field`,
      JSON.stringify(text),
    );
  }
});

test('the error details carry the file, the line and the offending text, truncated', () => {
  const e = err(() => parseTriples('a\tr\tb\nonly two\tfields\n', 'x.tsv'));
  assert.is(e.details['file'], 'x.tsv');
  assert.is(e.details['line'], 2);
  assert.is(e.details['text'], 'only two\tfields');
  const long = 'x'.repeat(1000);
  const t = err(() => parseTriples(`${long}\n`, 'x.tsv')).details['text'] as string;
  assert.ok(t.length <= 200 && t.startsWith('xxx') && t.endsWith('...'), `text truncated, got length ${t.length}`);
});

test('loading a directory with a malformed file throws with the file path and returns nothing', () => {
  const dir = fixture('malformed-fields');
  assert.is(
    errorText(() => loadTsvDir(dir)),
    `E_PARSE: ${join(dir, 'valid.tsv')}:3: expected 3 tab-separated fields (head, relation, tail), found 2`,
  );
  const dir2 = fixture('malformed-empty');
  assert.is(
    errorText(() => loadTsvDir(dir2)),
    `E_PARSE: ${join(dir2, 'train.tsv')}:2: empty relation field`,
  );
});

test.run();
