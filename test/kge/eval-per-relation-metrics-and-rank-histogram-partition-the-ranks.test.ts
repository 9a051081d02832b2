/**
 * Per-relation metrics and the rank histogram are partitions of the ranks:
 * the per-relation counts add up to the queries, each relation's metrics
 * equal `linkPredictionMetrics` of its own queries' ranks (head and tail
 * separately), the count-weighted mean of the per-relation MRRs is the
 * overall MRR, and the histogram's buckets ([1], [2], [3, 4], [5, 8], ...)
 * hold every rank exactly once. Seeds from KGSHARD_SEED.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { linkPredictionMetrics, perRelationMetrics, rankHistogram } from '../../src/kge/eval.js';
import { check } from '../helpers/prop.js';

const rank = fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 1, max: 5000, noNaN: true }));

test('per-relation metrics partition the queries and agree with the overall metrics', async () => {
  await check(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), rank, rank), { minLength: 1, maxLength: 200 }),
      (qs) => {
        const queries = Int32Array.from(qs.flatMap(([r], i) => [i, r, i + 1]));
        const tail = Float64Array.from(qs.map(([, t]) => t));
        const head = Float64Array.from(qs.map(([, , h]) => h));
        const per = perRelationMetrics(queries, tail, head);
        assert.is(
          per.reduce((n, p) => n + p.count, 0),
          qs.length,
        );
        for (const p of per) {
          const mine = qs.filter(([r]) => r === p.relation);
          const want = linkPredictionMetrics(
            mine.map(([, t]) => t),
            mine.map(([, , h]) => h),
          );
          assert.equal(p.tail, want.tail);
          assert.equal(p.head, want.head);
          assert.equal(p.both, want.both);
        }
        const all = linkPredictionMetrics(tail, head);
        const weighted = per.reduce((s, p) => s + p.both.mrr * p.count, 0) / qs.length;
        assert.ok(Math.abs(weighted - all.both.mrr) < 1e-12);
        assert.equal(
          per.map((p) => p.relation),
          [...new Set(qs.map(([r]) => r))].sort((a, b) => a - b),
        );
      },
    ),
    200,
  );
});

test('the rank histogram holds every rank once, in log-spaced buckets', async () => {
  await check(
    fc.property(fc.array(rank, { minLength: 1, maxLength: 300 }), (ranks) => {
      const h = rankHistogram(ranks);
      assert.is(
        h.reduce((n, b) => n + b.count, 0),
        ranks.length,
      );
      h.forEach((b, i) => {
        assert.is(b.from, i === 0 ? 1 : 2 ** (i - 1) + 1);
        assert.is(b.to, 2 ** i);
        assert.is(b.count, ranks.filter((x) => Math.ceil(x) >= b.from && Math.ceil(x) <= b.to).length);
      });
      assert.ok(h[h.length - 1]!.count > 0, 'the last bucket is not empty');
    }),
    200,
  );
  assert.equal(rankHistogram([1, 2, 3, 4, 5, 9, 1.5]), [
    { from: 1, to: 1, count: 1 },
    { from: 2, to: 2, count: 2 },
    { from: 3, to: 4, count: 2 },
    { from: 5, to: 8, count: 1 },
    { from: 9, to: 16, count: 1 },
  ]);
});

test.run();
