/**
 * accumulateGrad of every model (and of a user-defined one) equals coef times
 * the central finite difference of `score`, over random rows.
 *
 * Rows are float32, but `score` computes in float64 from them, so the
 * difference quotient is taken over the float32 values actually stored
 * (fround(v ± eps)), and the only rounding is float64's. Near a kink (an L1
 * coordinate, an L2 distance or a RotatE modulus close to 0) the forward and
 * backward quotients disagree; such elements are skipped, and the test checks
 * that only a few are. Each case also checks the bookkeeping: gradients are
 * added to what the buffers held, at the gradient offsets (which differ from
 * the row offsets), h = t accumulates both contributions, and no other
 * element changes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { createModel, defineModel, type KgeModel } from '../../src/kge/models/index.js';
import { squaredTransE } from '../helpers/user-models.js';

const EPS = 1e-5;
/** One-sided quotients further apart than this mean a kink within EPS: skip. */
const KINK = 1e-3;

interface Case {
  dim: number;
  /** Offset of row 0 in the row buffers, and in the gradient buffers. */
  pad: number;
  gpad: number;
  /** 3 entity rows and 2 relation rows, and the gradient buffers' initial contents. */
  ents: number[];
  rels: number[];
  gEnts: number[];
  gRels: number[];
  hRow: number;
  tRow: number;
  rRow: number;
  coef: number;
}

/**
 * Uniform in [-1, 1] on a 2^-20 grid (exact in float32). Unbiased on
 * purpose: fast-check's bias towards 0 and ±1 would put most L1 and RotatE
 * cases exactly on a kink; the kinks' subgradients are checked by hand in
 * model-known-scores.
 */
const value = fc.noBias(fc.integer({ min: -(2 ** 20), max: 2 ** 20 })).map((x) => x / 2 ** 20);

function caseOf(model: KgeModel, relScale = 1): fc.Arbitrary<Case> {
  return fc.integer({ min: 1, max: 8 }).chain((dim) => {
    const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
    const vec = (n: number) => fc.array(value, { minLength: n, maxLength: n });
    return fc.record({
      dim: fc.constant(dim),
      pad: fc.integer({ min: 0, max: 3 }),
      gpad: fc.integer({ min: 0, max: 3 }),
      ents: vec(3 * ew),
      rels: vec(2 * rw).map((xs) => xs.map((x) => x * relScale)),
      gEnts: vec(3 * ew),
      gRels: vec(2 * rw),
      hRow: fc.integer({ min: 0, max: 2 }),
      tRow: fc.integer({ min: 0, max: 2 }),
      rRow: fc.integer({ min: 0, max: 1 }),
      coef: fc.noBias(fc.integer({ min: -(2 ** 20), max: 2 ** 20 })).map((x) => x / 2 ** 19),
    });
  });
}

function buffer(pad: number, xs: number[]): Float32Array {
  const b = new Float32Array(pad + xs.length);
  b.set(xs, pad);
  return b;
}

interface Outcome {
  checked: number;
  skipped: number;
  failures: string[];
}

/** Compare accumulateGrad with finite differences for one case. */
function checkCase(model: KgeModel, c: Case, out: Outcome): void {
  const { dim, pad, gpad, hRow, tRow, rRow, coef } = c;
  const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
  const E = buffer(pad, c.ents);
  const R = buffer(pad, c.rels);
  const gE = buffer(gpad, c.gEnts);
  const gR = buffer(gpad, c.gRels);
  const gE0 = gE.slice();
  const gR0 = gR.slice();
  const h = pad + hRow * ew;
  const t = pad + tRow * ew;
  const r = pad + rRow * rw;
  model.accumulateGrad(E, h, R, r, E, t, dim, coef, gE, gpad + hRow * ew, gR, gpad + rRow * rw, gE, gpad + tRow * ew);
  const score = (): number => model.score(E, h, R, r, E, t, dim);

  const compare = (
    buf: Float32Array,
    g: Float32Array,
    g0: Float32Array,
    rows: number,
    width: number,
    live: (row: number) => boolean,
    what: string,
  ): void => {
    for (let row = 0; row < rows; row++) {
      for (let k = 0; k < width; k++) {
        const i = pad + row * width + k;
        const gi = gpad + row * width + k;
        const delta = g[gi]! - g0[gi]!;
        if (!live(row)) {
          if (delta !== 0) out.failures.push(`${what} row ${row} (not in the triple) [${k}] changed by ${delta}`);
          continue;
        }
        const v = buf[i]!;
        const up = Math.fround(v + EPS);
        const dn = Math.fround(v - EPS);
        buf[i] = up;
        const fUp = score();
        buf[i] = dn;
        const fDn = score();
        buf[i] = v;
        const f0 = score();
        const forward = (fUp - f0) / (up - v);
        const backward = (f0 - fDn) / (v - dn);
        if (Math.abs(forward - backward) > KINK) {
          out.skipped++;
          continue;
        }
        out.checked++;
        const numeric = (coef * (fUp - fDn)) / (up - dn);
        const tol = 1e-5 + 1e-3 * (Math.abs(coef) + Math.abs(numeric));
        if (!(Math.abs(delta - numeric) <= tol)) {
          out.failures.push(`${what} row ${row}[${k}]: accumulateGrad added ${delta}, finite difference ${numeric}`);
        }
      }
    }
    // Nothing outside the rows may change either (the padding).
    for (let i = 0; i < gpad; i++) if (g[i] !== g0[i]) out.failures.push(`${what} padding [${i}] changed`);
  };
  compare(E, gE, gE0, 3, ew, (row) => row === hRow || row === tRow, 'entity');
  compare(R, gR, gR0, 2, rw, (row) => row === rRow, 'relation');
}

const models: [string, KgeModel, number][] = [
  ['transe-l1', createModel('transe-l1'), 1],
  ['transe-l2', createModel('transe-l2'), 1],
  ['distmult', createModel('distmult'), 1],
  ['complex', createModel('complex'), 1],
  // Phases over more than a full turn.
  ['rotate', createModel('rotate'), 4],
  ['user-defined transe-squared', squaredTransE, 1],
];

for (const [name, model, relScale] of models) {
  test(`${name}: accumulateGrad matches finite differences`, async () => {
    const total: Outcome = { checked: 0, skipped: 0, failures: [] };
    await check(
      fc.property(caseOf(model, relScale), (c) => {
        const one: Outcome = { checked: 0, skipped: 0, failures: [] };
        checkCase(model, c, one);
        total.checked += one.checked;
        total.skipped += one.skipped;
        if (one.failures.length > 0) throw new Error(one.failures.slice(0, 5).join('\n'));
      }),
      300,
    );
    // The kink filter must not hide the test: it skips rare elements only.
    assert.ok(
      total.skipped <= 0.05 * (total.checked + total.skipped),
      `${name}: skipped ${total.skipped} of ${total.checked + total.skipped}`,
    );
  });
}

test('the check catches a wrong gradient (tail gradient with the wrong sign)', () => {
  const distmult = createModel('distmult');
  const wrong = defineModel({
    name: 'distmult-wrong',
    shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
    score: (E, h, R, r, T, t, dim) => distmult.score(E, h, R, r, T, t, dim),
    accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
      for (let k = 0; k < dim; k++) {
        gH[gh + k] = gH[gh + k]! + coef * R[r + k]! * T[t + k]!;
        gR[gr + k] = gR[gr + k]! + coef * E[h + k]! * T[t + k]!;
        gT[gt + k] = gT[gt + k]! - coef * E[h + k]! * R[r + k]!;
      }
    },
  });
  const c: Case = {
    dim: 2,
    pad: 1,
    gpad: 2,
    ents: [0.5, -0.25, 0.75, 1, -1, 0.125],
    rels: [0.5, 0.5, -0.5, 1],
    gEnts: [0, 0, 0, 0, 0, 0],
    gRels: [0, 0, 0, 0],
    hRow: 0,
    tRow: 2,
    rRow: 1,
    coef: 1,
  };
  const right: Outcome = { checked: 0, skipped: 0, failures: [] };
  checkCase(createModel('distmult'), c, right);
  assert.equal(right.failures, []);
  assert.is(right.checked, 6);
  const bad: Outcome = { checked: 0, skipped: 0, failures: [] };
  checkCase(wrong, c, bad);
  assert.is(bad.failures.length, 2);
  assert.match(bad.failures[0]!, /^entity row 2\[0\]/);
});

test.run();
