/**
 * A model's query plan: what the WebAssembly ranker needs to score a query
 * against every entity row with one of the SIMD kernels of `kernels.wat`
 * (scored by `WasmScorer` in `scorer.ts`). A model exposes it as
 * `KgeModel.queryPlan`; the built-in models all have one, a user-defined
 * model may supply one to `defineModel`, and a model without one is ranked
 * with its own JavaScript block kernels.
 *
 * | kernel   | score(q, x)                             | built-in models (q for tails / for heads)              |
 * | -------- | --------------------------------------- | ------------------------------------------------------ |
 * | `dot`    | <q, x>                                  | DistMult (h∘r / r∘t), ComplEx (h∘r / conj(r)∘t, 2*dim reals) |
 * | `l1`     | -Σ_k abs(q_k - x_k)                      | TransE L1 (h + r / t - r)                              |
 * | `l2`     | -sqrt(Σ_k (q_k - x_k)^2)                | TransE L2 (h + r / t - r)                              |
 * | `rotate` | -Σ_k abs((q_re,q_im)_k - (x_re,x_im)_k) | RotatE (h∘e^{iθ} / t∘e^{-iθ})                         |
 *
 * A plan must give the model's scores up to float32 rounding: the tail
 * query of (h, r) scored against x is score(h, r, x), the head query of
 * (r, t) scored against x is score(x, r, t).
 */
import { invalidArgument } from '../../errors.js';

export type WasmKernel = 'dot' | 'l1' | 'l2' | 'rotate';

export const WASM_KERNELS: readonly WasmKernel[] = ['dot', 'l1', 'l2', 'rotate'];

export interface QueryPlan {
  /** The kernel that scores a query row against an entity row. */
  readonly kernel: WasmKernel;
  /**
   * How an entity row splits into parts that the kernel pairs: 2 for
   * `rotate` (real parts, then as many imaginary parts), 1 for the others
   * (one vector of all the row's floats).
   */
  readonly parts: 1 | 2;
  /**
   * Write the query of (entity at `ent[e..]`, relation at `rel[r..]`) into
   * `q[o ..]`: the tail query (entity = head) when `tails`, else the head
   * query (entity = tail). Compute in float64 from the float32 rows; `q`
   * rounds to float32. `im` is where the imaginary parts start in a query
   * row: the second part's offset for `rotate`, else `dim` (the layout of a
   * row of 2*dim floats, real parts then imaginary parts, as ComplEx's).
   * Called on the ranking hot path: allocate nothing.
   */
  query(
    tails: boolean,
    ent: Float32Array,
    e: number,
    rel: Float32Array,
    r: number,
    dim: number,
    q: Float32Array,
    o: number,
    im: number,
  ): void;
  /**
   * Training's half of the plan (optional): add the gradient of the query
   * back to the rows it was formed from. Given `gq[go ..]`, the gradient of
   * the loss with respect to the query row that `query` writes for the same
   * arguments (laid out as that row, imaginary parts at `go + im`), add
   * (∂q/∂entity)ᵀ·gq to `gEnt[ge ..]` and (∂q/∂relation)ᵀ·gq to
   * `gRel[gr ..]` (rows in the model's own layout). Compute in float64.
   * With it, training runs the model's negatives through the SIMD kernels
   * of `train.wat` (`wasm/train-kernels.ts`); without it, through the
   * model's JavaScript block kernels. Called on the training hot path:
   * allocate nothing.
   */
  queryGrad?(
    tails: boolean,
    ent: Float32Array,
    e: number,
    rel: Float32Array,
    r: number,
    dim: number,
    gq: Float32Array,
    go: number,
    im: number,
    gEnt: Float32Array,
    ge: number,
    gRel: Float32Array,
    gr: number,
  ): void;
}

/** Check a plan given at the edge (`defineModel`): the kernel, its parts and the query function. */
export function checkQueryPlan(where: string, field: string, plan: unknown): QueryPlan {
  if (plan === null || typeof plan !== 'object')
    throw invalidArgument(where, field, plan, 'an object { kernel, parts, query }');
  const p = plan as Partial<QueryPlan>;
  if (!WASM_KERNELS.includes(p.kernel as WasmKernel))
    throw invalidArgument(where, `${field}.kernel`, p.kernel, `one of ${WASM_KERNELS.map((k) => `'${k}'`).join(', ')}`);
  const parts = p.kernel === 'rotate' ? 2 : 1;
  if (p.parts !== parts)
    throw invalidArgument(where, `${field}.parts`, p.parts, `${parts} for the '${p.kernel}' kernel`);
  if (typeof p.query !== 'function') throw invalidArgument(where, `${field}.query`, p.query, 'a function');
  if (p.queryGrad !== undefined && typeof p.queryGrad !== 'function')
    throw invalidArgument(where, `${field}.queryGrad`, p.queryGrad, 'a function or undefined');
  return plan as QueryPlan;
}
