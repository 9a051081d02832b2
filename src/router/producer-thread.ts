/**
 * A load-test producer thread: the push loop it runs, and the object a
 * worker exposes to the main thread over comlink (`ProducerThreadApi`).
 *
 * Two channels, each for what it does well:
 * - control words in shared memory (`control`, CTL_*): how many producers
 *   the schedule makes active, and the stop request. The loop polls them
 *   between batches; it never yields to the event loop, so a message could
 *   not reach it until it returned.
 * - comlink (start, progress, final report): `run` starts the loop, its
 *   `onProgress` callback (a comlink proxy) carries the live figures, and
 *   its return value is the final report. Messages go out from inside the
 *   loop; nothing has to come in.
 */
import hdr from 'hdr-histogram-js';
import { writeSequencedEvents } from './consumer.js';
import { PUSH_UNBOUND, Router, type Producer, type RouterHandle } from './router.js';

/** Control words shared by the main thread and the producer threads (an Int32Array of CTL_WORDS). */
export const CTL_STOP = 0;
export const CTL_ACTIVE = 1;
export const CTL_WORDS = 16;

/** Push-latency histograms (ns), the same shape on both sides so they merge. */
export const PUSH_HISTOGRAM = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000_000,
  numberOfSignificantValueDigits: 3,
} as const;

export interface ProducerThreadInput {
  control: Int32Array;
  ids: number[];
  batch: number;
  rate: number | 'max';
  /** Every producer's first sequence number (default 0). */
  firstSequence?: number;
}

/**
 * Live figures, about every 250 ms: events pushed so far, and the push latencies since the last report (compressed HDR
 * histogram).
 */
export interface ProducerProgress {
  produced: number;
  histogram: string;
}

/** The final report: as progress, plus the events each producer pushed. */
export interface ProducerReport extends ProducerProgress {
  perProducer: Record<number, number>;
}

/** What a producer worker exposes over comlink. */
export interface ProducerThreadApi {
  /** Attach the router and run the loop until CTL_STOP; returns the final report. */
  run(input: ProducerThreadInput & { handle: RouterHandle }, onProgress: (p: ProducerProgress) => void): ProducerReport;
}

export const producerThreadApi: ProducerThreadApi = {
  run: (input, onProgress) => runProducerThread(Router.attach(input.handle), input, onProgress),
};

/**
 * The loop a producer thread runs: for each of its producers that the
 * schedule makes active, push the next batch of (id, sequence) events,
 * within the rate; an inactive producer lets go of its shard. Push-call
 * latencies go into an HDR histogram (every call at batch >= 64, one call
 * in 64 / batch below, so timing does not dominate small batches). Reports
 * progress every 250 ms and returns the final report when told to stop.
 */
export function runProducerThread(
  router: Router,
  input: ProducerThreadInput,
  onProgress: (p: ProducerProgress) => void,
): ProducerReport {
  const { control, ids, batch, rate } = input;
  const first = input.firstSequence ?? 0;
  const n = ids.length;
  const producers: Producer[] = ids.map((id) => router.producer(id));
  /** Each producer's next sequence number. */
  const seq = new Float64Array(n).fill(first);
  const base = new Float64Array(n).fill(-1);
  const seqAtBase = new Float64Array(n);
  const buf = new Int32Array(batch * router.eventWords);
  const hist = hdr.build(PUSH_HISTOGRAM);
  const sampleEvery = Math.max(1, Math.floor(64 / batch));
  const perMs = rate === 'max' ? Infinity : rate / 1000;
  let calls = 0;
  let lastPost = performance.now();
  const ew = router.eventWords;
  for (;;) {
    if (Atomics.load(control, CTL_STOP) !== 0) break;
    const active = Atomics.load(control, CTL_ACTIVE);
    let pushedAny = false;
    const now = performance.now();
    // A producer without a shard waits for one (asleep) only when none of
    // this thread's producers has a shard to push into meanwhile.
    let bound = 0;
    for (let k = 0; k < n; k++) if (producers[k]!.boundSlot >= 0) bound++;
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      const p = producers[k]!;
      if (id >= active) {
        if (base[k]! >= 0) {
          p.release();
          base[k] = -1;
        }
        continue;
      }
      if (base[k]! < 0) {
        base[k] = now;
        seqAtBase[k] = seq[k]!;
      }
      let want = batch;
      if (perMs !== Infinity) {
        const allowed = Math.floor(perMs * (now - base[k]!)) - (seq[k]! - seqAtBase[k]!);
        if (allowed <= 0) {
          p.refresh();
          continue;
        }
        if (allowed < want) want = allowed;
      }
      const s0 = seq[k]!;
      writeSequencedEvents(buf, ew, id, s0, want);
      const timed = ++calls % sampleEvery === 0;
      const t0 = timed ? performance.now() : 0;
      const pushed = p.pushBlocking(buf, 0, want, bound > 0 && p.boundSlot < 0 ? 0 : 20);
      if (timed && pushed > 0) hist.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
      if (pushed > 0) {
        seq[k] = s0 + pushed;
        pushedAny = true;
      } else if (p.status === PUSH_UNBOUND) {
        // Waiting for a shard: restart the rate clock when one comes.
        base[k] = now;
        seqAtBase[k] = seq[k]!;
      }
    }
    const t = performance.now();
    if (t - lastPost >= 250) {
      lastPost = t;
      onProgress({ produced: sum(seq) - n * first, histogram: hdr.encodeIntoCompressedBase64(hist) });
      hist.reset();
    }
    if (!pushedAny) Atomics.wait(control, CTL_WORDS - 1, 0, 0.2);
  }
  for (const p of producers) p.release();
  const perProducer: Record<number, number> = {};
  for (let k = 0; k < n; k++) perProducer[ids[k]!] = seq[k]! - first;
  return { produced: sum(seq) - n * first, histogram: hdr.encodeIntoCompressedBase64(hist), perProducer };
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}
