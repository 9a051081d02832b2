/**
 * postMessage baseline, producer side: posts each event (its sequence
 * number, one small value) to the consumer worker through a MessageChannel
 * port, `events` per timed run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PostMessageProducerResult, PostMessageSideInput } from '../lib/protocol.js';
import { Probe, probeRoundTrip } from '../lib/probe.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as PostMessageSideInput;
const start = new Rendezvous(input.start);
const probe = new Probe(input.probe);
const port = input.port;
let seq = 0;
const ms: number[] = [];
const roundTripNs: number[] = [];
for (let run = -1; run < input.runs; run++) {
  const n = run < 0 ? input.warmupEvents : input.events;
  start.arrive(true);
  roundTripNs.push(probeRoundTrip(probe));
  start.arrive(false);
  const t0 = performance.now();
  const end = seq + n;
  for (let s = seq; s < end; s++) port.postMessage(s);
  ms.push(performance.now() - t0);
  seq = end;
}
// Stay until the consumer has drained everything (the port must outlive the queue).
start.arrive(true);
const result: PostMessageProducerResult = { posted: seq, ms: ms.slice(1), roundTripNs: roundTripNs.slice(1) };
parentPort!.postMessage(result);
