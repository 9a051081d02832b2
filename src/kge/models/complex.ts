/**
 * ComplEx (Trouillon et al. 2016): a diagonal bilinear form over complex
 * vectors.
 *
 *   score(h, r, t) = Re(sum_k h_k r_k conj(t_k))
 *
 * `dim` is the complex rank. Every row (entity and relation) holds 2*dim
 * floats: the dim real parts, then the dim imaginary parts, as in the
 * reference (`--dim = complex rank; 2*dim reals`). The score is computed as
 * the reference computes it: q = h ∘ r, then <Re q, Re t> + <Im q, Im t>.
 *
 * Blocked kernels form the query once and score every candidate x as the
 * real dot product <q, x> over 2*dim floats: for tails q = h ∘ r; for heads
 * q = conj(r) ∘ t (so that Re(x r conj(t)) = Re(x conj(q)) = <q, x>).
 */
import { checkDim, type Block, type BlockGrad, type KgeModel, type ModelShapes } from '../model.js';
import type { QueryPlan } from '../wasm/plan.js';
import { dotRows } from './kernels.js';

/**
 * The WASM query, for the `dot` kernel over rows of 2*dim reals (real parts,
 * then imaginary parts): Re(Σ h r conj(x)) = <h∘r, x> (tails), and
 * Re(Σ x r conj(t)) = Re(Σ x conj(conj(r)∘t)) = <conj(r)∘t, x> (heads).
 */
const COMPLEX_PLAN: QueryPlan = {
  kernel: 'dot',
  parts: 1,
  query(tails, ent, e, rel, r, dim, q, o, im) {
    for (let k = 0; k < dim; k++) {
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      const rre = rel[r + k]!;
      const rim = rel[r + dim + k]!;
      if (tails) {
        q[o + k] = ere * rre - eim * rim;
        q[o + im + k] = ere * rim + eim * rre;
      } else {
        q[o + k] = rre * ere + rim * eim;
        q[o + im + k] = rre * eim - rim * ere;
      }
    }
  },
  // q = e ∘ ρ with ρ = r (tails) or conj(r) (heads), complex coordinates.
  queryGrad(tails, ent, e, rel, r, dim, gq, go, im, gEnt, ge, gRel, gr) {
    const sign = tails ? 1 : -1;
    for (let k = 0; k < dim; k++) {
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      const pre = rel[r + k]!;
      const pim = sign * rel[r + dim + k]!;
      const gre = gq[go + k]!;
      const gim = gq[go + im + k]!;
      gEnt[ge + k] = gEnt[ge + k]! + gre * pre + gim * pim;
      gEnt[ge + dim + k] = gEnt[ge + dim + k]! - gre * pim + gim * pre;
      gRel[gr + k] = gRel[gr + k]! + gre * ere + gim * eim;
      gRel[gr + dim + k] = gRel[gr + dim + k]! + sign * (gim * ere - gre * eim);
    }
  },
};

export class ComplEx implements KgeModel {
  readonly name = 'complex';
  readonly queryPlan = COMPLEX_PLAN;
  /** Query q (2*dim) then its gradient gq (2*dim); grown, never shrunk. */
  private scratch = new Float64Array(0);

  shapes(dim: number): ModelShapes {
    checkDim('complex.shapes', dim);
    return { entityWidth: 2 * dim, relationWidth: 2 * dim };
  }

  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const hre = E[h + k]!;
      const him = E[h + dim + k]!;
      const rre = R[r + k]!;
      const rim = R[r + dim + k]!;
      const qre = hre * rre - him * rim;
      const qim = hre * rim + him * rre;
      s += qre * T[t + k]! + qim * T[t + dim + k]!;
    }
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
    // score = sum (hre rre - him rim) tre + (hre rim + him rre) tim
    for (let k = 0; k < dim; k++) {
      const hre = E[h + k]!;
      const him = E[h + dim + k]!;
      const rre = R[r + k]!;
      const rim = R[r + dim + k]!;
      const tre = T[t + k]!;
      const tim = T[t + dim + k]!;
      const k2 = dim + k;
      gH[gh + k] = gH[gh + k]! + coef * (rre * tre + rim * tim);
      gH[gh + k2] = gH[gh + k2]! + coef * (rre * tim - rim * tre);
      gR[gr + k] = gR[gr + k]! + coef * (hre * tre + him * tim);
      gR[gr + k2] = gR[gr + k2]! + coef * (hre * tim - him * tre);
      gT[gt + k] = gT[gt + k]! + coef * (hre * rre - him * rim);
      gT[gt + k2] = gT[gt + k2]! + coef * (hre * rim + him * rre);
    }
  }

  /** N3 on complex moduli: the row is `width/2` real parts, then as many imaginary parts. */
  n3Grad(row: Float32Array, offset: number, width: number, lambda: number, g: Float32Array, go: number): void {
    const d = width >> 1;
    const l3 = 3 * lambda;
    for (let k = 0; k < d; k++) {
      const re = row[offset + k]!;
      const im = row[offset + d + k]!;
      const m = l3 * Math.sqrt(re * re + im * im);
      g[go + k] = g[go + k]! + m * re;
      g[go + d + k] = g[go + d + k]! + m * im;
    }
  }

  scoreTails(b: Block, out: Float64Array): void {
    this.blockScore(b, out, true);
  }

  scoreHeads(b: Block, out: Float64Array): void {
    this.blockScore(b, out, false);
  }

  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, true);
  }

  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, false);
  }

  /**
   * The query of (entity e, relation r) into q[0 .. 2*dim):
   * tails (e = h): q = h ∘ r; heads (e = t): q = conj(r) ∘ t.
   */
  private query(
    q: Float64Array,
    ent: Float32Array,
    e: number,
    rel: Float32Array,
    r: number,
    dim: number,
    tails: boolean,
  ): void {
    for (let k = 0; k < dim; k++) {
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      const rre = rel[r + k]!;
      const rim = rel[r + dim + k]!;
      if (tails) {
        q[k] = ere * rre - eim * rim;
        q[dim + k] = ere * rim + eim * rre;
      } else {
        q[k] = rre * ere + rim * eim;
        q[dim + k] = rre * eim - rim * ere;
      }
    }
  }

  private blockScore(b: Block, out: Float64Array, tails: boolean): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const w = 2 * dim;
    const q = this.grow(2 * w);
    for (let i = 0; i < n; i++) {
      this.query(q, ent, entOffs[i]!, rel, relOffs[i]!, dim, tails);
      dotRows(q, w, cand, candOffs, m, out, i * m);
    }
  }

  /**
   * score = <q, x>: d/dx = q and d/dq = x, summed over the candidates into gq;
   * then gq is carried back through the query to the entity and the relation.
   */
  private blockGrad(b: Block, coef: Float64Array, g: BlockGrad, tails: boolean): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const w = 2 * dim;
    const buf = this.grow(2 * w);
    const gCand = g.cand;
    const gEnt = g.ent;
    const gRel = g.rel;
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      this.query(buf, ent, e, rel, r, dim, tails);
      for (let k = 0; k < w; k++) buf[w + k] = 0;
      let any = false;
      const row = i * m;
      for (let j = 0; j < m; j++) {
        const c = coef[row + j]!;
        if (c === 0) continue;
        any = true;
        const x = candOffs[j]!;
        const gx = g.candOffs[j]!;
        for (let k = 0; k < w; k++) {
          buf[w + k] = buf[w + k]! + c * cand[x + k]!;
          gCand[gx + k] = gCand[gx + k]! + c * buf[k]!;
        }
      }
      if (!any) continue;
      const ge = g.entOffs[i]!;
      const gr = g.relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        const k2 = dim + k;
        const gre = buf[w + k]!;
        const gim = buf[w + k2]!;
        const ere = ent[e + k]!;
        const eim = ent[e + k2]!;
        const rre = rel[r + k]!;
        const rim = rel[r + k2]!;
        if (tails) {
          // qre = ere rre - eim rim, qim = ere rim + eim rre
          gEnt[ge + k] = gEnt[ge + k]! + gre * rre + gim * rim;
          gEnt[ge + k2] = gEnt[ge + k2]! - gre * rim + gim * rre;
          gRel[gr + k] = gRel[gr + k]! + gre * ere + gim * eim;
          gRel[gr + k2] = gRel[gr + k2]! - gre * eim + gim * ere;
        } else {
          // qre = rre ere + rim eim, qim = rre eim - rim ere
          gEnt[ge + k] = gEnt[ge + k]! + gre * rre - gim * rim;
          gEnt[ge + k2] = gEnt[ge + k2]! + gre * rim + gim * rre;
          gRel[gr + k] = gRel[gr + k]! + gre * ere + gim * eim;
          gRel[gr + k2] = gRel[gr + k2]! + gre * eim - gim * ere;
        }
      }
    }
  }

  private grow(size: number): Float64Array {
    if (this.scratch.length < size) this.scratch = new Float64Array(size);
    return this.scratch;
  }
}
