/**
 * `router` suite, select_shard from a second thread: calls
 * `ShardMapper.selectShard` on its own attached mapper object in chunks
 * (one call per hash of the chunk), slice after slice. In quiet slices the
 * main thread sleeps; in busy slices it keeps rebuilding and republishing
 * the selection table (see bench/router.ts). Each slice starts on a shared
 * start line and lasts `sliceMs` on this thread's clock; at its end this
 * thread stores the slice number in the control word so the main thread
 * stops.
 *
 * A chunk's sum of selected ids depends on the table alone, so a chunk
 * whose sum differs from the previous chunk's shows that this thread's
 * selections followed a new table.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NO_SHARD, ShardMapper } from '../../src/router/mapper.js';
import {
  SELECT_CTL_DONE,
  selectSliceBusy,
  selectTotalSlices,
  type SelectPhaseRun,
  type SelectWorkerInput,
  type SelectWorkerResult,
} from '../lib/router-protocol.js';
import { Rendezvous } from '../lib/rendezvous.js';

const input = workerData as SelectWorkerInput;
const mapper = ShardMapper.attach(input.mapper);
const region = new Int32Array(input.mapper.sab);
const ctl = new Int32Array(input.ctl);
const start = new Rendezvous(input.start);
const hashes = input.hashes;
const CH = hashes.length;
const GEN = input.tableGenIndex;
// Every id the bench's mapper ever has is below this (ids 0..shards-1, never more shards).
const maxSum = CH * (mapper.policy.maxShards - 1);

function chunk(): number {
  let s = 0;
  for (let i = 0; i < CH; i++) s += mapper.selectShard(hashes[i]!);
  return s;
}

interface SliceResult {
  ops: number;
  ms: number;
  publications: number;
  chunks: number;
  changed: number;
  genChanged: number;
  invalid: number;
  /** Chunks differing from the slice's first chunk (quiet slices must have none). */
  differFromFirst: number;
  sum: number;
}

/** One slice: chunks until `sliceMs` has passed. Tallies in locals (see ring-consumer.ts on module-level lets). */
function slice(prevSig: number): SliceResult & { lastSig: number } {
  const g0 = Atomics.load(region, GEN);
  let lastGen = g0;
  let lastSig = prevSig;
  let firstSig = -1;
  let chunks = 0;
  let changed = 0;
  let genChanged = 0;
  let invalid = 0;
  let differ = 0;
  let sum = 0;
  const t0 = performance.now();
  let t: number;
  do {
    const sig = chunk();
    chunks++;
    sum = (sum + sig) | 0;
    if (sig !== lastSig) {
      changed++;
      lastSig = sig;
    }
    if (firstSig < 0) firstSig = sig;
    else if (sig !== firstSig) differ++;
    if (sig < 0 || sig > maxSum) invalid++;
    const g = Atomics.load(region, GEN);
    if (g !== lastGen) {
      genChanged++;
      lastGen = g;
    }
    t = performance.now();
  } while (t - t0 < input.sliceMs);
  const g1 = Atomics.load(region, GEN);
  return {
    ops: chunks * CH,
    ms: t - t0,
    publications: (g1 - g0) | 0,
    chunks,
    changed,
    genChanged,
    invalid,
    differFromFirst: differ,
    sum,
    lastSig,
  };
}

function emptyRun(): SelectPhaseRun {
  return { ops: 0, ms: 0, publications: 0, chunks: 0, changedChunks: 0, genChangedChunks: 0 };
}

function add(r: SelectPhaseRun, s: SliceResult): SelectPhaseRun {
  return {
    ops: r.ops + s.ops,
    ms: r.ms + s.ms,
    publications: r.publications + s.publications,
    chunks: r.chunks + s.chunks,
    // The first chunk of a slice is compared with the previous slice's last:
    // a change across the slice boundary counts in the slice that sees it.
    changedChunks: r.changedChunks + s.changed,
    genChangedChunks: r.genChangedChunks + s.genChanged,
  };
}

// A selection of NO_SHARD would push a chunk's sum past maxSum: the invalid check covers it.
if (NO_SHARD <= mapper.policy.maxShards)
  throw new Error('router-select: NO_SHARD is a valid id here; the invalid-chunk check would be blind');

const quiet: SelectPhaseRun[] = [];
const busy: SelectPhaseRun[] = [];
let invalidChunks = 0;
let quietChanges = 0;
let checksum = 0;
let sig = -1;
const total = selectTotalSlices(input);
parentPort!.postMessage('started');
for (let k = 0; k < total; k++) {
  const isBusy = selectSliceBusy(k, input);
  start.arrive(true);
  const s = slice(sig);
  sig = s.lastSig;
  Atomics.store(ctl, SELECT_CTL_DONE, k + 1);
  Atomics.notify(ctl, SELECT_CTL_DONE);
  invalidChunks += s.invalid;
  checksum = (checksum + s.sum) | 0;
  if (!isBusy && (s.differFromFirst !== 0 || s.publications !== 0)) quietChanges++;
  if (k < input.warmupSlices) continue;
  const run = Math.floor((k - input.warmupSlices) / (2 * input.slices));
  const list = isBusy ? busy : quiet;
  list[run] = add(list[run] ?? emptyRun(), s);
}
const result: SelectWorkerResult = { quiet, busy, invalidChunks, quietChanges, checksum };
parentPort!.postMessage(result);
