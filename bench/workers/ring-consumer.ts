/**
 * Ring benchmark, consumer side: takes up to `batch` events per call,
 * checks every event's sequence number and payload, sums the payloads, and
 * times each run from the shared start line to its last event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ring } from '../../src/shm/ring.js';
import { payloadOf, processCpuMs, type RingConsumerResult, type RingSideInput } from '../lib/protocol.js';
import { answerProbe, Probe } from '../lib/probe.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as RingSideInput;
const ring = Ring.attach(input.handle);
const start = new Rendezvous(input.start);
const probe = new Probe(input.probe);
const batch = input.batch;
const lag = input.lag ?? 0;
const staging = new Int32Array(batch * 2);
let mismatches = 0;
let checksum = 0;
let emptySpins = 0;
let takes = 0;

/**
 * Most events to take now, of `remaining` still to come in this run: up to
 * `batch`, and with `lag` > 0 never the newest `lag` queued events unless
 * they are the run's last (then the producer is done writing).
 */
function allowed(remaining: number): number {
  const want = remaining < batch ? remaining : batch;
  if (lag === 0) return want;
  const queued = ring.size();
  const may = queued >= remaining ? remaining : queued - lag;
  return may < want ? may : want;
}

// The hot loops keep their tallies in locals and add them to the module's
// totals once per run: a module-level \`let\` written per event is a context
// store that costs ~2.5 ns/event here, more than the ring itself.

/** pop(): copy a batch out, then check it. */
function consumeCopy(from: number, to: number): void {
  let seq = from;
  let bad = 0;
  let sum = 0;
  let empty = 0;
  let taken = 0;
  while (seq < to) {
    const want = allowed(to - seq);
    if (want <= 0) {
      empty++;
      continue;
    }
    const n = ring.pop(staging, 0, want);
    if (n === 0) {
      empty++;
      continue;
    }
    taken++;
    for (let i = 0; i < n; i++) {
      const p = staging[2 * i + 1]!;
      if (staging[2 * i] !== seq + i || p !== payloadOf(seq + i)) bad++;
      sum = (sum + p) | 0;
    }
    seq += n;
  }
  tally(bad, sum, empty, taken);
}

/** acquire()/release(): check the events in place. */
function consumeZeroCopy(from: number, to: number): void {
  let seq = from;
  let bad = 0;
  let sum = 0;
  let empty = 0;
  let taken = 0;
  const slots = ring.slots;
  while (seq < to) {
    const want = allowed(to - seq);
    if (want <= 0) {
      empty++;
      continue;
    }
    const n = ring.acquire(want);
    if (n === 0) {
      empty++;
      continue;
    }
    taken++;
    let at = ring.acquiredOffset;
    for (let i = 0; i < n; i++) {
      const p = slots[at + 1]!;
      if (slots[at] !== seq + i || p !== payloadOf(seq + i)) bad++;
      sum = (sum + p) | 0;
      at += 2;
    }
    ring.release(n);
    seq += n;
  }
  tally(bad, sum, empty, taken);
}

function tally(bad: number, sum: number, empty: number, taken: number): void {
  mismatches += bad;
  checksum = (checksum + sum) | 0;
  emptySpins += empty;
  takes += taken;
}

const consume = input.path === 'copy' ? consumeCopy : consumeZeroCopy;
let seq = 0;
const ms: number[] = [];
const cpus: number[] = [];
// Several short untimed runs first: a function entered again after its loop
// was optimised on-stack is optimised afresh (on a background thread that
// competes for the 2 cores); by the first timed run that is done.
for (let run = -input.warmupRuns; run < input.runs; run++) {
  const n = run < 0 ? input.warmupEvents : input.events;
  start.arrive(true);
  answerProbe(probe);
  start.arrive(false);
  const c0 = processCpuMs();
  const t0 = performance.now();
  consume(seq, seq + n);
  const t1 = performance.now();
  const c1 = processCpuMs();
  answerProbe(probe);
  seq += n;
  if (run >= 0) {
    ms.push(t1 - t0);
    cpus.push((c1 - c0) / (t1 - t0));
  }
}
const result: RingConsumerResult = {
  popped: seq,
  ms,
  cpus,
  mismatches,
  checksum,
  emptySpins,
  meanTake: takes > 0 ? seq / takes : 0,
};
parentPort!.postMessage(result);
