/**
 * exportEmbeddings / importEmbeddings: every format (npy in the DGL-KE
 * layout, tsv, word2vec) reads back exactly — names, shapes and float32
 * bits — including awkward names and values; bad files are clear errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import {
  EXPORT_FORMATS,
  exportEmbeddings,
  importEmbeddings,
  importTable,
  type ExportFormat,
  type ExportInput,
} from '../../src/store/embeddings/export.js';
import { formatFloat32, parseFloat32 } from '../../src/store/embeddings/text-table.js';
import { escapeWord2vecName, unescapeWord2vecName } from '../../src/store/embeddings/word2vec.js';
import { readNpy } from '../../src/store/embeddings/npy.js';
import { check } from '../helpers/prop.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-export-'));
let n = 0;
const fresh = (): string => join(root, `d${n++}`);

function table(rows: number, dim: number, seed: number): Float32Array {
  const t = new Float32Array(rows * dim);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < t.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = ((s / 0x100000000) * 2 - 1) * 10 ** ((s % 9) - 4);
  }
  return t;
}

function sample(format: ExportFormat): ExportInput {
  return {
    format,
    dataset: 'wn18',
    model: 'TransE',
    entities: ['dog', 'a cat', 'back\\slash', 'üñí', 'x\\sy', 'two  spaces'],
    relations: ['_hypernym', 'part of'],
    entityTable: table(6, 4, 1),
    relationTable: table(2, 3, 2),
    entityDim: 4,
    relationDim: 3,
    config: { lr: 0.01, epochs: 3 },
  };
}

const bits = (t: Float32Array): number[] => [...new Uint32Array(t.buffer, t.byteOffset, t.length)];

for (const format of EXPORT_FORMATS) {
  test(`${format}: round trip is exact`, () => {
    const dir = fresh();
    const input = sample(format);
    const res = exportEmbeddings(dir, input);
    const back = importEmbeddings(dir, {
      expect: { entities: input.entities, relations: input.relations, entityDim: 4, relationDim: 3 },
    });
    assert.is(back.format, format);
    assert.is(back.dataset, 'wn18');
    assert.is(back.model, 'TransE');
    assert.equal(back.entities, input.entities);
    assert.equal(back.relations, input.relations);
    assert.equal(bits(back.entityTable), bits(input.entityTable));
    assert.equal(bits(back.relationTable), bits(input.relationTable));
    assert.equal(back.config, { lr: 0.01, epochs: 3 });
    assert.ok(existsSync(res.files.config));
    // the config.json path works too
    assert.equal(importEmbeddings(res.files.config).entities, input.entities);
  });
}

test('npy: DGL-KE layout and id maps', () => {
  const dir = fresh();
  const res = exportEmbeddings(dir, sample('npy'));
  assert.is(res.files.entity, join(dir, 'wn18_TransE_entity.npy'));
  assert.is(res.files.relation, join(dir, 'wn18_TransE_relation.npy'));
  assert.is(
    readFileSync(join(dir, 'entities.tsv'), 'utf8'),
    '0\tdog\n1\ta cat\n2\tback\\slash\n3\tüñí\n4\tx\\sy\n5\ttwo  spaces\n',
  );
  assert.is(readFileSync(join(dir, 'relations.tsv'), 'utf8'), '0\t_hypernym\n1\tpart of\n');
  const t = readNpy(res.files.entity);
  assert.equal([t.rows, t.cols], [6, 4]);
  // A DGL-KE directory without our config.json still imports.
  rmSync(res.files.config);
  const back = importEmbeddings(dir);
  assert.is(back.dataset, 'wn18');
  assert.is(back.model, 'TransE');
  assert.is(back.entityDim, 4);
  assert.equal(bits(back.relationTable), bits(sample('npy').relationTable));
});

test('tsv and word2vec text layout', () => {
  const tsv = exportEmbeddings(fresh(), sample('tsv'));
  const tsvLines = readFileSync(tsv.files.relation, 'utf8').split('\n');
  assert.is(tsvLines.length, 3);
  assert.ok(tsvLines[1]!.startsWith('part of\t'));
  assert.is(tsvLines[1]!.split('\t').length, 4);
  const w2v = exportEmbeddings(fresh(), sample('word2vec'));
  const lines = readFileSync(w2v.files.entity, 'utf8').split('\n');
  assert.is(lines[0], '6 4');
  assert.ok(lines[2]!.startsWith('a\\scat '));
  assert.ok(lines[3]!.startsWith('back\\\\slash '));
  assert.ok(lines[5]!.startsWith('x\\\\sy '));
  assert.is(lines[2]!.split(' ').length, 5);
  const one = importTable(w2v.files.entity);
  assert.equal(one.names, sample('word2vec').entities);
});

test('formatFloat32 is the shortest text that reads back to the same float32', async () => {
  assert.is(formatFloat32(0.1), '0.1');
  assert.is(formatFloat32(Math.fround(0.1)), '0.1');
  assert.is(formatFloat32(1), '1');
  assert.is(formatFloat32(-0), '-0');
  assert.is(formatFloat32(1e30), '1e+30');
  assert.is(formatFloat32(NaN), 'nan');
  assert.is(formatFloat32(-Infinity), '-inf');
  await check(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (u) => {
      const f = new Float32Array(new Uint32Array([u]).buffer)[0]!;
      const s = formatFloat32(f);
      const back = parseFloat32(s);
      assert.ok(back !== null, s);
      if (Number.isNaN(f)) assert.ok(Number.isNaN(back));
      else assert.ok(Object.is(back, f), `${f} -> ${s} -> ${back}`);
      if (Number.isFinite(f) && f !== 0) {
        // no shorter precision reads back the same
        const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length;
        if (digits > 1) assert.not.ok(Math.fround(Number(f.toPrecision(digits - 1))) === f, `${s} is not shortest`);
      }
    }),
    2000,
  );
});

test('word2vec name escaping round trips and rejects bad escapes', async () => {
  await check(
    fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\\', 's', 'ü') }), (name) => {
      const e = escapeWord2vecName(name);
      assert.not.ok(e.includes(' '));
      assert.is(unescapeWord2vecName(e), name);
    }),
  );
  assert.is(unescapeWord2vecName('a\\tb'), null);
  assert.is(unescapeWord2vecName('a\\'), null);
});

test('property: random tables and names round trip in every format', async () => {
  await check(
    fc.property(
      fc.constantFrom(...EXPORT_FORMATS),
      fc.uniqueArray(
        fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/[\t\r\n]/.test(s)),
        { minLength: 1, maxLength: 8 },
      ),
      fc.integer({ min: 1, max: 5 }),
      fc.integer(),
      (format, names, dim, seed) => {
        const dir = fresh();
        const entityTable = table(names.length, dim, seed);
        exportEmbeddings(dir, {
          format,
          dataset: 'd',
          model: 'm',
          entities: names,
          relations: ['r'],
          entityTable,
          relationTable: Float32Array.of(1.5),
          entityDim: dim,
          relationDim: 1,
        });
        const back = importEmbeddings(dir);
        assert.equal(back.entities, names);
        assert.equal(bits(back.entityTable), bits(entityTable));
        rmSync(dir, { recursive: true, force: true });
      },
    ),
    60,
  );
});

function expectError(what: string, f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
    assert.unreachable(`${what}: no error`);
  } catch (e) {
    if (!(e instanceof KgError)) throw e;
    assert.is(e.code, code, `${what}: ${e.message}`);
    assert.match(e.message, message, what);
  }
}

test('bad input and bad files give clear errors', () => {
  const good = sample('npy');
  expectError(
    'table size',
    () => exportEmbeddings(fresh(), { ...good, entityTable: new Float32Array(5) }),
    'E_DIM_MISMATCH',
    /entityTable has length 5, expected 24/,
  );
  expectError(
    'tab in name',
    () => exportEmbeddings(fresh(), { ...good, entities: ['a\tb', 'c', 'd', 'e', 'f', 'g'] }),
    'E_INVALID_ARGUMENT',
    /entities\[0\]/,
  );
  expectError(
    'format',
    () => exportEmbeddings(fresh(), { ...good, format: 'csv' as ExportFormat }),
    'E_INVALID_ARGUMENT',
    /format must be one of npy, tsv, word2vec/,
  );

  const npyDir = fresh();
  const res = exportEmbeddings(npyDir, good);
  expectError(
    'expect entities',
    () => importEmbeddings(npyDir, { expect: { entities: 7 } }),
    'E_DATASET',
    /has 6 entities, expected 7/,
  );
  expectError(
    'expect names',
    () => importEmbeddings(npyDir, { expect: { relations: ['_hypernym', 'part_of'] } }),
    'E_DATASET',
    /relations id 1 is "part of", expected "part_of"/,
  );
  expectError(
    'expect dim',
    () => importEmbeddings(npyDir, { expect: { entityDim: 8 } }),
    'E_DIM_MISMATCH',
    /expected 8/,
  );
  const ids = readFileSync(join(npyDir, 'entities.tsv'), 'utf8');
  writeFileSync(join(npyDir, 'entities.tsv'), ids.split('\n').slice(0, 5).join('\n') + '\n');
  expectError(
    'short id map',
    () => importEmbeddings(npyDir),
    'E_DATASET',
    /entities\.tsv: has 5 ids, wn18_TransE_entity\.npy has 6 rows/,
  );
  writeFileSync(join(npyDir, 'entities.tsv'), ids.replace('1\ta cat', '7\ta cat'));
  expectError('bad id', () => importEmbeddings(npyDir), 'E_PARSE', /entities\.tsv:2: expected index 1, found "7"/);
  writeFileSync(join(npyDir, 'entities.tsv'), ids);
  const bytes = readFileSync(res.files.entity);
  writeFileSync(res.files.entity, bytes.subarray(0, bytes.length - 4));
  expectError('truncated npy', () => importEmbeddings(npyDir), 'E_DATASET', /wn18_TransE_entity\.npy: .*truncated/);
  writeFileSync(res.files.entity, Buffer.from('garbage'));
  expectError('garbage npy', () => importEmbeddings(npyDir), 'E_DATASET', /wrong magic/);
  const cfg = readFileSync(res.files.config, 'utf8');
  writeFileSync(res.files.config, cfg.replace('"entity_dim": 4', '"entity_dim": 5'));
  exportEmbeddings(npyDir, good);
  writeFileSync(res.files.config, readFileSync(res.files.config, 'utf8').replace('"entity_dim": 4', '"entity_dim": 5'));
  expectError('config dim vs npy', () => importEmbeddings(npyDir), 'E_DATASET', /has 4 columns, expected 5/);
  writeFileSync(res.files.config, '{');
  expectError('bad config', () => importEmbeddings(npyDir), 'E_DATASET', /config\.json(:\d+)?: not valid JSON/);

  const tsvDir = fresh();
  const t = exportEmbeddings(tsvDir, sample('tsv'));
  const tsv = readFileSync(t.files.entity, 'utf8');
  writeFileSync(t.files.entity, tsv.replace(/\n([^\n]*)\n$/, '\n$1\t0.5\n'));
  expectError(
    'tsv extra value',
    () => importEmbeddings(tsvDir),
    'E_PARSE',
    /_entity\.tsv:6: expected 4 values, found 5/,
  );
  writeFileSync(t.files.entity, tsv.replace(/^dog\t[^\t]+/, 'dog\tabc'));
  expectError(
    'tsv not a number',
    () => importEmbeddings(tsvDir),
    'E_PARSE',
    /_entity\.tsv:1: value 1 "abc" is not a number/,
  );
  writeFileSync(t.files.entity, tsv.split('\n').slice(0, 3).join('\n') + '\n');
  expectError('tsv rows', () => importEmbeddings(tsvDir), 'E_DATASET', /has 3 rows, config\.json says 6/);

  const w2vDir = fresh();
  const w = exportEmbeddings(w2vDir, sample('word2vec'));
  const w2v = readFileSync(w.files.entity, 'utf8');
  writeFileSync(w.files.entity, w2v.replace(/^6 4/, '7 4'));
  expectError('w2v count', () => importEmbeddings(w2vDir), 'E_DATASET', /header says 7 rows, the file has 6/);
  writeFileSync(w.files.entity, w2v.replace(/^6 4/, '6 5'));
  expectError('w2v dim', () => importEmbeddings(w2vDir), 'E_PARSE', /_entity\.txt:1: dim 5, expected 4/);
  writeFileSync(w.files.entity, w2v.replace('a\\scat', 'a\\qcat'));
  expectError('w2v escape', () => importEmbeddings(w2vDir), 'E_PARSE', /_entity\.txt:3: bad escape/);
  writeFileSync(w.files.entity, 'hello\n');
  expectError('w2v header', () => importEmbeddings(w2vDir), 'E_PARSE', /_entity\.txt:1: expected the word2vec header/);

  expectError('no dir', () => importEmbeddings(join(root, 'nope')), 'E_DATASET', /no such directory/);
  const empty = fresh();
  mkdirSync(empty);
  expectError('empty dir', () => importEmbeddings(empty), 'E_DATASET', /no config\.json and no \*_entity\.npy/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
