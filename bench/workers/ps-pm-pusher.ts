/**
 * `ps` suite, postMessage baseline, pusher side: posts {shard, rows,
 * gradients} (structured clone, no transfer) to the server thread and keeps
 * at most `window` pushes unacknowledged. Each run starts at a shared start
 * line and is timed on this thread's clock to the acknowledgement of its
 * last push (so: rows applied by the server, end to end).
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  makeBatches,
  shardOfPush,
  timedPushRuns,
  type PmPush,
  type PmPusherInput,
  type PusherResult,
} from '../lib/ps-protocol.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as PmPusherInput;
const plan = input.plan;
const w = input.worker;
const port = input.port;
const start = new Rendezvous(input.start);
const { rowIdx, grads } = makeBatches(plan, w);
const nBatches = plan.batches;
let acks = 0;
let onAck: () => void = () => {};
port.on('message', () => {
  acks++;
  onAck();
});

function post(i: number): void {
  const b = i % nBatches;
  const m: PmPush = { shard: shardOfPush(plan, w, i), rows: rowIdx[b]!, gradients: grads[b]! };
  port.postMessage(m);
}

/** Pushes [from, to), at most `window` unacknowledged; resolves on the last ack. */
function pushRange(from: number, to: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const acks0 = acks;
    let next = from;
    const fill = (): void => {
      const done = acks - acks0;
      while (next < to && next - from - done < input.window) post(next++);
    };
    onAck = () => {
      if (acks - acks0 === to - from) {
        onAck = () => {};
        resolve();
      } else fill();
    };
    fill();
  });
}

async function main(): Promise<void> {
  const { pushes, ms, cpus } = await timedPushRuns(plan, start, pushRange);
  port.close();
  const result: PusherResult = { pushes, ms, cpus, states: { acks }, warnings: 0, lockBusy: 0 };
  parentPort!.postMessage(result);
}

void main();
