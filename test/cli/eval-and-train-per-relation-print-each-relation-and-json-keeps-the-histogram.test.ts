/**
 * `--per-relation` (train and eval) prints a table of every relation with a
 * test triple: its count and MRR, MR, Hits@1/3/10, and MRR per direction,
 * worst MRR first. `--json` always holds them (`per_relation`, with heads and
 * tails) and the full rank histogram (`rank_histogram`, log-spaced buckets
 * whose counts add up to twice the triples ranked).
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tempDir, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();

test('train --per-relation prints one row per relation, worst first', () => {
  const r = kgshard('train', '--dataset', data, ...FAST, '--epochs', '3', '--per-relation');
  assert.is(r.code, 0, r.err);
  const at = r.out.indexOf('per relation on test (worst MRR first)');
  assert.ok(at > 0, r.out);
  const rows = r.out.slice(at).trim().split('\n').slice(2);
  const names = rows.map((l) => l.split(/\s+/)[0]!);
  assert.ok(names.length > 0, r.out);
  assert.is(new Set(names).size, names.length, 'one row per relation');
  for (const n of names) assert.ok(['next', 'pair', 'skip'].includes(n), `relation ${n}`);
  const mrrs = rows.map((l) => Number(l.split(/\s+/)[2]));
  assert.equal(
    mrrs,
    [...mrrs].sort((a, b) => a - b),
  );
});

test('--json holds per_relation and rank_histogram (train and eval of the saved embeddings)', () => {
  const out = join(tempDir('per-relation'), 'emb');
  const t = json(kgshard('train', '--dataset', data, ...FAST, '--epochs', '3', '--out', out, '--json'));
  const e = json(kgshard('eval', '--embeddings', out, '--dataset', data, '--json'));
  for (const j of [t, e]) {
    const per = j.per_relation as Array<Record<string, unknown>>;
    assert.ok(per.length > 0 && per.length <= 3);
    const triples = j.eval_triples as number;
    assert.is(
      per.reduce((n, p) => n + (p.count as number), 0),
      triples,
    );
    for (const p of per) {
      for (const k of ['relation', 'count', 'mrr', 'mr', 'hits1', 'hits3', 'hits10', 'heads', 'tails'])
        assert.ok(k in p, k);
      assert.ok(typeof (p.heads as Record<string, unknown>).mrr === 'number');
    }
    const h = j.rank_histogram as Array<{ from: number; to: number; count: number }>;
    assert.is(
      h.reduce((n, b) => n + b.count, 0),
      2 * triples,
    );
    assert.equal(h[0]!.from, 1);
  }
  const table = kgshard('eval', '--embeddings', out, '--dataset', data, '--per-relation');
  assert.is(table.code, 0, table.err);
  assert.match(table.out, /per relation on test \(worst MRR first\)\nrelation\s+triples\s+MRR\s+MR/);
});

test.run();
