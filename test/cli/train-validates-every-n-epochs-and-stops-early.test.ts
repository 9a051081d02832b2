import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { FAST, json, kgshard, tempDir, tinyDataset, tinyTriples, writeTriples } from './kgshard-cli.js';

const data = tinyDataset();

test('--eval-every validates on the valid split; the best epoch is the best validation', () => {
  const r = kgshard(
    'train',
    '--dataset',
    data,
    ...FAST,
    '--epochs',
    '12',
    '--eval-every',
    '3',
    '--patience',
    '100',
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const s = json(r);
  const v = s['validation'] as { epoch: number; mrr: number }[];
  assert.equal(
    v.map((x) => x.epoch),
    [3, 6, 9, 12],
  );
  assert.is(s['stopped_by'], 'epochs');
  const best = v.reduce((a, b) => (b.mrr > a.mrr ? b : a));
  assert.is(s['best_epoch'], best.epoch);
});

test('--patience stops when valid MRR has not improved for that many validations', () => {
  // On this tiny graph validation MRR stops improving long before 200 epochs.
  const r = kgshard(
    'train',
    '--dataset',
    data,
    ...FAST,
    '--epochs',
    '200',
    '--eval-every',
    '1',
    '--patience',
    '2',
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const s = json(r);
  const v = s['validation'] as { epoch: number; mrr: number }[];
  assert.is(s['stopped_by'], 'early-stopping');
  const epochs = s['epochs'] as number;
  assert.ok(epochs < 200);
  assert.is(v.length, epochs);
  const best = s['best_epoch'] as number;
  assert.is(epochs - best, 2);
  for (const x of v) assert.ok(x.mrr <= v[best - 1]!.mrr);
});

test('--eval-every needs validation triples: a usage error naming the flag otherwise', () => {
  const t = tinyTriples();
  const noValid = writeTriples(join(tempDir('data'), 'novalid'), { train: t.train, valid: [], test: t.test });
  const r = kgshard('train', '--dataset', noValid, ...FAST, '--eval-every', '2');
  assert.is(r.code, 2);
  assert.is(r.err.trimEnd().split('\n').length, 1);
  assert.match(r.err, /--eval-every 2 needs validation triples/);
  const bad = kgshard('train', '--dataset', data, '--eval-every', '-1');
  assert.is(bad.code, 2);
  assert.match(bad.err, /--eval-every must be in \[0, 1000000\], got -1/);
});

test.run();
