/**
 * WebAssembly SIMD128 scoring kernels for evaluation: one set of query
 * vectors against every entity row, for the built-in models whose block
 * score is a function of a query vector q and a candidate row x alone.
 *
 * | kernel   | score(q, x)                          | models (q for tails / for heads)                      |
 * | -------- | ------------------------------------ | ----------------------------------------------------- |
 * | `dot`    | <q, x>                               | DistMult (h∘r / r∘t), ComplEx (h∘r / conj(r)∘t, 2*dim reals) |
 * | `l1`     | -Σ_k abs(q_k - x_k)                   | TransE L1 (h + r / t - r)                             |
 * | `l2`     | -sqrt(Σ_k (q_k - x_k)^2)             | TransE L2 (h + r / t - r)                             |
 * | `rotate` | -Σ_k abs((q_re,q_im)_k - (x_re,x_im)_k) | RotatE (h∘e^{iθ} / t∘e^{-iθ})                      |
 *
 * ComplEx in the `dot` kernel: with rows of 2*dim reals (real parts, then
 * imaginary parts), Re(Σ h r conj(x)) = <h∘r, x> (tails), and
 * Re(Σ x r conj(t)) = Re(Σ x conj(conj(r)∘t)) = <conj(r)∘t, x> (heads),
 * both plain real dot products over 2*dim floats.
 *
 * ## Arithmetic
 * Queries are formed in float64 from the float32 tables (as the JS kernels
 * do) and rounded to float32; the kernels compute in float32 with four lanes
 * of four-way partial sums and write float32 scores. They therefore agree
 * with the models' float64 block kernels to float32 rounding, not exactly,
 * and two candidates whose float64 scores differ by less than that may tie
 * here. (The PyTorch reference evaluates in float32 too.) A ranking must
 * compare scores from one kernel, which `Ranker` does.
 *
 * ## Memory
 * One private (unshared) `WebAssembly.Memory` per `WasmScorer`, laid out as
 *
 *   [0, 64)          two int32 counts written by `count`
 *   entities         numEntities rows padded to a multiple of 4 rows, each
 *                    row `rowFloats` floats (its parts padded to multiples of 4
 *                    floats with zeros, which add 0 to every kernel's sum)
 *   queries          maxQueries rows of `rowFloats` floats
 *   scores           maxQueries rows of `scoreStride` floats
 *
 * The entity table is copied in once (`loadEntities`), so each thread
 * scores from its own copy: no sharing, no races, and the copy is a
 * snapshot of a table that training may go on changing.
 *
 * ## The module
 * Built at run time by the small emitter below (no toolchain), about 2 KB,
 * compiled once per thread. Each score function has the signature
 *
 *   (qPtr, nq, qStride, cPtr, nc, cStride, kBytes, outPtr, outStride, imOff: i32)
 *
 * with every pointer and stride in bytes and 16-byte aligned, nq a positive
 * multiple of the kernel's query tile, nc a positive multiple of 4 and
 * kBytes a positive multiple of 16. In WAT terms:
 *
 *   for (c = 0; c < nc; c += 4)            ;; a tile of 4 candidate rows, kept in L1
 *     for (i = 0; i < nq; i += QB)         ;; QB query rows (QB = 2 for dot/l2, 1 for l1/rotate)
 *       acc[QB][4] = f32x4(0)
 *       for (k = 0; k < kBytes; k += 16)   ;; 4 floats of each row per step
 *         x_j = v128.load(cand_j + k)      ;; (rotate also loads the imaginary half at + imOff)
 *         q   = v128.load(query_i + k)
 *         acc[i][j] = f32x4.add(acc[i][j], op(q, x_j))
 *       out[i][c .. c+4] = finish(hsum4(acc[i][0..4]))   ;; one v128.store per query row
 *
 * where hsum4 turns four accumulators into one vector of their four lane
 * sums with four `i8x16.shuffle`s and three adds, op is q*x (dot),
 * abs(q - x) (as `v128.and` with a 0x7fffffff mask held in a local:
 * measured 1.4-2.4x faster than `f32x4.abs`, which Node 20 rebuilds the mask
 * for at every use), (q - x)^2, or sqrt(dre^2 + dim^2), and finish is
 * identity, negation, or -sqrt. `count(ptr, n, t: f32, res: i32)` counts the
 * scores below and equal to t among n (a multiple of 4) floats at ptr and
 * stores the two counts at res and res + 4.
 */
import { ComplEx } from './models/complex.js';
import { DistMult } from './models/distmult.js';
import { RotatE } from './models/rotate.js';
import { TransE } from './models/transe.js';
import type { KgeModel } from './model.js';

export type WasmKernel = 'dot' | 'l1' | 'l2' | 'rotate';

// The project's lib settings carry no WebAssembly types (they live in the DOM
// libs): declare the little this module uses of the global.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
};

// ---------------------------------------------------------------- emitter

const T_I32 = 0x7f;
const T_F32 = 0x7d;
const T_V128 = 0x7b;

// SIMD opcodes (after the 0xfd prefix).
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_CONST = 0x0c;
const I8X16_SHUFFLE = 0x0d;
const F32X4_SPLAT = 0x13;
const I32X4_EXTRACT_LANE = 0x1b;
const F32X4_EQ = 0x41;
const F32X4_LT = 0x43;
const V128_AND = 0x4e;
const I32X4_SUB = 0xb1;
const F32X4_NEG = 0xe1;
const F32X4_SQRT = 0xe3;
const F32X4_ADD = 0xe4;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** A function body under construction: locals and instructions. */
class Fn {
  readonly params: number[];
  readonly results: number[];
  private readonly locals: number[] = [];
  private readonly code: number[] = [];

  constructor(params: number[], results: number[] = []) {
    this.params = params;
    this.results = results;
  }

  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  raw(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }
  get(i: number): this {
    this.code.push(0x20);
    uleb(this.code, i);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(this.code, i);
    return this;
  }
  tee(i: number): this {
    this.code.push(0x22);
    uleb(this.code, i);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }
  add(): this {
    return this.raw(0x6a);
  }
  mul(): this {
    return this.raw(0x6c);
  }
  ltU(): this {
    return this.raw(0x49);
  }
  /** loop with an empty block type; `brIf(0)` inside jumps back to its top. */
  loop(): this {
    return this.raw(0x03, 0x40);
  }
  block(): this {
    return this.raw(0x02, 0x40);
  }
  end(): this {
    return this.raw(0x0b);
  }
  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(this.code, depth);
    return this;
  }
  simd(op: number, ...imm: number[]): this {
    this.code.push(0xfd);
    uleb(this.code, op);
    for (const b of imm) this.code.push(b);
    return this;
  }
  /** v128.load / v128.store with alignment 2^4 and a static offset. */
  load(offset = 0): this {
    this.simd(V128_LOAD, 4);
    uleb(this.code, offset);
    return this;
  }
  store(offset = 0): this {
    this.simd(V128_STORE, 4);
    uleb(this.code, offset);
    return this;
  }
  /** v128.const of four identical 32-bit words. */
  const4(word: number): this {
    const imm: number[] = [];
    for (let l = 0; l < 4; l++) imm.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff);
    return this.simd(V128_CONST, ...imm);
  }
  /** i8x16.shuffle picking four f32 lanes (0-3 from the first operand, 4-7 from the second). */
  shuffle(lanes: readonly [number, number, number, number]): this {
    const imm: number[] = [];
    for (const l of lanes) for (let b = 0; b < 4; b++) imm.push(4 * l + b);
    return this.simd(I8X16_SHUFFLE, ...imm);
  }

  body(): number[] {
    const groups: [number, number][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const out: number[] = [];
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(t);
    }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

function section(id: number, payload: number[]): number[] {
  const out = [id];
  uleb(out, payload.length);
  return out.concat(payload);
}

function name(s: string): number[] {
  const out: number[] = [];
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}

/** A module importing `env.mem` (at least one page) and exporting `fns` in order. */
function assemble(fns: readonly (readonly [string, Fn])[]): Uint8Array {
  const types: number[] = [];
  uleb(types, fns.length);
  for (const [, f] of fns) {
    types.push(0x60);
    uleb(types, f.params.length);
    types.push(...f.params);
    uleb(types, f.results.length);
    types.push(...f.results);
  }
  const imports = [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x01];
  const funcs: number[] = [];
  uleb(funcs, fns.length);
  fns.forEach((_, i) => uleb(funcs, i));
  const exports: number[] = [];
  uleb(exports, fns.length);
  fns.forEach(([n], i) => {
    exports.push(...name(n), 0x00);
    uleb(exports, i);
  });
  const code: number[] = [];
  uleb(code, fns.length);
  for (const [, f] of fns) code.push(...f.body());
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

// ---------------------------------------------------------------- kernels

/** Query rows per register tile, per kernel (measured on the 2-core EPYC, Node 20). */
const QUERY_TILE: Readonly<Record<WasmKernel, 1 | 2>> = { dot: 2, l1: 1, l2: 2, rotate: 1 };
/** Candidate rows per register tile (the horizontal sum packs four). */
const CAND_TILE = 4;

function scoreFn(kind: WasmKernel): Fn {
  const QB = QUERY_TILE[kind];
  const f = new Fn(new Array<number>(10).fill(T_I32));
  const qPtr = 0, nq = 1, qStride = 2, cPtr = 3, nc = 4, cStride = 5, kBytes = 6, outPtr = 7, outStride = 8, imOff = 9;
  const c = f.local(T_I32);
  const qi = f.local(T_I32);
  const k = f.local(T_I32);
  const cp = f.local(T_I32);
  const qp = f.local(T_I32);
  const cb: number[] = [];
  for (let j = 0; j < CAND_TILE; j++) cb.push(f.local(T_I32));
  const qb: number[] = [];
  for (let i = 0; i < QB; i++) qb.push(f.local(T_I32));
  const acc: number[][] = [];
  for (let i = 0; i < QB; i++) {
    const row: number[] = [];
    for (let j = 0; j < CAND_TILE; j++) row.push(f.local(T_V128));
    acc.push(row);
  }
  const rot = kind === 'rotate';
  const xv: number[] = [];
  const xi: number[] = [];
  for (let j = 0; j < CAND_TILE; j++) xv.push(f.local(T_V128));
  if (rot) for (let j = 0; j < CAND_TILE; j++) xi.push(f.local(T_V128));
  const qv = f.local(T_V128);
  const qvi = f.local(T_V128);
  const t0 = f.local(T_V128);
  const t1 = f.local(T_V128);
  const mask = f.local(T_V128);

  if (kind === 'l1') f.const4(0x7fffffff).set(mask);
  f.get(cPtr).set(cp).i32(0).set(c);
  f.loop(); // candidate tiles
  for (let j = 0; j < CAND_TILE; j++) {
    f.get(cp);
    if (j > 0) f.get(cStride).i32(j).mul().add();
    f.set(cb[j]!);
  }
  f.get(qPtr).set(qp).i32(0).set(qi);
  f.loop(); // query tiles
  for (let i = 0; i < QB; i++) {
    f.get(qp);
    if (i > 0) f.get(qStride).i32(i).mul().add();
    f.set(qb[i]!);
  }
  for (let i = 0; i < QB; i++) for (let j = 0; j < CAND_TILE; j++) f.const4(0).set(acc[i]![j]!);
  f.i32(0).set(k);
  f.loop(); // k
  for (let j = 0; j < CAND_TILE; j++) {
    f.get(cb[j]!).get(k).add().load().set(xv[j]!);
    if (rot) f.get(cb[j]!).get(k).add().get(imOff).add().load().set(xi[j]!);
  }
  for (let i = 0; i < QB; i++) {
    f.get(qb[i]!).get(k).add().load().set(qv);
    if (rot) f.get(qb[i]!).get(k).add().get(imOff).add().load().set(qvi);
    for (let j = 0; j < CAND_TILE; j++) {
      const a = acc[i]![j]!;
      const x = xv[j]!;
      switch (kind) {
        case 'dot':
          f.get(a).get(qv).get(x).simd(F32X4_MUL).simd(F32X4_ADD).set(a);
          break;
        case 'l1':
          f.get(a).get(qv).get(x).simd(F32X4_SUB).get(mask).simd(V128_AND).simd(F32X4_ADD).set(a);
          break;
        case 'l2':
          f.get(qv).get(x).simd(F32X4_SUB).tee(t0).get(t0).simd(F32X4_MUL).get(a).simd(F32X4_ADD).set(a);
          break;
        case 'rotate':
          f.get(qv).get(x).simd(F32X4_SUB).tee(t0).get(t0).simd(F32X4_MUL);
          f.get(qvi).get(xi[j]!).simd(F32X4_SUB).tee(t1).get(t1).simd(F32X4_MUL);
          f.simd(F32X4_ADD).simd(F32X4_SQRT).get(a).simd(F32X4_ADD).set(a);
          break;
      }
    }
  }
  f.get(k).i32(16).add().tee(k).get(kBytes).ltU().brIf(0);
  f.end(); // k
  for (let i = 0; i < QB; i++) {
    // address: outPtr + (qi + i) * outStride + c * 4
    f.get(qi);
    if (i > 0) f.i32(i).add();
    f.get(outStride).mul().get(c).i32(4).mul().add().get(outPtr).add();
    const [a, b, cc, d] = acc[i]! as [number, number, number, number];
    // [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d; then pair them up.
    f.get(a).get(b).shuffle([0, 4, 1, 5]).get(a).get(b).shuffle([2, 6, 3, 7]).simd(F32X4_ADD).set(t0);
    f.get(cc).get(d).shuffle([0, 4, 1, 5]).get(cc).get(d).shuffle([2, 6, 3, 7]).simd(F32X4_ADD).set(t1);
    f.get(t0).get(t1).shuffle([0, 1, 4, 5]).get(t0).get(t1).shuffle([2, 3, 6, 7]).simd(F32X4_ADD);
    if (kind === 'l2') f.simd(F32X4_SQRT);
    if (kind !== 'dot') f.simd(F32X4_NEG);
    f.store();
  }
  f.get(qp).get(qStride).i32(QB).mul().add().set(qp);
  f.get(qi).i32(QB).add().tee(qi).get(nq).ltU().brIf(0);
  f.end(); // query tiles
  f.get(cp).get(cStride).i32(CAND_TILE).mul().add().set(cp);
  f.get(c).i32(CAND_TILE).add().tee(c).get(nc).ltU().brIf(0);
  f.end(); // candidate tiles
  return f;
}

/** count(ptr, n, t, res): lanes below t and equal to t among n floats (n % 4 == 0). */
function countFn(): Fn {
  const f = new Fn([T_I32, T_I32, T_F32, T_I32]);
  const ptr = 0, n = 1, t = 2, res = 3;
  const end = f.local(T_I32);
  const tv = f.local(T_V128);
  const v = f.local(T_V128);
  const lt = f.local(T_V128);
  const eq = f.local(T_V128);
  f.get(t).simd(F32X4_SPLAT).set(tv);
  f.const4(0).set(lt).const4(0).set(eq);
  f.get(ptr).get(n).i32(4).mul().add().set(end);
  f.block();
  f.get(n).raw(0x45).brIf(0); // i32.eqz: nothing to count
  f.loop();
  // a true lane is all ones (-1): subtracting it counts one.
  f.get(ptr).load().set(v);
  f.get(lt).get(v).get(tv).simd(F32X4_LT).simd(I32X4_SUB).set(lt);
  f.get(eq).get(v).get(tv).simd(F32X4_EQ).simd(I32X4_SUB).set(eq);
  f.get(ptr).i32(16).add().tee(ptr).get(end).ltU().brIf(0);
  f.end();
  f.end();
  for (const [acc, off] of [[lt, 0], [eq, 4]] as const) {
    f.get(res);
    f.get(acc).simd(I32X4_EXTRACT_LANE, 0);
    for (let l = 1; l < 4; l++) f.get(acc).simd(I32X4_EXTRACT_LANE, l).add();
    f.raw(0x36, 2, off); // i32.store align=4 offset=off
  }
  return f;
}

let cachedBytes: Uint8Array | undefined;
let cachedModule: WasmModule | null | undefined;

/** The kernels' module bytes (built once per thread). */
export function wasmKernelBytes(): Uint8Array {
  cachedBytes ??= assemble([
    ['dot', scoreFn('dot')],
    ['l1', scoreFn('l1')],
    ['l2', scoreFn('l2')],
    ['rotate', scoreFn('rotate')],
    ['count', countFn()],
  ]);
  return cachedBytes;
}

/** The compiled module, or null when this runtime lacks WebAssembly SIMD128. */
function kernelModule(): WasmModule | null {
  if (cachedModule === undefined) {
    try {
      const bytes = wasmKernelBytes();
      cachedModule = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      cachedModule = null;
    }
  }
  return cachedModule;
}

/** Whether the WebAssembly SIMD kernels can run here (Node 20 has SIMD128 without flags). */
export function wasmSimdSupported(): boolean {
  return kernelModule() !== null;
}

// ---------------------------------------------------------------- models

/**
 * What the WASM backend needs of a built-in model: its kernel, how its
 * entity rows split into parts (RotatE: real and imaginary halves, paired by
 * the kernel; others: one vector), and how to form a query vector.
 */
export interface WasmPlan {
  readonly kernel: WasmKernel;
  readonly parts: 1 | 2;
  /**
   * Write the query of (entity at `ent[e..]`, relation at `rel[r..]`) into
   * `q[o ..]`: the tail query (entity = head) when `tails`, else the head
   * query (entity = tail). `im` is where the imaginary parts start in a
   * query row (complex-valued models only).
   */
  query(tails: boolean, ent: Float32Array, e: number, rel: Float32Array, r: number, dim: number, q: Float32Array, o: number, im: number): void;
}

const distmultPlan: WasmPlan = {
  kernel: 'dot',
  parts: 1,
  // tails: sum h r x = <h∘r, x>; heads: sum x r t = <r∘t, x>.
  query(_tails, ent, e, rel, r, dim, q, o) {
    for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! * rel[r + k]!;
  },
};

const complexPlan: WasmPlan = {
  kernel: 'dot',
  parts: 1,
  // tails: q = h∘r; heads: q = conj(r)∘t (see the module comment).
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
};

function transePlan(kernel: 'l1' | 'l2'): WasmPlan {
  return {
    kernel,
    parts: 1,
    // tails: -||(h + r) - x||; heads: -||x + r - t|| = -||(t - r) - x||.
    query(tails, ent, e, rel, r, dim, q, o) {
      if (tails) for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! + rel[r + k]!;
      else for (let k = 0; k < dim; k++) q[o + k] = ent[e + k]! - rel[r + k]!;
    },
  };
}

const rotatePlan: WasmPlan = {
  kernel: 'rotate',
  parts: 2,
  // tails: q = h e^{iθ}; heads: |x e^{iθ} - t| = |x - t e^{-iθ}|, q = t e^{-iθ}.
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
};

const l1Plan = transePlan('l1');
const l2Plan = transePlan('l2');

/** The WASM plan of a built-in model, or null for any other model (user-defined ones included). */
export function wasmPlanFor(model: KgeModel): WasmPlan | null {
  if (model instanceof DistMult) return distmultPlan;
  if (model instanceof ComplEx) return complexPlan;
  if (model instanceof TransE) return model.norm === 'l1' ? l1Plan : l2Plan;
  if (model instanceof RotatE) return rotatePlan;
  return null;
}

// ---------------------------------------------------------------- scorer

type ScoreExport = (qPtr: number, nq: number, qStride: number, cPtr: number, nc: number, cStride: number, kBytes: number, outPtr: number, outStride: number, imOff: number) => void;
type CountExport = (ptr: number, n: number, t: number, res: number) => void;

/** Largest memory a scorer asks for: 4 GiB less a page (wasm32). */
const MAX_BYTES = 65535 * 65536;

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/**
 * One thread's WASM scoring state: a private memory holding a padded copy of
 * the entity table, `maxQueries` query rows and as many score rows over all
 * entities. Not thread-safe (one per thread); allocation-free after `create`.
 */
export class WasmScorer {
  readonly plan: WasmPlan;
  readonly numEntities: number;
  readonly dim: number;
  readonly maxQueries: number;
  /** Floats per padded row (entity copies and queries). */
  readonly rowFloats: number;
  /** Where a query row's imaginary parts start (complex-valued models). */
  readonly imFloats: number;
  /** Query rows: write row i at `q[i * rowFloats ..]` (the padding stays zero). */
  readonly q: Float32Array;
  /** Score rows: entity j's score for query i is `scores[i * scoreStride + j]` after `scoreAll`. */
  readonly scores: Float32Array;
  /** Floats per score row: numEntities rounded up to a multiple of 4. */
  readonly scoreStride: number;
  /** The counts of the last `count`: scores below, and equal to, the threshold. */
  lt = 0;
  eq = 0;

  private readonly memory: WasmMemory;
  private readonly scoreFn: ScoreExport;
  private readonly countFn: CountExport;
  private readonly counts: Int32Array;
  private readonly entPtr: number;
  private readonly qPtr: number;
  private readonly sPtr: number;
  private readonly kBytes: number;
  private readonly imBytes: number;
  private readonly tile: number;
  private readonly width: number;
  private readonly partFloats: number;

  private constructor(plan: WasmPlan, numEntities: number, dim: number, width: number, maxQueries: number, module: WasmModule, pages: number) {
    this.plan = plan;
    this.numEntities = numEntities;
    this.dim = dim;
    this.width = width;
    this.tile = QUERY_TILE[plan.kernel];
    this.maxQueries = roundUp(maxQueries, this.tile);
    this.partFloats = width / plan.parts;
    const partPad = roundUp(this.partFloats, 4);
    this.rowFloats = plan.parts * partPad;
    this.imFloats = plan.parts === 2 ? partPad : dim;
    this.scoreStride = roundUp(numEntities, CAND_TILE);
    this.kBytes = 4 * (plan.parts === 2 ? partPad : this.rowFloats);
    this.imBytes = plan.parts === 2 ? 4 * partPad : 0;
    this.entPtr = 64;
    this.qPtr = this.entPtr + 4 * this.scoreStride * this.rowFloats;
    this.sPtr = this.qPtr + 4 * this.maxQueries * this.rowFloats;
    this.memory = new WebAssembly.Memory({ initial: pages });
    const instance = new WebAssembly.Instance(module, { env: { mem: this.memory } });
    const ex = instance.exports as Record<string, unknown>;
    this.scoreFn = ex[plan.kernel] as ScoreExport;
    this.countFn = ex['count'] as CountExport;
    const buf = this.memory.buffer;
    this.counts = new Int32Array(buf, 0, 2);
    this.q = new Float32Array(buf, this.qPtr, this.maxQueries * this.rowFloats);
    this.scores = new Float32Array(buf, this.sPtr, this.maxQueries * this.scoreStride);
  }

  /**
   * A scorer for `plan` over `numEntities` rows of `width` floats (the
   * model's entity width at rank `dim`), with room for `maxQueries` query
   * rows; null when WebAssembly SIMD is unavailable or the memory would
   * exceed 4 GiB or cannot be allocated. Any thread.
   */
  static create(plan: WasmPlan, numEntities: number, dim: number, width: number, maxQueries: number): WasmScorer | null {
    const module = kernelModule();
    if (module === null) return null;
    const tile = QUERY_TILE[plan.kernel];
    const rowFloats = plan.parts * roundUp(width / plan.parts, 4);
    const stride = roundUp(numEntities, CAND_TILE);
    const bytes = 64 + 4 * rowFloats * (stride + roundUp(maxQueries, tile)) + 4 * roundUp(maxQueries, tile) * stride;
    if (!(bytes <= MAX_BYTES)) return null;
    try {
      return new WasmScorer(plan, numEntities, dim, width, maxQueries, module, Math.ceil(bytes / 65536));
    } catch (e) {
      if (e instanceof RangeError) return null; // the memory could not be allocated
      throw e;
    }
  }

  /**
   * Copy the entity table (numEntities rows of `width` floats) into the
   * scorer's memory, padding each part to a multiple of 4 floats. The copy
   * is what later scores read: call again after the table changes.
   */
  loadEntities(table: Float32Array): void {
    const n = this.numEntities;
    const w = this.width;
    const base = this.entPtr / 4;
    const dst = new Float32Array(this.memory.buffer, this.entPtr, this.scoreStride * this.rowFloats);
    if (this.rowFloats === w) {
      dst.set(table.subarray(0, n * w));
      return;
    }
    const f32 = new Float32Array(this.memory.buffer);
    const parts = this.plan.parts;
    const pf = this.partFloats;
    const pad = this.rowFloats / parts;
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < parts; p++) f32.set(table.subarray(i * w + p * pf, i * w + (p + 1) * pf), base + i * this.rowFloats + p * pad);
    }
  }

  /** Score query rows [0, nq) against every entity into `scores`. nq in [1, maxQueries]. */
  scoreAll(nq: number): void {
    const rowBytes = 4 * this.rowFloats;
    const n = roundUp(nq, this.tile);
    this.scoreFn(this.qPtr, n, rowBytes, this.entPtr, this.scoreStride, rowBytes, this.kBytes, this.sPtr, 4 * this.scoreStride, this.imBytes);
  }

  /**
   * Count the scores of row `row` (entities 0 .. numEntities-1) below `t`
   * into `lt` and equal to `t` into `eq`. A NaN score counts in neither.
   */
  count(row: number, t: number): void {
    const n = this.numEntities;
    const n4 = n & ~3;
    const off = row * this.scoreStride;
    this.countFn(this.sPtr + 4 * off, n4, t, 0);
    let lt = this.counts[0]!;
    let eq = this.counts[1]!;
    const s = this.scores;
    for (let j = n4; j < n; j++) {
      const v = s[off + j]!;
      lt += +(v < t);
      eq += +(v === t);
    }
    this.lt = lt;
    this.eq = eq;
  }
}
