/**
 * TransE (Bordes et al. 2013): a relation translates the head onto the tail.
 *
 *   score(h, r, t) = -||h + r - t||_p,  p = 1 ('l1') or 2 ('l2')
 *
 * Rows are `dim` reals, entities and relations alike. The gradient uses the
 * zero subgradient where the distance is not differentiable: a coordinate
 * with h + r - t = 0 under L1 (sign(0) = 0), and a zero vector under L2.
 * L2 needs no epsilon: u/||u|| has norm 1 however small ||u|| is, and is
 * only undefined at exactly 0. (The reference adds 1e-9 under the square
 * root when it scores negatives, which moves a zero distance to 3e-5.)
 *
 * Blocked kernels compute q = h + r (tails) or q = t - r (heads) once per
 * query, then -||q - x|| (or -||x - q||) for every candidate x.
 */
import { checkDim, type Block, type BlockGrad, type KgeModel, type ModelShapes } from '../model.js';
import { l1Rows, l2Rows, squaredDistance } from './kernels.js';
import type { QueryPlan } from '../wasm/plan.js';

export type TransENorm = 'l1' | 'l2';

/** The WASM query: tails, -||(h + r) - x||; heads, -||x + r - t|| = -||(t - r) - x||. */
function transePlan(kernel: 'l1' | 'l2'): QueryPlan {
  return {
    kernel,
    parts: 1,
    query(tails, ent, e, rel, r, dim, q, o) {
      if (tails) for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! + rel[r + k]!;
      else for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! - rel[r + k]!;
    },
    // q = e + r (tails) or e - r (heads): gq goes to the entity, ±gq to the relation.
    queryGrad(tails, _ent, _e, _rel, _r, dim, gq, go, _im, gEnt, ge, gRel, gr) {
      const sign = tails ? 1 : -1;
      for (let k = 0; k < dim; k++) {
        const g = gq[go + k]!;
        gEnt[ge + k] = gEnt[ge + k]! + g;
        gRel[gr + k] = gRel[gr + k]! + sign * g;
      }
    },
  };
}

const L1_PLAN = transePlan('l1');
const L2_PLAN = transePlan('l2');

export class TransE implements KgeModel {
  readonly name: 'transe-l1' | 'transe-l2';
  readonly norm: TransENorm;
  readonly queryPlan: QueryPlan;
  private readonly l1: boolean;
  /** Query vector q (dim) then its gradient gq (dim); grown, never shrunk. */
  private scratch = new Float64Array(0);

  constructor(norm: TransENorm) {
    this.norm = norm;
    this.l1 = norm === 'l1';
    this.queryPlan = this.l1 ? L1_PLAN : L2_PLAN;
    this.name = this.l1 ? 'transe-l1' : 'transe-l2';
  }

  /** Bordes et al.: uniform in ±6/√dim, then scaled to unit L2 norm (the max-norm ball's edge). */
  initEntity(row: Float32Array, offset: number, dim: number, rand: () => number): void {
    uniformUnitRow(row, offset, dim, rand);
  }

  /** Bordes et al.: uniform in ±6/√dim, then normalised to unit L2 norm. */
  initRelation(row: Float32Array, offset: number, dim: number, rand: () => number): void {
    uniformUnitRow(row, offset, dim, rand);
  }

  shapes(dim: number): ModelShapes {
    checkDim(`${this.name}.shapes`, dim);
    return { entityWidth: dim, relationWidth: dim };
  }

  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number {
    let s = 0;
    if (this.l1) {
      for (let k = 0; k < dim; k++) s += Math.abs(E[h + k]! + R[r + k]! - T[t + k]!);
      return -s;
    }
    for (let k = 0; k < dim; k++) {
      const u = E[h + k]! + R[r + k]! - T[t + k]!;
      s += u * u;
    }
    return -Math.sqrt(s);
  }

  accumulateGrad(
    E: Float32Array,
    h: number,
    R: Float32Array,
    r: number,
    T: Float32Array,
    t: number,
    dim: number,
    coef: number,
    gH: Float32Array,
    gh: number,
    gR: Float32Array,
    gr: number,
    gT: Float32Array,
    gt: number,
  ): void {
    // d score / d u = -sign(u) (L1) or -u/||u|| (L2), u = h + r - t;
    // du/dh = du/dr = I, du/dt = -I.
    if (this.l1) {
      for (let k = 0; k < dim; k++) {
        const u = E[h + k]! + R[r + k]! - T[t + k]!;
        const g = -coef * (+(u > 0) - +(u < 0));
        gH[gh + k] = gH[gh + k]! + g;
        gR[gr + k] = gR[gr + k]! + g;
        gT[gt + k] = gT[gt + k]! - g;
      }
      return;
    }
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const u = E[h + k]! + R[r + k]! - T[t + k]!;
      s += u * u;
    }
    if (s === 0) return;
    const a = -coef / Math.sqrt(s);
    for (let k = 0; k < dim; k++) {
      const g = a * (E[h + k]! + R[r + k]! - T[t + k]!);
      gH[gh + k] = gH[gh + k]! + g;
      gR[gr + k] = gR[gr + k]! + g;
      gT[gt + k] = gT[gt + k]! - g;
    }
  }

  scoreTails(b: Block, out: Float64Array): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const q = this.grow(2 * dim);
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      for (let k = 0; k < dim; k++) q[k] = ent[e + k]! + rel[r + k]!;
      if (this.l1) l1Rows(q, dim, cand, candOffs, m, out, i * m);
      else l2Rows(q, dim, cand, candOffs, m, out, i * m);
    }
  }

  scoreHeads(b: Block, out: Float64Array): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const q = this.grow(2 * dim);
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      for (let k = 0; k < dim; k++) q[k] = ent[e + k]! - rel[r + k]!;
      if (this.l1) l1Rows(q, dim, cand, candOffs, m, out, i * m);
      else l2Rows(q, dim, cand, candOffs, m, out, i * m);
    }
  }

  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, 1);
  }

  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, -1);
  }

  /**
   * Tails (side = 1): q = h + r, score = -||q - x||, so dq/dh = dq/dr = I.
   * Heads (side = -1): q = t - r, score = -||x - q|| = -||q - x||, so
   * dq/dt = I and dq/dr = -I. In both, d score/dq = -d score/dx.
   */
  private blockGrad(b: Block, coef: Float64Array, g: BlockGrad, side: 1 | -1): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const buf = this.grow(2 * dim);
    const l1 = this.l1;
    const gEnt = g.ent;
    const gRel = g.rel;
    const gCand = g.cand;
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        buf[k] = ent[e + k]! + side * rel[r + k]!;
        buf[dim + k] = 0;
      }
      let any = false;
      const row = i * m;
      for (let j = 0; j < m; j++) {
        const c = coef[row + j]!;
        if (c === 0) continue;
        const x = candOffs[j]!;
        const gx = g.candOffs[j]!;
        if (l1) {
          // coef * d score / d u = -c sign(u). The sign as +(u > 0) - +(u < 0)
          // has no branch to mispredict (signs are random), unlike a
          // conditional or Math.sign.
          for (let k = 0; k < dim; k++) {
            const u = buf[k]! - cand[x + k]!;
            const gu = -c * (+(u > 0) - +(u < 0));
            buf[dim + k] = buf[dim + k]! + gu;
            gCand[gx + k] = gCand[gx + k]! - gu;
          }
        } else {
          // coef * d score / d u = -c u / ||u||
          const s = squaredDistance(buf, dim, cand, x);
          if (s === 0) continue;
          const a = -c / Math.sqrt(s);
          for (let k = 0; k < dim; k++) {
            const gu = a * (buf[k]! - cand[x + k]!);
            buf[dim + k] = buf[dim + k]! + gu;
            gCand[gx + k] = gCand[gx + k]! - gu;
          }
        }
        any = true;
      }
      if (!any) continue;
      const ge = g.entOffs[i]!;
      const gr = g.relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        const gq = buf[dim + k]!;
        gEnt[ge + k] = gEnt[ge + k]! + gq;
        gRel[gr + k] = gRel[gr + k]! + side * gq;
      }
    }
  }

  private grow(size: number): Float64Array {
    if (this.scratch.length < size) this.scratch = new Float64Array(size);
    return this.scratch;
  }
}

/** Uniform in ±6/√dim, then scaled to unit L2 norm. */
function uniformUnitRow(row: Float32Array, offset: number, dim: number, rand: () => number): void {
  const b = 6 / Math.sqrt(dim);
  let sq = 0;
  for (let k = 0; k < dim; k++) {
    const x = (2 * rand() - 1) * b;
    row[offset + k] = x;
    sq += x * x;
  }
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  for (let k = 0; k < dim; k++) row[offset + k] = row[offset + k]! * inv;
}
