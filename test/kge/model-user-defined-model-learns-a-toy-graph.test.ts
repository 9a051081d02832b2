/**
 * A user-defined model (defineModel: score and gradient only) trains through
 * nothing but the model interface, the way the trainer drives any model:
 * positives scored with `score`, all entities scored as candidates with the
 * block kernels, a margin loss, gradients with `accumulateGrad` and the
 * block gradient kernels, plain SGD. On a chain graph it learns to put every
 * true head and tail first. The built-in translation and rotation models
 * learn the same graph through the same loop.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, newBlock, newBlockGrad, type KgeModel } from '../../src/kge/models/index.js';
import { rng } from '../helpers/rng.js';
import { squaredTransE } from '../helpers/user-models.js';

const N = 8;
/** (i, next, i + 1) and (i + 1, prev, i). */
const triples: [number, number, number][] = [];
for (let i = 0; i + 1 < N; i++) triples.push([i, 0, i + 1], [i + 1, 1, i]);

interface Trained {
  /** Rank of the true tail among all entities, and of the true head, per triple. */
  tailRanks: number[];
  headRanks: number[];
}

function train(model: KgeModel, dim: number, epochs: number, lr: number, margin: number): Trained {
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  const rand = rng(7);
  const E = Float32Array.from({ length: N * ew }, () => rand() - 0.5);
  const R = Float32Array.from({ length: 2 * rw }, () => rand() - 0.5);
  for (let r = 0; r < 2; r++) model.initRelation?.(R, r * rw, dim, rand);
  const gE = new Float32Array(E.length);
  const gR = new Float32Array(R.length);

  // One query against every entity; the block and its gradient target are reused.
  const b = newBlock();
  b.dim = dim;
  b.n = 1;
  b.m = N;
  b.ent = E;
  b.rel = R;
  b.cand = E;
  b.entOffs = new Int32Array(1);
  b.relOffs = new Int32Array(1);
  b.candOffs = Int32Array.from({ length: N }, (_, j) => j * ew);
  const g = newBlockGrad();
  g.ent = gE;
  g.rel = gR;
  g.cand = gE;
  g.entOffs = b.entOffs;
  g.relOffs = b.relOffs;
  g.candOffs = b.candOffs;
  const scores = new Float64Array(N);
  const coef = new Float64Array(N);

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [h, r, t] of triples) {
      for (const tails of [true, false]) {
        gE.fill(0);
        gR.fill(0);
        b.entOffs[0] = (tails ? h : t) * ew;
        b.relOffs[0] = r * rw;
        const truth = tails ? t : h;
        const pos = model.score(E, h * ew, R, r * rw, E, t * ew, dim);
        if (tails) model.scoreTails(b, scores);
        else model.scoreHeads(b, scores);
        // Margin loss sum_j relu(margin - pos + s_j); coefficients are -lr * dLoss/dscore.
        let active = 0;
        for (let j = 0; j < N; j++) {
          const on = j !== truth && margin - pos + scores[j]! > 0;
          coef[j] = on ? -lr : 0;
          if (on) active++;
        }
        if (active === 0) continue;
        model.accumulateGrad(E, h * ew, R, r * rw, E, t * ew, dim, lr * active, gE, h * ew, gR, r * rw, gE, t * ew);
        if (tails) model.accumulateGradTails(b, coef, g);
        else model.accumulateGradHeads(b, coef, g);
        for (let i = 0; i < E.length; i++) E[i] = E[i]! + gE[i]!;
        for (let i = 0; i < R.length; i++) R[i] = R[i]! + gR[i]!;
      }
    }
  }

  const rank = (tails: boolean, [h, r, t]: [number, number, number]): number => {
    b.entOffs[0] = (tails ? h : t) * ew;
    b.relOffs[0] = r * rw;
    if (tails) model.scoreTails(b, scores);
    else model.scoreHeads(b, scores);
    const truth = scores[tails ? t : h]!;
    let better = 0;
    for (let j = 0; j < N; j++) if (scores[j]! >= truth && j !== (tails ? t : h)) better++;
    return 1 + better;
  };
  return { tailRanks: triples.map((x) => rank(true, x)), headRanks: triples.map((x) => rank(false, x)) };
}

const allFirst = triples.map(() => 1);

test('a user-defined model learns a chain graph through the model interface', () => {
  const { tailRanks, headRanks } = train(squaredTransE, 4, 200, 0.02, 1);
  assert.equal(tailRanks, allFirst);
  assert.equal(headRanks, allFirst);
});

test('TransE (L1, L2) and RotatE learn the same graph through the same loop', () => {
  for (const [name, lr] of [
    ['transe-l1', 0.02],
    ['transe-l2', 0.02],
    ['rotate', 0.02],
  ] as const) {
    const { tailRanks, headRanks } = train(createModel(name), 4, 200, lr, 1);
    assert.equal(tailRanks, allFirst, `${name} tails`);
    assert.equal(headRanks, allFirst, `${name} heads`);
  }
});

test.run();
