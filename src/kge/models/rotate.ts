/**
 * RotatE (Sun et al. 2019): a relation rotates the head onto the tail in
 * the complex plane.
 *
 *   score(h, r, t) = -sum_k |h_k e^{iθ_k} - t_k|
 *
 * `dim` is the complex rank. An entity row holds 2*dim floats (the real
 * parts, then the imaginary parts); a relation row holds dim phases θ in
 * radians, so |r_k| = 1 by construction. The distance is the paper's and its
 * code's: the sum of the complex moduli (an L1 norm over complex
 * coordinates). The fixed margin γ of the paper belongs to the loss, not to
 * the score. `initRelation` draws phases uniformly in [-π, π], as the paper
 * does. A coordinate whose modulus is exactly 0 contributes the zero
 * subgradient.
 *
 * Blocked kernels form the query once: q = h ∘ e^{iθ} for tails, and
 * q = t ∘ e^{-iθ} for heads (|x e^{iθ} - t| = |x - t e^{-iθ}|), then score
 * every candidate x as -sum_k |q_k - x_k|.
 */
import { checkDim, type Block, type BlockGrad, type KgeModel, type ModelShapes } from '../model.js';
import type { QueryPlan } from '../wasm/plan.js';

/** The WASM query: tails, q = h e^{iθ}; heads, |x e^{iθ} - t| = |x - t e^{-iθ}|, q = t e^{-iθ}. */
const ROTATE_PLAN: QueryPlan = {
  kernel: 'rotate',
  parts: 2,
  query(tails, ent, e, rel, r, dim, q, o, im) {
    for (let k = 0; k < dim; k++) {
      const th = rel[r + k]!;
      const c = Math.cos(th);
      const s = tails ? Math.sin(th) : -Math.sin(th);
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      q[o + k] = ere * c - eim * s;
      q[o + im + k] = ere * s + eim * c;
    }
  },
  // q = e ∘ ρ with ρ = e^{iθ} (tails) or e^{-iθ} (heads): ∂q/∂θ = ±i q.
  queryGrad(tails, ent, e, rel, r, dim, gq, go, im, gEnt, ge, gRel, gr) {
    const sign = tails ? 1 : -1;
    for (let k = 0; k < dim; k++) {
      const th = rel[r + k]!;
      const c = Math.cos(th);
      const s = sign * Math.sin(th);
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      const gre = gq[go + k]!;
      const gim = gq[go + im + k]!;
      gEnt[ge + k] = gEnt[ge + k]! + gre * c + gim * s;
      gEnt[ge + dim + k] = gEnt[ge + dim + k]! - gre * s + gim * c;
      const qre = ere * c - eim * s;
      const qim = ere * s + eim * c;
      gRel[gr + k] = gRel[gr + k]! + sign * (gim * qre - gre * qim);
    }
  },
};

export class RotatE implements KgeModel {
  readonly name = 'rotate';
  readonly queryPlan = ROTATE_PLAN;
  /** q (2*dim), gq (2*dim), cos θ (dim), sin θ (dim); grown, never shrunk. */
  private scratch = new Float64Array(0);

  shapes(dim: number): ModelShapes {
    checkDim('rotate.shapes', dim);
    return { entityWidth: 2 * dim, relationWidth: dim };
  }

  initRelation(row: Float32Array, offset: number, dim: number, rand: () => number): void {
    for (let k = 0; k < dim; k++) row[offset + k] = (2 * rand() - 1) * Math.PI;
  }

  score(E: Float32Array, h: number, R: Float32Array, r: number, T: Float32Array, t: number, dim: number): number {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const hre = E[h + k]!;
      const him = E[h + dim + k]!;
      const th = R[r + k]!;
      const c = Math.cos(th);
      const sn = Math.sin(th);
      const a = hre * c - him * sn - T[t + k]!;
      const b = hre * sn + him * c - T[t + dim + k]!;
      s += Math.sqrt(a * a + b * b);
    }
    return -s;
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
    // z = q - t with q = h e^{iθ}; score = -sum |z|; d score/d(a, b) = -(a, b)/|z|.
    // dq/dhre = (c, s), dq/dhim = (-s, c), dq/dθ = (-qim, qre), dz/dt = -I.
    for (let k = 0; k < dim; k++) {
      const k2 = dim + k;
      const hre = E[h + k]!;
      const him = E[h + k2]!;
      const th = R[r + k]!;
      const c = Math.cos(th);
      const sn = Math.sin(th);
      const qre = hre * c - him * sn;
      const qim = hre * sn + him * c;
      const a = qre - T[t + k]!;
      const b = qim - T[t + k2]!;
      const mod = Math.sqrt(a * a + b * b);
      if (mod === 0) continue;
      const f = -coef / mod;
      const ga = f * a;
      const gb = f * b;
      gH[gh + k] = gH[gh + k]! + ga * c + gb * sn;
      gH[gh + k2] = gH[gh + k2]! - ga * sn + gb * c;
      gR[gr + k] = gR[gr + k]! - ga * qim + gb * qre;
      gT[gt + k] = gT[gt + k]! - ga;
      gT[gt + k2] = gT[gt + k2]! - gb;
    }
  }

  scoreTails(b: Block, out: Float64Array): void {
    this.blockScore(b, out, 1);
  }

  scoreHeads(b: Block, out: Float64Array): void {
    this.blockScore(b, out, -1);
  }

  accumulateGradTails(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, 1);
  }

  accumulateGradHeads(b: Block, coef: Float64Array, g: BlockGrad): void {
    this.blockGrad(b, coef, g, -1);
  }

  /**
   * q = e ∘ e^{i side θ} into buf[0 .. 2*dim), with cos θ at buf[4*dim ..]
   * and side * sin θ at buf[5*dim ..].
   */
  private query(
    buf: Float64Array,
    ent: Float32Array,
    e: number,
    rel: Float32Array,
    r: number,
    dim: number,
    side: 1 | -1,
  ): void {
    const cs = 4 * dim;
    const sn = 5 * dim;
    for (let k = 0; k < dim; k++) {
      const th = rel[r + k]!;
      const c = Math.cos(th);
      const s = side * Math.sin(th);
      const ere = ent[e + k]!;
      const eim = ent[e + dim + k]!;
      buf[k] = ere * c - eim * s;
      buf[dim + k] = ere * s + eim * c;
      buf[cs + k] = c;
      buf[sn + k] = s;
    }
  }

  private blockScore(b: Block, out: Float64Array, side: 1 | -1): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const q = this.grow(6 * dim);
    for (let i = 0; i < n; i++) {
      this.query(q, ent, entOffs[i]!, rel, relOffs[i]!, dim, side);
      const row = i * m;
      for (let j = 0; j < m; j++) {
        const x = candOffs[j]!;
        let s = 0;
        for (let k = 0; k < dim; k++) {
          const a = q[k]! - cand[x + k]!;
          const bb = q[dim + k]! - cand[x + dim + k]!;
          s += Math.sqrt(a * a + bb * bb);
        }
        out[row + j] = -s;
      }
    }
  }

  /**
   * score = -sum |q - x|: with z = q - x, d score/dq = -z/|z| = -d score/dx,
   * summed over the candidates into gq, then carried back through
   * q = e ∘ e^{iφ} (φ = side θ): dq/dere = (c, s), dq/deim = (-s, c),
   * dq/dφ = (-qim, qre), and dφ/dθ = side.
   */
  private blockGrad(b: Block, coef: Float64Array, g: BlockGrad, side: 1 | -1): void {
    const { dim, n, m, ent, entOffs, rel, relOffs, cand, candOffs } = b;
    const w = 2 * dim;
    const buf = this.grow(6 * dim);
    const cs = 4 * dim;
    const sn = 5 * dim;
    const gCand = g.cand;
    const gEnt = g.ent;
    const gRel = g.rel;
    for (let i = 0; i < n; i++) {
      const e = entOffs[i]!;
      const r = relOffs[i]!;
      this.query(buf, ent, e, rel, r, dim, side);
      for (let k = 0; k < w; k++) buf[w + k] = 0;
      let any = false;
      const row = i * m;
      for (let j = 0; j < m; j++) {
        const c = coef[row + j]!;
        if (c === 0) continue;
        any = true;
        const x = candOffs[j]!;
        const gx = g.candOffs[j]!;
        for (let k = 0; k < dim; k++) {
          const k2 = dim + k;
          const a = buf[k]! - cand[x + k]!;
          const bb = buf[k2]! - cand[x + k2]!;
          const mod = Math.sqrt(a * a + bb * bb);
          if (mod === 0) continue;
          const f = -c / mod;
          const ga = f * a;
          const gb = f * bb;
          buf[w + k] = buf[w + k]! + ga;
          buf[w + k2] = buf[w + k2]! + gb;
          gCand[gx + k] = gCand[gx + k]! - ga;
          gCand[gx + k2] = gCand[gx + k2]! - gb;
        }
      }
      if (!any) continue;
      const ge = g.entOffs[i]!;
      const gr = g.relOffs[i]!;
      for (let k = 0; k < dim; k++) {
        const k2 = dim + k;
        const gre = buf[w + k]!;
        const gim = buf[w + k2]!;
        const c = buf[cs + k]!;
        const s = buf[sn + k]!;
        gEnt[ge + k] = gEnt[ge + k]! + gre * c + gim * s;
        gEnt[ge + k2] = gEnt[ge + k2]! - gre * s + gim * c;
        gRel[gr + k] = gRel[gr + k]! + side * (-gre * buf[k2]! + gim * buf[k]!);
      }
    }
  }

  private grow(size: number): Float64Array {
    if (this.scratch.length < size) this.scratch = new Float64Array(size);
    return this.scratch;
  }
}
