/**
 * Link-prediction metrics from ranks: MRR, MR and Hits@1/3/10 for tails,
 * heads and both (the mean over the 2 × |queries| ranks, as the PyTorch
 * reference `torch_kge.py` does).
 */
import { invalidArgument } from '../../errors.js';

export interface RankMetrics {
  /** Number of ranks. */
  readonly count: number;
  /** Mean reciprocal rank. */
  readonly mrr: number;
  /** Mean rank. */
  readonly mr: number;
  /** Fraction of ranks <= 1, <= 3, <= 10 (a mean-rule rank of 1.5 is not a hit at 1). */
  readonly hits1: number;
  readonly hits3: number;
  readonly hits10: number;
}

export interface LinkPredictionMetrics {
  /** Ranks of the true tails of (h, r, ?). */
  readonly tail: RankMetrics;
  /** Ranks of the true heads of (?, r, t). */
  readonly head: RankMetrics;
  /** Both lists together (2 × queries ranks): what the reference reports. */
  readonly both: RankMetrics;
}

/**
 * MRR, MR and Hits@1/3/10 of a list of ranks. Each rank must be a finite
 * number >= 1, else `E_INVALID_ARGUMENT` names the first bad one; an empty
 * list is refused the same way.
 */
export function metricsFromRanks(ranks: ArrayLike<number>): RankMetrics {
  const acc = newAcc();
  addRanks(acc, 'metricsFromRanks', 'ranks', ranks);
  return finish(acc, 'metricsFromRanks', 'ranks');
}

/** Metrics of tail ranks, head ranks and both (the same checks as `metricsFromRanks`). */
export function linkPredictionMetrics(
  tailRanks: ArrayLike<number>,
  headRanks: ArrayLike<number>,
): LinkPredictionMetrics {
  const where = 'linkPredictionMetrics';
  const tail = newAcc();
  const head = newAcc();
  addRanks(tail, where, 'tailRanks', tailRanks);
  addRanks(head, where, 'headRanks', headRanks);
  const both = {
    n: tail.n + head.n,
    rr: tail.rr + head.rr,
    sum: tail.sum + head.sum,
    h1: tail.h1 + head.h1,
    h3: tail.h3 + head.h3,
    h10: tail.h10 + head.h10,
  };
  return {
    tail: finish(tail, where, 'tailRanks'),
    head: finish(head, where, 'headRanks'),
    both: finish(both, where, 'ranks'),
  };
}

interface Acc {
  n: number;
  rr: number;
  sum: number;
  h1: number;
  h3: number;
  h10: number;
}

function newAcc(): Acc {
  return { n: 0, rr: 0, sum: 0, h1: 0, h3: 0, h10: 0 };
}

function addRanks(acc: Acc, where: string, field: string, ranks: ArrayLike<number>): void {
  if (ranks === null || typeof ranks !== 'object' || typeof ranks.length !== 'number')
    throw invalidArgument(where, field, ranks, 'an array of ranks');
  for (let i = 0; i < ranks.length; i++) {
    const x = ranks[i]!;
    if (typeof x !== 'number' || !(x >= 1) || x === Infinity)
      throw invalidArgument(where, `${field}[${i}]`, x, 'a finite rank >= 1');
    acc.n++;
    acc.rr += 1 / x;
    acc.sum += x;
    if (x <= 1) acc.h1++;
    if (x <= 3) acc.h3++;
    if (x <= 10) acc.h10++;
  }
}

function finish(acc: Acc, where: string, field: string): RankMetrics {
  if (acc.n === 0) throw invalidArgument(where, field, [], 'a non-empty list of ranks');
  const n = acc.n;
  return { count: n, mrr: acc.rr / n, mr: acc.sum / n, hits1: acc.h1 / n, hits3: acc.h3 / n, hits10: acc.h10 / n };
}

/** One relation's metrics over the query triples that use it. */
export interface RelationMetrics {
  readonly relation: number;
  /** Query triples with this relation (each gives a tail query and a head query). */
  readonly count: number;
  readonly tail: RankMetrics;
  readonly head: RankMetrics;
  readonly both: RankMetrics;
}

/**
 * Metrics per relation and per direction: for each relation that occurs in
 * `queries` ((head, relation, tail) triplets; `tailRanks[i]` and
 * `headRanks[i]` the ranks of triple i), in relation order. Relations
 * without a query are left out.
 */
export function perRelationMetrics(
  queries: Int32Array,
  tailRanks: ArrayLike<number>,
  headRanks: ArrayLike<number>,
): RelationMetrics[] {
  const where = 'perRelationMetrics';
  const n = queries.length / 3;
  if (!Number.isInteger(n) || tailRanks.length !== n || headRanks.length !== n)
    throw invalidArgument(where, 'ranks', `${tailRanks.length} and ${headRanks.length}`, `${n} each (one per query)`);
  const byRelation = new Map<number, { tail: number[]; head: number[] }>();
  for (let i = 0; i < n; i++) {
    const r = queries[3 * i + 1]!;
    let e = byRelation.get(r);
    if (e === undefined) byRelation.set(r, (e = { tail: [], head: [] }));
    e.tail.push(tailRanks[i]!);
    e.head.push(headRanks[i]!);
  }
  return [...byRelation.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([relation, e]) => {
      const m = linkPredictionMetrics(e.tail, e.head);
      return { relation, count: e.tail.length, tail: m.tail, head: m.head, both: m.both };
    });
}

/** A bucket of the rank histogram: ranks in [from, to] (integers after rounding up a mean-rule rank). */
export interface RankBucket {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/**
 * The full rank histogram in log-spaced buckets: [1, 1], [2, 2], [3, 4],
 * [5, 8], ..., [2^(k-1) + 1, 2^k], up to the largest rank (a fractional
 * rank of the mean tie rule counts in the bucket of its ceiling). Every
 * bucket up to the last non-empty one is listed, empty ones included, so a
 * plot needs nothing else.
 */
export function rankHistogram(ranks: ArrayLike<number>): RankBucket[] {
  const counts: number[] = [];
  for (let i = 0; i < ranks.length; i++) {
    const x = Math.ceil(ranks[i]!);
    if (!(x >= 1) || x === Infinity) throw invalidArgument('rankHistogram', `ranks[${i}]`, ranks[i], 'a rank >= 1');
    const b = x === 1 ? 0 : Math.ceil(Math.log2(x));
    while (counts.length <= b) counts.push(0);
    counts[b] = counts[b]! + 1;
  }
  return counts.map((count, b) => ({ from: b === 0 ? 1 : 2 ** (b - 1) + 1, to: 2 ** b, count }));
}
