/**
 * Order statistics over a handful of run results. Benchmarks here report
 * medians and spreads, never means: one preempted run on a 2-core machine
 * should move the spread, not the headline.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation between order statistics). */
  q1: number;
  q3: number;
  /** (max - min) / median, in percent: the spread a reader should keep in mind. */
  spreadPct: number;
}

/** Quantile `p` in [0, 1] of already sorted values (linear interpolation). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y);
  const median = quantileSorted(sorted, 0.5);
  const min = sorted[0] ?? Number.NaN;
  const max = sorted[sorted.length - 1] ?? Number.NaN;
  return {
    median,
    min,
    max,
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
    spreadPct: median !== 0 ? ((max - min) / Math.abs(median)) * 100 : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return summarize(values).median;
}
