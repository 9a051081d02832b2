/**
 * `kgshard predict` and `kgshard similar` over embeddings trained on the
 * tiny ring dataset (`next`: i -> i+1, `skip`: i -> i+5, `pair`: i <-> i^1):
 * the model learns the rules, so the true tail of (e_i, next, ?) comes first;
 * the table, TSV and JSON say the same; --filter leaves out exactly the
 * known answers (all splits, or the ones named); a query file mixes both
 * directions; every export format predicts the same as the saved tables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, kgshard, tempDir, tinyDataset, tinyTriples, tinyTrainArgs } from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('predict');
const saved = join(root, 'emb');
const trained = kgshard(...tinyTrainArgs(data, 3), '--model', 'complex', '--epochs', '30', '--out', saved, '--json');
const splits = tinyTriples();

interface Prediction {
  head: string | null;
  relation: string;
  tail: string | null;
  asked: 'head' | 'tail';
  filtered: number;
  predictions: { rank: number; entity: string; score: number }[];
}

function predictJson(...args: string[]): { j: Record<string, unknown>; queries: Prediction[] } {
  const r = kgshard('predict', '--embeddings', saved, ...args, '--json');
  assert.is(r.code, 0, r.err);
  const j = json(r);
  return { j, queries: j['queries'] as Prediction[] };
}

test('training on the tiny dataset saved the embeddings', () => {
  assert.is(trained.code, 0, trained.err);
});

test('the true tail of (e_i, next, ?) comes first, scores descending; the table and TSV say the same as JSON', () => {
  const file = join(root, 'next.tsv');
  writeFileSync(file, 'e0\tnext\t?\ne7\tnext\t?\ne23\tnext\t?\n');
  const { j, queries } = predictJson('--queries', file, '--topk', '5');
  assert.is(j['command'], 'predict');
  assert.is(j['model'], 'complex');
  assert.is(j['k'], 5);
  assert.is(j['filter'], null);
  assert.is(queries.length, 3);
  queries.forEach((q, n) => {
    const i = [0, 7, 23][n]!;
    assert.is(q.asked, 'tail');
    assert.equal([q.head, q.relation, q.tail], [`e${i}`, 'next', null]);
    assert.is(q.predictions.length, 5);
    assert.is(q.predictions[0]!.entity, `e${(i + 1) % 24}`);
    const scores = q.predictions.map((p) => p.score);
    assert.equal(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    assert.equal(
      q.predictions.map((p) => p.rank),
      [1, 2, 3, 4, 5],
    );
  });
  const q = queries[1]!;
  const table = kgshard('predict', '--embeddings', saved, '--head', 'e7', '--relation', 'next', '--topk', '5');
  assert.is(table.code, 0, table.err);
  assert.match(table.out, /^complex dim 8 from .*\(24 entities, 3 relations\), WebAssembly SIMD kernels$/m);
  assert.match(table.out, /^\(e7, next, \?\): top 5 tails$/m);
  const rows = table.out.split('\n').filter((l) => /^ +\d+ {2}/.test(l));
  assert.equal(
    rows.map((l) => l.trim().split(/ +/)),
    q.predictions.map((p) => [String(p.rank), p.entity, p.score.toFixed(4)]),
  );
  const tsv = kgshard('predict', '--embeddings', saved, '--head', 'e7', '--relation', 'next', '--topk', '5', '--tsv');
  assert.is(tsv.code, 0, tsv.err);
  const lines = tsv.out.trimEnd().split('\n');
  assert.is(lines[0], 'query\tasked\trank\thead\trelation\ttail\tscore');
  assert.equal(
    lines.slice(1),
    q.predictions.map((p) => `1\ttail\t${p.rank}\te7\tnext\t${p.entity}\t${p.score}`),
  );
});

test('--filter leaves out exactly the known answers of the named splits', () => {
  const known = (splitNames: readonly ('train' | 'valid' | 'test')[], r: string, t: string): Set<string> =>
    new Set(splitNames.flatMap((s) => splits[s].filter((x) => x[1] === r && x[2] === t).map((x) => x[0])));
  for (const [flags, names] of [
    [[], ['train', 'valid', 'test']],
    [['--filter-splits', 'train'], ['train']],
  ] as const) {
    // Heads of (?, pair, e4) and (?, skip, e9): all 24 entities ranked, so every unknown head is listed.
    const file = join(root, 'queries.tsv');
    writeFileSync(file, '?\tpair\te4\n\n?\tskip\te9\r\ne2\tnext\t?\n');
    if (names.length === 1) {
      const r = kgshard('predict', '--embeddings', saved, '--queries', file, '--filter', data, ...flags);
      assert.is(r.code, 0, r.err);
      assert.match(r.out, /^known triples left out: tiny train \(\d+ triples\)$/m);
    }
    const { j, queries } = predictJson('--queries', file, '--topk', '24', '--filter', data, ...flags);
    assert.equal((j['filter'] as Record<string, unknown>)['splits'], names);
    assert.is(queries.length, 3);
    for (const q of queries) {
      const left =
        q.asked === 'head'
          ? known(names, q.relation, q.tail!)
          : new Set(
              names.flatMap((s) => splits[s].filter((x) => x[0] === q.head && x[1] === q.relation).map((x) => x[2])),
            );
      assert.is(q.filtered, left.size, JSON.stringify(q));
      const got = q.predictions.map((p) => p.entity);
      assert.is(got.length, 24 - left.size);
      for (const e of left) assert.not.ok(got.includes(e), `${e} is known: ${JSON.stringify(q)}`);
    }
    assert.is(queries[0]!.asked, 'head');
    assert.is(queries[2]!.asked, 'tail');
  }
});

test('similar: nearest entities and relations by cosine and L2, itself left out, in every format', () => {
  const r = kgshard('similar', '--embeddings', saved, '--entity', 'e4', '--topk', '4', '--json');
  assert.is(r.code, 0, r.err);
  const j = json(r);
  assert.equal([j['kind'], j['name'], j['metric'], j['k']], ['entity', 'e4', 'cosine', 4]);
  const nb = j['neighbours'] as { rank: number; name: string; score: number }[];
  assert.is(nb.length, 4);
  assert.not.ok(nb.some((x) => x.name === 'e4'));
  for (let i = 1; i < nb.length; i++) assert.ok(nb[i - 1]!.score >= nb[i]!.score);
  for (const x of nb) assert.ok(x.score >= -1 && x.score <= 1);
  const table = kgshard('similar', '--embeddings', saved, '--entity', 'e4', '--topk', '4');
  assert.match(table.out, /^complex dim 8 from .*: the 4 entities nearest e4 by cosine similarity$/m);
  assert.equal(
    table.out
      .split('\n')
      .filter((l) => /^ +\d+ {2}/.test(l))
      .map((l) => l.trim().split(/ +/)),
    nb.map((x) => [String(x.rank), x.name, x.score.toFixed(4)]),
  );
  const l2 = kgshard('similar', '--embeddings', saved, '--relation', 'next', '--metric', 'l2', '--tsv');
  assert.is(l2.code, 0, l2.err);
  const lines = l2.out.trimEnd().split('\n');
  assert.is(lines[0], 'rank\trelation\tl2');
  const rows = lines.slice(1).map((l) => l.split('\t'));
  assert.equal(rows.map((x) => x[1]).sort(), ['pair', 'skip']);
  assert.ok(Number(rows[0]![2]) <= Number(rows[1]![2]));
});

test('every export format predicts and finds neighbours as the saved embeddings do', () => {
  const want = predictJson('--relation', 'skip', '--tail', 'e10', '--topk', '6').queries;
  const near = json(kgshard('similar', '--embeddings', saved, '--entity', 'e1', '--json'))['neighbours'];
  for (const format of ['npy', 'tsv', 'word2vec']) {
    const out = join(root, format);
    const e = kgshard('export', '--embeddings', saved, '--format', format, '--out', out);
    assert.is(e.code, 0, e.err);
    const r = kgshard('predict', '--embeddings', out, '--relation', 'skip', '--tail', 'e10', '--topk', '6', '--json');
    assert.is(r.code, 0, r.err);
    assert.equal(json(r)['queries'], want, format);
    if (format !== 'word2vec') continue;
    const s = kgshard('similar', '--embeddings', out, '--entity', 'e1', '--json');
    assert.is(s.code, 0, s.err);
    assert.equal(json(s)['neighbours'], near, format);
  }
});

test.run();
