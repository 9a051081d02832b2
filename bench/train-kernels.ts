/**
 * Chunk-kernel figures of the `train` suite (`--only kernels`): the work a
 * training chunk does on its negatives, timed on one thread on a
 * cache-resident tile, with the WebAssembly SIMD kernels
 * (`SimdChunkKernels.scoreNegatives` + `addPairGradients`) and with the
 * models' JavaScript block kernels (`scoreTails` + `accumulateGradTails`).
 * A chunk is 64 positives against 64 shared negatives, dim 100, as in
 * training. GFLOP/s count the arithmetic of the scores and the pair
 * gradients per (positive, negative) pair and float of a row (w floats):
 * dot 6w (2 to score, 2 for each of C·X and Cᵀ·Q), L1 7w (3 to score, 4 for
 * the sign, its scaling and the two sums), RotatE 20 per complex coordinate
 * (7 to score, 13 for the gradient). These are the roofline's compute
 * figures (README, "Training speed").
 */
import { createModel, newBlock, newBlockGrad } from '../src/kge/models/index.js';
import { SimdChunkKernels } from '../src/kge/wasm/train-kernels.js';
import { completed, type CaseResult } from './lib/report.js';
import { round2 } from './lib/suite.js';

const DIM = 100;
const CHUNK = 64;
const NEG = 64;

/** Arithmetic per (positive, negative) pair of a chunk, scores and gradients (see the module comment). */
export function flopsPerPair(kernel: string, width: number, dim: number): number {
  if (kernel === 'dot') return 6 * width;
  if (kernel === 'rotate') return 20 * dim;
  return 7 * width;
}

export function chunkKernelCases(runs: number): CaseResult[] {
  const cases: CaseResult[] = [];
  for (const name of ['transe', 'complex', 'distmult', 'rotate']) {
    const model = createModel(name);
    const plan = model.queryPlan!;
    const { entityWidth: w, relationWidth: rw } = model.shapes(DIM);
    const kern = new SimdChunkKernels(plan, DIM, w, CHUNK, NEG);
    let s = 12345;
    const rand = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
    const rows = 2 * CHUNK + NEG;
    for (let q = 0; q < rows * w; q++) kern.tile[q] = rand() * 0.2;
    const R = Float32Array.from({ length: 4 * rw }, () => rand());
    const relOffs = Int32Array.from({ length: CHUNK }, (_, i) => (i % 4) * rw);
    const fixed = Int32Array.from({ length: CHUNK }, (_, i) => 2 * i * w);
    const negs = Int32Array.from({ length: NEG }, (_, j) => (2 * CHUNK + j) * w);
    const relG = Int32Array.from({ length: CHUNK }, (_, i) => i * rw);
    const gRel = new Float32Array(CHUNK * rw);
    const scores = new Float64Array(CHUNK * NEG);
    const coef = Float64Array.from({ length: CHUNK * NEG }, () => rand());
    const b = newBlock();
    Object.assign(b, {
      dim: DIM,
      n: CHUNK,
      ent: kern.tile,
      entOffs: fixed,
      rel: R,
      relOffs,
      m: NEG,
      cand: kern.tile,
      candOffs: negs,
    });
    const gJs = new Float32Array(rows * w);
    const g = newBlockGrad();
    Object.assign(g, { ent: gJs, entOffs: fixed, rel: gRel, relOffs: relG, cand: gJs, candOffs: negs });
    const flops = CHUNK * NEG * flopsPerPair(plan.kernel, w, DIM);
    const time = (f: () => void, minMs: number): number => {
      for (let i = 0; i < 5; i++) f();
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < minMs) {
        f();
        n++;
        t = performance.now();
      }
      return round2((flops * n) / ((t - t0) * 1e6));
    };
    const simd = (): void => {
      kern.scoreNegatives(true, CHUNK, R, relOffs, fixed, scores);
      kern.setCoefficients(CHUNK, coef);
      kern.G.fill(0, 0, kern.rowsUsed(CHUNK) * w);
      kern.addPairGradients(true, CHUNK, R, relOffs, fixed, fixed, gRel, relG);
    };
    const js = (): void => {
      model.scoreTails(b, scores);
      gJs.fill(0);
      model.accumulateGradTails(b, coef, g);
    };
    const simdSamples: number[] = [];
    const jsSamples: number[] = [];
    for (let r = 0; r < Math.max(3, runs); r++) {
      simdSamples.push(time(simd, 200));
      jsSamples.push(time(js, 200));
    }
    const params = {
      positives: CHUNK,
      negatives: NEG,
      dim: DIM,
      floatsPerRow: w,
      flopsPerPair: flopsPerPair(plan.kernel, w, DIM),
      kernel: plan.kernel,
    };
    cases.push(
      completed(
        `chunk kernels simd ${name} (dim ${DIM})`,
        'chunk-kernels',
        'GFLOP/s',
        'higher',
        simdSamples,
        params,
        {},
      ),
    );
    cases.push(
      completed(`chunk kernels js ${name} (dim ${DIM})`, 'chunk-kernels', 'GFLOP/s', 'higher', jsSamples, params, {}),
    );
  }
  return cases;
}
