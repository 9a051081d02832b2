import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, kgshard, tempDir, tinyDataset, tinyTriples } from './kgshard-cli.js';

const data = tinyDataset();

test('dataset --write DIR writes train.tsv, valid.tsv and test.tsv and prints the summary', () => {
  const out = join(tempDir('split'), 'written');
  const r = kgshard('dataset', '--dataset', data, '--write', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^tiny: 24 entities, 3 relations/m);
  assert.match(r.out, /\| relation \| train \| valid \| test \|/);
  assert.match(r.out, /\| `next` \|/);
  assert.match(r.out, /wrote the split to /);
  const t = tinyTriples();
  for (const split of ['train', 'valid', 'test'] as const) {
    const lines = readFileSync(join(out, `${split}.tsv`), 'utf8')
      .trimEnd()
      .split('\n');
    assert.equal(
      lines,
      t[split].map((x) => x.join('\t')),
      split,
    );
  }
  // What was written loads again as the same dataset.
  const again = json(kgshard('dataset', '--dataset', out, '--json'));
  const first = json(kgshard('dataset', '--dataset', data, '--json'));
  assert.equal(again['triples'], first['triples']);
  assert.is(again['entities'], 24);
});

test('dataset --json reports the counts and the files written', () => {
  const out = join(tempDir('split'), 'json');
  const s = json(kgshard('dataset', '--dataset', data, '--write', out, '--json'));
  const t = tinyTriples();
  assert.equal(s['triples'], { train: t.train.length, valid: t.valid.length, test: t.test.length, total: 72 });
  const written = s['written'] as { dir: string; files: Record<string, { path: string; triples: number }> };
  assert.is(written.dir, out);
  assert.is(written.files['train']!.path, join(out, 'train.tsv'));
  assert.is(written.files['test']!.triples, t.test.length);
});

test('dataset --write without --dataset writes the built-in WordNet split', () => {
  const out = join(tempDir('split'), 'wordnet');
  const r = kgshard('dataset', '--write', out, '--json');
  assert.is(r.code, 0, r.err);
  const s = json(r);
  assert.is(s['dataset'], 'wordnet');
  const triples = s['triples'] as Record<string, number>;
  for (const split of ['train', 'valid', 'test'] as const) {
    const text = readFileSync(join(out, `${split}.tsv`), 'utf8');
    assert.is(text.split('\n').length - 1, triples[split], split);
    assert.match(text.slice(0, 200), /^\d{8}\.[nvar]\t_[a-z_]+\t\d{8}\.[nvar]\n/);
  }
});

test.run();
