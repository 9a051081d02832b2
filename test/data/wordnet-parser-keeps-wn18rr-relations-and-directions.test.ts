/**
 * The WordNet reader on a tiny synthetic dict (test/fixtures/data/wordnet):
 * the 11 WN18RR relations in WN18RR's directions, inverse and other
 * pointers dropped, symmetric relations in both directions, lexical
 * pointers mapped to synsets, self loops dropped; then the k-core filter
 * and the split rule on the same graph.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWordnet, parseWordnet, WORDNET_RELATIONS, type StringTriple } from '../../src/data/wordnet.js';
import { err } from '../helpers/errors.js';

const dict = fileURLToPath(new URL('../../../test/fixtures/data/wordnet', import.meta.url));

const tsv = (rows: readonly StringTriple[]): string[] => rows.map((t) => t.join(' ')).sort();

const EXPECTED = [
  // @ hypernym: (hyponym, _hypernym, hypernym); `~` is dropped.
  '00000200.n _hypernym 00000100.n',
  '00000300.n _hypernym 00000200.n',
  '00001100.v _hypernym 00001170.v',
  // @i: (instance, _instance_hypernym, class); `~i` dropped.
  '00001000.n _instance_hypernym 00000300.n',
  // %p: (whole, _has_part, part); `#p` dropped.
  '00000300.n _has_part 00000400.n',
  // %m: (group, _member_meronym, member); `#m` dropped.
  '00000500.n _member_meronym 00000300.n',
  // ;c: (synset, _synset_domain_topic_of, topic); `-c` dropped.
  '00000300.n _synset_domain_topic_of 00000700.n',
  // -u / -r: (domain, _member_of_domain_*, member); `;u` / `;r` dropped.
  '00000800.n _member_of_domain_usage 00000900.n',
  '00000800.n _member_of_domain_usage 00003000.r', // a lexical -u pointer
  '00001200.n _member_of_domain_region 00001000.n',
  // Symmetric: both directions.
  '00000300.n _derivationally_related_form 00001100.v', // lexical, both given
  '00001100.v _derivationally_related_form 00000300.n',
  '00001100.v _verb_group 00001150.v',
  '00001150.v _verb_group 00001100.v',
  '00001100.v _also_see 00001150.v', // given one way only (lexical)
  '00001150.v _also_see 00001100.v', // added
  '00002000.a _similar_to 00002100.a', // 00002100 is a satellite (s), named .a
  '00002100.a _similar_to 00002000.a',
].sort();

test('the graph holds exactly the kept relations, in WN18RR directions', () => {
  const g = parseWordnet(dict);
  const rows: StringTriple[] = [];
  for (let j = 0; j < g.triples.length; j += 3) {
    rows.push([g.entities[g.triples[j]!]!, g.relations[g.triples[j + 1]!]!, g.entities[g.triples[j + 2]!]!]);
  }
  assert.equal(tsv(rows), EXPECTED);
  assert.equal([...g.relations], [...WORDNET_RELATIONS]);
  assert.is(WORDNET_RELATIONS.length, 11);
});

test('entities are the synsets in some kept triple, sorted, named offset.pos', () => {
  const g = parseWordnet(dict);
  const names = new Set(EXPECTED.flatMap((line) => [line.split(' ')[0]!, line.split(' ')[2]!]));
  assert.equal([...g.entities], [...names].sort());
  // cat (only antonym and substance pointers), the synsets only named by
  // inverse or dropped pointers, and a dangling hyponym target are absent.
  for (const absent of ['00000600.n', '00001160.v', '00002200.a', '01400000.n'])
    assert.not.ok(g.entities.includes(absent), absent);
});

test('the counts of what was kept and dropped', () => {
  const s = parseWordnet(dict).stats;
  assert.is(s.synsets, 19);
  assert.is(s.pointersKept, 18);
  assert.is(s.lexicalPointersKept, 5);
  assert.is(s.inversePointersDropped, 11); // ~ ×4, ~i, #m, #p, -c, ;u ×2, ;r
  assert.is(s.otherPointersDropped, 9); // ! ×4, %s, #s, *, =, \
  assert.is(s.selfLoopsDropped, 1); // dog's `+` between its own two words
  assert.is(s.symmetricReversesAdded, 1); // the one-way also-see
  assert.equal(s.graph, { entities: 16, triples: 18 });
  assert.is(s.pointers['~'], 4);
  assert.is(s.pointers['+'], 3);
});

test('with minDegree 1 and nothing held out, train is the whole graph', () => {
  const b = buildWordnet(dict, { minDegree: 1, validSize: 0, testSize: 0 });
  assert.equal(tsv(b.train), EXPECTED);
  assert.equal(b.valid, []);
  assert.equal(b.test, []);
  assert.equal(b.stats.core, { minDegree: 1, entities: 16, triples: 18 });
});

test('the k-core drops entities in fewer than k triples until none is left', () => {
  const b = buildWordnet(dict, { minDegree: 2, validSize: 0, testSize: 0 });
  // Peeling the leaves leaves dog-bark-yap and big-large: 200 loses 100,
  // then its own degree falls to 1; Lassie loses the region; slang loses both members.
  assert.equal(tsv(b.train), [
    '00000300.n _derivationally_related_form 00001100.v',
    '00001100.v _also_see 00001150.v',
    '00001100.v _derivationally_related_form 00000300.n',
    '00001100.v _verb_group 00001150.v',
    '00001150.v _also_see 00001100.v',
    '00001150.v _verb_group 00001100.v',
    '00002000.a _similar_to 00002100.a',
    '00002100.a _similar_to 00002000.a',
  ]);
  assert.equal(b.stats.core, { minDegree: 2, entities: 5, triples: 8 });
  assert.is(buildWordnet(dict, { minDegree: 7, validSize: 0, testSize: 0 }).train.length, 0);
});

test('held-out triples keep every entity and relation in train; the split is seeded', () => {
  for (const seed of [1, 2, 3, 4, 5, 42]) {
    const b = buildWordnet(dict, { minDegree: 1, validSize: 2, testSize: 2, seed });
    assert.is(b.valid.length, 2);
    assert.is(b.test.length, 2);
    assert.is(b.train.length, 14);
    assert.equal(tsv([...b.train, ...b.valid, ...b.test]), EXPECTED);
    const ents = new Set(b.train.flatMap(([h, , t]) => [h, t]));
    const rels = new Set(b.train.map(([, r]) => r));
    for (const [h, r, t] of [...b.valid, ...b.test]) {
      assert.ok(ents.has(h) && ents.has(t) && rels.has(r), `${h} ${r} ${t} (seed ${seed})`);
    }
    assert.equal(buildWordnet(dict, { minDegree: 1, validSize: 2, testSize: 2, seed }), b);
  }
  const picks = new Set(
    [1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
      tsv(buildWordnet(dict, { minDegree: 1, validSize: 2, testSize: 2, seed }).test).join('|'),
    ),
  );
  assert.ok(picks.size > 1, 'different seeds pick different test triples');
});

test('a graph too small for the held-out sizes is refused', () => {
  const e = err(() => buildWordnet(dict, { minDegree: 1, validSize: 10, testSize: 10 }));
  assert.is(e.code, 'E_DATASET');
  assert.match(e.message, /1-core has 18 triples; cannot hold out 10 valid and 10 test triples/);
  assert.is(err(() => buildWordnet(dict, { minDegree: -1 })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => buildWordnet(dict, { seed: 0.5 })).code, 'E_INVALID_ARGUMENT');
});

test('a malformed synset line is an E_PARSE naming the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-wordnet-bad-'));
  try {
    cpSync(dict, dir, { recursive: true });
    const verb = readFileSync(join(dir, 'data.verb'), 'utf8').replace('$ 00001100 v 0000', '$ 1100 v 0000');
    writeFileSync(join(dir, 'data.verb'), verb);
    const e = err(() => parseWordnet(dir));
    assert.is(e.code, 'E_PARSE');
    assert.is(e.message, `${join(dir, 'data.verb')}:3: pointer 1: target offset must be 8 digits, got "1100"`);

    writeFileSync(join(dir, 'data.verb'), readFileSync(join(dict, 'data.verb'), 'utf8'));
    writeFileSync(join(dir, 'data.adv'), '00003000 02 r 01 quickly 0 003 \\ 00002000 a 0101 | with speed\n');
    assert.match(err(() => parseWordnet(dir)).message, /\/data\.adv:1: 3 pointers announced, fewer found$/);
    writeFileSync(join(dir, 'data.adv'), '00003000 02 n 01 quickly 0 000 | with speed\n');
    assert.match(err(() => parseWordnet(dir)).message, /\/data\.adv:1: ss_type must be r in data\.adv, got "n"$/);
    writeFileSync(join(dir, 'data.adv'), '00003000 02 r 01 quickly 0 001 ; 00002000 x 0000 | with speed\n');
    assert.match(
      err(() => parseWordnet(dir)).message,
      /\/data\.adv:1: pointer 1: pos must be n, v, a, s or r, got "x"$/,
    );

    rmSync(join(dir, 'data.adv'));
    const missing = err(() => parseWordnet(dir));
    assert.is(missing.code, 'E_DATASET');
    assert.match(missing.message, /data\.adv: cannot read the WordNet data file \(ENOENT\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
