import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { loadTsvDir } from '../../src/data/tsv.js';

test('duplicate triples are dropped per split, counted, and reported in a notice', () => {
  const ds = loadTsvDir(fileURLToPath(new URL('../../../test/fixtures/data/tsv/duplicates/', import.meta.url)));
  assert.equal(ds.entities, ['a', 'b', 'c']);
  assert.equal(ds.relations, ['r', 's']);
  assert.equal(Array.from(ds.train.triples), [0, 0, 1, 1, 0, 2, 2, 1, 0], 'first occurrences kept, in file order');
  assert.equal(Array.from(ds.valid.triples), [0, 1, 2]);
  assert.equal(Array.from(ds.test.triples), [1, 1, 0]);
  assert.equal(ds.report.duplicatesDropped, { train: 3, valid: 1, test: 0 });
  assert.equal(ds.report.notices, ['train.tsv: 3 duplicate triples dropped', 'valid.tsv: 1 duplicate triple dropped']);
});

test.run();
