/**
 * Embeddings exported with `kgshard export` (npy, tsv, word2vec) evaluate to
 * the same metrics as the embeddings they came from, and seed a warm start.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tempDir, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('eval-export');
const saved = join(root, 'emb');
const trained = json(kgshard('train', '--dataset', data, '--model', 'complex', ...FAST, '--out', saved, '--json'));

for (const format of ['npy', 'tsv', 'word2vec']) {
  test(`${format}: eval of the export gives the training run's metrics`, () => {
    const out = join(root, format);
    assert.is(kgshard('export', '--embeddings', saved, '--format', format, '--out', out).code, 0);
    const r = kgshard('eval', '--embeddings', out, '--workers', '1', '--json');
    assert.is(r.code, 0, r.err);
    const j = json(r);
    assert.is(j['model'], 'complex');
    assert.is(j['mrr'], trained['mrr']);
    assert.is(j['hits10'], trained['hits10']);
  });
}

test('train --warm-start from exported embeddings starts from their tables', () => {
  const out = join(root, 'npy');
  const r = kgshard(
    'train',
    '--dataset',
    data,
    '--model',
    'complex',
    '--dim',
    '8',
    '--epochs',
    '1',
    '--lr',
    '1e-9',
    '--workers',
    '1',
    '--warm-start',
    out,
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const j = json(r);
  assert.is((j['checkpoint'] as Record<string, unknown>)['warm_started_from'], out);
  // One epoch at a vanishing learning rate keeps the imported tables: the metrics stay those of the source run.
  const [mrr, trainedMrr] = [j['mrr'] as number, trained['mrr'] as number];
  assert.ok(Math.abs(mrr - trainedMrr) < 0.02, `${mrr} vs ${trainedMrr}`);
  const bad = kgshard(
    'train',
    '--dataset',
    data,
    '--model',
    'complex',
    '--dim',
    '16',
    '--epochs',
    '1',
    '--warm-start',
    out,
    '--json',
  );
  assert.is(bad.code, 1);
  assert.match(bad.err, /E_DIM_MISMATCH.*--warm-start/);
});

test.run();
