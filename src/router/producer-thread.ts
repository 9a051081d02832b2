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
import { PUSH_OK, PUSH_UNBOUND, Router, type Producer, type RouterHandle } from './router.js';
import { dueBy, timeOfDue, type RateSchedule } from './schedule.js';

/** Control words shared by the main thread and the producer threads (an Int32Array of CTL_WORDS). */
export const CTL_STOP = 0;
export const CTL_ACTIVE = 1;
export const CTL_WORDS = 16;

/** How long one push call may wait for ring space or a shard (ms). */
export const PUSH_TIMEOUT_MS = 20;

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
  /** The per-producer send schedule, or null to push flat out. */
  schedule: RateSchedule | null;
  /** When the run (the schedule's time 0) started: `performance.timeOrigin + performance.now()` on the main thread. */
  runStartEpochMs: number;
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
  /**
   * Paced runs: latencies from each event's intended send time (on the
   * schedule) to the end of its push call, one count per event; '' when
   * flat out.
   */
  corrected: string;
  /** Events each producer pushed so far, in the order of the thread's ids. */
  perProducer: number[];
}

/** The final report: as progress, plus per producer what it pushed and what its schedule asked for. */
export interface ProducerReport extends ProducerProgress {
  /** Events each producer pushed, by producer id. */
  pushed: Record<number, number>;
  /** Events each producer's schedule made due while it was active (paced runs; 0 flat out). */
  scheduled: Record<number, number>;
  /** Push calls made, those that timed out on a full ring, and those that found no shard to bind to. */
  calls: number;
  fullCalls: number;
  unboundCalls: number;
  /** Time (ms, summed over the thread's producers) active producers spent without a shard. */
  unboundMs: number;
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
  const { control, ids, batch, schedule } = input;
  const first = input.firstSequence ?? 0;
  const n = ids.length;
  const producers: Producer[] = ids.map((id) => router.producer(id));
  /** Each producer's next sequence number. */
  const seq = new Float64Array(n).fill(first);
  /** Run time (ms) when the producer's current active spell began, or -1 while inactive. */
  const base = new Float64Array(n).fill(-1);
  /** The schedule's events due at `base`, and the sequence number then. */
  const dueAtBase = new Float64Array(n);
  const seqAtBase = new Float64Array(n);
  /** Events made due in earlier active spells. */
  const scheduledBefore = new Float64Array(n);
  const buf = new Int32Array(batch * router.eventWords);
  const hist = hdr.build(PUSH_HISTOGRAM);
  const corrected = hdr.build(PUSH_HISTOGRAM);
  const sampleEvery = Math.max(1, Math.floor(64 / batch));
  // Run time on this thread's clock: performance.now() - runStart.
  const runStart = input.runStartEpochMs - performance.timeOrigin;
  let calls = 0;
  let fullCalls = 0;
  let unboundCalls = 0;
  /** Time producers spent without a shard while due to push: since when (run time, -1: bound), and in all. */
  const unboundSince = new Float64Array(n).fill(-1);
  let unboundMs = 0;
  let lastPost = performance.now();
  const ew = router.eventWords;
  for (;;) {
    if (Atomics.load(control, CTL_STOP) !== 0) break;
    const active = Atomics.load(control, CTL_ACTIVE);
    let pushedAny = false;
    const now = performance.now() - runStart;
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      const p = producers[k]!;
      if (id >= active) {
        if (unboundSince[k]! >= 0) {
          unboundMs += now - unboundSince[k]!;
          unboundSince[k] = -1;
        }
        if (base[k]! >= 0) {
          if (schedule !== null) scheduledBefore[k] = scheduledBefore[k]! + dueBy(schedule, now) - dueAtBase[k]!;
          p.release();
          base[k] = -1;
        }
        continue;
      }
      if (base[k]! < 0) {
        base[k] = now;
        seqAtBase[k] = seq[k]!;
        if (schedule !== null) dueAtBase[k] = dueBy(schedule, now);
      }
      let want = batch;
      if (schedule !== null) {
        // Event i of this spell is due when the schedule's integral reaches dueAtBase + i (wrk2's start + i / rate).
        const allowed = Math.floor(dueBy(schedule, now) - dueAtBase[k]!) + 1 - (seq[k]! - seqAtBase[k]!);
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
      // A producer without a shard only polls for one when its thread hosts others: a blocking wait for a shard would
      // hold up its siblings (bound producers wait for ring space as usual, so their breakers see failed waits).
      const pushed = p.pushBlocking(buf, 0, want, n > 1 && p.boundShard < 0 ? 0 : PUSH_TIMEOUT_MS);
      if (timed && pushed > 0) {
        const t1 = performance.now();
        hist.recordValue(Math.max(1, Math.round((t1 - t0) * 1e6)));
        if (schedule !== null) {
          // From the intended send time of the call's middle event (the others are within half a call of it).
          const mid = s0 - seqAtBase[k]! + (pushed - 1) / 2;
          const intended = runStart + timeOfDue(schedule, dueAtBase[k]! + mid);
          // Clamped into the histogram's range (an hour), so recording never throws.
          const ns = intended < t1 ? Math.round((t1 - intended) * 1e6) : 1;
          corrected.recordValueWithCount(Math.min(PUSH_HISTOGRAM.highestTrackableValue, Math.max(1, ns)), pushed);
        }
      }
      if (pushed > 0) {
        seq[k] = s0 + pushed;
        pushedAny = true;
      }
      // Waiting for space or for a shard does not move the schedule: the events stay due, and the producer catches up
      // in whole batches once it can push (their corrected latency includes the wait).
      if (p.status === PUSH_UNBOUND) {
        unboundCalls++;
        if (unboundSince[k]! < 0) unboundSince[k] = now;
      } else {
        if (p.status !== PUSH_OK) fullCalls++;
        if (unboundSince[k]! >= 0) {
          unboundMs += now - unboundSince[k]!;
          unboundSince[k] = -1;
        }
      }
    }
    const t = performance.now();
    if (t - lastPost >= 250) {
      lastPost = t;
      onProgress(progressOf(seq, first, hist, schedule !== null ? corrected : null));
      hist.reset();
      corrected.reset();
    }
    if (!pushedAny) Atomics.wait(control, CTL_WORDS - 1, 0, 0.2);
  }
  const end = performance.now() - runStart;
  for (let k = 0; k < n; k++) if (unboundSince[k]! >= 0) unboundMs += end - unboundSince[k]!;
  for (const p of producers) p.release();
  const pushed: Record<number, number> = {};
  const scheduled: Record<number, number> = {};
  for (let k = 0; k < n; k++) {
    pushed[ids[k]!] = seq[k]! - first;
    let due = scheduledBefore[k]!;
    if (schedule !== null && base[k]! >= 0) due += dueBy(schedule, end) - dueAtBase[k]!;
    scheduled[ids[k]!] = Math.floor(due);
  }
  return {
    ...progressOf(seq, first, hist, schedule !== null ? corrected : null),
    pushed,
    scheduled,
    calls,
    fullCalls,
    unboundCalls,
    unboundMs,
  };
}

function progressOf(
  seq: Float64Array,
  first: number,
  hist: hdr.Histogram,
  corrected: hdr.Histogram | null,
): ProducerProgress {
  const perProducer: number[] = [];
  let produced = 0;
  for (const x of seq) {
    perProducer.push(x - first);
    produced += x - first;
  }
  return {
    produced,
    histogram: hdr.encodeIntoCompressedBase64(hist),
    corrected: corrected === null ? '' : hdr.encodeIntoCompressedBase64(corrected),
    perProducer,
  };
}
