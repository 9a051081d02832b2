/**
 * The settings table (`src/kge/hyper.ts`) is the one description of the
 * training settings: `kgshard train --help` lists every row's flag, every
 * flag is accepted, the JSON summary carries every Trainer setting under its
 * row's JSON key with the value the flag gave, and saved embeddings record
 * the fingerprinted rows as their hyper-parameters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SETTINGS } from '../../src/kge/hyper.js';
import { json, kgshard, tempDir, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();

test('the help lists every setting of the table', () => {
  const r = kgshard('train', '--help');
  assert.is(r.code, 0);
  for (const s of SETTINGS) assert.ok(r.out.includes(`  ${s.flag} `) || r.out.includes(`  ${s.flag}\n`), s.flag);
});

test('the flags set the options; the JSON summary and config.json carry them under the table keys', () => {
  const out = join(tempDir('table'), 'emb');
  const given: Record<string, string> = {
    '--model': 'distmult',
    '--dim': '6',
    '--epochs': '2',
    '--batch': '8',
    '--neg': '3',
    '--chunk': '4',
    '--lr': '0.3',
    '--optimizer': 'sgd',
    '--loss': 'margin',
    '--margin': '1.5',
    '--adversarial': '0.5',
    '--reg': '0.01',
    '--reg-kind': 'l2',
    '--max-norm': '2',
    '--mode': 'async',
    '--kernels': 'js',
    '--workers': '1',
    '--shards': '3',
    '--seed': '11',
  };
  const r = kgshard(
    'train',
    '--dataset',
    data,
    ...Object.entries(given).flat(),
    '--filter-negatives',
    '--out',
    out,
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const s = json(r);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { hyper: Record<string, unknown> };
  for (const row of SETTINGS.filter((x) => x.scope === 'hyper' && x.jsonKey !== null)) {
    const raw = row.type === 'boolean' ? true : given[row.flag];
    const want = typeof raw === 'string' && row.type !== 'choice' && row.type !== 'model' ? Number(raw) : raw;
    assert.is(s[row.jsonKey!], want, `${row.flag} as ${row.jsonKey}`);
    if (row.fingerprint === true) assert.is(config.hyper[row.jsonKey!], want, `config.json hyper ${row.jsonKey}`);
  }
  assert.equal(
    Object.keys(config.hyper).sort(),
    SETTINGS.filter((x) => x.fingerprint === true)
      .map((x) => x.jsonKey!)
      .sort(),
  );
});

test.run();
