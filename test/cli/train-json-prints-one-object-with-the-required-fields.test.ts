import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tinyDataset, TRAIN_JSON_KEYS } from './kgshard-cli.js';

const data = tinyDataset();

test('train --json prints exactly one JSON object with the required fields and sane values', () => {
  const r = kgshard('train', '--dataset', data, '--model', 'distmult', ...FAST, '--json');
  assert.is(r.code, 0, r.err);
  const s = json(r);
  for (const key of TRAIN_JSON_KEYS) {
    assert.ok(key in s, `missing ${key}`);
  }
  assert.is(s['model'], 'distmult');
  assert.is(s['dim'], 8);
  assert.is(s['epochs'], 30);
  assert.is(s['workers'], 2);
  assert.is(s['dataset'], 'tiny');
  assert.is(s['eval_split'], 'test');
  const num = (k: string): number => {
    assert.type(s[k], 'number', k);
    assert.ok(Number.isFinite(s[k]), `${k} is finite`);
    return s[k] as number;
  };
  assert.ok(num('train_s') > 0);
  assert.ok(num('triples_per_s') > 0);
  // positive triples per second: 30 epochs over the train split, in train_s.
  const expected = (30 * num('train_triples')) / num('train_s');
  assert.ok(
    Math.abs(num('triples_per_s') - expected) / expected < 1e-9,
    `triples_per_s ${num('triples_per_s')} vs ${expected}`,
  );
  assert.ok(num('eval_s') >= 0);
  const mrr = num('mrr');
  assert.ok(mrr > 0 && mrr <= 1, `mrr ${mrr}`);
  assert.ok(num('mr') >= 1 && num('mr') <= num('entities'), `mr ${num('mr')}`);
  assert.ok(num('hits1') <= num('hits3') && num('hits3') <= num('hits10') && num('hits10') <= 1);
  assert.ok(mrr >= num('hits1') && mrr <= 1);
  const heads = s['heads'] as Record<string, number>;
  const tails = s['tails'] as Record<string, number>;
  assert.ok(Math.abs((heads['mrr']! + tails['mrr']!) / 2 - mrr) < 1e-12, 'both = mean of heads and tails');
});

test('train --shards 4 --json reports the parameter server the run trained through', () => {
  const r = kgshard('train', '--dataset', data, '--model', 'distmult', ...FAST, '--shards', '4', '--json');
  assert.is(r.code, 0, r.err);
  const s = json(r);
  assert.is(s['shards'], 4);
  const ps = s['ps'] as Record<string, unknown>;
  assert.is(ps['shards'], 4);
  assert.is(ps['mode'], 'async');
  const n = (k: string): number => {
    assert.type(ps[k], 'number', k);
    return ps[k] as number;
  };
  // Every chunk reads and pushes each shard it touches once: as many reads as pushes.
  assert.ok(n('pushes') > 0);
  assert.is(n('pulls'), n('pushes'));
  // 30 epochs of chunks of 8 positives (two workers: a chunk more where a share is not a multiple of 8);
  // each chunk pushes its relations once.
  const chunks = Math.ceil(num(s, 'train_triples') / 8);
  const rel = n('relation_pushes');
  assert.ok(rel >= 30 * chunks && rel <= 30 * (chunks + 1), `relation pushes ${rel} for ${chunks} chunks per epoch`);
  assert.ok(n('max_staleness') >= n('mean_staleness') && n('mean_staleness') >= 0);
  assert.is(n('snapshots'), 0, 'no snapshot was taken while training ran');
  assert.is(ps['snapshot_writer_pause_us'], null);
});

function num(s: Record<string, unknown>, k: string): number {
  assert.type(s[k], 'number', k);
  return s[k] as number;
}

test('--workers auto is the machine parallelism; the model name is canonical', () => {
  const r = kgshard(
    'train',
    '--dataset',
    data,
    '--model',
    'transe',
    ...FAST.slice(0, -2),
    '--epochs',
    '2',
    '--workers',
    'auto',
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const s = json(r);
  assert.is(s['model'], 'transe-l1');
  assert.ok((s['workers'] as number) >= 1);
});

test('without a TTY the run is quiet on stderr', () => {
  const r = kgshard('train', '--dataset', data, ...FAST, '--epochs', '2');
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  assert.match(r.out, /MRR/);
  assert.match(r.out, /Hits@10/);
  assert.match(r.out, /^both /m);
});

test.run();
