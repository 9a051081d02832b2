/**
 * A training worker's access to the parameter server: the path every
 * training step takes. Entity rows are addressed by their index in the
 * server's `entityIds` (a dataset's entity id); the client finds each row's
 * shard and row through the server's versioned chunk placement
 * (placement.ts): it keeps its own copy of the latest version's chunk
 * locations, refreshes it when a newer version is published, and confirms
 * each version it applies (the confirmation watermark that lets a moved
 * chunk's old copy be dropped).
 *
 * - `readEntities` gathers rows from whichever shards hold them into the
 *   caller's contiguous tile: an in-place read, not a fenced copy, so a row
 *   may show a Hogwild update in flight (racy by design, as in DGL-KE and
 *   PyTorch-BigGraph). For each shard it touches it records the shard's step
 *   at that moment: this worker's last read of the shard.
 * - `pushEntities` / `pushRelations` (async mode, Hogwild) group the rows by
 *   shard and apply each shard's group as one push with the server's rule
 *   (`Tables.updateRow`; under SGD and element-wise Adagrad the group is
 *   packed into the shard's kernel scratch and applied by the SIMD kernel,
 *   the same bits), inside
 *   that shard's shared-writer gate
 *   (`Seqlock.enterShared`), so a snapshot that fences the shard sees each
 *   push wholly or not at all. No lock: pushes to one shard from several
 *   workers run at once. Inside the gate, before writing, the push checks
 *   that the placement it grouped by is still the latest: a chunk moves
 *   only while its shard is fenced, so rows grouped by the latest version
 *   are where the push writes them, and no update is lost to a move. When
 *   a newer version was published meanwhile, the rows not yet applied are
 *   grouped again. Each push counts the shard's step; its staleness
 *   is the number of pushes to that shard by anyone since this worker's last
 *   read of it.
 * - `pushEntitiesSync` (sync mode) groups the batch's rows by shard and
 *   pushes every shard (an empty push where the batch touched none), each
 *   through the shard's step barrier (`ParameterServer.pushFlat`).
 *
 * Hot-path code: nothing is allocated after construction, nothing throws;
 * pushes return a status. Callers are trusted (the trainer): ids and
 * gradients are not re-checked per row. Counters are kept per client and
 * added to the server's statistics by `publish` (once per task).
 */
import { SEQ_OK, type SeqStatus } from '../shm/seqlock.js';
import type { Tables } from './tables.js';
import { pushSync } from './sync-step.js';
import { atomicMax } from './hogwild.js';
import { applyRule, projectRow } from './update-rules.js';
import type { Placement } from './placement.js';

/** What one client saw, since it was created or last reset. */
export interface ClientStats {
  /** Shard reads (a gather counts once per shard it touched). */
  reads: number;
  /** Hogwild pushes (one per shard group); sync steps are counted by the server. */
  pushes: number;
  relationPushes: number;
  /** Sum and maximum of the staleness of async pushes. */
  stalenessSum: number;
  stalenessMax: number;
  /** Pushes that waited for a snapshot's fence, the longest wait (µs) and the first `pauseSamples` waits (µs). */
  pauses: number;
  pauseMaxUs: number;
}

/** Rows of one shard's group packed into the SGD kernel's scratch per kernel call. */
const GROUP_CHUNK = 256;

/** Pause samples a client keeps (per reset). */
export const PAUSE_SAMPLES = 4096;

export class PsClient {
  readonly worker: number;
  readonly numShards: number;
  readonly dim: number;
  readonly relationDim: number;
  readonly stats: ClientStats = {
    reads: 0,
    pushes: 0,
    relationPushes: 0,
    stalenessSum: 0,
    stalenessMax: 0,
    pauses: 0,
    pauseMaxUs: 0,
  };
  /** The first `PAUSE_SAMPLES` pauses (µs) since the last reset. */
  readonly pauseSamples = new Float64Array(PAUSE_SAMPLES);

  private readonly tables: Tables;
  private readonly placement: Placement;
  /** Entity → chunk, entity → row in its chunk (shared, written once per entity). */
  private readonly chunkOf: Int32Array;
  private readonly offsetOf: Int32Array;
  /** This client's copy of a placement version: each chunk's shard and the region row of its row 0. */
  private readonly locShard: Int32Array;
  private readonly locBase: Int32Array;
  /** The placement version `locShard`/`locBase` hold. */
  private version = -1;
  /** Rows of the current push already applied (when a newer placement makes it regroup). */
  private readonly done: Uint8Array;
  private readonly data: Float32Array[];
  /** Each shard's step when this client last read it. */
  private readonly lastRead: Int32Array;
  /** Per shard, the stamp of the gather that last counted a read of it. */
  private readonly readMark: Int32Array;
  private readStamp = 0;
  /**
   * Float64 views of the shards' rows and of the last gather's destination,
   * for copying rows two floats at a time (null where a row is an odd number
   * of floats or a buffer is not 8-byte aligned). Sound because table rows
   * hold finite floats: two finite float32s never make a float64 NaN, whose
   * bits a copy could change.
   */
  private readonly data64: (Float64Array | null)[];
  private dst32: Float32Array | null = null;
  private dst64: Float64Array | null = null;
  // Grouping by shard (a stable counting sort), sized for `maxRows` rows per push.
  private readonly groupCount: Int32Array;
  private readonly groupStart: Int32Array;
  private readonly order: Int32Array;
  // Sync pushes: each shard's rows and gradients, packed.
  private readonly syncRows: Int32Array[];
  private readonly syncGrads: Float32Array[];

  /**
   * `maxRows`: the most entity rows one push carries. Sync mode also sizes
   * each shard's packed push (at most `maxRows` or the shard's rows).
   */
  constructor(tables: Tables, worker: number, maxRows: number) {
    this.tables = tables;
    this.worker = worker;
    this.numShards = tables.numShards;
    this.dim = tables.dim;
    this.relationDim = tables.relationDim;
    this.placement = tables.placement;
    this.chunkOf = this.placement.chunkOf;
    this.offsetOf = this.placement.offsetOf;
    this.locShard = new Int32Array(this.placement.shape.maxChunks);
    this.locBase = new Int32Array(this.placement.shape.maxChunks);
    this.done = new Uint8Array(maxRows);
    this.data = Array.from({ length: this.numShards }, (_, s) => tables.locks[s]!.data);
    this.data64 = this.data.map((d) => float64View(d, this.dim));
    this.lastRead = new Int32Array(this.numShards);
    this.readMark = new Int32Array(this.numShards);
    this.groupCount = new Int32Array(this.numShards);
    this.groupStart = new Int32Array(this.numShards + 1);
    this.order = new Int32Array(maxRows);
    const sync = tables.config.mode === 'sync';
    this.syncRows = Array.from({ length: this.numShards }, (_, s) =>
      sync ? new Int32Array(Math.min(maxRows, tables.locks[s]!.rows)) : new Int32Array(0),
    );
    this.syncGrads = Array.from({ length: this.numShards }, (_, s) =>
      sync ? new Float32Array(Math.min(maxRows, tables.locks[s]!.rows) * this.dim) : new Float32Array(0),
    );
    this.follow();
  }

  /**
   * Follow the latest placement: copy its chunk locations when it is newer
   * than this client's, and confirm it (this worker has applied it, and is
   * alive). Returns the version held. Allocates nothing.
   */
  follow(): number {
    const p = this.placement;
    if (p.version() !== this.version) this.version = p.copyLatest(this.locShard, this.locBase);
    p.confirm(this.worker, this.version, this.tables.clock.now());
    return this.version;
  }

  /**
   * This worker leaves: it stops counting for the confirmation quorum at
   * once (instead of after its timeout), so old copies no longer wait for
   * it. A later `follow` (or push) confirms again.
   */
  leave(): void {
    this.placement.release(this.worker);
  }

  /** The placement version this client reads and writes by. */
  placementVersion(): number {
    return this.version;
  }

  /** Zero the counters (not the server's). */
  reset(): void {
    const s = this.stats;
    s.reads = s.pushes = s.relationPushes = s.stalenessSum = s.stalenessMax = s.pauses = s.pauseMaxUs = 0;
  }

  /** The relation table, in place (replicated: every thread reads the one copy; racy by design under Hogwild). */
  relations(): Float32Array {
    return this.tables.locks[this.tables.rel]!.data;
  }

  /**
   * Copy entity rows `ids[i]` (i < count) into `dst` at `dstOffs[i]`, `dim`
   * floats each, from the shards that hold them, in place (see the module
   * note). Records each touched shard's step as this worker's last read.
   */
  readEntities(ids: Int32Array, count: number, dst: Float32Array, dstOffs: Int32Array): void {
    const dim = this.dim;
    const stamp = (this.readStamp = (this.readStamp + 1) | 0 || 1);
    if (this.placement.version() !== this.version) this.follow();
    const chunkOf = this.chunkOf;
    const offsetOf = this.offsetOf;
    const locShard = this.locShard;
    const locBase = this.locBase;
    const readMark = this.readMark;
    if (dst !== this.dst32) {
      this.dst32 = dst;
      this.dst64 = float64View(dst, dim);
    }
    const dst64 = this.dst64;
    const half = dim >> 1;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      const c = chunkOf[id]!;
      const s = locShard[c]!;
      const row = locBase[c]! + offsetOf[id]!;
      if (readMark[s] !== stamp) {
        readMark[s] = stamp;
        this.lastRead[s] = this.tables.step(s);
        this.stats.reads++;
      }
      const src64 = this.data64[s]!;
      if (dst64 !== null && src64 !== null && (dstOffs[i]! & 1) === 0) {
        // Two floats per move, four moves per step: about twice the plain loop's speed.
        const so = row * half;
        const d = dstOffs[i]! >> 1;
        let q = 0;
        for (; q + 4 <= half; q += 4) {
          const a = src64[so + q]!;
          const b = src64[so + q + 1]!;
          const c = src64[so + q + 2]!;
          const e = src64[so + q + 3]!;
          dst64[d + q] = a;
          dst64[d + q + 1] = b;
          dst64[d + q + 2] = c;
          dst64[d + q + 3] = e;
        }
        for (; q < half; q++) dst64[d + q] = src64[so + q]!;
        continue;
      }
      const src = this.data[s]!;
      const so = row * dim;
      const d = dstOffs[i]!;
      for (let q = 0; q < dim; q++) dst[d + q] = src[so + q]!;
    }
  }

  /**
   * Async mode: apply gradient `grads[gradOffs[i] ..]` to entity `ids[i]`
   * (i < count) with the server's rule, one Hogwild push per shard touched.
   * Rows of one id keep their order. Returns `SEQ_OK`, or the status of a
   * shard gate that could not be entered (`SEQ_TIMED_OUT`; the rows of that
   * shard and after were not applied).
   */
  pushEntities(ids: Int32Array, count: number, grads: Float32Array, gradOffs: Int32Array): SeqStatus {
    const n = this.numShards;
    const p = this.placement;
    this.done.fill(0, 0, count);
    let left = count;
    while (left > 0) {
      const v = this.follow();
      this.groupByShard(ids, count);
      const start = this.groupStart;
      for (let s = 0; s < n; s++) {
        const from = start[s]!;
        const to = start[s + 1]!;
        if (from === to) continue;
        const gate = this.tables.locks[s]!;
        const entered = gate.enterShared();
        if (entered !== SEQ_OK) return entered;
        if (p.version() !== v) {
          // A chunk moved since the rows were grouped: group what is left by the new placement.
          gate.leaveShared();
          break;
        }
        this.notePause(gate.lastSharedWaitMs);
        this.applyGroup(s, ids, from, to, grads, gradOffs);
        // Counted before leaving: a snapshot that fences the shard sees the step of the rows it copies.
        const before = Atomics.add(this.tables.ctl, this.tables.fields[s]!.step, 1);
        gate.leaveShared();
        for (let g = from; g < to; g++) this.done[this.order[g]!] = 1;
        left -= to - from;
        const staleness = before - this.lastRead[s]!;
        this.stats.pushes++;
        this.stats.stalenessSum += staleness;
        if (staleness > this.stats.stalenessMax) this.stats.stalenessMax = staleness;
      }
    }
    return SEQ_OK;
  }

  /** Async mode: apply relation gradients (`ids[i]` relation rows), one Hogwild push. */
  pushRelations(ids: Int32Array, count: number, grads: Float32Array, gradOffs: Int32Array): SeqStatus {
    if (count === 0) return SEQ_OK;
    const t = this.tables.rel;
    const gate = this.tables.locks[t]!;
    const entered = gate.enterShared();
    if (entered !== SEQ_OK) return entered;
    this.notePause(gate.lastSharedWaitMs);
    for (let i = 0; i < count; i++) this.tables.updateRow(t, ids[i]!, grads, gradOffs[i]!);
    Atomics.add(this.tables.ctl, this.tables.fields[t]!.step, 1);
    gate.leaveShared();
    this.stats.relationPushes++;
    return SEQ_OK;
  }

  /**
   * Sync mode (worker threads): push `worker`'s batch of entity gradients, `count`
   * rows (`ids[i]`, gradient at `grads[i * dim]`), to every shard through
   * its step barrier, an empty push where the batch touched none of its
   * rows. Blocks until each shard's step completes.
   */
  pushEntitiesSync(worker: number, ids: Int32Array, count: number, grads: Float32Array): void {
    const dim = this.dim;
    this.follow();
    this.done.fill(0, 0, count);
    this.groupByShard(ids, count);
    const start = this.groupStart;
    for (let s = 0; s < this.numShards; s++) {
      const rows = this.syncRows[s]!;
      const packed = this.syncGrads[s]!;
      let m = 0;
      for (let g = start[s]!; g < start[s + 1]!; g++) {
        const i = this.order[g]!;
        rows[m] = this.rowOf(ids[i]!);
        const src = i * dim;
        const dst = m * dim;
        for (let q = 0; q < dim; q++) packed[dst + q] = grads[src + q]!;
        m++;
      }
      pushSync(this.tables, 'PsClient.pushEntitiesSync', s, worker, rows, packed, m);
    }
  }

  /** Add this client's counters to the server's statistics, then zero them. */
  publish(): void {
    const c = this.tables.ctl;
    const f = this.tables.stat;
    const s = this.stats;
    Atomics.add(c, f.pulls, s.reads);
    Atomics.add(c, f.pushes, s.pushes);
    Atomics.add(c, f.relationPushes, s.relationPushes);
    atomicMax(c, f.maxStaleness, s.stalenessMax);
    this.reset();
  }

  /**
   * Apply the rows `order[from..to)` of one shard's group with the server's
   * rule (`Tables.updateRow`'s, with the table's views and settings read
   * once for the group).
   */
  private applyGroup(
    s: number,
    ids: Int32Array,
    from: number,
    to: number,
    grads: Float32Array,
    gradOffs: Int32Array,
  ): void {
    const t = this.tables;
    const dim = this.dim;
    const data = this.data[s]!;
    const acc = t.accs[s]!;
    const lr = t.config.learningRate;
    const maxNorm = t.config.maxNorm;
    const opt = t.config.optimizer;
    const order = this.order;
    const k = t.ruleKernel(s);
    if (k !== null && k.reserve(Math.min(to - from, GROUP_CHUNK))) {
      // The rule in WebAssembly: pack up to GROUP_CHUNK rows (indices and
      // gradients) into the kernel's scratch, then apply them in order with
      // the server's rule (`Tables.applyScratch`: the same bits as below).
      const rows = k.scratchRows;
      const sg = k.scratchGrads;
      for (let c = from; c < to; c += GROUP_CHUNK) {
        const m = Math.min(GROUP_CHUNK, to - c);
        for (let j = 0; j < m; j++) {
          const i = order[c + j]!;
          rows[j] = this.rowOf(ids[i]!);
          const go = gradOffs[i]!;
          const o = j * dim;
          for (let q = 0; q < dim; q++) sg[o + q] = grads[go + q]!;
        }
        t.applyScratch(s, k, m);
      }
      return;
    }
    for (let g = from; g < to; g++) {
      const i = order[g]!;
      const r = this.rowOf(ids[i]!);
      const base = r * dim;
      applyRule(opt, data, base, acc, opt === 'adagrad' ? base : r, grads, gradOffs[i]!, dim, lr);
      if (maxNorm > 0) projectRow(data, base, dim, maxNorm);
    }
  }

  /** Entity `id`'s row in its shard's region, by this client's placement version. */
  private rowOf(id: number): number {
    return this.locBase[this.chunkOf[id]!]! + this.offsetOf[id]!;
  }

  /**
   * Stable counting sort by shard of the rows i < count not yet applied
   * (`done[i]` 0) into `order`, with each shard's range in `groupStart`.
   */
  private groupByShard(ids: Int32Array, count: number): void {
    const n = this.numShards;
    const c = this.groupCount;
    const start = this.groupStart;
    const done = this.done;
    const chunkOf = this.chunkOf;
    const locShard = this.locShard;
    c.fill(0);
    for (let i = 0; i < count; i++) {
      if (done[i] !== 0) continue;
      const s = locShard[chunkOf[ids[i]!]!]!;
      c[s] = c[s]! + 1;
    }
    start[0] = 0;
    for (let s = 0; s < n; s++) start[s + 1] = start[s]! + c[s]!;
    c.fill(0);
    for (let i = 0; i < count; i++) {
      if (done[i] !== 0) continue;
      const s = locShard[chunkOf[ids[i]!]!]!;
      this.order[start[s]! + c[s]!] = i;
      c[s] = c[s]! + 1;
    }
  }

  private notePause(ms: number): void {
    if (ms <= 0) return;
    const us = ms * 1000;
    const s = this.stats;
    if (s.pauses < PAUSE_SAMPLES) this.pauseSamples[s.pauses] = us;
    s.pauses++;
    if (us > s.pauseMaxUs) s.pauseMaxUs = us;
  }
}

/** A Float64Array over `a` where rows of `width` floats pair up and `a` is 8-byte aligned; else null. */
function float64View(a: Float32Array, width: number): Float64Array | null {
  if (width % 2 !== 0 || a.byteOffset % 8 !== 0 || a.length % 2 !== 0) return null;
  return new Float64Array(a.buffer, a.byteOffset, a.length / 2);
}
