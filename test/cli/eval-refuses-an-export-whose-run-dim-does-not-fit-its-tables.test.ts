/**
 * `kgshard eval --embeddings` on an export takes the model from the
 * export's config.json and the dim from its `run`: a dim that does not
 * give the widths of the tables is refused in one line naming
 * config.json, not evaluated with rows read out of step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openEmbeddings } from '../../src/kge/embeddings-io.js';
import { exportEmbeddings } from '../../src/store/embeddings/export.js';
import { errorText } from '../helpers/errors.js';
import { tempDir } from './kgshard-cli.js';

/** The part of an export's config.json the cases edit. */
interface ExportConfig {
  run: Record<string, unknown>;
}

function exported(edit: (cfg: ExportConfig) => void): string {
  const dir = join(tempDir('run-dim'), 'x');
  // ComplEx dim 2: rows of 4 floats.
  exportEmbeddings(dir, {
    format: 'tsv',
    dataset: 'toy',
    model: 'complex',
    entities: ['a', 'b'],
    relations: ['r'],
    entityTable: new Float32Array(8),
    relationTable: new Float32Array(4),
    entityDim: 4,
    relationDim: 4,
    config: { dim: 2 },
  });
  const path = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as ExportConfig;
  assert.type(cfg.run, 'object', 'config.json has a run object');
  edit(cfg);
  writeFileSync(path, JSON.stringify(cfg));
  return dir;
}

test('an export whose run dim fits its tables opens', () => {
  const e = openEmbeddings(exported(() => {}));
  assert.equal([e.model, e.dim, e.entityWidth, e.relationWidth], ['complex', 2, 4, 4]);
});

test('a run dim that does not give the tables widths is refused naming config.json', () => {
  const cases: [(c: ExportConfig) => void, RegExp][] = [
    [(c) => (c.run['dim'] = 3), /config\.json: complex dim 3 has rows of 6 and 6 floats, the tables have 4 and 4$/],
    [(c) => (c.run['dim'] = 1), /config\.json: complex dim 1 has rows of 2 and 2 floats, the tables have 4 and 4$/],
    [(c) => (c.run['dim'] = 0), /config\.json: run dim must be a positive integer, got 0$/],
    [(c) => (c.run['dim'] = 2.5), /config\.json: run dim must be a positive integer, got 2\.5$/],
    [(c) => (c.run['dim'] = 1e12), /config\.json: run dim must be in \[1, 65536\], got 1000000000000$/],
  ];
  for (const [edit, re] of cases) {
    const msg = errorText(() => openEmbeddings(exported(edit)));
    assert.match(msg, /^E_DATASET: /, msg);
    assert.match(msg, re, msg);
  }
});

test('the dataset the run names follows the input rule', () => {
  const dir = exported((c) => (c.run['dataset'] = { name: 'toy', path: '/data/\u0000x' }));
  assert.is(
    errorText(() => openEmbeddings(dir)),
    `E_PARSE: ${join(dir, 'config.json')}: control character U+0000 in run.dataset.path`,
  );
});

test.run();
