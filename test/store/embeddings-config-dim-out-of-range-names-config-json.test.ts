/**
 * loadEmbeddings: a dim the model refuses (0, past the maximum) is an error naming config.json, like every other bad
 * field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadEmbeddings, saveEmbeddings } from '../../src/kge/embeddings-io.js';
import { errorText } from '../helpers/errors.js';

test('dim 0 or 1e6 in config.json is refused naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-dim-'));
  try {
    const cfg = join(dir, 'config.json');
    for (const dim of [0, 1_000_000]) {
      saveEmbeddings(dir, {
        model: 'transe',
        dim: 1,
        entityWidth: 1,
        relationWidth: 1,
        entities: ['a'],
        relations: ['r'],
        entityTable: Float32Array.of(1),
        relationTable: Float32Array.of(2),
      });
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"dim": 1', `"dim": ${dim}`));
      assert.is(
        errorText(() => loadEmbeddings(dir)),
        `E_DATASET: ${cfg}: transe-l1.shapes: dim must be in [1, 65536], got ${dim}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
