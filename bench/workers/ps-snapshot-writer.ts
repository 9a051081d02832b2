/**
 * `ps` suite, snapshot: a training-like Hogwild writer. Until `control[0]`
 * is set, it pushes chunks of `rowsPerPush` random entity rows (like a
 * training chunk's heads, tails and negatives) through the server's client,
 * one push per shard touched, and records every wait at a fenced shard
 * (the pause a snapshot costs it). While `control[1]` is set it holds
 * still (counted in `control[2]`); pauses before `control[3]` is set (the
 * suite's warm-up) are not kept. Posts 'started' after its first push,
 * then `{ pushes, pauses, pauseSamplesUs }` when stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParameterServer, type PsHandle } from '../../src/ps/server.js';
import { mulberry32 } from '../lib/suite.js';

export interface SnapshotWriterInput {
  readonly handle: PsHandle;
  readonly control: SharedArrayBuffer;
  readonly worker: number;
  readonly rowsPerPush: number;
}

export interface SnapshotWriterResult {
  readonly pushes: number;
  readonly pauses: number;
  readonly pauseSamplesUs: number[];
}

const input = workerData as SnapshotWriterInput;
const ps = ParameterServer.attach(input.handle);
const ctl = new Int32Array(input.control);
const n = input.handle.entityIds.length;
const dim = ps.dim;
const rows = input.rowsPerPush;
const client = ps.client(input.worker, rows);
const ids = new Int32Array(rows);
const grads = new Float32Array(rows * dim).fill(1e-6);
const offs = Int32Array.from({ length: rows }, (_, i) => i * dim);
const rand = mulberry32(0x5eed + input.worker);
const samples: number[] = [];
let pushes = 0;
let pauses = 0;
while (Atomics.load(ctl, 0) === 0) {
  // Held while the suite measures its baseline copy on a quiet machine (control[1] = 1).
  if (Atomics.load(ctl, 1) !== 0) {
    Atomics.add(ctl, 2, 1);
    while (Atomics.load(ctl, 1) !== 0) Atomics.wait(ctl, 1, 1, 50);
    Atomics.sub(ctl, 2, 1);
  }
  for (let i = 0; i < rows; i++) ids[i] = Math.floor(rand() * n);
  client.pushEntities(ids, rows, grads, offs);
  if (client.stats.pauses > 0) {
    // Keep every pause once the suite says its warm-up is over (control[3]); there are few, at most one per
    // snapshot per shard.
    if (Atomics.load(ctl, 3) !== 0) {
      for (let i = 0; i < Math.min(client.stats.pauses, client.pauseSamples.length); i++)
        samples.push(client.pauseSamples[i]!);
      pauses += client.stats.pauses;
    }
    client.reset();
  }
  if (pushes++ === 0) parentPort!.postMessage('started');
}
parentPort!.postMessage({ pushes, pauses, pauseSamplesUs: samples } satisfies SnapshotWriterResult);
