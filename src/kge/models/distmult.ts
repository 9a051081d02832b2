/**
 * DistMult (Yang et al. 2015): a diagonal bilinear form.
 *
 *   score(h, r, t) = sum_k h_k r_k t_k
 *
 * Rows are `dim` reals. The score is symmetric in head and tail. Blocked
 * kernels form the query q = h ∘ r (tails) or q = r ∘ t (heads) once, then
 * score every candidate x as <q, x>.
 */
import { checkDim, type Block, type BlockGrad, type KgeModel, type ModelShapes } from '../model.js';
import type { QueryPlan } from '../wasm/plan.js';
import { dotRows } from './kernels.js';

/** The WASM query: tails, sum h r x = <h∘r, x>; heads, sum x r t = <r∘t, x>. */
const DISTMULT_PLAN: QueryPlan = {
  kernel: 'dot',
  parts: 1,
  query(_tails, ent, e, rel, r, dim, q, o) {
    for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! * rel[r + k]!;
  },
  // q = e ∘ r: gq ∘ r to the entity, gq ∘ e to the relation.
  queryGrad(_tails, ent, e, rel, r, dim, gq, go, _im, gEnt, ge, gRel, gr) {
    for (let k = 0; k < dim; k++) {
      const g = gq[go + k]!;
      gEnt[ge + k] = gEnt[ge + k]! + g * rel[r + k]!;
      gRel[gr + k] = gRel[gr + k]! + g * ent[e + k]!;
    }
  },
};

export class DistMult implements KgeModel {
  readonly name = 'distmult';
  readonly queryPlan = DISTMULT_PLAN;
  /** Query q (dim) then its gradient gq (dim); grown, never shrunk. */
  private scratch = new Float64Array(0);

  shapes(dim: number): ModelShapes {
    checkDim('distmult.shapes', dim);
    return { entityWidth: dim, relationWidth: dim };
  }

  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number {
    let s = 0;
    for (let k = 0; k < dim; k++) s += E[h + k]! * R[r + k]! * T[t + k]!;
    return s;
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
    for (let k = 0; k < dim; k++) {
      const hv = E[h + k]!;
      const rv = R[r + k]!;
      const tv = T[t + k]!;
      gH[gh + k] = gH[gh + k]! + coef * rv * tv;
      gR[gr + k] = gR[gr + k]! + coef * hv * tv;
      gT[gt + k] = gT[gt + k]! + coef * hv * rv;
    }
  }

  scoreTails(b: Block, out: Float64Array): void {
    this.blockScore(b, out);
  }

  scoreHeads(b: Block, out: Float64Array): void {
    // sum x r t = <r ∘ t, x>: the same kernel with the tail as the query's entity.
    this.blockScore(b, out);
  }

  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g);
  }

  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g);
  }

  /** out[i*m + j] = <ent_i ∘ rel_i, cand_j>. */
  private blockScore(b: Block, out: Float64Array): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const q = this.grow(2 * dim);
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      for (let k = 0; k < dim; k++) q[k] = ent[e + k]! * rel[r + k]!;
      dotRows(q, dim, cand, candOffs, m, out, i * m);
    }
  }

  /** score = <q, x> with q = e ∘ r: d/dx = q, d/dq = x, then d/de = gq ∘ r, d/dr = gq ∘ e. */
  private blockGrad(b: Block, coef: Float64Array, g: BlockGrad): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const buf = this.grow(2 * dim);
    const gCand = g.cand;
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        buf[k] = ent[e + k]! * rel[r + k]!;
        buf[dim + k] = 0;
      }
      let any = false;
      const row = i * m;
      for (let j = 0; j < m; j++) {
        const c = coef[row + j]!;
        if (c === 0) continue;
        any = true;
        const x = candOffs[j]!;
        const gx = g.candOffs[j]!;
        for (let k = 0; k < dim; k++) {
          buf[dim + k] = buf[dim + k]! + c * cand[x + k]!;
          gCand[gx + k] = gCand[gx + k]! + c * buf[k]!;
        }
      }
      if (!any) continue;
      const ge = g.entOffs[i]!;
      const gr = g.relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        const gq = buf[dim + k]!;
        g.ent[ge + k] = g.ent[ge + k]! + gq * rel[r + k]!;
        g.rel[gr + k] = g.rel[gr + k]! + gq * ent[e + k]!;
      }
    }
  }

  private grow(size: number): Float64Array {
    if (this.scratch.length < size) this.scratch = new Float64Array(size);
    return this.scratch;
  }
}
