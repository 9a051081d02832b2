import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FAST, json, kgshard, tempDir, tinyDataset, tinyTriples, writeTriples } from './kgshard-cli.js';

const data = tinyDataset();
const out = join(tempDir('emb'), 'complex');
const METRICS = ['mrr', 'mr', 'hits1', 'hits3', 'hits10'];

const trained = kgshard('train', '--dataset', data, '--model', 'complex', ...FAST, '--out', out, '--json');

test('train --out writes the tables, the id maps and config.json', () => {
  assert.is(trained.code, 0, trained.err);
  const s = json(trained);
  assert.is(s['out'], out);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.is(config['format'], 'kgshard-embeddings');
  assert.is(config['model'], 'complex');
  assert.is(config['dim'], 8);
  assert.is(config['entity_width'], 16);
  assert.is(config['relation_width'], 16);
  assert.is(config['num_entities'], s['entities']);
  assert.is(config['num_relations'], 3);
  assert.equal(config['dataset'], { name: 'tiny', path: data });
  assert.is((config['metrics'] as Record<string, unknown>)['mrr'], s['mrr']);
  assert.is((config['hyper'] as Record<string, unknown>)['lr'], s['lr']);
  assert.is(statSync(join(out, 'entities.f32')).size, (s['entities'] as number) * 16 * 4);
  assert.is(statSync(join(out, 'relations.f32')).size, 3 * 16 * 4);
  const ents = readFileSync(join(out, 'entities.tsv'), 'utf8').trimEnd().split('\n');
  assert.is(ents.length, s['entities']);
  ents.forEach((line, i) => assert.match(line, new RegExp(`^${i}\\te\\d+$`)));
  const rels = readFileSync(join(out, 'relations.tsv'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t')[1]);
  assert.equal([...rels].sort(), ['next', 'pair', 'skip']);
});

test('eval --embeddings reproduces the training run metrics on the recorded dataset', () => {
  const s = json(trained);
  const r = kgshard('eval', '--embeddings', out, '--workers', '2', '--json');
  assert.is(r.code, 0, r.err);
  const e = json(r);
  assert.is(e['model'], 'complex');
  assert.is(e['eval_split'], 'test');
  for (const k of METRICS) assert.is(e[k], s[k], k);
  assert.equal(e['heads'], s['heads']);
  assert.equal(e['tails'], s['tails']);
});

test('eval matches rows to a dataset by name, whatever its id order', () => {
  const s = json(trained);
  // The same triples, train written in reverse: entities get other ids.
  const t = tinyTriples();
  const other = writeTriples(join(tempDir('data'), 'reordered'), {
    train: [...t.train].reverse(),
    valid: t.valid,
    test: t.test,
  });
  const r = kgshard('eval', '--embeddings', out, '--dataset', other, '--json');
  assert.is(r.code, 0, r.err);
  const e = json(r);
  for (const k of METRICS)
    assert.ok(Math.abs((e[k] as number) - (s[k] as number)) < 1e-9, `${k}: ${String(e[k])} vs ${String(s[k])}`);
});

test('eval prints the metrics table; --split valid evaluates the valid split', () => {
  const r = kgshard('eval', '--embeddings', out, '--split', 'valid');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /filtered link prediction on valid/);
  assert.match(r.out, /^heads /m);
  assert.match(r.out, /^tails /m);
  assert.match(r.out, /^both /m);
});

test('eval of a directory without embeddings names the file', () => {
  const r = kgshard('eval', '--embeddings', data);
  assert.is(r.code, 1);
  assert.is(r.err.trim().split('\n').length, 1);
  assert.match(r.err, /config\.json/);
});

test.run();
