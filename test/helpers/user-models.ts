/**
 * User-defined models the tests share: written with `defineModel` as a user
 * would, with no block kernels of their own (so the default looped kernels
 * are exercised).
 */
import { defineModel } from '../../src/kge/models/index.js';

/** DistMult spelled out: score = sum(h * r * t). */
export const userDistMult = defineModel({
  name: 'user-distmult',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score(E, h, R, r, T, t, dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += E[h + k]! * R[r + k]! * T[t + k]!;
    return s;
  },
  accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
    for (let k = 0; k < dim; k++) {
      gH[gh + k] = gH[gh + k]! + coef * R[r + k]! * T[t + k]!;
      gR[gr + k] = gR[gr + k]! + coef * E[h + k]! * T[t + k]!;
      gT[gt + k] = gT[gt + k]! + coef * E[h + k]! * R[r + k]!;
    }
  },
});

/** TransE with a squared distance: score = -||h + r - t||^2. */
export const squaredTransE = defineModel({
  name: 'transe-squared',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score(E, h, R, r, T, t, dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const u = E[h + k]! + R[r + k]! - T[t + k]!;
      s += u * u;
    }
    return -s;
  },
  accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
    for (let k = 0; k < dim; k++) {
      const g = -2 * coef * (E[h + k]! + R[r + k]! - T[t + k]!);
      gH[gh + k] = gH[gh + k]! + g;
      gR[gr + k] = gR[gr + k]! + g;
      gT[gt + k] = gT[gt + k]! - g;
    }
  },
});
