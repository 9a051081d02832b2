/**
 * The training step that runs in every worker (and in-thread for one
 * worker): positives in chunks, each chunk scored against negatives shared
 * by the whole chunk through the model's blocked kernels, a loss, gradients
 * into per-chunk scratch rows, then the update.
 *
 * Tables live in the parameter server's shared regions.
 * - async mode (Hogwild, the default, as DGL-KE and PyTorch-BigGraph do):
 *   each chunk's update is written straight into the shared rows with no
 *   lock. RACY BY DESIGN: two workers may update the same row at once and
 *   one update can partly overwrite the other; sparse updates make that rare
 *   and SGD tolerates it.
 * - sync mode: after every batch, each worker pushes its entity gradients
 *   and then its relation gradients (possibly none) to the parameter server,
 *   which averages the workers' pushes of one step at a barrier and applies
 *   them once with the run's optimizer (its state in shared memory). Tables
 *   change only while every worker waits at a barrier, so a seeded run is
 *   reproducible bit for bit (float64 sums of two float32 gradients do not
 *   depend on who arrived first).
 *
 * Optimizers: SGD, element-wise Adagrad (PyTorch's), or row-wise Adagrad
 * (PyTorch-BigGraph's: one accumulator per row, the mean of the squared
 * gradient), their state in shared memory.
 * Hot loops allocate nothing: every buffer is sized once per context.
 *
 * User-defined models in a pool: a worker rebuilds a built-in model by name,
 * but a user's model is code, which cannot be sent to a thread. It reaches
 * the workers as a module instead (`TrainHyper.modelModule`, an ES module
 * whose default export is the model). The worker entry file imports it
 * (`loadModelModule`, a top-level await) before it builds its
 * `TrainContext`. In-thread training is simply given the model object.
 */
import { dimMismatch, invalidArgument, show } from '../errors.js';
import { ParameterServer } from '../ps/server.js';
import { createModel, newBlock, newBlockGrad, type KgeModel, type ModelShapes } from './models/index.js';
import { FilterIndex } from './filter.js';
import { mulberry32 } from '../prng.js';
import type { TaskResult, TrainHandle, TrainHyper, TrainTask } from './train-task.js';
export * from './train-task.js';
export { isKgeModel, loadModelModule, modelFromExport } from './model-module.js';
import { addRegGradient, adagradStep, projectRow, rowAdagradStep, sgdStep } from './optim.js';
export { mulberry32 };

export class TrainContext {
  readonly handle: TrainHandle;
  readonly hyper: TrainHyper;
  readonly model: KgeModel;
  readonly shapes: ModelShapes;
  readonly ps: ParameterServer;
  readonly E: Float32Array;
  readonly R: Float32Array;
  private readonly acc: Float32Array;
  /** Index of the first relation accumulator in `acc`. */
  private readonly relAccBase: number;
  // Per-chunk scratch, sized once.
  private readonly block = newBlock();
  private readonly blockGrad = newBlockGrad();
  private readonly scores: Float64Array;
  /** 1 where a (positive, negative) pair is a known triple and is left out (filtered sampling). */
  private readonly masked: Uint8Array;
  private readonly filter: FilterIndex | null;
  /** Pairs left out by filtered sampling so far. */
  filteredPairs = 0;
  private readonly coef: Float64Array;
  private readonly posScore: Float64Array;
  private readonly posCoef: Float64Array;
  /** Per-relation [count, mean, M2] of the per-positive loss in the current task. */
  private readonly moments: Float64Array;
  private readonly fixedIds: Int32Array;
  private readonly otherIds: Int32Array;
  private readonly relIds: Int32Array;
  private readonly negIds: Int32Array;
  private readonly gFixed: Float32Array;
  private readonly gOther: Float32Array;
  private readonly gRel: Float32Array;
  private readonly gNeg: Float32Array;
  private readonly fixedOffs: Int32Array;
  private readonly relOffs: Int32Array;
  private readonly negOffs: Int32Array;
  private readonly scratchOffsE: Int32Array;
  private readonly scratchOffsR: Int32Array;
  private readonly scratchOffsN: Int32Array;
  // Sync mode: the batch's entity gradients, one row per touched entity.
  private readonly syncRows: Int32Array;
  private readonly syncGrads: Float32Array;
  private readonly syncSlot: Int32Array;
  private syncCount = 0;
  private readonly relGradSum: Float32Array;
  private readonly relTouched: Uint8Array;
  /** Sync mode: the batch's touched relations, compacted for the push. */
  private readonly relPushRows: Int32Array;
  private readonly relPushGrads: Float32Array;

  /**
   * `model`: the model object to train (in-thread training passes the
   * trainer's); when absent, the built-in model named `hyper.model`, or the
   * one `hyper.modelModule` provided to this thread.
   */
  constructor(handle: TrainHandle, model?: KgeModel) {
    this.handle = handle;
    const h = handle.hyper;
    this.hyper = h;
    this.model = model ?? threadModel(h);
    this.shapes = this.model.shapes(h.dim);
    this.ps = ParameterServer.attach(handle.ps);
    if (this.shapes.entityWidth !== this.ps.dim) {
      throw dimMismatch(`TrainContext(${show(this.model.name)})`, 'entity row', this.ps.dim, this.shapes.entityWidth);
    }
    if (this.shapes.relationWidth !== this.ps.relationDim) {
      throw dimMismatch(
        `TrainContext(${show(this.model.name)})`,
        'relation row',
        this.ps.relationDim,
        this.shapes.relationWidth,
      );
    }
    this.E = this.ps.view(0);
    this.R = this.ps.relationView();
    this.acc = handle.adagrad;
    this.moments = new Float64Array(3 * handle.numRelations);
    this.relAccBase = h.optimizer === 'adagrad' ? handle.numEntities * this.shapes.entityWidth : handle.numEntities;
    const c = h.chunk;
    const k = h.neg;
    const ew = this.shapes.entityWidth;
    const rw = this.shapes.relationWidth;
    this.scores = new Float64Array(c * k);
    this.masked = new Uint8Array(c * k);
    this.filter = h.filterNegatives && handle.filter ? FilterIndex.attach(handle.filter) : null;
    this.coef = new Float64Array(c * k);
    this.posScore = new Float64Array(c);
    this.posCoef = new Float64Array(c);
    this.fixedIds = new Int32Array(c);
    this.otherIds = new Int32Array(c);
    this.relIds = new Int32Array(c);
    this.negIds = new Int32Array(k);
    this.gFixed = new Float32Array(c * ew);
    this.gOther = new Float32Array(c * ew);
    this.gRel = new Float32Array(c * rw);
    this.gNeg = new Float32Array(k * ew);
    this.fixedOffs = new Int32Array(c);
    this.relOffs = new Int32Array(c);
    this.negOffs = new Int32Array(k);
    this.scratchOffsE = Int32Array.from({ length: c }, (_, i) => i * ew);
    this.scratchOffsR = Int32Array.from({ length: c }, (_, i) => i * rw);
    this.scratchOffsN = Int32Array.from({ length: k }, (_, j) => j * ew);
    const perBatch = h.mode === 'sync' ? Math.min(handle.numEntities, h.batch * (2 + k)) : 0;
    this.syncRows = new Int32Array(perBatch);
    this.syncGrads = new Float32Array(perBatch * ew);
    this.syncSlot = new Int32Array(h.mode === 'sync' ? handle.numEntities : 0).fill(-1);
    this.relGradSum = new Float32Array(h.mode === 'sync' ? handle.numRelations * rw : 0);
    this.relTouched = new Uint8Array(h.mode === 'sync' ? handle.numRelations : 0);
    this.relPushRows = new Int32Array(h.mode === 'sync' ? handle.numRelations : 0);
    this.relPushGrads = new Float32Array(h.mode === 'sync' ? handle.numRelations * rw : 0);
  }

  /** Train on positions [start, end) of the epoch's order. */
  run(task: TrainTask): TaskResult {
    this.moments.fill(0);
    const h = this.hyper;
    const order = this.handle.order;
    const rand = mulberry32(task.seed);
    let loss = 0;
    let positives = 0;
    if (h.mode === 'async') {
      // Chunks alternate between corrupting tails and heads. (Counted per
      // task: a task's start need not be a multiple of the chunk size.)
      let chunkNo = 0;
      for (let p = task.start; p < task.end; p += h.chunk) {
        const n = Math.min(h.chunk, task.end - p);
        loss += this.chunkStep(order, p, n, rand, (task.epoch + chunkNo++) % 2 === 0);
        positives += n;
      }
      return { loss, positives, relationMoments: this.moments.slice() };
    }
    // Sync: exactly `steps` batches, each pushed once (an empty one when this
    // worker's share has run out), so every worker meets every barrier.
    let p = task.start;
    let chunkNo = 0;
    for (let step = 0; step < task.steps; step++) {
      const batchEnd = Math.min(task.end, p + h.batch);
      for (; p < batchEnd; p += h.chunk) {
        const n = Math.min(h.chunk, batchEnd - p);
        loss += this.chunkStep(order, p, n, rand, (task.epoch + chunkNo++) % 2 === 0);
        positives += n;
      }
      this.flushSync(task.worker);
    }
    return { loss, positives, relationMoments: this.moments.slice() };
  }

  /**
   * One chunk of `n` positives starting at position `p` of `order`, against
   * `neg` shared negatives that replace the tail (`corruptTail`) or the head.
   * Returns the chunk's summed loss.
   */
  private chunkStep(order: Int32Array, p: number, n: number, rand: () => number, corruptTail: boolean): number {
    const h = this.hyper;
    const train = this.handle.train;
    const ew = this.shapes.entityWidth;
    const rw = this.shapes.relationWidth;
    const k = h.neg;
    const E = this.E;
    const R = this.R;
    for (let i = 0; i < n; i++) {
      const t3 = order[p + i]! * 3;
      const head = train[t3]!;
      const rel = train[t3 + 1]!;
      const tail = train[t3 + 2]!;
      this.fixedIds[i] = corruptTail ? head : tail;
      this.otherIds[i] = corruptTail ? tail : head;
      this.relIds[i] = rel;
      this.fixedOffs[i] = this.fixedIds[i]! * ew;
      this.relOffs[i] = rel * rw;
    }
    const numE = this.handle.numEntities;
    for (let j = 0; j < k; j++) {
      const e = Math.floor(rand() * numE);
      this.negIds[j] = e;
      this.negOffs[j] = e * ew;
    }
    const b = this.block;
    b.dim = h.dim;
    b.n = n;
    b.ent = E;
    b.entOffs = this.fixedOffs;
    b.rel = R;
    b.relOffs = this.relOffs;
    b.m = k;
    b.cand = E;
    b.candOffs = this.negOffs;
    if (corruptTail) this.model.scoreTails(b, this.scores);
    else this.model.scoreHeads(b, this.scores);
    const model = this.model;
    for (let i = 0; i < n; i++) {
      const hh = corruptTail ? this.fixedIds[i]! : this.otherIds[i]!;
      const tt = corruptTail ? this.otherIds[i]! : this.fixedIds[i]!;
      this.posScore[i] = model.score(E, hh * ew, R, this.relIds[i]! * rw, E, tt * ew, h.dim);
    }
    if (this.filter !== null) this.maskKnownTriples(n, k, corruptTail);
    const loss = this.lossAndCoefficients(n, k);
    // Gradients into zeroed scratch rows.
    this.gFixed.fill(0, 0, n * ew);
    this.gOther.fill(0, 0, n * ew);
    this.gRel.fill(0, 0, n * rw);
    this.gNeg.fill(0, 0, k * ew);
    const g = this.blockGrad;
    g.ent = this.gFixed;
    g.entOffs = this.scratchOffsE;
    g.rel = this.gRel;
    g.relOffs = this.scratchOffsR;
    g.cand = this.gNeg;
    g.candOffs = this.scratchOffsN;
    if (corruptTail) model.accumulateGradTails(b, this.coef, g);
    else model.accumulateGradHeads(b, this.coef, g);
    for (let i = 0; i < n; i++) {
      const c = this.posCoef[i]!;
      const ro = this.relIds[i]! * rw;
      if (corruptTail) {
        model.accumulateGrad(
          E,
          this.fixedOffs[i]!,
          R,
          ro,
          E,
          this.otherIds[i]! * ew,
          h.dim,
          c,
          this.gFixed,
          i * ew,
          this.gRel,
          i * rw,
          this.gOther,
          i * ew,
        );
      } else {
        model.accumulateGrad(
          E,
          this.otherIds[i]! * ew,
          R,
          ro,
          E,
          this.fixedOffs[i]!,
          h.dim,
          c,
          this.gOther,
          i * ew,
          this.gRel,
          i * rw,
          this.gFixed,
          i * ew,
        );
      }
    }
    // Regularise the positives' rows, then hand every touched row to the update.
    for (let i = 0; i < n; i++) {
      this.regularise(E, this.fixedIds[i]! * ew, this.gFixed, i * ew, ew);
      this.regularise(E, this.otherIds[i]! * ew, this.gOther, i * ew, ew);
      this.regularise(R, this.relIds[i]! * rw, this.gRel, i * rw, rw);
    }
    for (let i = 0; i < n; i++) {
      this.updateEntity(this.fixedIds[i]!, this.gFixed, i * ew);
      this.updateEntity(this.otherIds[i]!, this.gOther, i * ew);
      this.updateRelation(this.relIds[i]!, this.gRel, i * rw);
    }
    for (let j = 0; j < k; j++) this.updateEntity(this.negIds[j]!, this.gNeg, j * ew);
    return loss;
  }

  /** Mark the pairs of the chunk whose negative forms a known training triple with its positive. */
  private maskKnownTriples(n: number, k: number, corruptTail: boolean): void {
    const f = this.filter!;
    for (let i = 0; i < n; i++) {
      const fixed = this.fixedIds[i]!;
      const rel = this.relIds[i]!;
      const row = i * k;
      for (let j = 0; j < k; j++) {
        const e = this.negIds[j]!;
        const known = corruptTail ? f.has(fixed, rel, e) : f.has(e, rel, fixed);
        this.masked[row + j] = known ? 1 : 0;
        if (known) this.filteredPairs++;
      }
    }
  }

  /**
   * Loss of the chunk and ∂loss/∂score for positives (`posCoef`) and
   * negatives (`coef`), per positive: positive term plus the weighted mean of
   * its negatives' terms (uniform weights, or self-adversarial softmax weights
   * at temperature α, treated as constants as in the RotatE paper).
   */
  private lossAndCoefficients(n: number, k: number): number {
    const h = this.hyper;
    const gamma = h.margin;
    const alpha = h.adversarial;
    let total = 0;
    const moments = this.moments;
    for (let i = 0; i < n; i++) {
      const before = total;
      const s = this.posScore[i]!;
      const row = i * k;
      // Negative weights.
      let wsum = 0;
      let maxS = -Infinity;
      const filtered = this.filter !== null;
      if (alpha > 0) for (let j = 0; j < k; j++) maxS = Math.max(maxS, this.scores[row + j]!);
      for (let j = 0; j < k; j++) {
        const w =
          filtered && this.masked[row + j] === 1 ? 0 : alpha > 0 ? Math.exp(alpha * (this.scores[row + j]! - maxS)) : 1;
        this.coef[row + j] = w;
        wsum += w;
      }
      // Every negative of this positive was a known triple: no negative term.
      if (wsum === 0) wsum = 1;
      if (h.loss === 'logistic') {
        // L = softplus(-(γ + s)) + Σ_j w_j softplus(γ + s_j)
        const zp = gamma + s;
        total += softplus(-zp);
        this.posCoef[i] = -sigmoid(-zp);
        for (let j = 0; j < k; j++) {
          const w = this.coef[row + j]! / wsum;
          const zn = gamma + this.scores[row + j]!;
          total += w * softplus(zn);
          this.coef[row + j] = w * sigmoid(zn);
        }
      } else {
        // L = Σ_j w_j max(0, γ - s + s_j)
        let dPos = 0;
        for (let j = 0; j < k; j++) {
          const w = this.coef[row + j]! / wsum;
          const v = gamma - s + this.scores[row + j]!;
          if (v > 0) {
            total += w * v;
            dPos -= w;
            this.coef[row + j] = w;
          } else {
            this.coef[row + j] = 0;
          }
        }
        this.posCoef[i] = dPos;
      }
      // Welford update of this positive's relation with its loss.
      const x = total - before;
      const m = this.relIds[i]! * 3;
      const c = moments[m]! + 1;
      const mean = moments[m + 1]!;
      const d = x - mean;
      const next = mean + d / c;
      moments[m] = c;
      moments[m + 1] = next;
      moments[m + 2] = moments[m + 2]! + d * (x - next);
    }
    return total;
  }

  private regularise(table: Float32Array, off: number, g: Float32Array, go: number, width: number): void {
    addRegGradient(this.model, this.hyper.regKind, this.hyper.reg, table, off, width, g, go);
  }

  private updateEntity(id: number, g: Float32Array, go: number): void {
    const ew = this.shapes.entityWidth;
    if (this.hyper.mode === 'sync') {
      this.addSync(id, g, go, ew);
      return;
    }
    this.applyRow(this.E, id * ew, this.hyper.optimizer === 'adagrad' ? id * ew : id, g, go, ew);
    const maxNorm = this.hyper.maxNorm ?? 0;
    if (maxNorm > 0) projectRow(this.E, id * ew, ew, maxNorm);
  }

  private updateRelation(id: number, g: Float32Array, go: number): void {
    const rw = this.shapes.relationWidth;
    if (this.hyper.mode === 'sync') {
      const base = id * rw;
      for (let q = 0; q < rw; q++) this.relGradSum[base + q] = this.relGradSum[base + q]! + g[go + q]!;
      this.relTouched[id] = 1;
      return;
    }
    this.applyRow(this.R, id * rw, this.relAccBase + (this.hyper.optimizer === 'adagrad' ? id * rw : id), g, go, rw);
  }

  /**
   * Hogwild update of one row in place (racy by design, see the module
   * comment). `accIdx` is the row's first accumulator in `acc`: its first
   * float's index (`adagrad`) or its row's index (`adagrad-row`).
   */
  private applyRow(table: Float32Array, off: number, accIdx: number, g: Float32Array, go: number, width: number): void {
    const lr = this.hyper.lr;
    const opt = this.hyper.optimizer;
    if (opt === 'sgd') sgdStep(table, off, g, go, width, lr);
    else if (opt === 'adagrad') adagradStep(table, off, this.acc, accIdx, g, go, width, lr);
    else rowAdagradStep(table, off, this.acc, accIdx, g, go, width, lr);
  }

  /** Sync mode: add a row's gradient to this batch's push. */
  private addSync(id: number, g: Float32Array, go: number, width: number): void {
    let slot = this.syncSlot[id]!;
    if (slot < 0) {
      slot = this.syncCount++;
      this.syncSlot[id] = slot;
      this.syncRows[slot] = id;
      this.syncGrads.fill(0, slot * width, (slot + 1) * width);
    }
    const base = slot * width;
    for (let q = 0; q < width; q++) this.syncGrads[base + q] = this.syncGrads[base + q]! + g[go + q]!;
  }

  /** Sync mode: push this batch's entity, then relation gradients (possibly none) through the server's barriers. */
  private flushSync(worker: number): void {
    const n = this.syncCount;
    this.ps.pushFlat(0, worker, this.syncRows, this.syncGrads, n);
    for (let s = 0; s < n; s++) this.syncSlot[this.syncRows[s]!] = -1;
    this.syncCount = 0;
    // Every worker meets the relation barrier every step, with an empty push
    // when its batch touched no relation.
    const rw = this.shapes.relationWidth;
    let m = 0;
    for (let r = 0; r < this.handle.numRelations; r++) {
      if (this.relTouched[r] === 0) continue;
      this.relPushRows[m] = r;
      this.relPushGrads.set(this.relGradSum.subarray(r * rw, (r + 1) * rw), m * rw);
      m++;
      this.relTouched[r] = 0;
      this.relGradSum.fill(0, r * rw, (r + 1) * rw);
    }
    this.ps.pushRelationFlat(worker, this.relPushRows, this.relPushGrads, m);
  }
}

/** A worker's model when none is given: a built-in one, rebuilt by name. */
function threadModel(h: TrainHyper): KgeModel {
  if (h.modelModule !== undefined) {
    throw invalidArgument(
      'TrainContext',
      'model',
      undefined,
      `the model loaded from modelModule ${h.modelModule} (see loadModelModule)`,
    );
  }
  return createModel(h.model);
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
