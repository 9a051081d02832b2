/**
 * postMessage baseline, consumer side: counts and checks each event as its
 * message arrives, timing each run from the shared start line to the last
 * event of the run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processCpuMs, type PostMessageConsumerResult, type PostMessageSideInput } from '../lib/protocol.js';
import { answerProbe, Probe } from '../lib/probe.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as PostMessageSideInput;
const start = new Rendezvous(input.start);
const probe = new Probe(input.probe);
const port = input.port;
let run = -1;
let seq = 0;
let runEnd = 0;
let t0 = 0;
let c0 = 0;
let mismatches = 0;
let checksum = 0;
const ms: number[] = [];
const cpus: number[] = [];

/** Line up with the producer for the next run, or report when all runs are done. Returns false when done. */
function begin(): boolean {
  for (;;) {
    if (run >= input.runs) {
      start.arrive(true); // let the producer go
      port.close();
      const result: PostMessageConsumerResult = { received: seq, ms, cpus, mismatches, checksum };
      parentPort!.postMessage(result);
      return false;
    }
    const n = run < 0 ? input.warmupEvents : input.events;
    start.arrive(true);
    answerProbe(probe);
    start.arrive(false);
    c0 = processCpuMs();
    t0 = performance.now();
    runEnd = seq + n;
    if (n > 0) return true;
    run++; // an empty (warm-up) run ends at once
  }
}

port.on('message', (v: number) => {
  if (v !== seq) mismatches++;
  checksum = (checksum + v) | 0;
  seq++;
  if (seq === runEnd) {
    const t1 = performance.now();
    if (run >= 0) {
      ms.push(t1 - t0);
      cpus.push((processCpuMs() - c0) / (t1 - t0));
    }
    run++;
    begin();
  }
});
begin();
