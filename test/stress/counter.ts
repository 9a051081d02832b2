/**
 * Latency counter under real concurrency (protocol in
 * test/fixtures/counter-protocol.ts). Two phases, each with `threads` writer
 * workers and one collector worker collecting in a tight loop:
 *
 * - pairs: every writer records `recordings` times on a shared counter and
 *   on a private one; every collected window must hold a (count, sum) pair
 *   from the same recordings, and the windows must add up exactly to what
 *   the writers did.
 * - events: writers only `recordEvent`; the collector starts every window a
 *   few events below EVENTS_CAP, so windows saturate while writers race past
 *   the cap; no window may wrap, lose its reset, or mis-flag saturation.
 *
 * Options: threads (3), recordings (per writer, pairs phase), events (per
 * writer, events phase), seconds (per phase: writers stop early at this
 * deadline and the checks use what they did).
 */
import type { Worker } from 'node:worker_threads';
import { counterLayout, indexOf } from '../../native-layout/index.js';
import { EVENTS_CAP, LatencyCounter, newCounterWindow } from '../../src/shm/counter.js';
import {
  checkPairWindow,
  CONTROL_WORDS,
  EVENT_HEADROOMS,
  kGo,
  kReady,
  kStopCollector,
  kStopWriters,
  type CollectorInput,
  type CollectorResult,
  type Phase,
  type RecorderInput,
  type RecorderResult,
} from '../fixtures/counter-protocol.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import { opt, type StressOptions, type StressReport, type StressScenario } from './report.js';

interface Run {
  readonly writers: RecorderResult[];
  readonly collector: CollectorResult;
  readonly seconds: number;
  readonly stoppedEarly: boolean;
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start the collector and the writers, release them together, stop the
 * writers at the deadline (if they have not finished), then stop the
 * collector. The main thread never blocks: it polls and awaits.
 */
async function run(
  phase: Phase,
  counter: LatencyCounter,
  threads: number,
  recordings: number,
  valueOf: (t: number) => number,
  base: number,
  seconds: number,
): Promise<Run> {
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const ctl = new Int32Array(control);
  const workers: Worker[] = [];
  try {
    const collectorInput: CollectorInput = { phase, handle: counter.handle, control, threads, base };
    const cw = startWorker('counter-collector', collectorInput);
    workers.push(cw);
    const collectorDone = firstMessage<CollectorResult>(cw, 600_000);
    const writersDone: Promise<RecorderResult>[] = [];
    for (let t = 0; t < threads; t++) {
      const input: RecorderInput = { phase, handle: counter.handle, control, thread: t, recordings, value: valueOf(t) };
      const w = startWorker('counter-recorder', input);
      workers.push(w);
      writersDone.push(firstMessage<RecorderResult>(w, 600_000));
    }
    // A worker that fails before it is ready rejects its promise; notice that
    // instead of waiting for it forever.
    let workerError: unknown = null;
    const all = Promise.all([collectorDone, ...writersDone]).catch(
      (e: unknown) => (workerError = e ?? 'worker failed'),
    );
    while (Atomics.load(ctl, kReady) < threads + 1 && workerError === null) await tick(5);
    if (workerError !== null) throw workerError instanceof Error ? workerError : new Error(JSON.stringify(workerError));

    const started = performance.now();
    Atomics.store(ctl, kGo, 1);
    Atomics.notify(ctl, kGo);
    let stoppedEarly = false;
    const deadline = setTimeout(() => {
      stoppedEarly = true;
      Atomics.store(ctl, kStopWriters, 1);
    }, seconds * 1000);
    let writers: RecorderResult[];
    try {
      writers = await Promise.all(writersDone);
    } finally {
      clearTimeout(deadline);
      Atomics.store(ctl, kStopCollector, 1);
    }
    const collector = await collectorDone;
    await all;
    return { writers, collector, seconds: (performance.now() - started) / 1000, stoppedEarly };
  } finally {
    Atomics.store(ctl, kStopWriters, 1);
    Atomics.store(ctl, kStopCollector, 1);
    Atomics.store(ctl, kGo, 1);
    Atomics.notify(ctl, kGo);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function failed(name: string, e: unknown): StressReport {
  return {
    name,
    ok: false,
    details: {},
    failures: [`run failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`],
  };
}

/** Pairs phase: no (count, sum) desync, exact totals. */
export const pairsScenario: StressScenario = async (opts: StressOptions): Promise<StressReport> => {
  const threads = opt(opts, 'threads', 3);
  const recordings = opt(opts, 'recordings', 30_000_000);
  const seconds = opt(opts, 'seconds', 14);
  const name = `counter pairs (${threads} writers x ${recordings} recordings, <= ${seconds} s)`;
  // Values base + t, with base as large as possible while a single window
  // holding every recording of every writer still fits under SAMPLE_CAP.
  const base = Math.floor((0xffff_ffff - (recordings * threads * (threads - 1)) / 2) / (threads * recordings));
  if (!(threads >= 1 && Number.isInteger(threads) && base >= 1)) {
    return {
      name,
      ok: false,
      details: { base },
      failures: ['threads x recordings too large: values would not fit under the sum cap'],
    };
  }
  const counter = LatencyCounter.create({ counters: 1 + threads });
  let r: Run;
  try {
    r = await run('pairs', counter, threads, recordings, (t) => base + t, base, seconds);
  } catch (e) {
    return failed(name, e);
  }
  const c = r.collector;
  const failures: string[] = [...c.failures];
  if (c.failureCount > c.failures.length) failures.push(`... ${c.failureCount} faulty windows in all`);

  // The final collect, on the main thread once everyone has stopped.
  const w = newCounterWindow();
  const totals = c.totals.map((t) => ({ ...t }));
  for (let i = 0; i < counter.counters; i++) {
    counter.collect(i, w);
    const f = checkPairWindow(i, w, base, threads);
    if (f) failures.push(`final window: ${f}`);
    totals[i]!.events += w.events;
    totals[i]!.count += w.count;
    totals[i]!.sum += w.sum;
  }

  let all = 0;
  let allSum = 0;
  for (const wr of r.writers) {
    const v = base + wr.thread;
    const own = totals[1 + wr.thread]!;
    const want = { events: wr.done, count: wr.done, sum: wr.done * v };
    if (own.events !== want.events || own.count !== want.count || own.sum !== want.sum) {
      failures.push(`counter ${1 + wr.thread}: collected ${JSON.stringify(own)}, writer did ${JSON.stringify(want)}`);
    }
    all += wr.done;
    allSum += wr.done * v;
  }
  const shared = totals[0]!;
  const want0 = { events: 2 * all, count: all, sum: allSum };
  if (shared.events !== want0.events || shared.count !== want0.count || shared.sum !== want0.sum) {
    failures.push(`counter 0: collected ${JSON.stringify(shared)}, writers did ${JSON.stringify(want0)}`);
  }
  return {
    name,
    ok: failures.length === 0,
    details: {
      recorded: all,
      stoppedEarly: r.stoppedEarly,
      seconds: Number(r.seconds.toFixed(2)),
      windows: c.windows,
      nonEmptyWindows: c.nonEmptyWindows,
      maxWindowCount: c.maxWindowCount,
      base,
    },
    failures,
  };
};

/** Events phase: saturation under racing recorders and a resetting collector. */
export const eventsScenario: StressScenario = async (opts: StressOptions): Promise<StressReport> => {
  const threads = opt(opts, 'threads', 3);
  const events = opt(opts, 'events', 200_000_000);
  const seconds = opt(opts, 'seconds', 14);
  const name = `counter events near the cap (${threads} writers x ${events} events, <= ${seconds} s)`;
  const counter = LatencyCounter.create({ counters: 1 });
  // Test-only: start the first window just below the cap, like the
  // collector does for every later one.
  const raw = new Int32Array(counter.handle.sab);
  Atomics.store(raw, indexOf(counterLayout(1), 'events'), (EVENTS_CAP - EVENT_HEADROOMS[0]!) | 0);
  let r: Run;
  try {
    r = await run('events', counter, threads, events, () => 0, 0, seconds);
  } catch (e) {
    return failed(name, e);
  }
  const c = r.collector;
  const failures: string[] = [...c.failures];
  if (c.failureCount > c.failures.length) failures.push(`... ${c.failureCount} faulty windows in all`);
  const w = counter.collect(0, newCounterWindow());
  if (w.events !== 0 || w.count !== 0 || w.sum !== 0 || w.saturated) {
    failures.push(`after the last collect the counter should be empty, found ${JSON.stringify(w)}`);
  }
  const total = r.writers.reduce((a, x) => a + x.done, 0);
  // Each saturated window proves at least its headroom in events, each other
  // window its exact count; together they cannot exceed what was recorded,
  // and with no saturated window they must equal it.
  if (c.unsaturatedEvents + c.saturatedFloor > total) {
    failures.push(
      `windows account for at least ${c.unsaturatedEvents + c.saturatedFloor} events, writers did ${total}`,
    );
  }
  if (c.saturatedWindows === 0 && c.unsaturatedEvents !== total) {
    failures.push(`no window saturated, yet windows hold ${c.unsaturatedEvents} events of ${total}`);
  }
  return {
    name,
    ok: failures.length === 0,
    details: {
      recorded: total,
      stoppedEarly: r.stoppedEarly,
      seconds: Number(r.seconds.toFixed(2)),
      windows: c.windows,
      saturatedWindows: c.saturatedWindows,
      unsaturatedEvents: c.unsaturatedEvents,
    },
    failures,
  };
};

/** Both phases, one report. */
export const scenario: StressScenario = async (opts: StressOptions): Promise<StressReport> => {
  const a = await pairsScenario(opts);
  const b = await eventsScenario(opts);
  return {
    name: `counter: ${a.name}; ${b.name}`,
    ok: a.ok && b.ok,
    details: { pairs: a.details, events: b.details },
    failures: [...a.failures, ...b.failures],
  };
};
