/**
 * The `shm` suite: the shared-memory primitives beside the baselines they
 * replace, each pair measured in the same process run.
 *
 * 1. Ring throughput (events/s) between two worker threads at publish
 *    batches 1, 16 and 256, against worker `postMessage` per event and a
 *    Piscina task per event. Whole-run timings: each timed run moves N
 *    events and is timed on the consumer's clock from the shared start line
 *    to its last event. These cases run in rounds (see `ringSuite`).
 * 2. Latency counter recording (ns/op, tinybench, one thread) against a
 *    plain typed-array increment and an uncontended `Atomics.add`.
 * 3. Seqlock snapshot bandwidth (GB/s, tinybench, no writer) against
 *    `Float32Array.prototype.set` of the same bytes; then, reported without
 *    a target, the snapshot rate with a writer thread active.
 */
import { MessageChannel } from 'node:worker_threads';
import { LatencyCounter, newCounterWindow } from '../src/shm/counter.js';
import { Ring } from '../src/shm/ring.js';
import { Seqlock, SEQ_OK } from '../src/shm/seqlock.js';
import {
  expectedPayloadSum,
  type PostMessageConsumerResult,
  type PostMessageProducerResult,
  type RingConsumerResult,
  type RingPath,
  type RingProducerResult,
  type RingSideInput,
  type SeqlockWriterInput,
  type SeqlockWriterResult,
} from './lib/protocol.js';
import { completed, target, type CaseCompleted, type CaseResult, type Target } from './lib/report.js';
import { createProbe } from './lib/probe.js';
import { createRendezvous } from './lib/rendezvous.js';
import { median } from './lib/stats.js';
import { results, start } from './lib/threads.js';
import type { SuiteOptions, SuiteOutput } from './main.js';
import {
  check,
  guarded,
  piscinaCase,
  medianOf,
  pairedRatio,
  ratio,
  round2,
  runRounds,
  tinyRuns,
  type Runner,
  type TinyTask,
} from './lib/suite.js';

// ------------------------------------------------------------------ sizes

interface Plan {
  runs: number;
  ring: { events: Record<number, number>; capacity: number; consumerBatch: number; path: RingPath; sweep: boolean };
  postMessage: { events: number; warmup: number };
  piscina: { tasks: number; defaultsTasks: number; warmup: number };
  /** tinybench: `runs` fresh Bench runs, each running every task for `timeMs`. */
  tiny: { runs: number; timeMs: number; warmupMs: number };
  seqlockWriter: { durationMs: number };
}

/** Timed runs (rounds, for the cross-thread cases) of a full run; --quick uses 3. */
export const DEFAULT_RUNS = 7;

function plan(o: SuiteOptions): Plan {
  const quick = o.quick;
  return {
    runs: o.runs ?? (quick ? 3 : DEFAULT_RUNS),
    ring: {
      // Events per timed run, by publish batch: ~0.1-0.2 s per run at the expected rates.
      events: quick
        ? { 1: 1_000_000, 16: 4_000_000, 256: 8_000_000 }
        : { 1: 4_000_000, 16: 16_000_000, 256: 32_000_000 },
      capacity: 16_384,
      consumerBatch: 4096,
      path: 'zero-copy',
      sweep: !quick,
    },
    postMessage: quick ? { events: 100_000, warmup: 20_000 } : { events: 500_000, warmup: 100_000 },
    piscina: quick
      ? { tasks: 10_000, defaultsTasks: 5_000, warmup: 2_000 }
      : { tasks: 50_000, defaultsTasks: 20_000, warmup: 10_000 },
    // Many short runs rather than a few long ones: this host's memory
    // bandwidth and clock drift by up to 2x over seconds, and a ratio is
    // only as good as the pairing of its two sides in time.
    tiny: { runs: 3 * (o.runs ?? (quick ? 3 : DEFAULT_RUNS)), timeMs: quick ? 25 : 60, warmupMs: quick ? 10 : 20 },
    seqlockWriter: { durationMs: quick ? 80 : 250 },
  };
}

// ------------------------------------------------------------------ helpers

/**
 * Runs in which the process got clearly less CPU than its busy threads
 * wanted (`wanted` cores): another process was running on this 2-core
 * machine, and the figure of that run is a lower bound.
 */
function starved(cpusPerRun: number[], wanted: number): number {
  return cpusPerRun.filter((c) => c < wanted * 0.85).length;
}

/**
 * Core-to-core round trips above this mean the host had placed the two
 * vCPUs far apart (each run's round trips are in its results, `roundTripNsPerRun`).
 */
const FAR_ROUND_TRIP_NS = 300;

// ------------------------------------------------------------------ 1. ring and its baselines

interface RingCaseSpec {
  name: string;
  group: string;
  capacity: number;
  batch: number;
  consumerBatch: number;
  path: RingPath;
  events: number;
  runs: number;
}

async function ringCase(s: RingCaseSpec): Promise<CaseCompleted> {
  const ring = Ring.create({ capacity: s.capacity, slotWords: 2 });
  const startLine = createRendezvous(2);
  // Untimed runs first, a whole run's worth of events in all (see the workers).
  const warmupRuns = 4;
  const warmupEvents = Math.max(s.batch, Math.floor(s.events / warmupRuns));
  const common = {
    handle: ring.handle,
    start: startLine,
    probe: createProbe(),
    path: s.path,
    events: s.events,
    warmupRuns,
    warmupEvents,
    runs: s.runs,
  };
  const producerIn: RingSideInput = { ...common, batch: s.batch };
  const consumerIn: RingSideInput = { ...common, batch: s.consumerBatch };
  const [p, c] = await results<[RingProducerResult, RingConsumerResult]>([
    start<RingProducerResult>('ring-producer', producerIn),
    start<RingConsumerResult>('ring-consumer', consumerIn),
  ]);
  const total = warmupEvents * warmupRuns + s.events * s.runs;
  check(p.pushed === total, `${s.name}: producer pushed ${p.pushed}, expected ${total}`);
  check(c.popped === total, `${s.name}: consumer popped ${c.popped}, expected ${total}`);
  check(c.mismatches === 0, `${s.name}: ${c.mismatches} events arrived with a wrong sequence number or payload`);
  check(
    c.checksum === expectedPayloadSum(total),
    `${s.name}: payload checksum ${c.checksum} != ${expectedPayloadSum(total)}`,
  );
  check(ring.pushedTotal() === total >>> 0 && ring.isEmpty(), `${s.name}: ring indices disagree with the counts`);
  check(ring.checkGuards(), `${s.name}: ring guard lines were overwritten`);
  const samples = c.ms.map((ms) => s.events / (ms / 1000));
  return completed(
    s.name,
    s.group,
    'events/s',
    'higher',
    samples,
    {
      capacity: s.capacity,
      slotBytes: 8,
      publishBatch: s.batch,
      consumerMaxTake: s.consumerBatch,
      path: s.path === 'zero-copy' ? 'reserve/commit + acquire/release' : 'push/pop',
      eventsPerRun: s.events,
      warmupRuns,
      warmupEventsPerRun: warmupEvents,
      timing: "consumer's clock, shared start line -> last event consumed",
      producerMsPerRun: p.ms.map(round2),
      consumerMsPerRun: c.ms.map(round2),
      processCpusPerRun: c.cpus.map(round2),
      roundTripNsPerRun: p.roundTripNs.map(Math.round),
      roundTripAfterNsPerRun: p.roundTripAfterNs.map(Math.round),
      consumerMeanTakePerRun: [Math.round(c.meanTake * 10) / 10],
    },
    {
      eventsMoved: total,
      sequenceAndPayloadMismatches: c.mismatches,
      checksumOk: true,
      producerFullSpins: p.fullSpins,
      consumerEmptySpins: c.emptySpins,
      starvedRuns: starved(c.cpus, 2),
      farRuns: p.roundTripNs.filter((x, i) => Math.max(x, p.roundTripAfterNs[i] ?? 0) > FAR_ROUND_TRIP_NS).length,
    },
  );
}

async function postMessageCase(
  name: string,
  events: number,
  warmupEvents: number,
  runs: number,
): Promise<CaseCompleted> {
  const { port1, port2 } = new MessageChannel();
  const common = { start: createRendezvous(2), probe: createProbe(), events, warmupEvents, runs };
  const [p, c] = await results<[PostMessageProducerResult, PostMessageConsumerResult]>([
    start<PostMessageProducerResult>('pm-producer', { ...common, port: port1 }, [port1]),
    start<PostMessageConsumerResult>('pm-consumer', { ...common, port: port2 }, [port2]),
  ]);
  const total = warmupEvents + events * runs;
  check(
    p.posted === total && c.received === total,
    `${name}: posted ${p.posted}, received ${c.received}, expected ${total}`,
  );
  check(c.mismatches === 0, `${name}: ${c.mismatches} messages out of order`);
  check(c.checksum === (((total * (total - 1)) / 2) | 0), `${name}: checksum mismatch`);
  return completed(
    name,
    'baseline',
    'events/s',
    'higher',
    c.ms.map((ms) => events / (ms / 1000)),
    {
      how: 'producer worker -> consumer worker over a MessageChannel port, one postMessage(number) per event',
      eventsPerRun: events,
      warmupEvents,
      timing: "consumer's clock, shared start line -> last message handled",
      producerPostMsPerRun: p.ms.map(round2),
      processCpusPerRun: c.cpus.map(round2),
      roundTripNsPerRun: p.roundTripNs.map(Math.round),
    },
    {
      eventsMoved: total,
      outOfOrder: c.mismatches,
      checksumOk: true,
      farRuns: p.roundTripNs.filter((x) => x > FAR_ROUND_TRIP_NS).length,
    },
  );
}

/**
 * The cross-thread cases (ring and its baselines) run in rounds: each round
 * runs every case once, with fresh threads, in a shuffled order.
 * On this machine the host moves the two vCPUs closer or further apart
 * every few tens of seconds, which changes cross-thread rates ~3x; in
 * rounds every case samples the same stretch of time, so ratios between
 * cases compare like with like.
 */
async function ringSuite(p: Plan, log: (m: string) => void): Promise<CaseResult[]> {
  const r = p.ring;
  const runners: Runner[] = [];
  const ring = (
    name: string,
    group: string,
    v: { batch: number; capacity: number; consumerBatch: number; path: RingPath },
  ): Runner => ({
    name,
    group,
    run: () => ringCase({ name, group, events: r.events[v.batch]!, runs: 1, ...v }),
  });
  for (const batch of [256, 16, 1]) {
    runners.push(
      ring(`ring b${batch}`, 'ring', { batch, capacity: r.capacity, consumerBatch: r.consumerBatch, path: r.path }),
    );
  }
  if (r.sweep) {
    // Where the headline configuration sits among its neighbours.
    const variants: Array<{ batch: number; capacity: number; consumerBatch: number; path: RingPath }> = [
      { batch: 256, capacity: r.capacity, consumerBatch: r.consumerBatch, path: 'copy' },
      { batch: 256, capacity: r.capacity, consumerBatch: 256, path: r.path },
      { batch: 256, capacity: 4096, consumerBatch: r.consumerBatch, path: r.path },
      { batch: 256, capacity: 65_536, consumerBatch: r.consumerBatch, path: r.path },
      { batch: 1, capacity: r.capacity, consumerBatch: r.consumerBatch, path: 'copy' },
    ];
    for (const v of variants) {
      runners.push(ring(`ring b${v.batch} sweep cap ${v.capacity} take ${v.consumerBatch} ${v.path}`, 'ring-sweep', v));
    }
  }
  runners.push({
    name: 'postMessage per event',
    group: 'baseline',
    run: () => postMessageCase('postMessage per event', p.postMessage.events, p.postMessage.warmup, 1),
  });
  const pz = p.piscina;
  runners.push({
    name: 'piscina task per event (tuned)',
    group: 'baseline',
    run: () =>
      piscinaCase(
        'piscina task per event (tuned)',
        // The fastest of the settings tried on this machine (threads 1-3,
        // atomics sync/async/disabled, concurrentTasksPerWorker 1-256,
        // 8-4096 tasks in flight): one thread that takes many tasks at once.
        { minThreads: 1, maxThreads: 1, idleTimeout: 60_000, concurrentTasksPerWorker: 64, atomics: 'sync' },
        'minThreads = maxThreads = 1, concurrentTasksPerWorker 64, atomics sync',
        pz.tasks,
        pz.warmup,
        64,
        1,
      ),
  });
  runners.push({
    name: 'piscina task per event (defaults)',
    group: 'baseline',
    run: () =>
      piscinaCase('piscina task per event (defaults)', {}, 'Piscina defaults', pz.defaultsTasks, pz.warmup, 256, 1),
  });

  // A fresh order each round: a fixed order (even rotated) would always
  // run a case right after the same neighbour, whose teardown (a pool's
  // threads exiting, the main thread's GC) can still be using a core.
  return runRounds(runners, p.runs, 0x6b67, log, 'cross-thread');
}

// ------------------------------------------------------------------ 2. latency counter

async function counterSuite(p: Plan): Promise<CaseResult[]> {
  const INNER = 1000;
  const GROUPS = 16; // amortised: 16 x (64 events + 1 sample) = 1024 events per call
  const counter = LatencyCounter.create({ counters: 4 });
  const plain = new Uint32Array(new SharedArrayBuffer(64));
  const atomic = new Int32Array(new SharedArrayBuffer(64));
  const calls = { plain: 0, atomics: 0, event: 0, sample: 0, amortised: 0 };
  const tasks: TinyTask[] = [
    {
      name: 'plain increment',
      opsPerCall: INNER,
      fn: () => {
        calls.plain++;
        for (let k = 0; k < INNER; k++) plain[0] = plain[0]! + 1;
      },
    },
    {
      name: 'Atomics.add Int32Array',
      opsPerCall: INNER,
      fn: () => {
        calls.atomics++;
        for (let k = 0; k < INNER; k++) Atomics.add(atomic, 0, 1);
      },
    },
    {
      name: 'counter recordEvent',
      opsPerCall: INNER,
      fn: () => {
        calls.event++;
        for (let k = 0; k < INNER; k++) counter.recordEvent(0);
      },
    },
    {
      name: 'counter recordSample',
      opsPerCall: INNER,
      fn: () => {
        calls.sample++;
        for (let k = 0; k < INNER; k++) counter.recordSample(1, (k & 15) + 1);
      },
    },
    {
      name: 'counter event + 1/64 sample',
      opsPerCall: GROUPS * 64,
      fn: () => {
        calls.amortised++;
        for (let g = 0; g < GROUPS; g++) {
          for (let j = 0; j < 64; j++) counter.recordEvent(2);
          counter.recordSample(2, g + 1);
        }
      },
    },
  ];
  const win = newCounterWindow();
  let verified = 0;
  let sumSample = 0; // the values one call of the recordSample task records
  for (let k = 0; k < INNER; k++) sumSample += (k & 15) + 1;
  const afterRun = (): void => {
    // Every recording must have landed: the loops were not elided.
    check(plain[0] === (calls.plain * INNER) >>> 0, `plain increment count ${plain[0]} != ${calls.plain * INNER}`);
    check(atomic[0] === ((calls.atomics * INNER) | 0), 'Atomics.add count mismatch');
    counter.collect(0, win);
    check(
      !win.saturated && win.events === calls.event * INNER,
      `recordEvent: counted ${win.events}, expected ${calls.event * INNER}`,
    );
    counter.collect(1, win);
    check(
      !win.saturated && win.count === calls.sample * INNER && win.sum === calls.sample * sumSample,
      `recordSample: count ${win.count} sum ${win.sum}, expected ${calls.sample * INNER} / ${calls.sample * sumSample}`,
    );
    counter.collect(2, win);
    check(
      win.events === calls.amortised * GROUPS * 64 && win.count === calls.amortised * GROUPS,
      `amortised: events ${win.events} count ${win.count}`,
    );
    verified += calls.event * INNER + calls.sample * INNER + calls.amortised * GROUPS * 65;
    plain[0] = 0;
    atomic[0] = 0;
    calls.plain = calls.atomics = calls.event = calls.sample = calls.amortised = 0;
  };
  const { ns, detail } = await tinyRuns(tasks, p.tiny, afterRun);
  return tasks.map((t) =>
    completed(
      t.name,
      t.name.startsWith('counter') ? 'counter' : 'baseline',
      'ns/op',
      'lower',
      ns.get(t.name)!,
      {
        opsPerTinybenchCall: t.opsPerCall,
        tinybench:
          `${p.tiny.runs} runs, ${p.tiny.timeMs} ms per task per run, timer overhead subtracted; ` +
          'figure = per-run p50 / ops',
        perRun: detail.get(t.name),
        thread: 'main, uncontended',
      },
      { recordingsVerifiedAllTasks: verified },
    ),
  );
}

// ------------------------------------------------------------------ 3. seqlock

const COLS = 128;
const SEQLOCK_SIZES = [
  { label: '4KiB', bytes: 4096 },
  { label: '256KiB', bytes: 256 * 1024 },
  { label: '4MiB', bytes: 4 * 1024 * 1024 },
];

interface SeqlockOutput {
  cases: CaseResult[];
  /** Seqlock.read / Float32Array.set, no writer, by region size. */
  bySize: Record<string, number | null>;
  /** The same with a writer active (both sides measured in alternating slices). */
  withWriter: Record<string, number | null>;
}

async function seqlockSuite(p: Plan, log: (m: string) => void): Promise<SeqlockOutput> {
  const cases: CaseResult[] = [];
  const bySize: Record<string, number | null> = {};
  const withWriter: Record<string, number | null> = {};
  for (const size of SEQLOCK_SIZES) {
    log(`seqlock ${size.label}`);
    const rows = size.bytes / (COLS * 4);
    const floats = rows * COLS;
    const lock = Seqlock.create({ rows, cols: COLS });
    const content = new Float32Array(floats);
    for (let i = 0; i < floats; i++) content[i] = i * 0.5;
    check(lock.write(0, content) === SEQ_OK, 'seqlock: initial write failed');
    const plain = new Float32Array(new SharedArrayBuffer(size.bytes));
    plain.set(content);
    const dstLock = new Float32Array(floats);
    const dstCopy = new Float32Array(floats);
    // Enough copies per tinybench call that one call lasts >= ~10 us.
    const inner = Math.max(1, Math.floor((256 * 1024) / size.bytes));
    let badStatus = 0;
    const tasks: TinyTask[] = [
      {
        name: `seqlock read ${size.label}`,
        opsPerCall: inner,
        fn: () => {
          for (let k = 0; k < inner; k++) if (lock.read(dstLock) !== SEQ_OK) badStatus++;
        },
      },
      {
        name: `Float32Array.set ${size.label}`,
        opsPerCall: inner,
        fn: () => {
          for (let k = 0; k < inner; k++) dstCopy.set(plain);
        },
      },
    ];
    const afterRun = (): void => {
      check(badStatus === 0, `seqlock ${size.label}: ${badStatus} reads did not return SEQ_OK with no writer`);
      const last = floats - 1;
      check(
        dstLock[last] === content[last] && dstCopy[last] === content[last] && dstLock[1] === 0.5,
        `seqlock ${size.label}: copies differ`,
      );
    };
    const { ns, detail } = await tinyRuns(tasks, p.tiny, afterRun);
    const toGBs = (nsPerCopy: number): number => size.bytes / nsPerCopy; // bytes/ns = GB/s
    for (const t of tasks) {
      const isLock = t.name.startsWith('seqlock');
      cases.push(
        completed(
          t.name,
          isLock ? 'seqlock' : 'baseline',
          'GB/s',
          'higher',
          ns.get(t.name)!.map(toGBs),
          {
            bytes: size.bytes,
            rows,
            cols: COLS,
            copiesPerTinybenchCall: inner,
            how: isLock
              ? 'Seqlock.read(dst) of the whole region, no writer active'
              : 'dst.set(src), src a plain SAB-backed Float32Array, dst preallocated',
            tinybench:
              `${p.tiny.runs} runs, ${p.tiny.timeMs} ms per task per run, timer overhead subtracted; ` +
              'figure = bytes / (per-run p50 / copies)',
            perRun: detail.get(t.name),
          },
          { statusOk: true, contentChecked: true },
        ),
      );
    }
    bySize[size.label] = pairedRatio(cases, `seqlock read ${size.label}`, `Float32Array.set ${size.label}`);

    // With a writer active: reported, no target.
    const name = `seqlock read ${size.label} (writer active)`;
    cases.push(
      ...(await guarded(name, 'seqlock-writer', async () => {
        const r = await seqlockWithWriter(name, lock, plain, size.bytes, p);
        withWriter[size.label] = r.vsCopy;
        return [r.c];
      })),
    );
  }
  return { cases, bySize, withWriter };
}

/**
 * Snapshot bandwidth with a writer thread active, beside `Float32Array.set`
 * of a same-sized plain buffer measured in alternating slices of the same
 * runs (bandwidth on this machine drifts by ~1.5x over seconds, so only
 * figures taken side by side compare). Reported, no target.
 */
async function seqlockWithWriter(
  name: string,
  lock: Seqlock,
  plain: Float32Array,
  bytes: number,
  p: Plan,
): Promise<{ c: CaseCompleted; vsCopy: number | null }> {
  const WRITES_PER_SEC = 1000;
  const ROWS_PER_WRITE = 8;
  const MAX_RETRIES = 100;
  const SLICES = 10;
  const stop = new SharedArrayBuffer(4);
  const writerIn: SeqlockWriterInput = {
    handle: lock.handle,
    stop,
    rowsPerWrite: ROWS_PER_WRITE,
    writesPerSec: WRITES_PER_SEC,
  };
  const w = start<SeqlockWriterResult>('seqlock-writer', writerIn);
  const dst = new Float32Array(lock.rows * lock.cols);
  // Look at the clock once per `inner` copies, so that small copies do not time the clock.
  const inner = Math.max(1, Math.floor((256 * 1024) / bytes));
  const sliceMs = p.seqlockWriter.durationMs / SLICES;
  const lockGBs: number[] = [];
  const copyGBs: number[] = [];
  let ok = 0;
  let stalled = 0;
  try {
    await w.started;
    for (let r = 0; r < p.runs; r++) {
      let okRun = 0;
      let lockMs = 0;
      let copies = 0;
      let copyMs = 0;
      for (let slice = 0; slice < SLICES; slice++) {
        let t0 = performance.now();
        let t = t0;
        while (t - t0 < sliceMs) {
          for (let k = 0; k < inner; k++) {
            if (lock.read(dst, 0, lock.rows, MAX_RETRIES) === SEQ_OK) okRun++;
            else stalled++;
          }
          t = performance.now();
        }
        lockMs += t - t0;
        t0 = t;
        while (t - t0 < sliceMs) {
          for (let k = 0; k < inner; k++) dst.set(plain);
          copies += inner;
          t = performance.now();
        }
        copyMs += t - t0;
      }
      ok += okRun;
      lockGBs.push((okRun * bytes) / (lockMs * 1e6));
      copyGBs.push((copies * bytes) / (copyMs * 1e6));
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
  }
  const [wr] = await results<[SeqlockWriterResult]>([w]);
  const c = completed(
    name,
    'seqlock-writer',
    'GB/s',
    'higher',
    lockGBs,
    {
      how:
        `Seqlock.read of the whole region (maxRetries ${MAX_RETRIES}) in ${SLICES} slices per run, alternating with ` +
        'Float32Array.set of a plain buffer of the same size; figure = consistent bytes copied / time reading',
      writer: `worker thread, write() of ${ROWS_PER_WRITE} rows at ~${WRITES_PER_SEC}/s`,
      msPerRun: p.seqlockWriter.durationMs * 2,
      copyGBsPerRun: copyGBs.map(round2),
    },
    {
      consistentReads: ok,
      stalledReads: stalled,
      writerWrites: wr.writes,
      writerFailures: wr.failures,
      writerWritesPerSec: Math.round(wr.writes / (wr.ms / 1000)),
    },
  );
  return { c, vsCopy: ratio(c.median, median(copyGBs)) };
}

// ------------------------------------------------------------------ the suite

export async function runShm(o: SuiteOptions): Promise<SuiteOutput> {
  const p = plan(o);
  const log = o.log;
  const cases: CaseResult[] = [];
  const GROUPS = ['ring', 'counter', 'seqlock'];
  const want = (group: string): boolean => o.only === undefined || o.only.includes(group);
  const unknownGroups = (o.only ?? []).filter((g) => !GROUPS.includes(g));
  if (unknownGroups.length > 0)
    throw new Error(`unknown case group(s) ${unknownGroups.join(', ')}; known: ${GROUPS.join(', ')}`);

  if (want('ring')) cases.push(...(await ringSuite(p, log)));
  if (want('counter')) {
    log('latency counter');
    cases.push(...(await guarded('latency counter', 'counter', () => counterSuite(p))));
  }
  let bySize: Record<string, number | null> = {};
  let withWriter: Record<string, number | null> = {};
  if (want('seqlock')) {
    const s = await guarded('seqlock', 'seqlock', async () => {
      const r = await seqlockSuite(p, log);
      bySize = r.bySize;
      withWriter = r.withWriter;
      return r.cases;
    });
    cases.push(...s);
  }

  // Cases with two threads talking: their runs carry a round-trip probe.
  const probed = cases.filter(
    (c): c is CaseCompleted => c.state === 'completed' && c.params.roundTripNsPerRun !== undefined,
  );
  const ringStarved = probed.reduce((n, c) => n + Number(c.checks.starvedRuns ?? 0), 0);
  const farRuns = probed.reduce((n, c) => n + Number(c.checks.farRuns ?? 0), 0);
  const probedRuns = probed.reduce((n, c) => n + c.runs, 0);
  const rtts = probed.flatMap((c) => c.params.roundTripNsPerRun as number[]);
  const ring256 = medianOf(cases, 'ring b256');
  const pm = medianOf(cases, 'postMessage per event');
  const pzTuned = medianOf(cases, 'piscina task per event (tuned)');
  const pzDefaults = medianOf(cases, 'piscina task per event (defaults)');
  const ratioOfMedians: Record<string, number | null> = {};
  for (const sz of SEQLOCK_SIZES) {
    ratioOfMedians[sz.label] = ratio(
      medianOf(cases, `seqlock read ${sz.label}`),
      medianOf(cases, `Float32Array.set ${sz.label}`),
    );
  }
  const sizeRatios = Object.values(bySize).filter((x): x is number => x !== null);
  const seqlockVsCopy = sizeRatios.length > 0 ? median(sizeRatios) : null;
  const figures: Record<string, number | null> = {
    ring_b1_events_per_s: medianOf(cases, 'ring b1'),
    ring_b16_events_per_s: medianOf(cases, 'ring b16'),
    ring_b256_events_per_s: ring256,
    postmessage_events_per_s: pm,
    piscina_tuned_events_per_s: pzTuned,
    piscina_defaults_events_per_s: pzDefaults,
    counter_event_ns: medianOf(cases, 'counter recordEvent'),
    counter_sample_ns: medianOf(cases, 'counter recordSample'),
    counter_amortised_ns: medianOf(cases, 'counter event + 1/64 sample'),
    plain_increment_ns: medianOf(cases, 'plain increment'),
    atomics_add_ns: medianOf(cases, 'Atomics.add Int32Array'),
    core_round_trip_ns: rtts.length > 0 ? median(rtts) : null,
  };
  for (const s of SEQLOCK_SIZES) {
    figures[`seqlock_${s.label}_gbps`] = medianOf(cases, `seqlock read ${s.label}`);
    figures[`copy_${s.label}_gbps`] = medianOf(cases, `Float32Array.set ${s.label}`);
    figures[`seqlock_${s.label}_writer_active_gbps`] = medianOf(cases, `seqlock read ${s.label} (writer active)`);
  }
  const ratios = {
    ring_vs_postmessage: ratio(ring256, pm),
    ring_vs_piscina: ratio(ring256, pzTuned),
    ring_vs_piscina_defaults: ratio(ring256, pzDefaults),
    ring_b256_vs_b1: ratio(ring256, figures.ring_b1_events_per_s ?? null),
    counter_event_vs_atomics_add: pairedRatio(cases, 'counter recordEvent', 'Atomics.add Int32Array'),
    counter_event_vs_plain_increment: pairedRatio(cases, 'counter recordEvent', 'plain increment'),
    seqlock_vs_copy: seqlockVsCopy,
    seqlock_vs_copy_by_size: bySize,
    seqlock_vs_copy_of_medians_by_size: ratioOfMedians,
    seqlock_writer_active_vs_copy_by_size: withWriter,
  };
  const targets: Record<string, Target> = {
    ring_b256_events_per_s: target('ring, 8-byte events, publish batch 256', ring256, '>=', 150e6),
    ring_vs_postmessage: target('ring batch 256 / postMessage per event', ratios.ring_vs_postmessage, '>=', 100),
    counter_event_ns: target('LatencyCounter.recordEvent ns/op', figures.counter_event_ns ?? null, '<=', 15),
    seqlock_vs_copy: target('Seqlock.read / Float32Array.set bandwidth, median over sizes', seqlockVsCopy, '>=', 0.8),
  };
  const notes = [
    'ring and postMessage runs are timed on the consumer thread from a shared spin start line to its last event; ' +
      'piscina on the main thread.',
    'ring ratios divide medians of the same process run (the cross-thread cases run in interleaved rounds); ' +
      'counter and seqlock ratios are medians of per-run ratios of tasks measured side by side ' +
      'in the same tinybench run.',
  ];
  if (farRuns > 0) {
    const which = probed.filter((c) => Number(c.checks.farRuns ?? 0) > 0).map((c) => c.name);
    notes.push(
      `${farRuns} of ${probedRuns} two-thread run(s) (${which.join('; ')}) had a core-to-core round trip ` +
        `above ${FAR_ROUND_TRIP_NS} ns before or after (the host had placed the two vCPUs far apart); ` +
        'cross-thread rates drop ~3x in such runs. See roundTripNsPerRun / roundTripAfterNsPerRun.',
    );
  }
  if (ringStarved > 0) {
    notes.push(
      `${ringStarved} ring run(s) got less than 1.7 CPUs for their 2 spinning threads (another process was busy): ` +
        'those runs are lower bounds; see processCpusPerRun.',
    );
  }
  return { cases, ratios, figures, targets, notes };
}
