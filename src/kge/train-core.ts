/**
 * The training step that runs in every worker (and in-thread for one
 * worker): positives in chunks, each chunk scored against negatives shared
 * by the whole chunk through the model's blocked kernels, a loss, gradients
 * into per-chunk scratch rows, then the update.
 *
 * Tables live in the parameter server's shared regions, and training reads
 * and writes them through the server's client (src/ps/client.ts): each
 * chunk's entity rows (its positives' heads and tails, then its negatives)
 * are gathered from the shards that hold them into one contiguous tile, the
 * kernels run on the tile, and the gradients (laid out like the tile) go
 * back as pushes.
 * - async mode (Hogwild, the default, as DGL-KE and PyTorch-BigGraph do):
 *   each chunk's rows are pushed per shard and applied in place with no
 *   lock, inside the shard's shared-writer gate (a snapshot fences it
 *   briefly). RACY BY DESIGN: two workers may update the same row at once
 *   and one update can partly overwrite the other; sparse updates make that
 *   rare and SGD tolerates it. The client counts each shard's staleness.
 * - sync mode: after every batch, each worker pushes its entity gradients
 *   to every shard, then its relation gradients (possibly none), and the
 *   parameter server averages the workers' pushes of one step at each
 *   table's barrier and applies them once with the run's optimizer (its
 *   state in shared memory). Tables change only while every worker waits at
 *   a barrier, so a seeded run is reproducible bit for bit (float64 sums of
 *   two float32 gradients do not depend on who arrived first).
 * - the direct path (`dataPath: 'direct'`, one shard; the benchmark's
 *   baseline): the kernels read the shard's rows in place and async updates
 *   are written there, bypassing the client. With one worker it computes the
 *   same tables as the server path bit for bit, for any number of shards
 *   (each row sees the same gradients in the same order).
 * - Progress: after each chunk (async) or batch (sync) a worker stores the
 *   next position of the epoch's order it will train in its progress word,
 *   so a checkpoint taken while training runs knows what is done.
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
import { ParameterServer, type PsClient } from '../ps/server.js';
import { PS_PLACEMENT_WORKERS } from '../ps/config.js';
import { threadId } from 'node:worker_threads';
import { indexOf, trainProgressLayout } from '../../native-layout/index.js';
import { createModel, newBlock, newBlockGrad, type KgeModel, type ModelShapes } from './models/index.js';
import { FilterIndex } from './filter.js';
import { mulberry32 } from '../prng.js';
import type { TaskResult, TrainHandle, TrainHyper, TrainTask } from './train-task.js';
export * from './train-task.js';
export { isKgeModel, loadModelModule, modelFromExport } from './model-module.js';
import { addRegGradient, applyRule, projectRow } from './optim.js';
import { SimdChunkKernels, simdTrainBlocker } from './wasm/train-kernels.js';
export { mulberry32 };

export class TrainContext {
  /** The handle, with the grown data of the latest task that carried some (`TrainTask.data`). */
  handle: TrainHandle;
  readonly hyper: TrainHyper;
  readonly model: KgeModel;
  readonly shapes: ModelShapes;
  readonly ps: ParameterServer;
  /**
   * The server's client this thread trains through (reads by gather, pushes
   * by shard); null on the direct path (`hyper.dataPath` 'direct': the
   * kernels read one shard's rows in place and updates are written there).
   */
  readonly client: PsClient | null;
  /**
   * The SIMD kernels that score the chunk's negatives and add their
   * gradients (`wasm/train-kernels.ts`), or null: the model's JavaScript
   * block kernels do (`hyper.kernels` 'js', or a model or width the SIMD
   * kernels do not cover). They own the tile and its gradients.
   */
  readonly simd: SimdChunkKernels | null;
  /** Direct path only: the one shard's rows, in dataset id order. */
  private readonly E: Float32Array;
  private readonly R: Float32Array;
  /** Direct path: shard 0's Adagrad accumulators (the server's, in place). */
  private readonly acc: Float32Array;
  /** Direct path: the relation table's accumulators. */
  private readonly relAcc: Float32Array;
  // Per-chunk scratch, sized once.
  private readonly block = newBlock();
  private readonly blockGrad = newBlockGrad();
  private readonly scores: Float64Array;
  /** 1 where a (positive, negative) pair is a known triple and is left out (filtered sampling). */
  private readonly masked: Uint8Array;
  private filter: FilterIndex | null;
  /** Pairs left out by filtered sampling so far. */
  filteredPairs = 0;
  private readonly coef: Float64Array;
  private readonly posScore: Float64Array;
  private readonly posCoef: Float64Array;
  /** SIMD logistic path: each positive's mean loss over its negatives. */
  private readonly rowLoss: Float64Array;
  /** Per-relation [count, mean, M2] of the per-positive loss in the current task. */
  private readonly moments: Float64Array;
  private readonly fixedIds: Int32Array;
  private readonly otherIds: Int32Array;
  private readonly relIds: Int32Array;
  private readonly negIds: Int32Array;
  /**
   * A chunk's entity rows in one tile, in update order: positive i's fixed
   * entity at row 2i and its other entity at 2i + 1, then the negatives from
   * row 2n. `rowIds` names each tile row's entity; `tile` holds the rows as
   * read (the client's gather), `G` their gradients, at the same offsets.
   */
  private readonly rowIds: Int32Array;
  private readonly tile: Float32Array;
  private readonly G: Float32Array;
  /** Offsets of tile rows (row * width): where each row's gradient is in `G` (and its value in `tile`). */
  private readonly rowOffs: Int32Array;
  private readonly fixedG: Int32Array;
  private readonly otherG: Int32Array;
  private readonly negG: Int32Array;
  /** Where the kernels read each row: the tile's offsets, or the table's (direct path). */
  private readonly fixedRead: Int32Array;
  private readonly otherRead: Int32Array;
  private readonly negRead: Int32Array;
  private readonly relOffs: Int32Array;
  private readonly gRel: Float32Array;
  private readonly scratchOffsR: Int32Array;
  /** The chunk size the negatives' offsets were laid out for. */
  private laidOutFor = -1;
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
  /** The epoch's progress words (one per worker), for checkpoints taken while training runs. */
  private readonly progress: Int32Array;

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
    const direct = h.dataPath === 'direct';
    if (direct && this.ps.numShards !== 1) {
      throw invalidArgument('TrainContext', 'dataPath', 'direct', "one shard (the direct path reads shard 0's rows)");
    }
    this.E = direct ? this.ps.view(0) : new Float32Array(0);
    this.R = this.ps.relationView();
    this.acc = direct ? this.ps.optimizerView(0) : new Float32Array(0);
    this.relAcc = this.ps.relationOptimizerView();
    this.moments = new Float64Array(3 * handle.numRelations);
    const c = h.chunk;
    const k = h.neg;
    const ew = this.shapes.entityWidth;
    const rw = this.shapes.relationWidth;
    const tileRows = 2 * c + k;
    const perBatch = h.mode === 'sync' ? Math.min(handle.numEntities, h.batch * (2 + k)) : 0;
    // The client confirms placements under this thread's id (the watermark that lets moved chunks drain).
    this.client = direct ? null : this.ps.client(threadId % PS_PLACEMENT_WORKERS, Math.max(tileRows, perBatch, 1));
    const blocker = h.kernels === 'js' ? 'asked for' : simdTrainBlocker(this.model.queryPlan, h.dim, ew);
    if (h.kernels === 'simd' && blocker !== null)
      throw invalidArgument('TrainContext', 'kernels', 'simd', `a model the SIMD kernels cover (${blocker})`);
    this.simd = blocker === null ? new SimdChunkKernels(this.model.queryPlan!, h.dim, ew, c, k) : null;
    // Rows are gathered into the tile unless the JS kernels read the one shard in place (the direct path).
    const inPlace = direct && this.simd === null;
    this.scores = new Float64Array(c * k);
    this.masked = new Uint8Array(c * k);
    this.filter = h.filterNegatives && handle.filter ? FilterIndex.attach(handle.filter) : null;
    this.coef = new Float64Array(c * k);
    this.posScore = new Float64Array(c);
    this.posCoef = new Float64Array(c);
    this.rowLoss = new Float64Array(c);
    this.fixedIds = new Int32Array(c);
    this.otherIds = new Int32Array(c);
    this.relIds = new Int32Array(c);
    this.negIds = new Int32Array(k);
    this.rowIds = new Int32Array(tileRows);
    this.tile = this.simd?.tile ?? new Float32Array(inPlace ? 0 : tileRows * ew);
    this.G = this.simd?.G ?? new Float32Array(tileRows * ew);
    this.rowOffs = Int32Array.from({ length: tileRows }, (_, r) => r * ew);
    this.fixedG = Int32Array.from({ length: c }, (_, i) => 2 * i * ew);
    this.otherG = Int32Array.from({ length: c }, (_, i) => (2 * i + 1) * ew);
    this.negG = new Int32Array(k);
    this.fixedRead = inPlace ? new Int32Array(c) : this.fixedG;
    this.otherRead = inPlace ? new Int32Array(c) : this.otherG;
    this.negRead = inPlace ? new Int32Array(k) : this.negG;
    this.relOffs = new Int32Array(c);
    this.gRel = new Float32Array(c * rw);
    this.scratchOffsR = Int32Array.from({ length: c }, (_, i) => i * rw);
    this.syncRows = new Int32Array(perBatch);
    this.syncGrads = new Float32Array(perBatch * ew);
    this.syncSlot = new Int32Array(h.mode === 'sync' ? handle.numEntities : 0).fill(-1);
    this.relGradSum = new Float32Array(h.mode === 'sync' ? handle.numRelations * rw : 0);
    this.relTouched = new Uint8Array(h.mode === 'sync' ? handle.numRelations : 0);
    this.relPushRows = new Int32Array(h.mode === 'sync' ? handle.numRelations : 0);
    this.relPushGrads = new Float32Array(h.mode === 'sync' ? handle.numRelations * rw : 0);
    this.progress = new Int32Array(handle.progress, indexOf(trainProgressLayout(1), 'position') * 4);
  }

  /** Train on positions [start, end) of the epoch's order. */
  run(task: TrainTask): TaskResult {
    const d = task.data;
    if (d !== undefined && d.train !== this.handle.train) {
      // The data grew (new entities and triples): train on it from now on.
      this.handle = { ...this.handle, train: d.train, order: d.order, numEntities: d.numEntities, filter: d.filter };
      if (this.hyper.filterNegatives && d.filter) this.filter = FilterIndex.attach(d.filter);
    }
    this.moments.fill(0);
    this.client?.reset();
    const h = this.hyper;
    const order = this.handle.order;
    const rand = mulberry32(task.seed);
    const progress = this.progress;
    const w = task.worker;
    let loss = 0;
    let positives = 0;
    Atomics.store(progress, w, task.start);
    if (h.mode === 'async') {
      // Chunks alternate between corrupting tails and heads. (Counted per
      // task: a task's start need not be a multiple of the chunk size.)
      let chunkNo = 0;
      for (let p = task.start; p < task.end; p += h.chunk) {
        const n = Math.min(h.chunk, task.end - p);
        loss += this.chunkStep(order, p, n, rand, (task.epoch + chunkNo++) % 2 === 0);
        positives += n;
        Atomics.store(progress, w, p + n);
      }
      return this.result(loss, positives);
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
      this.flushSync(w);
      Atomics.store(progress, w, p);
    }
    return this.result(loss, positives);
  }

  private result(loss: number, positives: number): TaskResult {
    const c = this.client;
    if (c === null) return { loss, positives, relationMoments: this.moments.slice(), ps: null };
    const stats = { ...c.stats };
    const pauses = c.pauseSamples.slice(0, Math.min(stats.pauses, c.pauseSamples.length));
    c.publish();
    return { loss, positives, relationMoments: this.moments.slice(), ps: { ...stats, pauseSamples: pauses } };
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
    const R = this.R;
    const ids = this.rowIds;
    if (this.laidOutFor !== n) {
      for (let j = 0; j < k; j++) this.negG[j] = (2 * n + j) * ew;
      this.laidOutFor = n;
    }
    for (let i = 0; i < n; i++) {
      const t3 = order[p + i]! * 3;
      const head = train[t3]!;
      const rel = train[t3 + 1]!;
      const tail = train[t3 + 2]!;
      const fixed = corruptTail ? head : tail;
      const other = corruptTail ? tail : head;
      this.fixedIds[i] = fixed;
      this.otherIds[i] = other;
      this.relIds[i] = rel;
      this.relOffs[i] = rel * rw;
      ids[2 * i] = fixed;
      ids[2 * i + 1] = other;
    }
    const numE = this.handle.numEntities;
    for (let j = 0; j < k; j++) {
      const e = Math.floor(rand() * numE);
      this.negIds[j] = e;
      ids[2 * n + j] = e;
    }
    // Where the kernels read the rows: the gathered tile, or the table in place.
    let X: Float32Array;
    if (this.client !== null) {
      this.client.readEntities(ids, 2 * n + k, this.tile, this.rowOffs);
      X = this.tile;
    } else if (this.fixedRead === this.fixedG) {
      // The direct path with the SIMD kernels: they read a gathered tile too.
      const E = this.E;
      const tile = this.tile;
      for (let r = 0; r < 2 * n + k; r++) {
        const src = ids[r]! * ew;
        const dst = r * ew;
        for (let q = 0; q < ew; q++) tile[dst + q] = E[src + q]!;
      }
      X = tile;
    } else {
      X = this.E;
      for (let i = 0; i < n; i++) {
        this.fixedRead[i] = this.fixedIds[i]! * ew;
        this.otherRead[i] = this.otherIds[i]! * ew;
      }
      for (let j = 0; j < k; j++) this.negRead[j] = this.negIds[j]! * ew;
    }
    const b = this.block;
    b.dim = h.dim;
    b.n = n;
    b.ent = X;
    b.entOffs = this.fixedRead;
    b.rel = R;
    b.relOffs = this.relOffs;
    b.m = k;
    b.cand = X;
    b.candOffs = this.negRead;
    const simd = this.simd;
    // The SIMD kernels take the plain logistic loss's coefficients too (no
    // self-adversarial weights, no masked pairs); other losses go through JS.
    const simdLoss = simd !== null && h.loss === 'logistic' && h.adversarial === 0 && this.filter === null;
    if (simd !== null)
      simd.scoreNegatives(corruptTail, n, R, this.relOffs, this.fixedRead, simdLoss ? null : this.scores);
    else if (corruptTail) this.model.scoreTails(b, this.scores);
    else this.model.scoreHeads(b, this.scores);
    const model = this.model;
    if (simd !== null) simd.scorePositives(n, this.otherRead, this.posScore);
    else {
      for (let i = 0; i < n; i++) {
        const ho = corruptTail ? this.fixedRead[i]! : this.otherRead[i]!;
        const to = corruptTail ? this.otherRead[i]! : this.fixedRead[i]!;
        this.posScore[i] = model.score(X, ho, R, this.relOffs[i]!, X, to, h.dim);
      }
    }
    if (this.filter !== null) this.maskKnownTriples(n, k, corruptTail);
    let loss: number;
    if (simdLoss) {
      loss = this.simdLogistic(n);
    } else {
      loss = this.lossAndCoefficients(n, k);
      simd?.setCoefficients(n, this.coef);
    }
    // Gradients into zeroed rows laid out like the tile.
    const G = this.G;
    G.fill(0, 0, (simd !== null ? simd.rowsUsed(n) : 2 * n + k) * ew);
    this.gRel.fill(0, 0, n * rw);
    const g = this.blockGrad;
    g.ent = G;
    g.entOffs = this.fixedG;
    g.rel = this.gRel;
    g.relOffs = this.scratchOffsR;
    g.cand = G;
    g.candOffs = this.negG;
    if (simd !== null) {
      // The positives' own pairs go through the same query gradients.
      simd.addPairGradients(
        corruptTail,
        n,
        R,
        this.relOffs,
        this.fixedRead,
        this.fixedG,
        this.gRel,
        this.scratchOffsR,
        this.posCoef,
        this.otherRead,
        this.otherG,
      );
    } else if (corruptTail) model.accumulateGradTails(b, this.coef, g);
    else model.accumulateGradHeads(b, this.coef, g);
    for (let i = 0; i < n && simd === null; i++) {
      const c = this.posCoef[i]!;
      const ro = this.relOffs[i]!;
      if (corruptTail) {
        model.accumulateGrad(
          X,
          this.fixedRead[i]!,
          R,
          ro,
          X,
          this.otherRead[i]!,
          h.dim,
          c,
          G,
          this.fixedG[i]!,
          this.gRel,
          i * rw,
          G,
          this.otherG[i]!,
        );
      } else {
        model.accumulateGrad(
          X,
          this.otherRead[i]!,
          R,
          ro,
          X,
          this.fixedRead[i]!,
          h.dim,
          c,
          G,
          this.otherG[i]!,
          this.gRel,
          i * rw,
          G,
          this.fixedG[i]!,
        );
      }
    }
    // Regularise the positives' rows, then hand every touched row to the update.
    for (let i = 0; i < n; i++) {
      this.regularise(X, this.fixedRead[i]!, G, this.fixedG[i]!, ew);
      this.regularise(X, this.otherRead[i]!, G, this.otherG[i]!, ew);
      this.regularise(R, this.relOffs[i]!, this.gRel, i * rw, rw);
    }
    this.update(n, k);
    return loss;
  }

  /**
   * Hand the chunk's gradients to the update: the client's pushes (one per
   * shard touched, then the relations), the direct path's in-place rule, or
   * sync mode's batch sums. Rows of one entity keep their order (fixed and
   * other of positive 0, of positive 1, ..., then the negatives).
   */
  private update(n: number, k: number): void {
    const h = this.hyper;
    const rows = 2 * n + k;
    const ids = this.rowIds;
    if (h.mode === 'sync') {
      const ew = this.shapes.entityWidth;
      for (let r = 0; r < rows; r++) this.addSync(ids[r]!, this.G, r * ew, ew);
      const rw = this.shapes.relationWidth;
      for (let i = 0; i < n; i++) {
        const base = this.relIds[i]! * rw;
        for (let q = 0; q < rw; q++) this.relGradSum[base + q] = this.relGradSum[base + q]! + this.gRel[i * rw + q]!;
        this.relTouched[this.relIds[i]!] = 1;
      }
      return;
    }
    const client = this.client;
    if (client !== null) {
      // A gate that stays fenced past twice the lease (a snapshot that died
      // holding it, never lifted) leaves that push out; training goes on.
      client.pushEntities(ids, rows, this.G, this.rowOffs);
      client.pushRelations(this.relIds, n, this.gRel, this.scratchOffsR);
      return;
    }
    const ew = this.shapes.entityWidth;
    const rw = this.shapes.relationWidth;
    const perValue = h.optimizer === 'adagrad';
    const maxNorm = h.maxNorm ?? 0;
    for (let r = 0; r < rows; r++) {
      const id = ids[r]!;
      this.applyRow(this.E, id * ew, this.acc, perValue ? id * ew : id, this.G, r * ew, ew);
      if (maxNorm > 0) projectRow(this.E, id * ew, ew, maxNorm);
    }
    for (let i = 0; i < n; i++) {
      const id = this.relIds[i]!;
      this.applyRow(this.R, id * rw, this.relAcc, perValue ? id * rw : id, this.gRel, i * rw, rw);
    }
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
          // softplus(z) and sigmoid(z) from one exponential: e = exp(-|z|).
          const e = Math.exp(-Math.abs(zn));
          total += w * ((zn > 0 ? zn : 0) + Math.log1p(e));
          this.coef[row + j] = w * (zn >= 0 ? 1 / (1 + e) : e / (1 + e));
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
      this.noteLoss(i, total - before);
    }
    return total;
  }

  /**
   * The SIMD kernels' logistic loss (uniform weights): the negatives' mean
   * softplus and their coefficients from `train.wat`, the positive's term
   * here. Returns the chunk's summed loss, as `lossAndCoefficients` does.
   */
  private simdLogistic(n: number): number {
    const gamma = this.hyper.margin;
    this.simd!.logistic(n, gamma, this.rowLoss);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const zp = gamma + this.posScore[i]!;
      this.posCoef[i] = -sigmoid(-zp);
      const x = softplus(-zp) + this.rowLoss[i]!;
      total += x;
      this.noteLoss(i, x);
    }
    return total;
  }

  /** Welford update of positive i's relation with its loss `x`. */
  private noteLoss(i: number, x: number): void {
    const moments = this.moments;
    const m = this.relIds[i]! * 3;
    const c = moments[m]! + 1;
    const mean = moments[m + 1]!;
    const d = x - mean;
    const next = mean + d / c;
    moments[m] = c;
    moments[m + 1] = next;
    moments[m + 2] = moments[m + 2]! + d * (x - next);
  }

  private regularise(table: Float32Array, off: number, g: Float32Array, go: number, width: number): void {
    addRegGradient(this.model, this.hyper.regKind, this.hyper.reg, table, off, width, g, go);
  }

  /**
   * Direct path: Hogwild update of one row in place (racy by design, see the module
   * comment). `accIdx` is the row's first accumulator in `acc`: its first
   * float's index (`adagrad`) or its row's index (`adagrad-row`).
   */
  private applyRow(
    table: Float32Array,
    off: number,
    acc: Float32Array,
    accIdx: number,
    g: Float32Array,
    go: number,
    width: number,
  ): void {
    applyRule(this.hyper.optimizer, table, off, acc, accIdx, g, go, width, this.hyper.lr);
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
    if (this.client !== null) this.client.pushEntitiesSync(worker, this.syncRows, n, this.syncGrads);
    else this.ps.pushFlat(0, worker, this.syncRows, this.syncGrads, n);
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
