/**
 * `kgshard export` writes saved embeddings as npy (DGL-KE layout), TSV and
 * word2vec; reading each back gives the same names and the same float32
 * values; bad flags are one-line usage errors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { saveEmbeddings } from '../../src/kge/embeddings-io.js';
import { importEmbeddings } from '../../src/store/embeddings/export.js';
import { json, kgshard, tempDir } from './kgshard-cli.js';

const root = tempDir('export');
const saved = join(root, 'emb');
const entities = ['alice', 'bob smith', 'c\\d', 'dave'];
const relations = ['knows', 'likes'];
const entityTable = Float32Array.from({ length: 4 * 6 }, (_, i) => Math.fround(Math.sin(i) * 3));
const relationTable = Float32Array.from({ length: 2 * 6 }, (_, i) => Math.fround(1 / (i + 1)));
saveEmbeddings(
  saved,
  { model: 'transe', dim: 6, entityWidth: 6, relationWidth: 6, entities, relations, entityTable, relationTable },
  { dataset: { name: 'toy' } },
);

for (const format of ['npy', 'tsv', 'word2vec'] as const) {
  test(`${format}: export then import gives the same tables`, () => {
    const out = join(root, format);
    const r = kgshard('export', '--embeddings', saved, '--format', format, '--out', out, '--json');
    assert.is(r.code, 0, r.err);
    const j = json(r);
    assert.is(j['format'], format);
    const back = importEmbeddings(out);
    assert.equal(back.entities, entities);
    assert.equal(back.relations, relations);
    assert.equal(Array.from(back.entityTable), Array.from(entityTable));
    assert.equal(Array.from(back.relationTable), Array.from(relationTable));
    if (format === 'npy') {
      assert.ok(existsSync(join(out, 'toy_transe_entity.npy')));
      assert.ok(existsSync(join(out, 'toy_transe_relation.npy')));
      assert.ok(existsSync(join(out, 'entities.tsv')));
    }
  });
}

test('bad flags: one line naming the flag, exit 2', () => {
  const a = kgshard('export', '--embeddings', saved, '--format', 'csv', '--out', join(root, 'x'));
  assert.is(a.code, 2);
  assert.match(a.err, /--format/);
  assert.is(a.err.trim().split('\n').length, 1);
  const b = kgshard('export', '--format', 'npy', '--out', join(root, 'y'));
  assert.is(b.code, 2);
  assert.match(b.err, /--embeddings/);
});

test.run();
