/**
 * `kgshard eval --checkpoint-dir` of a finished run: the run's store holds
 * a final entry with the last epoch's tables, which (without validation)
 * are the tables `--out` saved, so both evaluate to the same metrics. The
 * report says which entry it read, and the run's description (beside the
 * store) says what the tables are.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tempDir, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('eval-store');
const store = join(root, 'store');
const out = join(root, 'emb');
const METRICS = ['mrr', 'mr', 'hits1', 'hits3', 'hits10'];

const trained = kgshard(
  'train',
  '--dataset',
  data,
  '--model',
  'complex',
  ...FAST,
  '--checkpoint-dir',
  store,
  '--out',
  out,
  '--json',
);

test('the run writes its description beside the store', () => {
  assert.is(trained.code, 0, trained.err);
  const t = json(trained);
  const fp = (t['checkpoint'] as Record<string, unknown>)['fingerprint'] as string;
  const d = JSON.parse(readFileSync(join(store, 'runs', `${fp}.json`), 'utf8')) as Record<string, unknown>;
  assert.is(d['format'], 'kgshard-run');
  assert.is(d['fingerprint'], fp);
  assert.is(d['model'], 'complex');
  assert.is(d['dim'], 8);
  assert.is(d['entity_width'], 16);
  assert.is(d['relation_width'], 16);
  assert.is(d['num_entities'], t['entities']);
  assert.is(d['num_relations'], 3);
  assert.is(d['train_triples'], t['train_triples']);
  assert.equal(d['dataset'], { name: 'tiny', path: data });
  assert.is((d['hyper'] as Record<string, unknown>)['lr'], t['lr']);
  assert.is(d['epochs_planned'], 30);
});

test('eval --checkpoint-dir gives the metrics of eval --embeddings of the run --out', () => {
  const t = json(trained);
  const fromOut = kgshard('eval', '--embeddings', out, '--workers', '2', '--json');
  assert.is(fromOut.code, 0, fromOut.err);
  const fromStore = kgshard('eval', '--checkpoint-dir', store, '--workers', '2', '--json');
  assert.is(fromStore.code, 0, fromStore.err);
  const a = json(fromOut);
  const b = json(fromStore);
  for (const k of METRICS) assert.is(b[k], a[k], k);
  for (const k of METRICS) assert.is(b[k], t[k], `${k} of the training run's final evaluation`);
  assert.equal(b['heads'], a['heads']);
  assert.equal(b['tails'], a['tails']);
  assert.is(b['model'], 'complex');
  assert.is(b['dim'], 8);
  assert.is(b['dataset_source'], data, 'the dataset recorded in the description');
  assert.is(b['embeddings'], null);
  assert.is(a['checkpoint'], null);
  const c = b['checkpoint'] as Record<string, unknown>;
  assert.is(c['dir'], store);
  assert.is(c['fingerprint'], (t['checkpoint'] as Record<string, unknown>)['fingerprint']);
  assert.is(c['epochs'], 30);
  assert.is(c['partial'], null);
  assert.is(c['kind'], 'final');
  assert.type(c['written_at'], 'string');
  assert.ok(!Number.isNaN(Date.parse(c['written_at'] as string)), String(c['written_at']));
});

test('the table names the entry; --split valid evaluates the valid split', () => {
  const r = kgshard('eval', '--checkpoint-dir', store, '--split', 'valid');
  assert.is(r.code, 0, r.err);
  const fp = (json(trained)['checkpoint'] as Record<string, unknown>)['fingerprint'] as string;
  assert.match(r.out, new RegExp(`^complex dim 8 from checkpoint store ${store}, run ${fp.slice(0, 12)}$`, 'm'));
  assert.match(r.out, /^final after epoch 30, written \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
  assert.match(r.out, /filtered link prediction on valid/);
  assert.match(r.out, /^both /m);
});

test.run();
