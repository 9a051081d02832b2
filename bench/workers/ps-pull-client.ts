/**
 * `ps` suite, pull in a worker: for each shard size, alternate slices of
 * `ParameterServer.pullInto` (a consistent copy out of shared memory) with
 * slices of the postMessage baseline (post a request to the main thread,
 * await the shard as a structured-clone copy), and report GB/s of each per
 * run. Both are timed on this thread's clock; the baseline's figure is end
 * to end (request -> reply handled here).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParameterServer } from '../../src/ps/server.js';
import type { PullClientInput, PullClientResult, PullClientSizeResult } from '../lib/ps-protocol.js';

const input = workerData as PullClientInput;
const port = input.port;

let onReply: ((a: Float32Array) => void) | null = null;
port.on('message', (a: Float32Array) => {
  const f = onReply;
  onReply = null;
  f?.(a);
});

function request(sizeIndex: number): Promise<Float32Array> {
  return new Promise<Float32Array>((resolve) => {
    onReply = resolve;
    port.postMessage(sizeIndex);
  });
}

function sameContent(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface SizeState {
  ps: ParameterServer;
  /** The shard's rows in place (no writer runs, so it is the reference). */
  ref: Float32Array;
  dst: Float32Array;
  bytes: number;
  /** pullInto calls between looks at the clock. */
  inner: number;
  out: {
    pullGBs: number[];
    pmGBs: number[];
    pulls: number;
    replies: number;
    badSamples: number;
    fullChecks: number;
    fullMismatches: number;
  };
}

const states: SizeState[] = input.sizes.map((s) => {
  const ps = ParameterServer.attach(s.handle);
  const ref = ps.view(0);
  return {
    ps,
    ref,
    dst: new Float32Array(ref.length),
    bytes: s.bytes,
    inner: Math.max(1, Math.floor((256 * 1024) / s.bytes)),
    out: { pullGBs: [], pmGBs: [], pulls: 0, replies: 0, badSamples: 0, fullChecks: 0, fullMismatches: 0 },
  };
});

/** One slice of pullInto; returns [bytes copied, ms]. */
function pullSlice(st: SizeState, sliceMs: number): [number, number] {
  const { ps, dst, ref, inner } = st;
  const n = ref.length;
  let calls = 0;
  let bad = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < sliceMs) {
    for (let k = 0; k < inner; k++) {
      ps.pullInto(0, dst);
      // One element per call, a different one each time: every copy landed.
      const i = ((calls + k) * 997) % n;
      if (dst[i] !== ref[i]) bad++;
    }
    calls += inner;
    t = performance.now();
  }
  st.out.pulls += calls;
  st.out.badSamples += bad;
  st.out.fullChecks++;
  if (!sameContent(dst, ref)) st.out.fullMismatches++;
  return [calls * st.bytes, t - t0];
}

/** One slice of request -> structured-clone reply; returns [bytes received, ms]. */
async function pmSlice(st: SizeState, sizeIndex: number, sliceMs: number): Promise<[number, number]> {
  const { ref } = st;
  const n = ref.length;
  let replies = 0;
  let bad = 0;
  let last: Float32Array | null = null;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < sliceMs) {
    const a = await request(sizeIndex);
    const i = (replies * 997) % n;
    if (a.length !== n || a[i] !== ref[i]) bad++;
    last = a;
    replies++;
    t = performance.now();
  }
  st.out.replies += replies;
  st.out.badSamples += bad;
  st.out.fullChecks++;
  if (last === null || !sameContent(last, ref)) st.out.fullMismatches++;
  return [replies * st.bytes, t - t0];
}

async function main(): Promise<void> {
  // Warm-up: both paths, every size.
  for (let w = 0; w < input.warmupSlices; w++) {
    for (let s = 0; s < states.length; s++) {
      pullSlice(states[s]!, input.sliceMs);
      await pmSlice(states[s]!, s, input.sliceMs);
    }
  }
  for (let run = 0; run < input.runs; run++) {
    for (let s = 0; s < states.length; s++) {
      const st = states[s]!;
      let pullBytes = 0;
      let pullMs = 0;
      let pmBytes = 0;
      let pmMs = 0;
      for (let slice = 0; slice < input.slices; slice++) {
        // Alternate which goes first, so neither always follows the other.
        if ((slice + run) % 2 === 0) {
          const [b, ms] = pullSlice(st, input.sliceMs);
          pullBytes += b;
          pullMs += ms;
          const [b2, ms2] = await pmSlice(st, s, input.sliceMs);
          pmBytes += b2;
          pmMs += ms2;
        } else {
          const [b2, ms2] = await pmSlice(st, s, input.sliceMs);
          pmBytes += b2;
          pmMs += ms2;
          const [b, ms] = pullSlice(st, input.sliceMs);
          pullBytes += b;
          pullMs += ms;
        }
      }
      st.out.pullGBs.push(pullBytes / (pullMs * 1e6));
      st.out.pmGBs.push(pmBytes / (pmMs * 1e6));
    }
  }
  const sizes: PullClientSizeResult[] = states.map((st, i) => ({ label: input.sizes[i]!.label, ...st.out }));
  port.close();
  const result: PullClientResult = { sizes };
  parentPort!.postMessage(result);
}

void main();
