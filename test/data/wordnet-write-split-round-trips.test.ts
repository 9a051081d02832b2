/**
 * writeSplit writes train.tsv/valid.tsv/test.tsv that read back to the same
 * dataset, atomically (no temporary file left, old files replaced), and
 * refuses names a TSV line cannot hold; splitSummary counts a split and the
 * held-out triples whose reverse is in train.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset, type Dataset } from '../../src/data/dataset.js';
import { splitSummary, summaryTable, writeSplit } from '../../src/data/split-writer.js';
import { err } from '../helpers/errors.js';

type T = [string, string, string];
const train: T[] = [
  ['a', 'likes', 'b'],
  ['b', 'likes', 'a'],
  ['b', 'parent_of', 'c'],
  ['c', 'sibling', 'd'],
  ['d', 'sibling', 'c'],
  ['é l', 'likes', 'd'],
];
const valid: T[] = [['c', 'likes', 'b']]; // reverse (b, parent_of, c) in train under another relation
const test_: T[] = [
  ['a', 'sibling', 'b'], // reverse (b, likes, a) under another relation
  ['d', 'likes', 'é l'], // reverse (é l, likes, d) in train: same relation
  ['c', 'parent_of', 'a'], // no reverse
];
const dataset = buildDataset('toy', { train, valid, test: test_ });

const readBack = (dir: string): Dataset => {
  const read = (f: string): T[] =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t') as T);
  return buildDataset('toy', { train: read('train.tsv'), valid: read('valid.tsv'), test: read('test.tsv') });
};

const withDir = (fn: (dir: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-split-writer-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('the written files read back to the same dataset', () => {
  withDir((dir) => {
    const out = join(dir, 'nested', 'split');
    const w = writeSplit(dataset, out);
    assert.is(w.dir, out);
    assert.equal(readdirSync(out).sort(), ['test.tsv', 'train.tsv', 'valid.tsv']);
    assert.is(readFileSync(join(out, 'valid.tsv'), 'utf8'), 'c\tlikes\tb\n');
    const back = readBack(out);
    assert.equal(back.entities, dataset.entities);
    assert.equal(back.relations, dataset.relations);
    for (const s of ['train', 'valid', 'test'] as const) {
      assert.equal(back[s].triples, dataset[s].triples);
      const bytes = readFileSync(join(out, `${s}.tsv`));
      assert.equal(w.files[s], {
        path: join(out, `${s}.tsv`),
        triples: dataset[s].count,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
  });
});

test('old files are replaced and no temporary file is left', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'train.tsv'), 'x\ty\tz\n'.repeat(1000));
    writeSplit(dataset, dir);
    writeSplit(dataset, dir);
    assert.equal(readdirSync(dir).sort(), ['test.tsv', 'train.tsv', 'valid.tsv']);
    assert.is(readBack(dir).train.count, train.length);
  });
});

test('an empty split writes an empty file', () => {
  withDir((dir) => {
    writeSplit(buildDataset('t', { train, valid: [], test: [] }), dir);
    assert.is(readFileSync(join(dir, 'test.tsv'), 'utf8'), '');
  });
});

test('names a TSV line cannot hold are refused before anything is written', () => {
  withDir((dir) => {
    const bad = buildDataset('bad', { train: [['a\tb', 'r', 'c']], valid: [], test: [] });
    const e = err(() => writeSplit(bad, dir));
    assert.is(e.code, 'E_INVALID_ARGUMENT');
    assert.is(
      e.message,
      'writeSplit: entities[0] must be a non-empty name without control characters ' +
        '(tabs and line breaks included), got "a\\tb"',
    );
    assert.match(
      err(() => writeSplit(buildDataset('bad', { train: [['a', 'r\n', 'c']], valid: [], test: [] }), dir)).message,
      /relations\[0\]/,
    );
    assert.match(
      err(() => writeSplit(buildDataset('bad', { train: [['a', 'r', 'c\u0000']], valid: [], test: [] }), dir)).message,
      /entities\[1\]/,
    );
    assert.equal(readdirSync(dir), []);
  });
});

test('a directory that cannot be created is an E_DATASET', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'file'), '');
    const e = err(() => writeSplit(dataset, join(dir, 'file', 'sub')));
    assert.is(e.code, 'E_DATASET');
    assert.match(e.message, /file\/sub: cannot create the directory \(ENOTDIR\)$/);
  });
});

test('the summary counts splits, relations and reverses in train', () => {
  const s = splitSummary(dataset);
  assert.equal(s.triples, { train: 6, valid: 1, test: 3, total: 10 });
  assert.is(s.entities, 5);
  assert.is(s.relations, 3);
  assert.equal(s.reverseInTrain, {
    valid: { sameRelation: 0, anyRelation: 1 },
    test: { sameRelation: 1, anyRelation: 2 },
  });
  assert.equal(s.perRelation, [
    { relation: 'likes', train: 3, valid: 1, test: 1, validReverseInTrain: 0, testReverseInTrain: 1 },
    { relation: 'parent_of', train: 1, valid: 0, test: 1, validReverseInTrain: 0, testReverseInTrain: 0 },
    { relation: 'sibling', train: 2, valid: 0, test: 1, validReverseInTrain: 0, testReverseInTrain: 0 },
  ]);
  const table = summaryTable(s);
  assert.ok(table.includes('| `likes` | 3 | 1 | 1 | 1 |'), table);
  assert.ok(table.includes('| **all 3 relations** | 6 | 1 | 3 | 1 |'), table);
});

test.run();
