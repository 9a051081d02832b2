/**
 * The filter: FilterIndex holds exactly the union of the splits it was built
 * from (duplicates within and across splits once), answers knownTails /
 * knownHeads / has like a Set, survives attach from its handle; and a rank
 * leaves out exactly the *other* known true triples, never the query itself,
 * whether or not the query is among the known triples.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { err } from '../helpers/errors.js';
import { createRanker, rankQueries, type TieRule } from '../../src/kge/eval.js';
import { FilterIndex, type FilterHandle } from '../../src/kge/filter.js';
import { defineModel } from '../../src/kge/models/index.js';

test('the index equals a Set of the union of the splits (random splits with duplicates)', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
      (ne, nr, rawSplits) => {
        const splits = rawSplits.map((rows, s) => ({
          name: `s${s}`,
          triples: Int32Array.from(rows.flatMap(([h, r, t]) => [h % ne, r % nr, t % ne])),
        }));
        const set = new Set<string>();
        for (const s of splits)
          for (let i = 0; i < s.triples.length; i += 3)
            set.add(`${s.triples[i]},${s.triples[i + 1]},${s.triples[i + 2]}`);
        const built = FilterIndex.build(ne, nr, splits);
        for (const f of [built, FilterIndex.attach(structuredClone(built.handle))]) {
          assert.is(f.count, set.size);
          for (let r = 0; r < nr; r++) {
            for (let e = 0; e < ne; e++) {
              const tails = [...Array(ne).keys()].filter((t) => set.has(`${e},${r},${t}`));
              const heads = [...Array(ne).keys()].filter((h) => set.has(`${h},${r},${e}`));
              assert.equal(f.knownTails(e, r), tails);
              assert.equal(f.knownHeads(r, e), heads);
              for (let t = 0; t < ne; t++) assert.is(f.has(e, r, t), set.has(`${e},${r},${t}`));
            }
          }
        }
      },
    ),
    100,
  );
});

/** Every triple scores 0: all candidates tie, so a rank counts the competitors. */
const flat = defineModel({
  name: 'flat',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score: () => 0,
  accumulateGrad() {},
});

function ranksOf(filter: FilterIndex, queries: number[], ties: TieRule): { tail: number[]; head: number[] } {
  const n = queries.length / 3;
  const ranker = createRanker({
    model: flat,
    dim: 1,
    entities: new Float32Array(filter.numEntities),
    relations: new Float32Array(filter.numRelations),
    filter,
    ties,
  });
  const tail = new Float64Array(n);
  const head = new Float64Array(n);
  rankQueries(ranker, Int32Array.from(queries), 0, n, tail, head);
  return { tail: Array.from(tail), head: Array.from(head) };
}

test('with every score tied, the pessimistic rank is 1 + the number of unfiltered competitors', () => {
  // 10 entities, 2 relations. Known: (0, 0, 1..4) in train, (0, 0, 5) in valid,
  // (7, 0, 5) in test, (0, 1, 9) in train (another relation: not a filter of relation 0).
  const ne = 10;
  const filter = FilterIndex.build(ne, 2, [
    { name: 'train', triples: Int32Array.from([0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 1, 9]) },
    { name: 'valid', triples: Int32Array.from([0, 0, 5]) },
    { name: 'test', triples: Int32Array.from([7, 0, 5, 0, 0, 4]) }, // (0, 0, 4) again: counted once
  ]);
  // Query (0, 0, 5) is known. Tails of (0, 0, ?): {1, 2, 3, 4, 5}; the target 5 is not filtered
  // as "other", the other 4 are: competitors 10 - 1 - 4 = 5. Heads of (?, 0, 5): {0, 7}:
  // competitors 10 - 1 - 1 = 8.
  // Query (3, 0, 8) is unknown: nothing to filter but the target itself: 9 competitors each way.
  // Query (0, 1, 9): tails of (0, 1, ?) = {9} (the target only): 9 competitors; heads of (?, 1, 9) = {0}: 9.
  const q = [0, 0, 5, 3, 0, 8, 0, 1, 9];
  assert.equal(ranksOf(filter, q, 'pessimistic'), { tail: [6, 10, 10], head: [9, 10, 10] });
  assert.equal(ranksOf(filter, q, 'mean'), { tail: [3.5, 5.5, 5.5], head: [5, 5.5, 5.5] });
  assert.equal(ranksOf(filter, q, 'optimistic'), { tail: [1, 1, 1], head: [1, 1, 1] });
  // Without the filter's valid split, tail 5 of (0, 0, ?) is still the target, the rest unchanged.
  const noValid = FilterIndex.build(ne, 2, [
    { name: 'train', triples: Int32Array.from([0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 1, 9]) },
    { name: 'test', triples: Int32Array.from([7, 0, 5]) },
  ]);
  assert.equal(ranksOf(noValid, [0, 0, 5], 'pessimistic'), { tail: [6], head: [9] });
});

test("a NaN score is never in the target's favour", () => {
  // score = the tail's value (h, r unused): entity rows give the scores directly.
  const byTail = defineModel({
    name: 'by-tail',
    shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
    score: (_E, _h, _R, _r, T, t) => T[t]!,
    accumulateGrad() {},
  });
  const filter = FilterIndex.build(5, 1, [{ name: 'test', triples: Int32Array.from([0, 0, 1, 0, 0, 2]) }]);
  const entities = Float32Array.from([0.5, 1, NaN, 0.25, 2]);
  const ranker = createRanker({
    model: byTail,
    dim: 1,
    entities,
    relations: new Float32Array(1),
    filter,
    ties: 'pessimistic',
  });
  const tail = new Float64Array(2);
  const head = new Float64Array(2);
  rankQueries(ranker, Int32Array.from([0, 0, 1, 0, 0, 2]), 0, 2, tail, head);
  // (0, 0, 1): competitors {0, 3, 4} (2 is known): 2.0 is above -> rank 2. NaN would count above too.
  // (0, 0, 2): the target's score is NaN: last among its competitors {0, 3, 4} -> rank 4.
  assert.equal(Array.from(tail), [2, 4]);
  const filter2 = FilterIndex.build(5, 1, [{ name: 'test', triples: Int32Array.from([0, 0, 1]) }]);
  const r2 = createRanker({
    model: byTail,
    dim: 1,
    entities,
    relations: new Float32Array(1),
    filter: filter2,
    ties: 'pessimistic',
  });
  rankQueries(r2, Int32Array.from([0, 0, 1]), 0, 1, tail, head);
  // competitors {0, 2, 3, 4}: 2.0 above, NaN counted above -> rank 3.
  assert.is(tail[0], 3);
});

test('build and attach refuse bad input, naming the value', () => {
  const e1 = err(() => FilterIndex.build(4, 2, [{ name: 'train', triples: Int32Array.from([0, 0, 1, 2, 5, 3]) }]));
  assert.is(e1.code, 'E_OUT_OF_RANGE');
  assert.match(e1.message, 'train[4] (relation of triple 1)');
  assert.match(e1.message, 'got 5');
  const e2 = err(() => FilterIndex.build(4, 2, [{ name: 'valid', triples: Int32Array.from([0, 0, 4]) }]));
  assert.is(e2.code, 'E_OUT_OF_RANGE');
  assert.match(e2.message, 'valid[2] (tail of triple 0)');
  assert.is(
    err(() => FilterIndex.build(4, 2, [{ name: 'x', triples: Int32Array.from([0, 0]) }])).code,
    'E_INVALID_ARGUMENT',
  );
  assert.is(err(() => FilterIndex.build(0, 2, [])).code, 'E_INVALID_ARGUMENT');

  const good = FilterIndex.build(4, 2, [{ name: 'train', triples: Int32Array.from([0, 0, 1, 2, 1, 3]) }]).handle;
  assert.is(err(() => FilterIndex.attach({ ...good, kind: 'ps' } as unknown as FilterHandle)).code, 'E_BAD_HANDLE');
  assert.is(err(() => FilterIndex.attach({ ...good, version: 2 })).code, 'E_BAD_HANDLE');
  const short = { ...good, tails: { ...good.tails, values: new SharedArrayBuffer(4) } };
  const e3 = err(() => FilterIndex.attach(short));
  assert.is(e3.code, 'E_BAD_HANDLE');
  assert.match(e3.message, 'handle.tails.values');
  const lying = { ...good, heads: { ...good.heads, start: new SharedArrayBuffer(good.heads.start.byteLength) } };
  assert.match(err(() => FilterIndex.attach(lying)).message, 'CSR end points');
});

test.run();
