/**
 * A config.json that is not JSON (saved embeddings or an export) fails in
 * one line naming the file: the parser's excerpt of the text, which may
 * hold line breaks or control characters, is escaped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadEmbeddings, saveEmbeddings } from '../../src/kge/embeddings-io.js';
import { exportEmbeddings, importEmbeddings } from '../../src/store/embeddings/export.js';
import { errorText } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-cfg-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const damage = (path: string, f: (text: string) => string): void => writeFileSync(path, f(readFileSync(path, 'utf8')));
const edits: ((t: string) => string)[] = [
  (t) => `z${t.slice(1)}`,
  (t) => `\u0000${t.slice(1)}`,
  (t) => t.slice(0, 20),
  (t) => `${t}}`,
  (t) => t.replace('{', '{\n\n  x'),
];

test('saved embeddings: a config.json syntax error is one line', () => {
  for (const edit of edits) {
    const dir = join(root, `e${edits.indexOf(edit)}`);
    saveEmbeddings(dir, {
      model: 'distmult',
      dim: 1,
      entityWidth: 1,
      relationWidth: 1,
      entities: ['a'],
      relations: ['r'],
      entityTable: Float32Array.of(1),
      relationTable: Float32Array.of(2),
    });
    damage(join(dir, 'config.json'), edit);
    const msg = errorText(() => loadEmbeddings(dir));
    assert.match(
      msg,
      new RegExp(`^E_DATASET: ${join(dir, 'config.json').replace(/[.]/g, '\\.')}(:\\d+)?: not valid JSON \\(`),
      msg,
    );
    assert.not.match(msg, /[\r\n\u0000]/, msg);
  }
});

test('exports: a config.json syntax error is one line', () => {
  for (const edit of edits) {
    const dir = join(root, `x${edits.indexOf(edit)}`);
    exportEmbeddings(dir, {
      format: 'tsv',
      dataset: 'toy',
      model: 'distmult',
      entities: ['a'],
      relations: ['r'],
      entityTable: Float32Array.of(1),
      relationTable: Float32Array.of(2),
      entityDim: 1,
      relationDim: 1,
    });
    damage(join(dir, 'config.json'), edit);
    const msg = errorText(() => importEmbeddings(dir));
    assert.match(msg, /^E_DATASET: .*config\.json(:\d+)?: not valid JSON \(/, msg);
    assert.not.match(msg, /[\r\n\u0000]/, msg);
  }
});

test.run();
