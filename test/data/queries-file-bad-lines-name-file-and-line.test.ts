/**
 * Query files (`kgshard predict --queries FILE`): `head<TAB>relation<TAB>?`
 * and `?<TAB>relation<TAB>tail` lines, blank lines and CRLF endings
 * accepted; every bad line is one E_PARSE error `file:line: problem`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseQueries, readQueries } from '../../src/data/queries.js';
import { tempDir } from '../cli/kgshard-cli.js';

test('both directions, blank lines and CRLF line ends', () => {
  const q = parseQueries('a\tr\t?\r\n\n  \n?\ts\tb c\n', 'q.tsv');
  assert.equal(q, [
    { head: 'a', relation: 'r', source: 'q.tsv:1' },
    { relation: 's', tail: 'b c', source: 'q.tsv:4' },
  ]);
});

test('every bad line names the file, the line and the problem', () => {
  const cases: [string, RegExp][] = [
    [
      'a\tr\t?\na\tr\n',
      /^q\.tsv:2: expected 3 tab-separated fields \(head<TAB>relation<TAB>\? or \?<TAB>relation<TAB>tail\), found 2$/,
    ],
    ['a\tr\t?\tx\n', /^q\.tsv:1: expected 3 tab-separated fields .*found 4$/],
    ['\n\na\t\t?\n', /^q\.tsv:3: empty relation field$/],
    ['?\tr\t?\n', /^q\.tsv:1: both head and tail are \?; ask for one side/],
    ['a\tr\tb\n', /^q\.tsv:1: neither head nor tail is \?; write head<TAB>relation<TAB>\?/],
    ['a\t?\tb\n', /^q\.tsv:1: the relation cannot be asked for/],
    ['a\tr\t?\nb\x00\tr\t?\n', /^q\.tsv:2: control character U\+0000 in the head field$/],
  ];
  for (const [text, re] of cases) {
    try {
      parseQueries(text, 'q.tsv');
      assert.unreachable(JSON.stringify(text));
    } catch (e) {
      assert.is((e as { code?: string }).code, 'E_PARSE', JSON.stringify(text));
      assert.match((e as Error).message, re);
    }
  }
});

test('a file: read, invalid UTF-8 named by line and field, a missing file named', () => {
  const dir = tempDir('queries');
  const good = join(dir, 'good.tsv');
  writeFileSync(good, 'x\tr\t?\n');
  assert.equal(readQueries(good), [{ head: 'x', relation: 'r', source: `${good}:1` }]);
  const bad = join(dir, 'bad.tsv');
  writeFileSync(bad, Buffer.concat([Buffer.from('x\tr\t?\n?\tr\t'), Buffer.from([0xff]), Buffer.from('\n')]));
  assert.throws(
    () => readQueries(bad),
    (e: Error) => e.message === `${bad}:2: invalid UTF-8 (byte 0xFF) in the tail field`,
  );
  assert.throws(() => readQueries(join(dir, 'none.tsv')), /none\.tsv: query file does not exist/);
});

test.run();
