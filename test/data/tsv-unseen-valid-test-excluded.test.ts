import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { loadTsvDir } from '../../src/data/tsv.js';

test('valid/test triples naming an entity or relation absent from train are excluded and counted', () => {
  const ds = loadTsvDir(fileURLToPath(new URL('../../../test/fixtures/data/tsv/unseen/', import.meta.url)));
  assert.equal(ds.entities, ['a', 'b', 'c'], 'x and z appear only in valid/test and get no id');
  assert.equal(ds.relations, ['r', 's'], 'new_rel appears only in test and gets no id');
  assert.equal(Array.from(ds.valid.triples), [0, 0, 2]);
  assert.equal(Array.from(ds.test.triples), [1, 1, 2, 2, 0, 1]);
  assert.equal(ds.report.unseenExcluded, { valid: 1, test: 2 });
  assert.equal(ds.report.notices, [
    'valid.tsv: 1 triple excluded (entity or relation not in train)',
    'test.tsv: 2 triples excluded (entity or relation not in train)',
  ]);
});

test.run();
