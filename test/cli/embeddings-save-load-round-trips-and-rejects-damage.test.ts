import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KgError } from '../../src/errors.js';
import { alignEmbeddings, loadEmbeddings, saveEmbeddings, type Embeddings } from '../../src/kge/embeddings-io.js';
import { tempDir } from './kgshard-cli.js';

function sample(): Embeddings {
  // RotatE dim 3: entity rows 6 floats, relation rows 3 phases.
  const entityTable = Float32Array.from({ length: 4 * 6 }, (_, i) => i / 7 - 1.5);
  const relationTable = Float32Array.from({ length: 2 * 3 }, (_, i) => -i * 0.25);
  return {
    model: 'rotate',
    dim: 3,
    entityWidth: 6,
    relationWidth: 3,
    entities: ['a', 'b', 'c d', 'é'],
    relations: ['r', 's'],
    entityTable,
    relationTable,
  };
}

function throwsCode(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, KgError);
    assert.is((e as KgError).code, code, (e as Error).message);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('save then load gives back the tables bit for bit, in SharedArrayBuffers', () => {
  const dir = join(tempDir('io'), 'emb');
  const e = sample();
  const saved = saveEmbeddings(dir, e, { dataset: { name: 'toy' }, metrics: { mrr: 0.5 } });
  assert.is(saved.config.num_entities, 4);
  const raw = readFileSync(join(dir, 'entities.f32'));
  assert.is(raw.readFloatLE(4 * 5), e.entityTable[5]!); // little-endian float32, row-major
  assert.is(readFileSync(join(dir, 'relations.tsv'), 'utf8'), '0\tr\n1\ts\n');
  const back = loadEmbeddings(dir);
  assert.is(back.model, 'rotate');
  assert.equal(back.entities, e.entities);
  assert.equal(back.relations, e.relations);
  assert.equal([...back.entityTable], [...e.entityTable]);
  assert.equal([...back.relationTable], [...e.relationTable]);
  assert.instance(back.entityTable.buffer, SharedArrayBuffer);
  assert.equal(back.config.dataset, { name: 'toy' });
  assert.equal(back.config['metrics'], { mrr: 0.5 });
});

test('alignEmbeddings reorders rows by name and names a missing entity', () => {
  const e = sample();
  const a = alignEmbeddings(e, ['c d', 'a'], ['s', 'r']);
  assert.equal([...a.entityTable.subarray(0, 6)], [...e.entityTable.subarray(12, 18)]);
  assert.equal([...a.entityTable.subarray(6, 12)], [...e.entityTable.subarray(0, 6)]);
  assert.equal([...a.relationTable.subarray(0, 3)], [...e.relationTable.subarray(3, 6)]);
  assert.equal(a.unused, { entities: 2, relations: 0 });
  assert.is(alignEmbeddings(e, e.entities, e.relations).entityTable, e.entityTable);
  throwsCode(() => alignEmbeddings(e, ['a', 'zz'], ['r']), 'E_UNKNOWN_ID', /entity "zz"/);
});

test('damaged directories fail with an error naming the file', () => {
  const base = tempDir('io');
  const fresh = (name: string): string => {
    const dir = join(base, name);
    saveEmbeddings(dir, sample());
    return dir;
  };
  let dir = fresh('short');
  truncateSync(join(dir, 'entities.f32'), 10);
  throwsCode(
    () => loadEmbeddings(dir),
    'E_DATASET',
    /entities\.f32: has 10 bytes, expected 4 rows x 6 float32 = 96 bytes/,
  );

  dir = fresh('idmap');
  writeFileSync(join(dir, 'entities.tsv'), '0\ta\n2\tb\n1\tc\n3\td\n');
  throwsCode(() => loadEmbeddings(dir), 'E_PARSE', /entities\.tsv:2: expected id 1, found "2"/);

  dir = fresh('width');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, dim: 4 }));
  throwsCode(() => loadEmbeddings(dir), 'E_DIM_MISMATCH', /expected 8/);

  dir = fresh('format');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, format: 'word2vec' }));
  throwsCode(() => loadEmbeddings(dir), 'E_DATASET', /config\.json: format must be "kgshard-embeddings"/);

  throwsCode(() => loadEmbeddings(join(base, 'absent')), 'E_DATASET', /no config\.json/);
});

test('saving refuses tables that do not fit the model and names that a TSV line cannot hold', () => {
  const dir = join(tempDir('io'), 'bad');
  throwsCode(() => saveEmbeddings(dir, { ...sample(), relationWidth: 6 }), 'E_DIM_MISMATCH', /relation rows/);
  throwsCode(
    () => saveEmbeddings(dir, { ...sample(), entities: ['a', 'b\tc', 'd', 'e'] }),
    'E_INVALID_ARGUMENT',
    /entities\[1\]/,
  );
  throwsCode(
    () => saveEmbeddings(dir, { ...sample(), entityTable: new Float32Array(5) }),
    'E_DIM_MISMATCH',
    /entityTable/,
  );
});

test.run();
