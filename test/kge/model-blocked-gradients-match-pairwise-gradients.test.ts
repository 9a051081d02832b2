/**
 * accumulateGradTails and accumulateGradHeads of every model add what
 * accumulateGrad adds pair by pair (the default loops): one entity-gradient
 * table shared by queries and candidates (so a candidate equal to a query's
 * entity accumulates both), gradient offsets unlike the row offsets, some
 * coefficients exactly 0, and nothing else in the buffers touched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import {
  createModel,
  loopGradHeads,
  loopGradTails,
  MODEL_NAMES,
  newBlock,
  newBlockGrad,
  type BlockGrad,
  type KgeModel,
} from '../../src/kge/models/index.js';
import { userDistMult as userModel } from '../helpers/user-models.js';
import { blockCase, fillBlock, ENT_ROWS, REL_ROWS, value, type BlockCase } from '../helpers/block-cases.js';

interface GradFields {
  /** Offset of row 0 in the gradient buffers, their initial contents, and the n*m coefficients. */
  gpad: number;
  gEnts: number[];
  gRels: number[];
  coef: number[];
}
type GradCase = BlockCase & GradFields;

function gradCase(model: KgeModel): fc.Arbitrary<GradCase> {
  return blockCase<GradFields>(model, ({ n, m, ew, rw }) => ({
    gpad: fc.integer({ min: 0, max: 3 }),
    gEnts: fc.array(value, { minLength: ENT_ROWS * ew, maxLength: ENT_ROWS * ew }),
    gRels: fc.array(value, { minLength: REL_ROWS * rw, maxLength: REL_ROWS * rw }),
    // Some exact zeros: kernels may skip those pairs.
    coef: fc.array(fc.oneof(fc.constant(0), value), { minLength: n * m, maxLength: n * m }),
  }));
}

/** One entity-gradient table for queries and candidates alike, laid out after `gpad` floats. */
function fillGrad(model: KgeModel, c: GradCase, g: BlockGrad): void {
  const { entityWidth: ew, relationWidth: rw } = model.shapes(c.dim);
  const ent = new Float32Array(c.gpad + c.gEnts.length);
  ent.set(c.gEnts, c.gpad);
  const rel = new Float32Array(c.gpad + c.gRels.length);
  rel.set(c.gRels, c.gpad);
  const offs = (rows: number[], w: number): Int32Array =>
    Int32Array.from([...rows.map((row) => c.gpad + row * w), -99999]);
  g.ent = ent;
  g.cand = ent;
  g.rel = rel;
  g.entOffs = offs(c.entRows, ew);
  g.relOffs = offs(c.relRows, rw);
  g.candOffs = offs(c.candRows, ew);
}

const models: [string, KgeModel][] = [
  ...MODEL_NAMES.filter((n) => n !== 'transe').map((n): [string, KgeModel] => [n, createModel(n)]),
  ['user-defined (default loops)', userModel],
];

/** Float32 accumulation in a different order: a few ulps of the larger of the terms. */
function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-5 * (1 + Math.abs(expected));
}

function compare(what: string, actual: Float32Array, expected: Float32Array): void {
  assert.is(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!near(actual[i]!, expected[i]!))
      throw new Error(`${what}[${i}] = ${actual[i]}, pairwise accumulateGrad gives ${expected[i]}`);
  }
}

for (const [name, model] of models) {
  test(`${name}: accumulateGradTails and accumulateGradHeads equal accumulateGrad per pair`, async () => {
    const b = newBlock();
    const fast = newBlockGrad();
    const slow = newBlockGrad();
    await check(
      fc.property(gradCase(model), (c) => {
        fillBlock(model, c, b);
        const coef = Float64Array.from(c.coef);
        for (const tails of [true, false]) {
          fillGrad(model, c, fast);
          fillGrad(model, c, slow);
          if (tails) {
            model.accumulateGradTails(b, coef, fast);
            loopGradTails(model, b, coef, slow);
          } else {
            model.accumulateGradHeads(b, coef, fast);
            loopGradHeads(model, b, coef, slow);
          }
          const side = tails ? 'tails' : 'heads';
          compare(`${side} entity gradient`, fast.ent, slow.ent);
          compare(`${side} relation gradient`, fast.rel, slow.rel);
        }
      }),
      200,
    );
  });
}

test('an all-zero coefficient block adds nothing', () => {
  for (const [name, model] of models) {
    const { entityWidth: ew, relationWidth: rw } = model.shapes(2);
    const b = newBlock();
    b.dim = 2;
    b.n = 2;
    b.m = 3;
    b.ent = b.cand = Float32Array.from({ length: 3 * ew }, (_, i) => Math.sin(i));
    b.rel = Float32Array.from({ length: 2 * rw }, (_, i) => Math.cos(i));
    b.entOffs = Int32Array.of(0, ew);
    b.relOffs = Int32Array.of(0, rw);
    b.candOffs = Int32Array.of(ew, 2 * ew, 0);
    const g = newBlockGrad();
    g.ent = g.cand = new Float32Array(3 * ew).fill(0.5);
    g.rel = new Float32Array(2 * rw).fill(0.5);
    g.entOffs = b.entOffs;
    g.relOffs = b.relOffs;
    g.candOffs = b.candOffs;
    const coef = new Float64Array(6);
    model.accumulateGradTails(b, coef, g);
    model.accumulateGradHeads(b, coef, g);
    assert.ok(g.ent.every((x) => x === 0.5) && g.rel.every((x) => x === 0.5), name);
  }
});

test.run();
