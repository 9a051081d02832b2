/**
 * `router` suite, route + push: one `Router` producer on this thread,
 * pushing 8-byte events (word 0 its producer id, word 1 its sequence
 * number, counting from 0 across runs) `batch` at a time with
 * `Producer.push` (and `pushBlocking` for what a full ring refused), which
 * binds it to a shard of its own on the first call and records the shard's
 * metrics on every call (events every call, a latency sample every 64th). Each run starts on a start line shared with
 * the other producers and is timed on this thread's clock until the ring is
 * seen empty after the last push: every event of the run has then been
 * taken (verified and released) by the shard's consumer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PUSH_UNBOUND, Router } from '../../src/router/router.js';
import { processCpuMs } from '../lib/protocol.js';
import type { RouteProducerInput, RouteProducerResult } from '../lib/router-protocol.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as RouteProducerInput;
const router = Router.attach(input.handle);
const producer = router.producer(input.producerId);
const start = new Rendezvous(input.start);
const batch = input.batch;
const staging = new Int32Array(batch * 2);
for (let i = 0; i < batch; i++) staging[2 * i] = input.producerId;
let fullCalls = 0;
let unboundCalls = 0;
let pushCalls = 0;
const slotsSeen = new Set<number>();

/**
 * Push events [from, to): `push` first (the fast path, never waits); when
 * the ring is full it pushed fewer, and `pushBlocking` delivers the rest
 * (spins, then sleeps on the ring, so on an oversubscribed machine the
 * consumer gets the core). Tallies live in locals in the hot loop (see
 * ring-consumer.ts).
 */
function produce(from: number, to: number): void {
  let seq = from;
  let full = 0;
  let unbound = 0;
  let calls = 0;
  while (seq < to) {
    const b = to - seq < batch ? to - seq : batch;
    for (let i = 0; i < b; i++) staging[2 * i + 1] = seq + i;
    calls++;
    let done = producer.push(staging, 0, b);
    while (done < b) {
      if (producer.status === PUSH_UNBOUND) unbound++;
      else full++;
      if (unbound > input.maxUnboundCalls)
        throw new Error(`producer ${input.producerId}: no shard to bind to after ${unbound} push calls`);
      calls++;
      done += producer.pushBlocking(staging, done, b - done, input.blockTimeoutMs);
    }
    seq += b;
  }
  fullCalls += full;
  unboundCalls += unbound;
  pushCalls += calls;
}

const idle = new Int32Array(new SharedArrayBuffer(4));

/**
 * Wait until the bound shard's ring is empty: the consumer has taken (and
 * released) everything pushed. Spins first, then polls every 20 us so that
 * a consumer sharing this core can finish.
 */
function awaitDrained(): void {
  const s = producer.boundSlot;
  if (s < 0) throw new Error(`producer ${input.producerId}: not bound after a run`);
  slotsSeen.add(s);
  const ring = router.rings[s]!;
  for (let spins = 0; ring.size() !== 0; spins++) {
    if (spins > 20_000) Atomics.wait(idle, 0, 0, 0.02);
  }
}

let seq = 0;
const ms: number[] = [];
const pushMs: number[] = [];
const cpus: number[] = [];
for (let run = -input.warmupRuns; run < input.runs; run++) {
  const n = run < 0 ? input.warmupEvents : input.events;
  start.arrive(true);
  start.arrive(false);
  const c0 = processCpuMs();
  const t0 = performance.now();
  produce(seq, seq + n);
  const t1 = performance.now();
  awaitDrained();
  const t2 = performance.now();
  const c1 = processCpuMs();
  seq += n;
  if (run >= 0) {
    ms.push(t2 - t0);
    pushMs.push(t1 - t0);
    cpus.push((c1 - c0) / (t2 - t0));
  }
}
const slot = producer.boundSlot;
const shard = producer.boundShard;
// Let go of the shard: the run is over.
producer.release();
const result: RouteProducerResult = {
  producerId: input.producerId,
  pushed: seq,
  slot,
  shard,
  ms,
  pushMs,
  cpus,
  fullCalls,
  unboundCalls,
  pushCalls,
  slotsSeen: [...slotsSeen],
};
parentPort!.postMessage(result);
