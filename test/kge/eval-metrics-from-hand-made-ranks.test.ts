/**
 * MRR, MR and Hits@1/3/10 on hand-made rank lists: the means by hand, a
 * tie rank of 1.5 not a hit at 1, "both" the mean over the two lists
 * together (not the mean of the two means), and bad ranks refused by index.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { err } from '../helpers/errors.js';
import { linkPredictionMetrics, metricsFromRanks } from '../../src/kge/eval.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('one list: each measure by hand', () => {
  const m = metricsFromRanks([1, 1.5, 3, 3.5, 10, 11]);
  assert.is(m.count, 6);
  close(m.mrr, (1 + 1 / 1.5 + 1 / 3 + 1 / 3.5 + 1 / 10 + 1 / 11) / 6, 'mrr');
  close(m.mr, 30 / 6, 'mr');
  close(m.hits1, 1 / 6, 'hits1');
  close(m.hits3, 3 / 6, 'hits3');
  close(m.hits10, 5 / 6, 'hits10');
  assert.equal(metricsFromRanks(Float64Array.of(1)), { count: 1, mrr: 1, mr: 1, hits1: 1, hits3: 1, hits10: 1 });
});

test('tails, heads and both: both pools the two lists', () => {
  const m = linkPredictionMetrics([1, 2, 4], [20]);
  close(m.tail.mrr, (1 + 0.5 + 0.25) / 3, 'tail mrr');
  close(m.head.mrr, 1 / 20, 'head mrr');
  close(m.both.mrr, (1 + 0.5 + 0.25 + 0.05) / 4, 'both mrr');
  close(m.both.mr, 27 / 4, 'both mr');
  close(m.both.hits3, 2 / 4, 'both hits3');
  close(m.both.hits10, 3 / 4, 'both hits10');
  assert.is(m.both.count, 4);
});

test('bad ranks are refused, naming the index', () => {
  for (const [ranks, field] of [
    [[1, 0.5], 'ranks[1]'],
    [[NaN], 'ranks[0]'],
    [[1, 2, Infinity], 'ranks[2]'],
    [[-3], 'ranks[0]'],
  ] as const) {
    const e = err(() => metricsFromRanks(ranks));
    assert.is(e.code, 'E_INVALID_ARGUMENT');
    assert.match(e.message, field);
  }
  assert.is(err(() => metricsFromRanks([])).code, 'E_INVALID_ARGUMENT');
  assert.match(err(() => linkPredictionMetrics([1], [1, 0])).message, 'headRanks[1]');
});

test.run();
