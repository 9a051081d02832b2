/**
 * What the `ps` suite's main thread and its worker threads send each other,
 * and the deterministic push batches both sides (and the checks) agree on.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PsHandle } from '../../src/ps/server.js';
import type { Rendezvous, RendezvousHandle } from './rendezvous.js';
import { processCpuMs } from './protocol.js';

// ------------------------------------------------------------------ pull in a worker

export interface PullSize {
  readonly label: string;
  readonly bytes: number;
  /** A one-shard server holding exactly `bytes` of entity rows. */
  readonly handle: PsHandle;
}

export interface PullClientInput {
  readonly sizes: readonly PullSize[];
  /** To the postMessage server (the main thread): post a size index, get that table back by structured clone. */
  readonly port: MessagePort;
  /** Timed runs; each run measures every size, both ways, in alternating slices. */
  readonly runs: number;
  readonly slices: number;
  readonly sliceMs: number;
  /** Untimed slices of each kind and size before the first run. */
  readonly warmupSlices: number;
}

export interface PullClientSizeResult {
  readonly label: string;
  /** Per run: bytes / time of `pullInto` in the worker, GB/s. */
  readonly pullGBs: number[];
  /** Per run: bytes / time of request -> structured-clone reply, GB/s. */
  readonly pmGBs: number[];
  /** pullInto calls (warm-up included). */
  readonly pulls: number;
  /** Replies received (warm-up included). */
  readonly replies: number;
  /** Per-call sampled elements that were wrong (should be 0). */
  readonly badSamples: number;
  /** Whole-copy comparisons against the server's rows, after every slice. */
  readonly fullChecks: number;
  /** Whole-copy comparisons that found a difference (should be 0). */
  readonly fullMismatches: number;
}

export interface PullClientResult {
  readonly sizes: PullClientSizeResult[];
}

// ------------------------------------------------------------------ push

export interface PushPlan {
  readonly dim: number;
  readonly numShards: number;
  readonly rowsPerShard: number;
  readonly rowsPerPush: number;
  /** Distinct precomputed batches per worker; push i uses batch i % batches. */
  readonly batches: number;
  readonly pushesPerRun: number;
  readonly warmupRuns: number;
  readonly warmupPushes: number;
  /** Timed runs (the suite runs 1 per round). */
  readonly runs: number;
  /** First shard of worker w is (w * shardStride) % numShards; then round robin. */
  readonly shardStride: number;
}

export interface PsPusherInput {
  readonly handle: PsHandle;
  readonly worker: number;
  readonly start: RendezvousHandle;
  readonly plan: PushPlan;
}

export interface PmPusherInput {
  readonly port: MessagePort;
  readonly worker: number;
  readonly start: RendezvousHandle;
  readonly plan: PushPlan;
  /** Most pushes posted and not yet acknowledged. */
  readonly window: number;
}

export interface PusherResult {
  readonly pushes: number;
  /** Per timed run: ms from the shared start line to the last push returned (PS) / acknowledged (postMessage). */
  readonly ms: number[];
  /** Per timed run: process CPU time / wall time. */
  readonly cpus: number[];
  /** PS: push results by state. postMessage: acks received. */
  readonly states: Record<string, number>;
  /** PS: warnings this worker's server object raised. */
  readonly warnings: number;
  /** PS: pushes that found their shard's writer lock held by another thread just before the call (diagnostic). */
  readonly lockBusy: number;
}

export interface PmServerInput {
  readonly ports: MessagePort[];
  /** Initial shard tables (plain buffers, cloned in). */
  readonly tables: Float32Array[];
  readonly learningRate: number;
  readonly dim: number;
}

export interface PmServerResult {
  readonly messages: number;
  readonly rowsApplied: number;
  /** Pushes refused by validation (should be 0). */
  readonly rejected: number;
  /** Float64 sum over every table value, shards in order, after the last push. */
  readonly finalSum: number;
}

/** The server's wire format of one push (structured clone of two typed arrays). */
export interface PmPush {
  readonly shard: number;
  readonly rows: Int32Array;
  readonly gradients: Float32Array;
}

// ------------------------------------------------------------------ batches

export interface Batches {
  /** Each in its own ArrayBuffer (structured clone copies a view's whole buffer). */
  readonly rowIdx: Int32Array[];
  readonly grads: Float32Array[];
  /** Float64 sum of each batch's gradient values. */
  readonly gradSum: number[];
}

const ROW_STRIDE = 37;

/**
 * Worker `worker`'s push batches: `rowsPerPush` distinct rows of a shard
 * (a strided walk from a per-batch start; distinct while rowsPerPush <=
 * rowsPerShard / gcd(37, rowsPerShard)) and small positive gradients that
 * vary with worker, batch, row and column.
 */
export function makeBatches(plan: PushPlan, worker: number): Batches {
  const { dim, rowsPerShard, rowsPerPush, batches } = plan;
  const rowIdx: Int32Array[] = [];
  const grads: Float32Array[] = [];
  const gradSum: number[] = [];
  for (let b = 0; b < batches; b++) {
    const r = new Int32Array(rowsPerPush);
    const g = new Float32Array(rowsPerPush * dim);
    const start = (Math.imul(worker * 131 + b, 0x9e3779b1) >>> 0) % rowsPerShard;
    let s = 0;
    for (let j = 0; j < rowsPerPush; j++) {
      r[j] = (start + j * ROW_STRIDE) % rowsPerShard;
      for (let k = 0; k < dim; k++) {
        const v = Math.fround((((worker * 31 + b * 7 + j * 3 + k) % 17) + 1) * 1e-3);
        g[j * dim + k] = v;
        s += v;
      }
    }
    rowIdx.push(r);
    grads.push(g);
    gradSum.push(s);
  }
  return { rowIdx, grads, gradSum };
}

/** Shard of worker `worker`'s push number `i`. */
export function shardOfPush(plan: PushPlan, worker: number, i: number): number {
  return (worker * plan.shardStride + i) % plan.numShards;
}

/** Total pushes one worker makes over all runs, warm-up included. */
export function pushesPerWorker(plan: PushPlan): number {
  return plan.warmupRuns * plan.warmupPushes + plan.runs * plan.pushesPerRun;
}

/**
 * A pusher's runs: `warmupRuns` untimed runs of `warmupPushes`, then `runs`
 * timed runs of `pushesPerRun`, each started at the shared start line and
 * timed on this thread's clock around `pushRange(from, to)` (a synchronous
 * range is called without an await inside the timing). Returns the pushes
 * made, and per timed run its milliseconds and this process's CPUs.
 */
export async function timedPushRuns(
  plan: PushPlan,
  start: Rendezvous,
  pushRange: (from: number, to: number) => void | Promise<void>,
): Promise<{ pushes: number; ms: number[]; cpus: number[] }> {
  const ms: number[] = [];
  const cpus: number[] = [];
  let pushes = 0;
  for (let run = -plan.warmupRuns; run < plan.runs; run++) {
    const n = run < 0 ? plan.warmupPushes : plan.pushesPerRun;
    start.arrive(true);
    start.arrive(false);
    const c0 = processCpuMs();
    const t0 = performance.now();
    const pending = pushRange(pushes, pushes + n);
    if (pending !== undefined) await pending;
    const t1 = performance.now();
    const c1 = processCpuMs();
    pushes += n;
    if (run >= 0) {
      ms.push(t1 - t0);
      cpus.push((c1 - c0) / (t1 - t0));
    }
  }
  return { pushes, ms, cpus };
}
