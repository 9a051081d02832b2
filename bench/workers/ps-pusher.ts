/**
 * `ps` suite, push: one worker thread pushing preallocated batches with
 * `ParameterServer.pushFlat` (async mode: applied at once; sync mode:
 * blocks until every expected worker has pushed to the shard). Each run
 * starts at a shared start line and is timed on this thread's clock to the
 * return of its last push.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParameterServer } from '../../src/ps/server.js';
import { Seqlock } from '../../src/shm/seqlock.js';
import { makeBatches, shardOfPush, timedPushRuns, type PsPusherInput, type PusherResult } from '../lib/ps-protocol.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as PsPusherInput;
const plan = input.plan;
const w = input.worker;
const ps = ParameterServer.attach(input.handle);
let warnings = 0;
ps.onWarning = () => {
  warnings++;
};
const start = new Rendezvous(input.start);
const { rowIdx, grads } = makeBatches(plan, w);
const nBatches = plan.batches;
const rows = plan.rowsPerPush;
const states: Record<string, number> = { applied: 0, 'step-complete': 0, 'timed-out': 0 };
// Diagnostic only: the shards' writer locks, to count pushes that found
// their shard's lock held by another thread (one Atomics.load per push).
const locks = input.handle.shards.map((h) => Seqlock.attach(h));
let lockBusy = 0;

/** Pushes [from, to) of this worker's sequence; tallies result states in locals. */
function pushRange(from: number, to: number): void {
  let applied = 0;
  let complete = 0;
  let timedOut = 0;
  let busy = 0;
  for (let i = from; i < to; i++) {
    const b = i % nBatches;
    const shard = shardOfPush(plan, w, i);
    if (locks[shard]!.owner() !== -1) busy++;
    const r = ps.pushFlat(shard, w, rowIdx[b]!, grads[b]!, rows);
    if (r.state === 'applied') applied++;
    else if (r.state === 'step-complete') complete++;
    else timedOut++;
  }
  states.applied! += applied;
  states['step-complete']! += complete;
  states['timed-out']! += timedOut;
  lockBusy += busy;
}

const { pushes, ms, cpus } = await timedPushRuns(plan, start, pushRange);
const result: PusherResult = { pushes, ms, cpus, states, warnings, lockBusy };
parentPort!.postMessage(result);
