/**
 * The input rule of the TSV splits (strict UTF-8, no control character but
 * tab, CR only in a CRLF ending) holds for every other file kgshard reads
 * names from: the id maps and config.json of saved embeddings, the tables,
 * id maps and config.json of exports; and writers refuse such names.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadEmbeddings, saveEmbeddings, type Embeddings } from '../../src/kge/embeddings-io.js';
import {
  exportEmbeddings,
  importEmbeddings,
  importTable,
  type ExportFormat,
  type ExportInput,
} from '../../src/store/embeddings/export.js';
import { errorText } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-names-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${n++}`);

function emb(): Embeddings {
  return {
    model: 'distmult',
    dim: 2,
    entityWidth: 2,
    relationWidth: 2,
    entities: ['a', 'b', 'c'],
    relations: ['r'],
    entityTable: Float32Array.of(1, 2, 3, 4, 5, 6),
    relationTable: Float32Array.of(7, 8),
  };
}

function exp(format: ExportFormat): ExportInput {
  return {
    format,
    dataset: 'toy',
    model: 'distmult',
    entities: ['a', 'b c', 'd'],
    relations: ['r'],
    entityTable: Float32Array.of(1, 2, 3, 4, 5, 6),
    relationTable: Float32Array.of(7, 8),
    entityDim: 2,
    relationDim: 2,
    config: { dim: 2 },
  };
}

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

test('saved embeddings: an id map line with a control character or invalid UTF-8 is file:line and field', () => {
  const cases: [Uint8Array, string][] = [
    [bytes('0\ta\n1\tb\0\n2\tc\n'), ':2: control character U+0000 in the name field'],
    [bytes('0\ta\n1\tb\n2\tc\u0090\n'), ':3: control character U+0090 in the name field'],
    [bytes('0\ta\r\n1\tb\r\n2\tc\r'), ':3: control character U+000D in the name field'],
    [bytes('0\ta\n1\x7f\tb\n2\tc\n'), ':2: control character U+007F in the id field'],
    [bytes('0\ta\n1\tb\n2\t', [0xff], '\n'), ':3: invalid UTF-8 (byte 0xFF) in the name field'],
  ];
  for (const [content, tail] of cases) {
    const dir = fresh();
    saveEmbeddings(dir, emb());
    const path = join(dir, 'entities.tsv');
    writeFileSync(path, content);
    assert.is(
      errorText(() => loadEmbeddings(dir)),
      `E_PARSE: ${path}${tail}`,
    );
  }
});

test('saved embeddings: config.json names with a control character, and invalid UTF-8 in it, are refused', () => {
  const dir = fresh();
  saveEmbeddings(dir, emb(), { dataset: { name: 'to\u0007y' } });
  const path = join(dir, 'config.json');
  assert.is(
    errorText(() => loadEmbeddings(dir)),
    `E_PARSE: ${path}: control character U+0007 in dataset.name`,
  );
  saveEmbeddings(dir, emb(), { dataset: { name: 'toy', path: '/data/\u0085x' } });
  assert.is(
    errorText(() => loadEmbeddings(dir)),
    `E_PARSE: ${path}: control character U+0085 in dataset.path`,
  );
  saveEmbeddings(dir, emb());
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace('"distmult"', '"distmult\\u0000"'));
  assert.is(
    errorText(() => loadEmbeddings(dir)),
    `E_PARSE: ${path}: control character U+0000 in model`,
  );
  const lines = text.split('\n');
  writeFileSync(path, bytes(lines.slice(0, 3).join('\n'), '\n', [0xc3, 0x28], lines.slice(3).join('\n')));
  assert.is(
    errorText(() => loadEmbeddings(dir)),
    `E_PARSE: ${path}:4: invalid UTF-8 (byte 0xC3)`,
  );
});

test('exports: tsv and word2vec tables, DGL-KE id maps and config.json follow the rule', () => {
  const tsv = exportEmbeddings(fresh(), exp('tsv'));
  writeFileSync(tsv.files.entity, bytes('a\t1\t2\nb c\t3\x01\t4\nd\t5\t6\n'));
  assert.is(
    errorText(() => importEmbeddings(tsv.dir)),
    `E_PARSE: ${tsv.files.entity}:2: control character U+0001 in the value 1 field`,
  );
  writeFileSync(tsv.files.entity, bytes('a\t1\t2\nb c\t3\t4\nd', [0xe0, 0x80], '\t5\t6\n'));
  assert.is(
    errorText(() => importTable(tsv.files.entity)),
    `E_PARSE: ${tsv.files.entity}:3: invalid UTF-8 (byte 0xE0) in the name field`,
  );

  const w2v = exportEmbeddings(fresh(), exp('word2vec'));
  writeFileSync(w2v.files.entity, bytes('3 2\na 1 2\nb\\sc\u009b 3 4\nd 5 6\n'));
  assert.is(
    errorText(() => importEmbeddings(w2v.dir)),
    `E_PARSE: ${w2v.files.entity}:3: control character U+009B in the name field`,
  );
  writeFileSync(w2v.files.entity, bytes('3\x002\na 1 2\nb\\sc 3 4\nd 5 6\n'));
  assert.is(
    errorText(() => importEmbeddings(w2v.dir)),
    `E_PARSE: ${w2v.files.entity}:1: control character U+0000 in the header field`,
  );

  const npy = exportEmbeddings(fresh(), exp('npy'));
  writeFileSync(npy.files.relationIds!, bytes('0\tr\x1f\n'));
  assert.is(
    errorText(() => importEmbeddings(npy.dir)),
    `E_PARSE: ${npy.files.relationIds!}:1: control character U+001F in the name field`,
  );

  const cfg = exportEmbeddings(fresh(), exp('tsv'));
  const text = readFileSync(cfg.files.config, 'utf8');
  writeFileSync(cfg.files.config, text.replace('"model": "distmult"', '"model": "distmult\\u007f"'));
  assert.is(
    errorText(() => importEmbeddings(cfg.dir)),
    `E_PARSE: ${cfg.files.config}: control character U+007F in model`,
  );
});

test('word2vec: a tab, which would end a name in every other format, is refused', () => {
  const w2v = exportEmbeddings(fresh(), exp('word2vec'));
  writeFileSync(w2v.files.entity, bytes('3 2\na 1 2\n\t 3 4\nd 5 6\n'));
  assert.is(
    errorText(() => importEmbeddings(w2v.dir)),
    `E_PARSE: ${w2v.files.entity}:3: control character U+0009 in the name field`,
  );
  writeFileSync(w2v.files.entity, bytes('3 2\na 1 2\nb 3\t4\nd 5 6\n'));
  assert.is(
    errorText(() => importTable(w2v.files.entity)),
    `E_PARSE: ${w2v.files.entity}:3: control character U+0009 in the value 1 field`,
  );
});

test('writers refuse names with control characters', () => {
  const e = { ...emb(), entities: ['a', 'b\u0000', 'c'] };
  assert.match(
    errorText(() => saveEmbeddings(fresh(), e)),
    /^E_INVALID_ARGUMENT: saveEmbeddings: entities\[1\] must be a non-empty name without control characters/,
  );
  const x = { ...exp('word2vec'), relations: ['r\u0085'] };
  assert.match(
    errorText(() => exportEmbeddings(fresh(), x)),
    /^E_INVALID_ARGUMENT: exportEmbeddings: relations\[0\] must be a non-empty name without control characters/,
  );
});

test.run();
