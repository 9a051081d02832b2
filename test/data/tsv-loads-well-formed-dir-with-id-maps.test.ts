import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { loadTsvDir } from '../../src/data/tsv.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/data/tsv/basic/', import.meta.url));

test('ids follow first appearance in train and the triples are SharedArrayBuffer-backed int32s', () => {
  const ds = loadTsvDir(dir);
  assert.is(ds.name, 'basic', 'name defaults to the directory name');
  assert.equal(ds.entities, ['alice', 'bob', 'carol', 'dave']);
  assert.equal(ds.relations, ['knows', 'likes']);
  assert.is(ds.train.count, 4);
  assert.is(ds.valid.count, 1);
  assert.is(ds.test.count, 2);
  assert.equal(Array.from(ds.train.triples), [0, 0, 1, 1, 0, 2, 2, 1, 0, 3, 1, 1]);
  assert.equal(Array.from(ds.valid.triples), [0, 1, 2]);
  assert.equal(Array.from(ds.test.triples), [1, 0, 3, 3, 0, 0]);
  for (const split of [ds.train, ds.valid, ds.test]) {
    assert.instance(split.triples, Int32Array);
    assert.instance(split.triples.buffer, SharedArrayBuffer);
    assert.is(split.triples.length, split.count * 3);
  }
  assert.equal(ds.report.duplicatesDropped, { train: 0, valid: 0, test: 0 });
  assert.equal(ds.report.unseenExcluded, { valid: 0, test: 0 });
  assert.equal(ds.report.notices, [], 'a clean dataset has nothing to report');
});

test('an explicit name is kept', () => {
  assert.is(loadTsvDir(dir, 'toy').name, 'toy');
});

test.run();
