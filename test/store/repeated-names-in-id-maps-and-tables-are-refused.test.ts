/**
 * A name may stand for one row only: an id map or a TSV/word2vec table that
 * names the same entity twice (a damaged or truncated copy) is refused at
 * the second line, naming the first, instead of loading two rows of which
 * name lookups would silently keep one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadEmbeddings, saveEmbeddings } from '../../src/kge/embeddings-io.js';
import { exportEmbeddings, importEmbeddings, type ExportFormat } from '../../src/store/embeddings/export.js';
import { errorText } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-repeat-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let n = 0;

const exp = (format: ExportFormat) =>
  exportEmbeddings(join(root, `x${n++}`), {
    format,
    dataset: 'toy',
    model: 'distmult',
    entities: ['Z', 'Zaa', 'b'],
    relations: ['r'],
    entityTable: new Float32Array(3),
    relationTable: new Float32Array(1),
    entityDim: 1,
    relationDim: 1,
  });

test('saved embeddings: a repeated name in an id map', () => {
  const dir = join(root, `e${n++}`);
  saveEmbeddings(dir, {
    model: 'distmult',
    dim: 1,
    entityWidth: 1,
    relationWidth: 1,
    entities: ['Z', 'Zaa', 'b'],
    relations: ['r'],
    entityTable: new Float32Array(3),
    relationTable: new Float32Array(1),
  });
  const path = join(dir, 'entities.tsv');
  writeFileSync(path, '0\tZ\n1\tb\n2\tZ\n');
  assert.is(
    errorText(() => loadEmbeddings(dir)),
    `E_PARSE: ${path}:3: name "Z" repeats line 1`,
  );
});

test('exports: a repeated name in a DGL-KE id map, a TSV table or a word2vec table', () => {
  const npy = exp('npy');
  writeFileSync(npy.files.entityIds!, '0\tZ\n1\tZ\n2\tb\n');
  assert.is(
    errorText(() => importEmbeddings(npy.dir)),
    `E_PARSE: ${npy.files.entityIds!}:2: name "Z" repeats line 1`,
  );
  const tsv = exp('tsv');
  writeFileSync(tsv.files.entity, 'Z\t1\nb\t2\nZ\t3\n');
  assert.is(
    errorText(() => importEmbeddings(tsv.dir)),
    `E_PARSE: ${tsv.files.entity}:3: name "Z" repeats line 1`,
  );
  const w2v = exp('word2vec');
  writeFileSync(w2v.files.entity, '3 1\nb 1\nZ 2\nZ 3\n');
  assert.is(
    errorText(() => importEmbeddings(w2v.dir)),
    `E_PARSE: ${w2v.files.entity}:4: name "Z" repeats line 3`,
  );
});

test('writers refuse a repeated name', () => {
  assert.is(
    errorText(() =>
      saveEmbeddings(join(root, `w${n++}`), {
        model: 'distmult',
        dim: 1,
        entityWidth: 1,
        relationWidth: 1,
        entities: ['a', 'b', 'a'],
        relations: ['r'],
        entityTable: new Float32Array(3),
        relationTable: new Float32Array(1),
      }),
    ),
    'E_DUPLICATE_ID: saveEmbeddings: entity id "a" appears twice (positions 0 and 2)',
  );
  assert.is(
    errorText(() =>
      exportEmbeddings(join(root, `w${n++}`), {
        format: 'tsv',
        dataset: 'toy',
        model: 'm',
        entities: ['a'],
        relations: ['r', 'r'],
        entityTable: new Float32Array(1),
        relationTable: new Float32Array(2),
        entityDim: 1,
        relationDim: 1,
      }),
    ),
    'E_DUPLICATE_ID: exportEmbeddings: relation id "r" appears twice (positions 0 and 1)',
  );
});

test.run();
