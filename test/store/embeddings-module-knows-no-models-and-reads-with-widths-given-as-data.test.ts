/**
 * The store's embeddings module sits beside kge, not above it: none of its
 * files imports model code, and a save reads back through `readNative`
 * with the row widths handed in as plain data.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import { readNative, writeNative } from '../../src/store/embeddings/native.js';
import type { RowWidths } from '../../src/store/embeddings/types.js';

const moduleDir = fileURLToPath(new URL('../../src/store/embeddings/', import.meta.url));

test('no file of src/store/embeddings imports from src/kge', () => {
  const files = readdirSync(moduleDir).filter((n) => n.endsWith('.js'));
  assert.ok(files.length >= 5, `found the module's files (${files.join(', ')})`);
  for (const f of files) {
    const text = readFileSync(join(moduleDir, f), 'utf8');
    assert.not.match(text, /from '\.\.\/\.\.\/kge\//, `${f} imports kge`);
  }
});

test('widths given as data check a save and its load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-rows-'));
  try {
    // A made-up model: entity rows of 3*dim, relation rows of dim.
    const rows: RowWidths = {
      maxDim: 8,
      widths: (model, dim) => {
        if (model !== 'triple') throw new KgError('E_INVALID_ARGUMENT', `unknown model ${model}`);
        return { entityWidth: 3 * dim, relationWidth: dim };
      },
    };
    const e = {
      model: 'triple',
      dim: 2,
      entityWidth: 6,
      relationWidth: 2,
      entities: ['a', 'b'],
      relations: ['r'],
      entityTable: Float32Array.from({ length: 12 }, (_, i) => i / 4),
      relationTable: Float32Array.of(-1, 0.5),
    };
    writeNative(dir, e, {}, rows);
    const back = readNative(dir, rows);
    assert.equal([...back.entityTable], [...e.entityTable]);
    assert.equal([...back.relationTable], [...e.relationTable]);
    assert.equal(back.entities, e.entities);
    assert.throws(
      () => writeNative(dir, { ...e, entityWidth: 4, entityTable: new Float32Array(8) }, {}, rows),
      /entity rows of triple dim 2 has length 4, expected 6/,
    );
    assert.throws(
      () => readNative(dir, { ...rows, widths: (_m, d) => ({ entityWidth: 2 * d, relationWidth: d }) }),
      /entity rows of triple dim 2 has length 6, expected 4/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
