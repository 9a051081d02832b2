/**
 * Ring benchmark, producer side: `runs` timed runs of `events` events each
 * (after an untimed warm-up), publishing `batch` events per call. Event
 * `seq` is two words: (seq, payloadOf(seq)). Starts each run on the shared
 * start line together with the consumer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring } from '../../src/shm/ring.js';
import { payloadOf, type RingProducerResult, type RingSideInput } from '../lib/protocol.js';
import { Probe, probeRoundTrip } from '../lib/probe.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as RingSideInput;
const ring = Ring.attach(input.handle);
const start = new Rendezvous(input.start);
const probe = new Probe(input.probe);
const batch = input.batch;
const staging = new Int32Array(batch * 2);
let fullSpins = 0;

// Tallies live in locals in the hot loops (see ring-consumer.ts).

/** push(): fill a staging batch, copy it in with one publish. */
function produceCopy(from: number, to: number): void {
  let seq = from;
  let full = 0;
  while (seq < to) {
    const b = to - seq < batch ? to - seq : batch;
    for (let i = 0; i < b; i++) {
      staging[2 * i] = seq + i;
      staging[2 * i + 1] = payloadOf(seq + i);
    }
    let done = 0;
    while (done < b) {
      const n = ring.push(staging, done, b - done);
      if (n === 0) full++;
      done += n;
    }
    seq += b;
  }
  fullSpins += full;
}

/** reserve()/commit(): write events straight into the slots. */
function produceZeroCopy(from: number, to: number): void {
  let seq = from;
  let full = 0;
  const slots = ring.slots;
  while (seq < to) {
    const n = ring.reserve(to - seq < batch ? to - seq : batch);
    if (n === 0) {
      full++;
      continue;
    }
    let at = ring.reservedOffset;
    for (let i = 0; i < n; i++) {
      slots[at] = seq + i;
      slots[at + 1] = payloadOf(seq + i);
      at += 2;
    }
    ring.commit(n);
    seq += n;
  }
  fullSpins += full;
}

const produce = input.path === 'copy' ? produceCopy : produceZeroCopy;
let seq = 0;
const ms: number[] = [];
const roundTripNs: number[] = [];
const roundTripAfterNs: number[] = [];
// Several short untimed runs first: a function entered again after its loop
// was optimised on-stack is optimised afresh (on a background thread that
// competes for the 2 cores); by the first timed run that is done.
for (let run = -input.warmupRuns; run < input.runs; run++) {
  const n = run < 0 ? input.warmupEvents : input.events;
  start.arrive(true);
  const rtt = probeRoundTrip(probe);
  if (run >= 0) roundTripNs.push(rtt);
  start.arrive(false);
  const t0 = performance.now();
  produce(seq, seq + n);
  const t1 = performance.now();
  // A second probe after the run: the host may move the vCPUs mid-run.
  const rttAfter = probeRoundTrip(probe);
  seq += n;
  if (run >= 0) {
    ms.push(t1 - t0);
    roundTripAfterNs.push(rttAfter);
  }
}
const result: RingProducerResult = { pushed: seq, ms, fullSpins, roundTripNs, roundTripAfterNs };
parentPort!.postMessage(result);
