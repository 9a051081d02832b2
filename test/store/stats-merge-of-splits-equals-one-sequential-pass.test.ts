/**
 * Relation statistics: Welford updates match a direct two-pass computation,
 * merging the statistics of any split of the data equals one sequential
 * pass (counts exactly, mean and variance to ~1e-9 relative), and workers
 * accumulating separately in real threads merge to the same result.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RelationStats } from '../../src/store/running-stats.js';
import { check } from '../helpers/prop.js';
import { runWorker } from '../helpers/threads.js';
import type { StatsAccumulatorInput } from '../fixtures/stats-accumulator.js';

const TOL = 1e-9;

function close(a: number, b: number, scale: number): boolean {
  // relative to the data scale, with an absolute floor for subnormal inputs (whose squares underflow)
  return Math.abs(a - b) <= TOL * Math.max(scale, Math.abs(a), Math.abs(b)) + 1e-300;
}

/** Compare every relation; the scales are the largest |x| and x^2 seen per relation (cancellation-aware). */
function sameStats(a: RelationStats, b: RelationStats, rels: number[], xs: number[]): string | null {
  const maxAbs = new Float64Array(a.relations);
  for (let i = 0; i < xs.length; i++) maxAbs[rels[i]!] = Math.max(maxAbs[rels[i]!]!, Math.abs(xs[i]!));
  for (let r = 0; r < a.relations; r++) {
    const x = a.get(r);
    const y = b.get(r);
    const s = maxAbs[r]!;
    if (x.count !== y.count) return `rel ${r}: count ${x.count} vs ${y.count}`;
    if (!close(x.mean, y.mean, s)) return `rel ${r}: mean ${x.mean} vs ${y.mean}`;
    if (!close(x.variance, y.variance, s * s)) return `rel ${r}: variance ${x.variance} vs ${y.variance}`;
  }
  return null;
}

function sequential(relations: number, rels: number[], xs: number[]): RelationStats {
  const s = new RelationStats(relations);
  for (let i = 0; i < xs.length; i++) s.update(rels[i]!, xs[i]!);
  return s;
}

test('Welford matches a two-pass mean and variance', () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  const s = sequential(
    2,
    xs.map(() => 1),
    xs,
  );
  const g = s.get(1);
  assert.is(g.count, 8);
  assert.ok(close(g.mean, 5, 5));
  assert.ok(close(g.variance, 4, 4));
  assert.ok(close(g.sampleVariance, 32 / 7, 5));
  assert.equal(s.get(0), { count: 0, mean: 0, variance: 0, sampleVariance: 0, m2: 0 });
});

test('property: merging the parts of any split equals one sequential pass', async () => {
  const sample = fc.record({
    relations: fc.integer({ min: 1, max: 6 }),
    data: fc.array(fc.tuple(fc.nat(), fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true })), {
      maxLength: 300,
    }),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
    order: fc.boolean(),
  });
  await check(
    fc.property(sample, ({ relations, data, cuts, order }) => {
      const rels = data.map(([r]) => r % relations);
      const xs = data.map(([, x]) => x);
      const whole = sequential(relations, rels, xs);
      const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
      const bounds = [0, ...points, xs.length];
      const parts: RelationStats[] = [];
      for (let k = 0; k + 1 < bounds.length; k++) {
        parts.push(sequential(relations, rels.slice(bounds[k], bounds[k + 1]), xs.slice(bounds[k], bounds[k + 1])));
      }
      if (order) parts.reverse();
      const merged = new RelationStats(relations);
      for (const p of parts) merged.merge(p);
      const problem = sameStats(whole, merged, rels, xs);
      if (problem !== null) throw new Error(problem);
      // merging does not change its argument, and a round trip through bytes is exact
      const again = RelationStats.deserialize(merged.serialize());
      for (let r = 0; r < relations; r++) assert.equal(again.get(r), merged.get(r));
    }),
    200,
  );
});

test('merge rejects a different number of relations', () => {
  assert.throws(() => new RelationStats(3).merge(new RelationStats(4)), /4 relations, expected 3/);
  assert.throws(() => new RelationStats(3).update(3, 1), /rel must be in \[0, 2\]/);
  assert.throws(() => new RelationStats(3).update(0, NaN), /finite/);
});

test('4 worker threads accumulate separately and merge to the sequential result', async () => {
  const relations = 7;
  const n = 40_000;
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const rels: number[] = [];
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = Math.floor(rand() * relations);
    rels.push(r);
    xs.push(r * 10 + Math.log1p(rand() * 1000) * (rand() < 0.5 ? -1 : 1));
  }
  const whole = sequential(relations, rels, xs);
  const workers = 4;
  const chunk = Math.ceil(n / workers);
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const input: StatsAccumulatorInput = {
        relations,
        rels: Int32Array.from(rels.slice(w * chunk, (w + 1) * chunk)),
        xs: Float64Array.from(xs.slice(w * chunk, (w + 1) * chunk)),
      };
      return runWorker<Uint8Array>('stats-accumulator', input);
    }),
  );
  const merged = new RelationStats(relations);
  for (const bytes of results) merged.merge(RelationStats.deserialize(bytes));
  assert.is(merged.total(), n);
  const problem = sameStats(whole, merged, rels, xs);
  assert.is(problem, null, problem ?? '');
});

test.run();
