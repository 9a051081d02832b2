/**
 * scoreTails and scoreHeads of every model equal `score` pair by pair: n
 * queries against m shared candidates, rows anywhere in their buffers
 * (repeated, overlapping the queries' own entities), and nothing written
 * past out[n*m - 1].
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { createModel, MODEL_NAMES, newBlock, type Block, type KgeModel } from '../../src/kge/models/index.js';
import { userDistMult as userModel } from '../helpers/user-models.js';
import { blockCase, fillBlock } from '../helpers/block-cases.js';

const models: [string, KgeModel][] = [
  ...MODEL_NAMES.filter((n) => n !== 'transe').map((n): [string, KgeModel] => [n, createModel(n)]),
  ['user-defined (default loops)', userModel],
];

const CANARY = 12345.5;

function pairwise(model: KgeModel, b: Block, tails: boolean, i: number, j: number): number {
  const e = b.entOffs[i]!;
  const r = b.relOffs[i]!;
  const x = b.candOffs[j]!;
  return tails ? model.score(b.ent, e, b.rel, r, b.cand, x, b.dim) : model.score(b.cand, x, b.rel, r, b.ent, e, b.dim);
}

for (const [name, model] of models) {
  test(`${name}: scoreTails and scoreHeads equal score() per pair`, async () => {
    const b = newBlock();
    await check(
      fc.property(blockCase(model), (c) => {
        fillBlock(model, c, b);
        for (const tails of [true, false]) {
          const out = new Float64Array(b.n * b.m + 2).fill(CANARY);
          if (tails) model.scoreTails(b, out);
          else model.scoreHeads(b, out);
          for (let i = 0; i < b.n; i++) {
            for (let j = 0; j < b.m; j++) {
              const expected = pairwise(model, b, tails, i, j);
              const actual = out[i * b.m + j]!;
              if (!(Math.abs(actual - expected) <= 1e-9 * (1 + Math.abs(expected)))) {
                throw new Error(
                  `${tails ? 'scoreTails' : 'scoreHeads'} [${i}, ${j}] = ${actual}, score() = ${expected}`,
                );
              }
            }
          }
          assert.is(out[b.n * b.m], CANARY, 'wrote past n*m');
          assert.is(out[b.n * b.m + 1], CANARY, 'wrote past n*m');
        }
      }),
      200,
    );
  });
}

test('a block with no queries or no candidates writes nothing', () => {
  for (const [name, model] of models) {
    const { entityWidth: ew, relationWidth: rw } = model.shapes(3);
    const b = newBlock();
    b.dim = 3;
    b.ent = new Float32Array(2 * ew).fill(0.5);
    b.rel = new Float32Array(rw).fill(0.25);
    b.cand = b.ent;
    b.entOffs = Int32Array.of(0, ew);
    b.relOffs = Int32Array.of(0, 0);
    b.candOffs = Int32Array.of(ew, 0);
    for (const [n, m] of [
      [0, 2],
      [2, 0],
      [0, 0],
    ] as const) {
      b.n = n;
      b.m = m;
      const out = new Float64Array(4).fill(CANARY);
      model.scoreTails(b, out);
      model.scoreHeads(b, out);
      assert.equal(Array.from(out), [CANARY, CANARY, CANARY, CANARY], `${name} n=${n} m=${m}`);
    }
  }
});

test.run();
