/**
 * `SharedMemoryReshardBackend`: the reshard walks' second backend, the real
 * parameter server (src/ps/server.ts) in shared memory, driven across
 * worker threads. The driving thread is the placement's coordinator (it
 * targets shards, registers entities and corrections, and runs scheduler
 * steps through the server's step-wise API); readers pin and read through
 * the real placement on the driving thread; every push and every worker's
 * join, confirmation and departure is done by a `PsClient` in a worker
 * thread (test/fixtures/reshard-sim-worker.ts). Time is the walk's
 * `ManualClock`, which the server and the threads read too.
 *
 * How the interface maps onto the server, where the two differ:
 * - **Replication.** The server keeps one live copy per chunk. This backend
 *   takes replication 1 and no bonus copies only (`setReplication` refuses
 *   anything else with E_INVALID_ARGUMENT); its walks run with replication
 *   commands left out (`SHM_SCOPE`). Replicas are not simulated here.
 * - **Chunks.** One server chunk per row block: each block is registered
 *   by its own `registerEntities` call, so blocks of any `chunkRows` map to
 *   server chunks in order (the server's chunk rows are the next power of
 *   two; a chunk takes one slot of that many rows). The server keeps a
 *   chunk's index across a correction; this backend issues the interface's
 *   chunk ids (a correction gets a new id) and follows which id each slot
 *   of the server holds. `bytes` of a chunk and `capacityBytes` are the
 *   server's: a whole slot per chunk, whole slots per shard.
 * - **Versions.** The server publishes a version per move; the interface
 *   publishes at most one per step. Backend version b stands for the
 *   server's latest version at the end of the step that published it,
 *   P(b). Workers confirm P(b); the watermark reported is the highest b
 *   with P(b) at or below the server's watermark. Versions the backend
 *   still lists keep the locations the server had then (as a worker's
 *   client keeps its copy), with each slot's generation, so a read whose
 *   slot the server has freed since reports `missing`.
 * - **Quorum.** The interface's quorum is a share of the live workers; the
 *   server's is a count (-1 every live worker, 0 none). 1 maps to -1, 0 to
 *   0, and a share in between to ceil(share x live workers), counted from
 *   the server's worker blocks and set (`setConfirmQuorum`) before every
 *   step and inspection.
 * - **Workers.** A worker that leaves releases its block (`PsClient.leave`)
 *   at once. A worker silent past its timeout is excluded by the next step
 *   or confirmation, as in the model: liveness is read from the server's
 *   worker block (the time of its last confirmation). Pushes belong to no
 *   worker: the pushing client releases its block after each push.
 * - **Corrections.** `correct` registers through `registerCorrection`
 *   (pushes after it carry over, earlier ones are replaced); later steps
 *   place the replacement (one of the step's K moves) and swap it in once
 *   the watermark covers the version that placed it. Before the swap the
 *   server's replacement slot holds the registered rows and the pushes since
 *   registration are added by the swap, so `readCopy` of a standby
 *   replacement reports `previewCorrection` (the slot's rows plus that
 *   carry-over, as the swap computes it). Refusals come from the server,
 *   except for ids it cannot know: unknown ids and replaced generations
 *   (E_RESHARD_UNKNOWN_CHUNK, E_RESHARD_CHUNK_REMOVED) are refused here.
 * - **Rows.** The server initialises a new row with `initRow(id)`, the model
 *   with zeros. Values read are the increment over the initial row; an
 *   increment within 2^-5 of an integer is reported as that integer (the
 *   walks push integers; float32 rounding of the initial row plus the
 *   increments stays far below that), anything else as it is, so a lost or
 *   doubled push still shows.
 */
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../src/shm/clock.js';
import {
  invalidArgument,
  KgError,
  reshardChunkRemoved,
  reshardInvariant,
  reshardUnknownChunk,
  reshardUnknownPin,
  reshardUnknownWorker,
} from '../../src/errors.js';
import type {
  CorrectionRecord,
  PushResult,
  ReadResult,
  ReaderPin,
  ReshardBackend,
  ReshardState,
  StepReport,
} from '../../src/ps/reshard/backend.js';
import type { CopyAdd } from '../../src/ps/reshard/lifecycle.js';
import type { CopyChange, Deferral } from '../../src/ps/reshard/plan.js';
import { resolveReshardOptions, VALUE_BYTES, type ReshardOptions } from '../../src/ps/reshard/options.js';
import type { Assignment, ChunkId, Holders, RowBlock, ShardId } from '../../src/ps/reshard/types.js';
import { ParameterServer, type PlacementPin } from '../../src/ps/server.js';
import { PS_PLACEMENT_WORKERS } from '../../src/ps/config.js';
import { initRow } from '../../src/ps/init.js';
import { locShard, locSlot, NO_LOC, Placement, SLOT_DRAINING, SLOT_FREE } from '../../src/ps/placement.js';
import { fixture } from '../helpers/threads.js';
import type { WalkScope } from './walk.js';
import type { ShmEnvelope, ShmReply, ShmRequest } from './shm-protocol.js';

/** What this backend runs: no replication (the server keeps one live copy per chunk). */
export const SHM_SCOPE: WalkScope = Object.freeze({ replicas: false });

/** Slots per shard when the capacity asked for is unbounded (or larger). */
const ROOMY_SLOTS = 1024;
/** Entities a server can grow to. */
const ENTITY_CAPACITY = 4096;
/** Increments this close to an integer are that integer (see the module note). */
const SNAP = 2 ** -5;

// ------------------------------------------------------------------ threads

/**
 * Worker threads hosting the clients of every backend, shared by the
 * backends a campaign creates one after the other. A thread keeps the
 * process alive only while a request to it is in flight.
 */
export class ShmThreads {
  readonly size: number;
  private readonly threads: Worker[];
  private readonly waiting = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
  private readonly inFlight: number[];
  private nextId = 1;
  private failure: Error | undefined;

  constructor(size: number) {
    this.size = size;
    this.inFlight = new Array<number>(size).fill(0);
    this.threads = Array.from({ length: size }, (_, t) => {
      const w = new Worker(fixture('reshard-sim-worker'));
      w.unref();
      w.on('message', (r: ShmReply) => this.settle(t, r));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => this.fail(new Error(`reshard sim thread ${t} exited with code ${code}`)));
      return w;
    });
  }

  /** Send `req` to thread `t`; resolves with its value, rejects with its error (a KgError keeps its code). */
  request(t: number, req: ShmRequest): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    const w = this.threads[t]!;
    if (this.inFlight[t]!++ === 0) w.ref();
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const env: ShmEnvelope = { ...req, id };
      w.postMessage(env);
    });
  }

  /** Terminate every thread. */
  async close(): Promise<void> {
    this.failure ??= new Error('reshard sim threads closed');
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private settle(t: number, r: ShmReply): void {
    if (--this.inFlight[t]! === 0) this.threads[t]!.unref();
    const p = this.waiting.get(r.id);
    if (p === undefined) return;
    this.waiting.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(r.code !== null ? new KgError(r.code, r.message) : new Error(r.message));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }
}

let shared: ShmThreads | undefined;

/** The threads every backend uses (two), started on first use. */
export function shmThreads(): ShmThreads {
  return (shared ??= new ShmThreads(2));
}

/** Terminate the shared threads (the next backend starts new ones). */
export async function closeShmThreads(): Promise<void> {
  const t = shared;
  shared = undefined;
  await t?.close();
}

// ------------------------------------------------------------------ the backend

interface Loc {
  readonly shard: ShardId;
  readonly slot: number;
  /** The slot's generation then (the server bumps it when it frees the slot). */
  readonly gen: number;
}

/** A published backend version: the interface's assignment and where the server held each chunk. */
interface VersionRecord {
  readonly assignment: Assignment;
  readonly locs: ReadonlyMap<ChunkId, Loc>;
}

interface ChunkRecord {
  readonly block: number;
  readonly replaces: ChunkId | undefined;
  replacedBy: ChunkId | undefined;
}

interface SimWorker {
  /** Placement worker id (its block in the server). */
  readonly ps: number;
  readonly thread: number;
  /** Highest backend version it confirmed. */
  confirmed: number;
}

interface HeldPin {
  readonly pin: PlacementPin;
  readonly version: number;
  /** Every slot's generation when the pin was taken. */
  readonly gens: Int32Array;
}

type MutableRecord = { -readonly [K in keyof CorrectionRecord]: CorrectionRecord[K] };

let nextBackend = 1;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class SharedMemoryReshardBackend implements ReshardBackend {
  readonly options: ReshardOptions;
  private readonly id = nextBackend++;
  private readonly clock: Clock;
  private readonly threads: ShmThreads;
  private readonly ps: ParameterServer;
  private readonly p: Placement;
  private readonly dim: number;
  /** Rows per server chunk (slot). */
  private readonly slotRows: number;
  private readonly slotBytes: number;
  /** Placement worker ids left for simulated workers (the rest push). */
  private readonly workerIds: number;
  private readonly blocks: RowBlock[] = [];
  /** Initial row of every entity (the server's `initRow`), rows x dim. */
  private init = new Float32Array(64);
  private rows = 0;
  private nextChunk = 0;
  private readonly chunks = new Map<ChunkId, ChunkRecord>();
  /** Server chunk (= block index) -> the interface id of its current rows. */
  private readonly modelOf: ChunkId[] = [];
  /** Server chunk -> the interface id of its pending replacement. */
  private readonly replacementOf = new Map<number, ChunkId>();
  private readonly audit: MutableRecord[] = [];
  /** Backend version -> the server's version P(b). */
  private readonly psVersion: number[] = [0];
  private latest = 0;
  private readonly kept = new Map<number, VersionRecord>();
  private readonly publishedAt = new Map<number, number>();
  /** Slot index -> the interface id it holds and the slot's generation when it got it. */
  private readonly tags = new Map<number, { readonly chunk: ChunkId; readonly gen: number }>();
  private readonly workers = new Map<number, SimWorker>();
  private nextWorker = 1;
  private readonly pins = new Map<number, HeldPin>();
  private nextPin = 1;
  private pushes = 0;
  private closed = false;

  private constructor(options: ReshardOptions, clock: Clock, threads: ShmThreads, shardRegions: number) {
    this.clock = clock;
    this.threads = threads;
    this.dim = options.dim;
    this.slotRows = nextPow2(options.chunkRows);
    this.slotBytes = this.slotRows * this.dim * VALUE_BYTES;
    const fit = Math.floor(options.capacityBytes / (options.chunkRows * this.dim * VALUE_BYTES));
    const slots = Math.max(1, Math.min(ROOMY_SLOTS, fit));
    this.options = Object.freeze({ ...options, capacityBytes: slots * this.slotBytes });
    this.workerIds = PS_PLACEMENT_WORKERS - threads.size;
    const q = options.quorum;
    this.ps = ParameterServer.create(
      {
        dim: this.dim,
        numShards: Math.max(shardRegions, options.shards),
        activeShards: options.shards,
        expectedWorkers: 1,
        mode: 'async',
        optimizer: 'sgd',
        learningRate: 1,
        maxStaleness: 2 ** 30,
        strategy: 'range',
        chunkRows: this.slotRows,
        shardCapacityRows: slots * this.slotRows,
        entityCapacity: ENTITY_CAPACITY,
        confirmQuorum: q === 0 ? 0 : q === 1 ? -1 : 0,
        graceMs: options.graceMs,
        workerTimeoutMs: options.workerTimeoutMs,
        pinLeaseMs: options.pinLeaseMs,
      },
      [],
      ['r'],
      { clock },
    );
    this.p = Placement.attach(this.ps.handle.placement);
  }

  /**
   * A `ReshardBackendFactory` over the shared threads. `shardRegions`: the
   * most shards a walk may target (the server's regions; default 5, the
   * walks' maximum).
   */
  static async create(
    partial: Partial<ReshardOptions>,
    clock: Clock,
    shardRegions = 5,
  ): Promise<SharedMemoryReshardBackend> {
    const where = 'SharedMemoryReshardBackend';
    const o = resolveReshardOptions(partial, where);
    if (o.replication !== 1 || o.bonusReplicas !== 0)
      throw invalidArgument(where, 'replication', `${o.replication}+${o.bonusReplicas}`, SINGLE_COPY);
    const b = new SharedMemoryReshardBackend(o, clock, shmThreads(), shardRegions);
    for (let t = 0; t < b.threads.size; t++)
      await b.threads.request(t, { op: 'attach', backend: b.id, handle: b.ps.handle, pusher: b.workerIds + t });
    // Version 1: the initial rows placed from nothing (no movement budget), as the model places them.
    b.registerBlocks(o.rows);
    await b.ps.placementStep(Number.MAX_SAFE_INTEGER);
    b.retag();
    b.kept.set(1, b.record(1));
    b.latest = 1;
    b.psVersion.push(b.p.version());
    b.publishedAt.set(1, clock.now());
    return b;
  }

  /** The server underneath (read it; do not drive it around this backend). */
  get server(): ParameterServer {
    return this.ps;
  }

  // ---------------------------------------------------------------- control plane

  reshard(shards: number): Promise<void> {
    return this.run(() => {
      if (!Number.isInteger(shards) || shards < 1)
        throw invalidArgument('reshard', 'shards', shards, 'an integer >= 1');
      this.ps.setTargetShards(shards);
    });
  }

  setReplication(replication: number, bonusReplicas: number): Promise<void> {
    return this.run(() => {
      if (!Number.isInteger(replication) || replication < 1)
        throw invalidArgument('setReplication', 'replication', replication, 'an integer >= 1');
      if (!Number.isInteger(bonusReplicas) || bonusReplicas < 0)
        throw invalidArgument('setReplication', 'bonusReplicas', bonusReplicas, 'an integer >= 0');
      if (replication !== 1 || bonusReplicas !== 0)
        throw invalidArgument('setReplication', 'replication', `${replication}+${bonusReplicas}`, SINGLE_COPY);
    });
  }

  addEntities(count: number): Promise<readonly ChunkId[]> {
    return this.run(() => {
      if (!Number.isInteger(count) || count < 0) throw invalidArgument('addRows', 'count', count, 'an integer >= 0');
      return this.registerBlocks(count);
    });
  }

  async correct(chunk: ChunkId, values: Float32Array): Promise<CorrectionRecord> {
    const info = this.chunks.get(chunk);
    if (info === undefined) throw reshardUnknownChunk('correct', chunk);
    const c = info.block;
    if (this.modelOf[c] !== chunk && this.replacementOf.get(c) !== chunk)
      throw reshardChunkRemoved('correct', chunk, info.replacedBy ?? -1);
    // The server refuses what it must (busy, shape); rows go in over the initial rows.
    const block = this.blocks[c]!;
    let rows = values;
    if (values instanceof Float32Array && values.length === block.rows * this.dim) {
      rows = new Float32Array(values.length);
      const base = block.firstRow * this.dim;
      for (let i = 0; i < values.length; i++) rows[i] = values[i]! + this.init[base + i]!;
    }
    await this.ps.registerCorrection(c, rows);
    const replacement = this.nextChunk++;
    this.chunks.set(replacement, { block: c, replaces: chunk, replacedBy: undefined });
    info.replacedBy = replacement;
    this.replacementOf.set(c, replacement);
    const record: MutableRecord = {
      old: chunk,
      replacement,
      block: c,
      registeredAtMs: this.clock.now(),
      registeredAtVersion: this.latest,
      placedAtVersion: 0,
      swappedAtVersion: 0,
      swappedAtMs: 0,
    };
    this.audit.push(record);
    return { ...record };
  }

  async step(): Promise<StepReport> {
    const now = this.clock.now();
    const excluded: number[] = [];
    for (const [id, w] of [...this.workers]) {
      if (this.silent(w, now)) {
        excluded.push(id);
        await this.release(id, w);
      }
    }
    this.syncQuorum(now);
    const watermark = this.versionAt(this.p.watermark(now));
    const before = this.kept.get(this.latest)!;
    const r = await this.ps.placementStep(this.options.maxMoves);
    // Swapped corrections: the server chunk's rows are now the replacement's.
    const swapped: MutableRecord[] = [];
    for (const s of r.swapped) {
      const rep = this.replacementOf.get(s.chunk);
      if (rep === undefined) throw reshardInvariant(WHERE, `chunk ${s.chunk} swapped without a pending correction`);
      this.modelOf[s.chunk] = rep;
      this.replacementOf.delete(s.chunk);
      swapped.push(this.audit.find((a) => a.replacement === rep)!);
    }
    const freed = this.retag();
    const after = this.record(this.latest + 1);
    let published = 0;
    if (!sameAssignment(before.assignment, after.assignment)) {
      published = ++this.latest;
      this.psVersion.push(this.p.version());
      this.kept.set(published, after);
      this.publishedAt.set(published, now);
    } else if (swapped.length > 0 || r.replacements.length > 0) {
      throw reshardInvariant(WHERE, 'a step swapped or placed a replacement without changing the assignment');
    }
    for (const s of swapped) {
      s.swappedAtVersion = published;
      s.swappedAtMs = now;
    }
    const placed: ChunkId[] = r.placed.map((c) => this.modelOf[c]!);
    for (const c of r.replacements) {
      const rep = this.replacementOf.get(c)!;
      placed.push(rep);
      this.audit.find((a) => a.replacement === rep)!.placedAtVersion = published;
    }
    const { adds, drops } = diff(before.assignment, after.assignment, new Set(placed));
    const moved = new Set(adds.map((a) => a.chunk)).size;
    if (moved !== r.moved + r.placed.length + r.replacements.length)
      throw reshardInvariant(
        WHERE,
        `${moved} chunks gained a copy, the server moved ${r.moved}, placed ${r.placed.length} ` +
          `and ${r.replacements.length} replacements`,
      );
    const deferred: Deferral[] = r.deferrals.map((d) => ({
      chunk: this.modelOf[d.chunk] ?? d.chunk,
      reason: d.reason,
      floor: true,
    }));
    this.collectVersions(watermark, now);
    return {
      published,
      watermark,
      freed,
      adds,
      drops,
      placed,
      swapped: swapped.map((s) => ({ ...s })),
      deferred,
      moved,
      excluded,
      idle: adds.length === 0 && drops.length === 0,
      atIdeal: r.atIdeal,
    };
  }

  // ---------------------------------------------------------------- workers

  async workerJoin(): Promise<number> {
    const taken = new Set([...this.workers.values()].map((w) => w.ps));
    let ps = 0;
    while (ps < this.workerIds && taken.has(ps)) ps++;
    if (ps === this.workerIds)
      throw invalidArgument('workerJoin', 'workers', this.workerIds + 1, `at most ${this.workerIds} live workers`);
    const id = this.nextWorker++;
    const w: SimWorker = { ps, thread: ps % this.threads.size, confirmed: this.latest };
    await this.threads.request(w.thread, {
      op: 'join',
      backend: this.id,
      worker: ps,
      version: this.psVersion[this.latest]!,
    });
    this.workers.set(id, w);
    return id;
  }

  async workerLeave(worker: number): Promise<void> {
    const w = this.workers.get(worker);
    if (w === undefined) throw reshardUnknownWorker('workerLeave', worker);
    await this.release(worker, w);
  }

  async confirm(worker: number, version: number): Promise<'ok' | 'excluded'> {
    const w = this.workers.get(worker);
    if (w === undefined) throw reshardUnknownWorker('confirm', worker);
    if (!Number.isInteger(version) || version < 0 || version > this.latest)
      throw invalidArgument('confirm', 'version', version, `a published version in [0, ${this.latest}]`);
    if (this.silent(w, this.clock.now())) {
      await this.release(worker, w);
      return 'excluded';
    }
    // Confirmations only move forward; a lower one is a heartbeat.
    w.confirmed = Math.max(w.confirmed, version);
    await this.threads.request(w.thread, {
      op: 'confirm',
      backend: this.id,
      worker: w.ps,
      version: this.psVersion[w.confirmed]!,
    });
    return 'ok';
  }

  // ---------------------------------------------------------------- readers

  pin(): Promise<ReaderPin> {
    return this.run(() => {
      const pin = this.ps.pinPlacement();
      const version = this.versionAt(pin.version);
      const id = this.nextPin++;
      this.pins.set(id, { pin, version, gens: Int32Array.from(this.p.slotGen) });
      return { pin: id, version };
    });
  }

  unpin(pin: number): Promise<void> {
    return this.run(() => {
      const h = this.pins.get(pin);
      if (h === undefined) throw reshardUnknownPin('unpin', pin);
      h.pin.unpin();
      this.pins.delete(pin);
    });
  }

  read(pin: number, row: number, out: Float32Array): Promise<ReadResult> {
    const h = this.pins.get(pin);
    if (h === undefined) return Promise.resolve({ state: 'unknown-pin' });
    const now = this.clock.now();
    if (now - this.p.pinnedAt(h.pin.reader) > this.options.pinLeaseMs) return Promise.resolve({ state: 'expired' });
    const rec = this.kept.get(h.version);
    if (rec === undefined) return Promise.resolve({ state: 'expired' });
    const block = this.blockOf(row);
    const chunk = block === undefined ? undefined : rec.assignment.visible.get(block.index);
    const at = block === undefined ? { shard: -1, row: -1 } : h.pin.locate(row);
    if ((chunk === undefined) !== at.shard < 0)
      throw reshardInvariant(WHERE, `pin ${pin} locates row ${row} at shard ${at.shard}, visible chunk ${chunk}`);
    if (chunk === undefined) return Promise.resolve({ state: 'no-row' });
    const slot = Math.floor(at.row / this.slotRows);
    const loc = rec.locs.get(chunk)!;
    if (loc.shard !== at.shard || loc.slot !== slot)
      throw reshardInvariant(WHERE, `pin ${pin} locates chunk ${chunk} apart from where version ${h.version} put it`);
    const i = this.p.slotIndex(at.shard, slot);
    if (this.p.slotGen[i] !== h.gens[i] || this.p.slotState[i] === SLOT_FREE)
      return Promise.resolve({ state: 'missing', chunk, shard: at.shard });
    this.rowOut(at.shard, at.row, row, out);
    return Promise.resolve({ state: 'ok', chunk, shard: at.shard, version: h.version });
  }

  readAt(version: number, row: number, out: Float32Array): Promise<ReadResult> {
    const rec = this.kept.get(version);
    if (rec === undefined) return Promise.resolve({ state: 'expired' });
    return Promise.resolve(this.readIn(rec, version, row, out));
  }

  // ---------------------------------------------------------------- data

  async push(row: number, delta: Float32Array): Promise<PushResult> {
    if (delta.length !== this.dim) return { state: 'bad-length' };
    const block = this.blockOf(row);
    if (block === undefined || this.p.locAt(this.p.version(), block.index) === NO_LOC) return { state: 'no-row' };
    const t = this.pushes++ % this.threads.size;
    await this.threads.request(t, { op: 'push', backend: this.id, entity: row, delta: Array.from(delta) });
    return { state: 'ok', copies: 1 };
  }

  readLatest(row: number, out: Float32Array): Promise<ReadResult> {
    const block = this.blockOf(row);
    if (block === undefined) return Promise.resolve({ state: 'no-row' });
    const loc = this.p.locAt(this.p.version(), block.index);
    if (loc === NO_LOC) return Promise.resolve({ state: 'no-row' });
    const shard = locShard(loc);
    this.rowOut(shard, locSlot(loc) * this.slotRows + this.p.offsetOf[row]!, row, out);
    return Promise.resolve({ state: 'ok', chunk: this.modelOf[block.index]!, shard, version: this.latest });
  }

  readCopy(chunk: ChunkId, shard: ShardId, row: number, out: Float32Array): Promise<boolean> {
    const info = this.chunks.get(chunk);
    const block = info === undefined ? undefined : this.blocks[info.block]!;
    if (block === undefined || row < block.firstRow || row >= block.firstRow + block.rows)
      return Promise.resolve(false);
    const c = block.index;
    if (this.replacementOf.get(c) === chunk) {
      // A placed replacement: what the swap will make of its slot (see the module note).
      const at = this.ps.pendingCorrections().find((f) => f.chunk === c)?.at;
      if (at === undefined || at === null || at.shard !== shard) return Promise.resolve(false);
      const rows = new Float32Array(block.rows * this.dim);
      if (!this.ps.previewCorrection(c, rows)) return Promise.resolve(false);
      const i = (row - block.firstRow) * this.dim;
      for (let k = 0; k < this.dim; k++) out[k] = this.increment(rows[i + k]!, row, k);
      return Promise.resolve(true);
    }
    // The copy on `shard`: the live one if any, else a draining one.
    let found = -1;
    for (const [i, tag] of this.tags) {
      if (tag.chunk !== chunk || Math.floor(i / this.p.shape.slots) !== shard) continue;
      if (found < 0 || this.p.slotState[i] !== SLOT_DRAINING) found = i;
    }
    if (found < 0) return Promise.resolve(false);
    const slot = found % this.p.shape.slots;
    this.rowOut(shard, slot * this.slotRows + this.p.offsetOf[row]!, row, out);
    return Promise.resolve(true);
  }

  // ---------------------------------------------------------------- inspection

  inspect(): Promise<ReshardState> {
    const now = this.clock.now();
    this.syncQuorum(now);
    const latest = this.kept.get(this.latest)!;
    const versions = [...this.kept.keys()].sort((a, b) => a - b).map((v) => this.kept.get(v)!.assignment);
    const copies: { chunk: ChunkId; shard: ShardId; draining: boolean }[] = [];
    const footprint = new Map<ShardId, number>();
    const held = new Set<ChunkId>();
    for (const [i, tag] of this.tags) {
      const shard = Math.floor(i / this.p.shape.slots);
      copies.push({ chunk: tag.chunk, shard, draining: this.p.slotState[i] === SLOT_DRAINING });
      footprint.set(shard, (footprint.get(shard) ?? 0) + this.slotBytes);
      held.add(tag.chunk);
    }
    const pending = new Map(this.ps.pendingCorrections().map((f) => [f.chunk, f]));
    const maxChunks = this.p.shape.maxChunks;
    const chunks = [...this.chunks].map(([id, info]) => {
      const c = info.block;
      let phase: ReshardState['chunks'][number]['phase'];
      let planKey = c;
      if (this.modelOf[c] === id) phase = latest.assignment.visible.has(c) ? 'visible' : 'unplaced';
      else if (this.replacementOf.get(c) === id) {
        phase = pending.get(c)?.at ? 'standby' : 'unplaced';
        planKey = maxChunks + c;
      } else phase = held.has(id) ? 'retired' : 'gone';
      return {
        id,
        block: c,
        bytes: this.slotBytes,
        phase,
        replaces: info.replaces,
        replacedBy: info.replacedBy,
        planKey,
      };
    });
    const timeout = this.options.workerTimeoutMs;
    const workers = [...this.workers]
      .map(([id, w]) => ({ id, block: this.p.confirmed(w.ps) }))
      .filter((w) => now - w.block.seenMs <= timeout)
      .map((w) => ({ id: w.id, confirmed: this.versionAt(w.block.version), lastSeenMs: w.block.seenMs }));
    const pins = [...this.pins].map(([pin, h]) => ({
      pin,
      version: h.version,
      atMs: this.p.pinnedAt(h.pin.reader),
    }));
    return Promise.resolve({
      now,
      latest: latest.assignment,
      versions,
      watermark: this.versionAt(this.p.watermark(now)),
      shards: this.p.activeShards(),
      replication: 1,
      bonusReplicas: 0,
      rows: this.rows,
      blocks: [...this.blocks],
      chunks,
      copies,
      footprint,
      workers,
      pins,
      corrections: this.audit.map((a) => ({ ...a })),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.pins.values()) h.pin.unpin();
    this.pins.clear();
    for (let t = 0; t < this.threads.size; t++) await this.threads.request(t, { op: 'detach', backend: this.id });
  }

  // ---------------------------------------------------------------- internals

  private run<T>(fn: () => T): Promise<T> {
    return new Promise((resolve) => resolve(fn()));
  }

  /** Register `count` rows as blocks of up to chunkRows rows, one server chunk each; returns their ids. */
  private registerBlocks(count: number): ChunkId[] {
    const ids: ChunkId[] = [];
    const C = this.options.chunkRows;
    for (let first = this.rows; first < this.rows + count; first += C) {
      const n = Math.min(C, this.rows + count - first);
      const names = Array.from({ length: n }, (_, j) => `e${first + j}`);
      const { firstEntity, chunks } = this.ps.registerEntities(names);
      const index = this.blocks.length;
      if (firstEntity !== first || chunks.length !== 1 || chunks[0] !== index)
        throw reshardInvariant(WHERE, `block ${index} became chunks ${chunks.join()} from entity ${firstEntity}`);
      this.blocks.push(Object.freeze({ index, firstRow: first, rows: n }));
      const need = (first + n) * this.dim;
      if (need > this.init.length) {
        const grown = new Float32Array(Math.max(need, this.init.length * 2));
        grown.set(this.init);
        this.init = grown;
      }
      for (let j = 0; j < n; j++) initRow(names[j]!, this.dim, this.init, (first + j) * this.dim);
      const id = this.nextChunk++;
      this.chunks.set(id, { block: index, replaces: undefined, replacedBy: undefined });
      this.modelOf.push(id);
      ids.push(id);
    }
    this.rows += count;
    return ids;
  }

  private blockOf(row: number): RowBlock | undefined {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) return undefined;
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.firstRow <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.blocks[lo];
  }

  /** Whether `w` has been silent past its timeout (the server's record of its last confirmation). */
  private silent(w: SimWorker, now: number): boolean {
    return now - this.p.confirmed(w.ps).seenMs > this.options.workerTimeoutMs;
  }

  private async release(id: number, w: SimWorker): Promise<void> {
    this.workers.delete(id);
    await this.threads.request(w.thread, { op: 'leave', backend: this.id, worker: w.ps });
  }

  /** A share of the live workers as the server's count (see the module note). */
  private syncQuorum(now: number): void {
    const f = this.options.quorum;
    if (f === 0 || f === 1) return;
    let live = 0;
    for (let w = 0; w < this.p.shape.workers; w++) {
      const b = this.p.confirmed(w);
      if (b.version > 0 && now - b.seenMs <= this.options.workerTimeoutMs) live++;
    }
    this.ps.setConfirmQuorum(Math.max(0, Math.ceil(f * live - 1e-9)));
  }

  /** The backend version a server version stands for: the highest b with P(b) at or below it. */
  private versionAt(psVersion: number): number {
    let b = this.latest;
    while (b > 1 && this.psVersion[b]! > psVersion) b--;
    return b;
  }

  /** The assignment the server holds now, in the interface's ids, as backend version `version`. */
  private record(version: number): VersionRecord {
    const v = this.p.version();
    const placement = new Map<ChunkId, Holders>();
    const visible = new Map<number, ChunkId>();
    const locs = new Map<ChunkId, Loc>();
    const put = (chunk: ChunkId, shard: ShardId, slot: number): void => {
      placement.set(chunk, Object.freeze({ floor: [shard], bonus: [] }));
      locs.set(chunk, { shard, slot, gen: this.p.slotGen[this.p.slotIndex(shard, slot)]! });
    };
    for (let c = 0; c < this.blocks.length; c++) {
      const loc = this.p.locAt(v, c);
      if (loc === NO_LOC) continue;
      const chunk = this.modelOf[c]!;
      put(chunk, locShard(loc), locSlot(loc));
      visible.set(c, chunk);
    }
    for (const f of this.ps.pendingCorrections())
      if (f.at !== null) put(this.replacementOf.get(f.chunk)!, f.at.shard, f.at.slot);
    return { assignment: Object.freeze({ version, placement, visible }), locs };
  }

  /**
   * Follow the server's slots: a slot freed (or freed and taken again)
   * since the last look ends its copy; a newly taken slot holds the
   * replacement of a pending correction, or the current rows of its chunk.
   * Returns the copies freed.
   */
  private retag(): CopyChange[] {
    const p = this.p;
    const freed: CopyChange[] = [];
    const replacementAt = new Map<number, ChunkId>();
    for (const f of this.ps.pendingCorrections())
      if (f.at !== null) replacementAt.set(p.slotIndex(f.at.shard, f.at.slot), this.replacementOf.get(f.chunk)!);
    for (let i = 0; i < p.slotState.length; i++) {
      const state = p.slotState[i];
      const gen = p.slotGen[i]!;
      const tag = this.tags.get(i);
      if (tag !== undefined && (state === SLOT_FREE || tag.gen !== gen)) {
        freed.push({ chunk: tag.chunk, shard: Math.floor(i / p.shape.slots) });
        this.tags.delete(i);
      }
      if (state === SLOT_FREE || this.tags.has(i)) continue;
      this.tags.set(i, { chunk: replacementAt.get(i) ?? this.modelOf[p.slotChunk[i]!]!, gen });
    }
    return freed;
  }

  /** Forget versions nobody can need (the model's rule; see `AssignmentLifecycle`). */
  private collectVersions(watermark: number, now: number): void {
    let keepFrom = Math.min(watermark, this.latest);
    for (const h of this.pins.values())
      if (now - this.p.pinnedAt(h.pin.reader) <= this.options.pinLeaseMs) keepFrom = Math.min(keepFrom, h.version);
    for (const v of [...this.kept.keys()].sort((a, b) => a - b)) {
      if (v >= keepFrom) break;
      const next = this.publishedAt.get(v + 1);
      if (next !== undefined && now - next < this.options.graceMs) break;
      this.kept.delete(v);
      this.publishedAt.delete(v);
    }
  }

  private readIn(rec: VersionRecord, version: number, row: number, out: Float32Array): ReadResult {
    const block = this.blockOf(row);
    const chunk = block === undefined ? undefined : rec.assignment.visible.get(block.index);
    if (chunk === undefined) return { state: 'no-row' };
    const loc = rec.locs.get(chunk)!;
    const i = this.p.slotIndex(loc.shard, loc.slot);
    if (this.p.slotGen[i] !== loc.gen || this.p.slotState[i] === SLOT_FREE)
      return { state: 'missing', chunk, shard: loc.shard };
    this.rowOut(loc.shard, loc.slot * this.slotRows + this.p.offsetOf[row]!, row, out);
    return { state: 'ok', chunk, shard: loc.shard, version };
  }

  /** Row `regionRow` of `shard`'s region, as increments over entity `row`'s initial row, into `out`. */
  private rowOut(shard: ShardId, regionRow: number, row: number, out: Float32Array): void {
    const view = this.ps.view(shard);
    for (let k = 0; k < this.dim; k++) out[k] = this.increment(view[regionRow * this.dim + k]!, row, k);
  }

  private increment(value: number, row: number, k: number): number {
    const inc = value - this.init[row * this.dim + k]!;
    const near = Math.round(inc);
    return Math.abs(inc - near) <= SNAP ? near : inc;
  }
}

const WHERE = 'SharedMemoryReshardBackend';
const SINGLE_COPY = '1+0: one live copy per chunk (the parameter server does not replicate chunks)';

function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (a.placement.size !== b.placement.size || a.visible.size !== b.visible.size) return false;
  for (const [c, h] of a.placement) {
    const o = b.placement.get(c);
    if (o === undefined || o.floor.length !== h.floor.length || o.floor.some((s, i) => s !== h.floor[i])) return false;
  }
  for (const [k, c] of a.visible) if (b.visible.get(k) !== c) return false;
  return true;
}

/** Copies a step created (and where their rows came from) and live copies it dropped. */
function diff(
  before: Assignment,
  after: Assignment,
  placed: ReadonlySet<ChunkId>,
): { adds: CopyAdd[]; drops: CopyChange[] } {
  const adds: CopyAdd[] = [];
  const drops: CopyChange[] = [];
  for (const [c, h] of after.placement) {
    const was = before.placement.get(c)?.floor ?? [];
    for (const s of h.floor) {
      if (was.includes(s)) continue;
      adds.push({
        chunk: c,
        shard: s,
        source: placed.has(c) || was.length === 0 ? { from: 'registered' } : { from: 'shard', shard: was[0]! },
      });
    }
  }
  for (const [c, h] of before.placement) {
    const now = after.placement.get(c)?.floor ?? [];
    for (const s of h.floor) if (!now.includes(s)) drops.push({ chunk: c, shard: s });
  }
  return { adds, drops };
}
