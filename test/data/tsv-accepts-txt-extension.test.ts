import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { loadTsvDir } from '../../src/data/tsv.js';

test('train.txt, valid.txt and test.txt load like .tsv files', () => {
  const ds = loadTsvDir(fileURLToPath(new URL('../../../test/fixtures/data/tsv/txt/', import.meta.url)));
  assert.equal(ds.entities, ['a', 'b', 'c']);
  assert.equal(ds.relations, ['r']);
  assert.equal(Array.from(ds.train.triples), [0, 0, 1, 1, 0, 2]);
  assert.equal(Array.from(ds.valid.triples), [0, 0, 2]);
  assert.equal(Array.from(ds.test.triples), [2, 0, 0]);
});

test.run();
