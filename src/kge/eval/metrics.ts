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
