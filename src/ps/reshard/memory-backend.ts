/**
 * The single-threaded model backend: an `AssignmentLifecycle` decides, and
 * this class keeps the row values of every physical copy (one
 * `Float32Array` per chunk per shard) so that copying, draining, freeing
 * and corrections can be checked down to the values.
 *
 * Writes follow the latest version: a push adds its delta to every live
 * copy of the row's visible chunk, and to the chunk's pending replacement
 * (its registered rows before it is placed, its copies after), so a
 * correction loses no push made after it was registered.
 */
import type { Clock } from '../../shm/clock.js';
import { reshardInvariant, reshardShape, reshardUnknownChunk } from '../../errors.js';
import type {
  CorrectionRecord,
  PushResult,
  ReadResult,
  ReaderPin,
  ReshardBackend,
  ReshardState,
  StepReport,
} from './backend.js';
import { AssignmentLifecycle } from './lifecycle.js';
import type { ReshardOptions } from './options.js';
import { holdersOf, type ChunkId, type ShardId } from './types.js';

const key = (c: ChunkId, s: ShardId): string => `${c}:${s}`;

export class InMemoryReshardBackend implements ReshardBackend {
  readonly options: ReshardOptions;
  private readonly clock: Clock;
  private readonly life: AssignmentLifecycle;
  /** Rows of every physical copy, by `chunk:shard`. */
  private readonly copies = new Map<string, Float32Array>();
  /** Rows of chunks registered but not placed yet. */
  private readonly registered = new Map<ChunkId, Float32Array>();

  constructor(options: Partial<ReshardOptions>, clock: Clock) {
    this.clock = clock;
    // The lifecycle's constructor publishes the first placement; its chunks start at zero.
    this.life = new AssignmentLifecycle(options, () => clock.now());
    this.options = this.life.options;
    for (const [c, h] of this.life.latest.placement) {
      for (const s of [...h.floor, ...h.bonus]) this.copies.set(key(c, s), this.zeros(c));
    }
    for (const c of this.life.allChunks()) if (c.phase === 'unplaced') this.registered.set(c.id, this.zeros(c.id));
  }

  /** A `ReshardBackendFactory`. */
  static create(options: Partial<ReshardOptions>, clock: Clock): Promise<InMemoryReshardBackend> {
    return new Promise((resolve) => resolve(new InMemoryReshardBackend(options, clock)));
  }

  /** The lifecycle model underneath (read it; do not drive it around this backend). */
  get lifecycle(): AssignmentLifecycle {
    return this.life;
  }

  reshard(shards: number): Promise<void> {
    return this.run(() => this.life.reshard(shards));
  }

  setReplication(replication: number, bonusReplicas: number): Promise<void> {
    return this.run(() => this.life.setReplication(replication, bonusReplicas));
  }

  addEntities(count: number): Promise<readonly ChunkId[]> {
    return this.run(() => {
      const ids = this.life.addRows(count);
      for (const c of ids) this.registered.set(c, this.zeros(c));
      return ids;
    });
  }

  correct(chunk: ChunkId, values: Float32Array): Promise<CorrectionRecord> {
    return this.run(() => {
      if (!(values instanceof Float32Array)) {
        const info = this.life.chunk(chunk);
        if (info === undefined) throw reshardUnknownChunk('correct', chunk);
        throw reshardShape('correct', chunk, info.block.rows * this.options.dim, Number.NaN, this.options.dim);
      }
      const record = this.life.registerCorrection(chunk, values.length);
      this.registered.set(record.replacement, Float32Array.from(values));
      return record;
    });
  }

  step(): Promise<StepReport> {
    return this.run(() => {
      const report = this.life.step();
      if (report.published === 0 && report.freed.length === 0) return report;
      for (const f of report.freed) this.copies.delete(key(f.chunk, f.shard));
      for (const a of report.adds) {
        const src =
          a.source.from === 'shard' ? this.copies.get(key(a.chunk, a.source.shard)) : this.registered.get(a.chunk);
        // The lifecycle names a source that holds the rows; a missing one is a bug to surface, not to paper over.
        if (src === undefined)
          throw reshardInvariant('InMemoryReshardBackend.step', `no rows to copy chunk ${a.chunk} from`);
        this.copies.set(key(a.chunk, a.shard), Float32Array.from(src));
      }
      for (const c of report.placed) this.registered.delete(c);
      return report;
    });
  }

  workerJoin(): Promise<number> {
    return this.run(() => this.life.workerJoin());
  }

  workerLeave(worker: number): Promise<void> {
    return this.run(() => this.life.workerLeave(worker));
  }

  confirm(worker: number, version: number): Promise<'ok' | 'excluded'> {
    return this.run(() => this.life.confirm(worker, version));
  }

  pin(): Promise<ReaderPin> {
    return this.run(() => this.life.pin());
  }

  unpin(pin: number): Promise<void> {
    return this.run(() => this.life.unpin(pin));
  }

  read(pin: number, row: number, out: Float32Array): Promise<ReadResult> {
    const r = this.life.resolve(pin, row);
    if (r === undefined) return Promise.resolve({ state: 'unknown-pin' });
    return Promise.resolve(r.state === 'ok' ? this.copyOut(r.chunk, r.shard, row, out, r) : r);
  }

  readAt(version: number, row: number, out: Float32Array): Promise<ReadResult> {
    const r = this.life.resolveAt(version, row);
    return Promise.resolve(r.state === 'ok' ? this.copyOut(r.chunk, r.shard, row, out, r) : r);
  }

  push(row: number, delta: Float32Array): Promise<PushResult> {
    const dim = this.options.dim;
    if (delta.length !== dim) return Promise.resolve({ state: 'bad-length' });
    const r = this.life.resolveLatest(row);
    if (r.state !== 'ok') return Promise.resolve({ state: 'no-row' });
    const block = this.life.chunk(r.chunk)!.block;
    const at = (row - block.firstRow) * dim;
    let copies = 0;
    const apply = (rows: Float32Array | undefined): void => {
      if (rows === undefined) return;
      for (let k = 0; k < dim; k++) rows[at + k] = rows[at + k]! + delta[k]!;
      copies++;
    };
    const latest = this.life.latest.placement;
    for (const s of holdersOf(latest, r.chunk)) apply(this.copies.get(key(r.chunk, s)));
    const rep = this.life.pendingReplacement(r.chunk);
    if (rep !== undefined) {
      const placed = holdersOf(latest, rep);
      if (placed.length === 0) apply(this.registered.get(rep));
      for (const s of placed) apply(this.copies.get(key(rep, s)));
    }
    return Promise.resolve({ state: 'ok', copies });
  }

  readLatest(row: number, out: Float32Array): Promise<ReadResult> {
    const r = this.life.resolveLatest(row);
    return Promise.resolve(r.state === 'ok' ? this.copyOut(r.chunk, r.shard, row, out, r) : r);
  }

  readCopy(chunk: ChunkId, shard: ShardId, row: number, out: Float32Array): Promise<boolean> {
    const rows = this.copies.get(key(chunk, shard));
    const info = this.life.chunk(chunk);
    if (rows === undefined || info === undefined) return Promise.resolve(false);
    const i = row - info.block.firstRow;
    if (i < 0 || i >= info.block.rows) return Promise.resolve(false);
    out.set(rows.subarray(i * this.options.dim, (i + 1) * this.options.dim));
    return Promise.resolve(true);
  }

  inspect(): Promise<ReshardState> {
    const life = this.life;
    const latest = life.latest;
    const versions = [];
    for (let v = 0; v <= latest.version; v++) {
      const a = life.assignment(v);
      if (a !== undefined) versions.push(a);
    }
    const copies: { chunk: ChunkId; shard: ShardId; draining: boolean }[] = [];
    for (const c of latest.placement.keys())
      for (const s of holdersOf(latest.placement, c)) copies.push({ chunk: c, shard: s, draining: false });
    for (const d of life.drainingCopies()) copies.push({ chunk: d.chunk, shard: d.shard, draining: true });
    return Promise.resolve({
      now: this.clock.now(),
      latest,
      versions,
      watermark: life.watermark(),
      shards: life.shardCount,
      replication: life.replicationFactor.replication,
      bonusReplicas: life.replicationFactor.bonusReplicas,
      rows: life.rowCount,
      blocks: life.rowBlocks(),
      chunks: life.allChunks().map((c) => ({
        id: c.id,
        block: c.block.index,
        bytes: c.bytes,
        phase: c.phase,
        replaces: c.replaces,
        replacedBy: c.replacedBy,
      })),
      copies,
      footprint: life.footprint(),
      workers: life.liveWorkers(),
      pins: life.pinsHeld().map(({ pin, version, atMs }) => ({ pin, version, atMs })),
      corrections: life.corrections(),
    });
  }

  close(): Promise<void> {
    this.copies.clear();
    this.registered.clear();
    return Promise.resolve();
  }

  // ------------------------------------------------------------ internals

  /** Run a control-plane call, turning a throw into a rejection. */
  private run<T>(fn: () => T): Promise<T> {
    // A throw inside the executor becomes the rejection.
    return new Promise((resolve) => resolve(fn()));
  }

  private zeros(c: ChunkId): Float32Array {
    const info = this.life.chunk(c)!;
    return new Float32Array(info.block.rows * this.options.dim);
  }

  private copyOut(
    chunk: ChunkId,
    shard: ShardId,
    row: number,
    out: Float32Array,
    r: { readonly state: 'ok'; readonly chunk: ChunkId; readonly shard: ShardId; readonly version: number },
  ): ReadResult {
    const rows = this.copies.get(key(chunk, shard));
    const info = this.life.chunk(chunk)!;
    // The lifecycle keeps what pins, the watermark and the grace window protect; past those, say so.
    if (rows === undefined) return { state: 'missing', chunk, shard };
    const i = row - info.block.firstRow;
    out.set(rows.subarray(i * this.options.dim, (i + 1) * this.options.dim));
    return r;
  }
}
