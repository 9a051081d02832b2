/**
 * The top-k scan kernels of `select.wat` (through `WasmScorer.listAbove`)
 * list exactly the entries a JavaScript filter `v > t` keeps, in order:
 * float32 rows with NaNs, infinities, signed zeros and ties with t, int32
 * rows across the whole signed range, any start (a multiple of 4) and any
 * row length (the last n mod 4 entries are JavaScript's).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { createModel } from '../../src/kge/models/index.js';
import { WasmScorer, wasmSimdSupported } from '../../src/kge/wasm/scorer.js';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1];

test('listAbove equals a JavaScript filter on float32 and int32 rows', async () => {
  if (!wasmSimdSupported()) return;
  const plan = createModel('transe-l2').queryPlan!;
  await check(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      fc.array(fc.oneof(fc.float({ noNaN: false }), fc.constantFrom(...SPECIAL)), { minLength: 70, maxLength: 70 }),
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 70, maxLength: 70 }),
      fc.nat(69),
      (n, row, raw, floats, ints, pick) => {
        const sc = WasmScorer.create(plan, n, 1, 1, 4)!;
        const off = row * sc.scoreStride;
        if (raw) sc.rawScores.set(ints.slice(0, n), off);
        else sc.scores.set(floats.slice(0, n), off);
        const from = Math.min(n & ~3, 4 * (pick % 5));
        // A threshold that ties with some entry (or NaN), so equality is exercised.
        const t = raw ? ints[pick % n]! : Math.fround(floats[pick % n]!);
        const m = sc.listAbove(row, from, t, raw);
        const want: number[] = [];
        const s = raw ? sc.rawScores : sc.scores;
        for (let j = from; j < n; j++) if (s[off + j]! > t) want.push(j);
        assert.equal(Array.from(sc.listIds.subarray(0, m)), want, `n ${n} from ${from} t ${t} raw ${raw}`);
      },
    ),
    300,
  );
});

test.run();
