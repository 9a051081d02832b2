/**
 * What a training task is, as the trainer sends it to a worker: the run's
 * hyper-parameters (plain data, no model object), the handle of the shared
 * tables and buffers, one task's range of positives and what it returns.
 */
import type { ClientStats, PsHandle } from '../ps/server.js';
import type { FilterHandle } from './filter.js';

export type LossKind = 'logistic' | 'margin';
/**
 * `adagrad`: element-wise Adagrad (Duchi et al.; PyTorch's `torch.optim.Adagrad`),
 * one accumulator per float. `adagrad-row`: row-wise Adagrad
 * (PyTorch-BigGraph's), one accumulator per row holding the mean of the
 * squared gradient: 1/width of the memory, but it learns much less per
 * epoch (README, "Matching the reference").
 */
export type OptimizerKind = 'sgd' | 'adagrad' | 'adagrad-row';

/** Floats of optimizer state per table: one per float (`adagrad`), one per row (`adagrad-row`), none (`sgd`). */
export function optimizerStateSize(
  optimizer: OptimizerKind,
  numEntities: number,
  entityWidth: number,
  numRelations: number,
  relationWidth: number,
): number {
  if (optimizer === 'adagrad') return numEntities * entityWidth + numRelations * relationWidth;
  if (optimizer === 'adagrad-row') return numEntities + numRelations;
  return 0;
}
export type RegKind = 'l2' | 'n3';

export interface TrainHyper {
  /** A built-in model's name (`createModel`), or the name of the model `modelModule` exports. */
  readonly model: string;
  /**
   * For a user-defined model trained in a worker pool: the `file:` URL of an
   * ES module whose default export is the model named `model` (a KgeModel, or
   * a function returning a fresh one). Absent for built-in models.
   */
  readonly modelModule?: string | undefined;
  readonly dim: number;
  readonly batch: number;
  readonly neg: number;
  /** Positives that share one set of negatives. */
  readonly chunk: number;
  readonly lr: number;
  readonly optimizer: OptimizerKind;
  readonly loss: LossKind;
  /** Margin of the ranking loss, or the logit offset γ of the logistic loss (RotatE's γ). */
  readonly margin: number;
  /** Self-adversarial temperature α (0: negatives weighted uniformly). */
  readonly adversarial: number;
  readonly reg: number;
  readonly regKind: RegKind;
  readonly mode: 'async' | 'sync';
  /**
   * Filtered negative sampling: a negative that forms a known training
   * triple with its positive is left out of that positive's loss (its weight
   * is 0). The shared negatives stay shared; only pairs are masked.
   */
  readonly filterNegatives?: boolean | undefined;
  /**
   * Entity rows whose L2 norm exceeds this after an update are scaled back
   * onto the ball of this radius (TransE's constraint, Bordes et al.); 0 or
   * absent: no constraint. Rows never updated keep their initial norm.
   */
  readonly maxNorm?: number | undefined;
  /**
   * `ps` (the default): rows are read and written through the parameter
   * server's client, over any number of shards. `direct`: the kernels read
   * the one shard's rows in place and async updates are written there (the
   * benchmark's baseline for the server path; one shard only).
   */
  readonly dataPath?: 'ps' | 'direct' | undefined;
  /**
   * Which kernels score a chunk's negatives and add their gradients: `simd`
   * (the WebAssembly SIMD kernels of `wasm/train-kernels.ts`), `js` (the
   * model's JavaScript block kernels), or `auto` (the default: SIMD where
   * the model's query plan and its width allow, else JavaScript).
   */
  readonly kernels?: 'auto' | 'simd' | 'js' | undefined;
}

/** Everything a worker needs, sent once in workerData. */
export interface TrainHandle {
  readonly hyper: TrainHyper;
  readonly ps: PsHandle;
  /** Training triples (h, r, t), SharedArrayBuffer-backed. */
  readonly train: Int32Array;
  /** The order positives are visited in this epoch (indices into `train`), rewritten by the main thread per epoch. */
  readonly order: Int32Array;
  readonly numEntities: number;
  readonly numRelations: number;
  /** Index of the training triples, when `hyper.filterNegatives` is set. */
  readonly filter?: FilterHandle | undefined;
  /** Each worker's progress in the epoch (`trainProgressLayout`): the next position of `order` it will train. */
  readonly progress: SharedArrayBuffer;
}

export interface TrainTask {
  readonly epoch: number;
  /** Positions [start, end) of `order` to train on. */
  readonly start: number;
  readonly end: number;
  /** Sync mode: batches this task must push (every worker pushes the same number per epoch). */
  readonly steps: number;
  readonly worker: number;
  readonly seed: number;
  /**
   * The training data when it has grown since the handle was sent
   * (`growAt`): the longer train split, its order, the entity count and the
   * filter index. Absent: the handle's.
   */
  readonly data?: TrainData;
}

/** The parts of a `TrainHandle` that growth replaces. */
export interface TrainData {
  readonly train: Int32Array;
  readonly order: Int32Array;
  readonly numEntities: number;
  readonly filter?: FilterHandle;
}

export interface TaskResult {
  readonly loss: number;
  readonly positives: number;
  /**
   * Per-relation moments of the per-positive loss over this task, packed
   * [count, mean, M2] per relation (Welford), for an exact merge across
   * workers.
   */
  readonly relationMoments: Float64Array;
  /** What the task saw of the parameter server (its client's counters and snapshot pauses); null on the direct path. */
  readonly ps: (ClientStats & { readonly pauseSamples: Float64Array }) | null;
}
