/**
 * The `router` suite: kgshard's event router beside the baselines it
 * replaces, each pair measured in the same process run.
 *
 * 1. `ShardMapper.selectShard` (ns/op, tinybench, main thread; 4 Active
 *    shards, hashes precomputed in a Uint32Array) beside a plain
 *    typed-array read at a multiply-shift index of the same hashes, the two
 *    tasks side by side in the same tinybench runs; ratio = median of
 *    per-run ratios.
 * 2. `selectShard` from a worker thread (ns/op on the worker's clock, in
 *    chunks of precomputed hashes), in alternating slices: quiet (the main
 *    thread sleeps) and busy (the main thread keeps rebuilding the
 *    selection table: mark one shard loaded with `testHooks().setLastMetrics`
 *    and republish, then `collectMetrics`, which resets the weights and
 *    republishes; the loaded shard rotates). Reported with the number of
 *    table publications during the busy slices and how many chunks saw
 *    their selections change (the worker re-read the table). No target.
 * 3. Route + push (events/s): 1 and 2 producer threads, each a Router
 *    `Producer` (metrics always on) pushing 8-byte events (producer id,
 *    sequence number) at batch 256 into its own shard's ring, drained by one
 *    consumer worker per shard running `drainShard` with sequence
 *    verification; 1 producer also at batches 16 and 1. Whole-run timing:
 *    producers start on a shared start line and each run ends when every
 *    ring is seen empty after the last push (on the producers' clocks;
 *    the slowest producer's time counts). Baselines in the same rounds: a
 *    Piscina task per event (the echo task; the tuned setting of the `shm`
 *    suite, and Piscina's defaults) and worker postMessage per event. The
 *    cross-thread cases run in shuffled rounds with fresh threads; ratios
 *    are medians of per-round ratios.
 *
 * Checks (a failure errors the case): the selection sums of both tinybench
 * tasks agree with a recomputation every run; the worker saw no impossible
 * selection, no change in quiet slices and at least one change in busy
 * ones; every producer bound to a shard of its own at once and pushed all
 * its events; `verifyDelivery` over every consumer's traces finds nothing
 * lost, duplicated or reordered, and nothing foreign; the shards' metrics
 * counted every pushed event; the rings end empty with intact guards.
 */
import { MessageChannel } from 'node:worker_threads';
import { indexOf, mapperLayout } from '../native-layout/index.js';
import { verifyDelivery } from '../src/router/consumer.js';
import { ShardMapper } from '../src/router/mapper.js';
import { Router } from '../src/router/router.js';
import type { RingWaitPolicy } from '../src/shm/ring.js';
import { cpuSnapshot, foreignCpu } from './lib/foreign.js';
import type { PostMessageConsumerResult, PostMessageProducerResult, PostMessageSideInput } from './lib/protocol.js';
import { createProbe } from './lib/probe.js';
import { completed, target, type CaseCompleted, type CaseResult, type Target } from './lib/report.js';
import { createRendezvous, Rendezvous } from './lib/rendezvous.js';
import {
  SELECT_CTL_DONE,
  SELECT_CTL_WORDS,
  selectSliceBusy,
  selectTotalSlices,
  type RouteDrainInput,
  type RouteDrainResult,
  type RouteProducerInput,
  type RouteProducerResult,
  type SelectWorkerInput,
  type SelectWorkerResult,
} from './lib/router-protocol.js';
import { median } from './lib/stats.js';
import {
  check,
  guarded,
  medianOf,
  mulberry32,
  pairedRatio,
  piscinaCase,
  ratio,
  round2,
  runRounds,
  tinyRuns,
  type Runner,
  type TinyTask,
  type TinyTiming,
} from './lib/suite.js';
import { results, start, type Started } from './lib/threads.js';
import type { SuiteOptions, SuiteOutput } from './main.js';

// ------------------------------------------------------------------ sizes

/** Timed runs (rounds, for the cross-thread cases) of a full run; --quick uses 3. */
export const DEFAULT_RUNS = 7;

/** Active shards of the select benchmarks' mappers. */
const SELECT_SHARDS = 4;
/** Hashes per tinybench call (main thread) and per chunk (worker): 16 KiB, in L1. */
const SELECT_HASHES = 4096;
const INV_2_32 = 2.3283064365386963e-10;

interface Plan {
  runs: number;
  tiny: TinyTiming;
  selectWorker: { runs: number; slices: number; sliceMs: number; warmupSlices: number };
  route: {
    /** Events per timed run per producer, by producer batch. */
    events: Record<number, number>;
    capacity: number;
    consumerBatch: number;
    warmupRuns: number;
  };
  postMessage: { events: number; warmup: number };
  piscina: { tasks: number; defaultsTasks: number; warmup: number };
}

function plan(o: SuiteOptions): Plan {
  const quick = o.quick;
  const runs = o.runs ?? (quick ? 3 : DEFAULT_RUNS);
  return {
    runs,
    // Many short runs rather than a few long ones (this host's clock and
    // memory drift over seconds; a ratio is as good as its pairing in time).
    tiny: { runs: 3 * runs, timeMs: quick ? 25 : 60, warmupMs: quick ? 10 : 20 },
    selectWorker: { runs, slices: 6, sliceMs: quick ? 8 : 20, warmupSlices: 6 },
    route: {
      // ~0.1-0.3 s per timed run at the expected rates.
      events: quick ? { 1: 250_000, 16: 2_000_000, 256: 4_000_000 } : { 1: 1_000_000, 16: 6_000_000, 256: 16_000_000 },
      capacity: 16_384,
      consumerBatch: 4096,
      warmupRuns: 3,
    },
    postMessage: quick ? { events: 100_000, warmup: 20_000 } : { events: 400_000, warmup: 100_000 },
    piscina: quick
      ? { tasks: 10_000, defaultsTasks: 5_000, warmup: 2_000 }
      : { tasks: 40_000, defaultsTasks: 15_000, warmup: 10_000 },
  };
}

// ------------------------------------------------------------------ helpers

/** A mapper with `SELECT_SHARDS` Active shards and no scaling (the select benchmarks' mapper). */
function selectMapper(cooldownMs?: number): ShardMapper {
  return ShardMapper.create({
    initialShards: SELECT_SHARDS,
    ringCapacity: 1024,
    policy: { maxShards: SELECT_SHARDS, autoScale: false, ...(cooldownMs !== undefined ? { cooldownMs } : {}) },
  });
}

function randomHashes(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 2 ** 32);
  return out;
}

/**
 * Runs in which the process got clearly less CPU than its busy threads
 * wanted (`wanted` cores): another process was running on this 2-core
 * machine, and the figure of that run is a lower bound.
 */
function starved(cpusPerRun: readonly number[], wanted: number): number {
  return cpusPerRun.filter((c) => c < wanted * 0.85).length;
}

// ------------------------------------------------------------------ 1. select_shard, main thread

const SELECT = 'select_shard';
const SELECT_BASE = 'typed-array read + multiply-shift';

async function selectSuite(p: Plan): Promise<CaseResult[]> {
  const m = selectMapper();
  const table = Int32Array.from(m.selectionTable());
  check(
    table.length === SELECT_SHARDS && table.every((id, k) => id === k),
    `select: selection table is [${[...table].join(', ')}], expected 0..${SELECT_SHARDS - 1}`,
  );
  const hashes = randomHashes(SELECT_HASHES, 0x5e1ec7);
  // What one call of either task must add up to.
  let perCall = 0;
  for (let k = 0; k < SELECT_HASHES; k++) {
    const id = m.selectShard(hashes[k]!);
    check(
      id === table[(hashes[k]! * table.length * INV_2_32) | 0],
      `select: selectShard(${hashes[k]}) = ${id} disagrees with the multiply-shift of its table`,
    );
    perCall += id;
  }
  const len = table.length;
  let selCalls = 0;
  let selSum = 0;
  let baseCalls = 0;
  let baseSum = 0;
  let verified = 0;
  const tasks: TinyTask[] = [
    {
      name: SELECT,
      opsPerCall: SELECT_HASHES,
      fn: () => {
        selCalls++;
        let s = 0;
        for (let k = 0; k < SELECT_HASHES; k++) s += m.selectShard(hashes[k]!);
        selSum += s;
      },
    },
    {
      name: SELECT_BASE,
      opsPerCall: SELECT_HASHES,
      fn: () => {
        baseCalls++;
        let s = 0;
        for (let k = 0; k < SELECT_HASHES; k++) s += table[(hashes[k]! * len * INV_2_32) | 0]!;
        baseSum += s;
      },
    },
  ];
  const afterRun = (): void => {
    check(selSum === selCalls * perCall, `select: selectShard sums ${selSum}, expected ${selCalls} calls x ${perCall}`);
    check(
      baseSum === baseCalls * perCall,
      `select: baseline sums ${baseSum}, expected ${baseCalls} calls x ${perCall}`,
    );
    verified += (selCalls + baseCalls) * SELECT_HASHES;
    selCalls = selSum = baseCalls = baseSum = 0;
  };
  const snap = cpuSnapshot();
  const { ns, detail } = await tinyRuns(tasks, p.tiny, afterRun);
  const foreign = foreignCpu(snap);
  return tasks.map((t) =>
    completed(
      t.name,
      t.name === SELECT ? 'select' : 'baseline',
      'ns/op',
      'lower',
      ns.get(t.name)!,
      {
        thread: 'main, uncontended (no table publication during the runs)',
        shards: SELECT_SHARDS,
        hashesPerTinybenchCall: SELECT_HASHES,
        hashes: 'precomputed, uniform 32-bit (mulberry32), in a Uint32Array',
        how:
          t.name === SELECT
            ? 'sum += mapper.selectShard(hashes[k])'
            : 'sum += table[(hashes[k] * table.length * 2^-32) | 0], table an Int32Array copy of the selection table ' +
              '(the same multiply-shift selectShard uses)',
        tinybench:
          `${p.tiny.runs} runs, ${p.tiny.timeMs} ms per task per run, timer overhead subtracted; ` +
          'figure = per-run p50 / ops',
        perRun: detail.get(t.name),
        foreignCpus: foreign?.others ?? null,
      },
      { selectionsVerifiedBothTasks: verified, sumPerCall: perCall },
    ),
  );
}

// ------------------------------------------------------------------ 2. select_shard from a worker, table rebuilt

const SELECT_QUIET = 'select_shard worker, table quiet';
const SELECT_BUSY = 'select_shard worker, table rebuilt meanwhile';

interface SelectBusyOutput {
  cases: CaseResult[];
  busyVsQuiet: number | null;
  publicationsPerS: number | null;
  changedChunkFraction: number | null;
}

async function selectBusySuite(p: Plan, log: (m: string) => void): Promise<SelectBusyOutput> {
  log('select_shard from a worker, quiet vs table rebuilt');
  const m = selectMapper(0);
  const hooks = m.testHooks();
  const ctlSab = new SharedArrayBuffer(SELECT_CTL_WORDS * 4);
  const ctl = new Int32Array(ctlSab);
  const startLine = createRendezvous(2);
  const line = new Rendezvous(startLine);
  const sw = p.selectWorker;
  const input: SelectWorkerInput = {
    mapper: m.handle,
    ctl: ctlSab,
    start: startLine,
    hashes: randomHashes(SELECT_HASHES, 0xc0ffee),
    tableGenIndex: indexOf(mapperLayout(m.slots), 'tableGen'),
    warmupSlices: sw.warmupSlices,
    runs: sw.runs,
    slices: sw.slices,
    sliceMs: sw.sliceMs,
  };
  // One rebuild cycle: two publications, each changing the table (a shard
  // leaves it, then every shard is back), three lock acquisitions.
  let victim = 0;
  let cycles = 0;
  const cycle = (): void => {
    hooks.setLastMetrics(victim, { weight: 1 });
    hooks.rebuildSelectionTable();
    m.collectMetrics();
    victim = (victim + 1) % SELECT_SHARDS;
    cycles++;
  };
  const w = start<SelectWorkerResult>('router-select', input);
  const mainCyclesPerRun: number[] = [];
  let r: SelectWorkerResult;
  const snap = cpuSnapshot();
  try {
    await Promise.race([
      w.started,
      w.result.then(() => Promise.reject(new Error('select worker answered before it started'))),
    ]);
    const total = selectTotalSlices(input);
    const deadline = performance.now() + 60_000 + total * sw.sliceMs * 4;
    for (let k = 0; k < total; k++) {
      const busy = selectSliceBusy(k, input);
      const before = cycles;
      line.arrive(false);
      if (busy) {
        while (Atomics.load(ctl, SELECT_CTL_DONE) !== k + 1) cycle();
      } else {
        // The main thread may sleep (Node allows Atomics.wait there).
        while (Atomics.load(ctl, SELECT_CTL_DONE) !== k + 1) {
          Atomics.wait(ctl, SELECT_CTL_DONE, k, 50);
          if (performance.now() > deadline) throw new Error(`select worker: slice ${k} did not end`);
        }
      }
      if (busy && k >= input.warmupSlices) {
        const run = Math.floor((k - input.warmupSlices) / (2 * input.slices));
        mainCyclesPerRun[run] = (mainCyclesPerRun[run] ?? 0) + cycles - before;
      }
    }
    r = await w.result;
  } finally {
    await w.worker.terminate();
  }
  const foreign = foreignCpu(snap);
  check(
    r.invalidChunks === 0,
    `select worker: ${r.invalidChunks} chunks held a selection outside ids 0..${SELECT_SHARDS - 1}`,
  );
  check(r.quietChanges === 0, `select worker: ${r.quietChanges} quiet slices saw the selections or tableGen change`);
  check(
    r.quiet.length === sw.runs && r.busy.length === sw.runs,
    `select worker: ${r.quiet.length}/${r.busy.length} runs reported, expected ${sw.runs}`,
  );
  const busyChanged = r.busy.reduce((n, x) => n + x.changedChunks, 0);
  const busyPubs = r.busy.reduce((n, x) => n + x.publications, 0);
  check(busyPubs > 0, 'select worker: no table publication during the busy slices');
  check(
    busyChanged > 0,
    `select worker: ${busyPubs} publications during the busy slices, ` +
      'but no chunk saw its selections change (stale table)',
  );
  const nsOf = (x: { ms: number; ops: number }): number => (x.ms * 1e6) / x.ops;
  const common = {
    thread: 'worker (its own attached ShardMapper object)',
    shards: SELECT_SHARDS,
    hashesPerChunk: SELECT_HASHES,
    slicesPerRun:
      `${sw.slices} quiet + ${sw.slices} busy, alternating (which goes first alternates between runs), ` +
      `${sw.sliceMs} ms each; ${sw.warmupSlices} warm-up slices`,
    timing:
      "worker's clock; figure = slice time / selectShard calls, over the run's slices of that phase " +
      '(chunk bookkeeping: one tableGen load and one clock read per chunk included)',
    foreignCpus: foreign?.others ?? null,
  };
  const quiet = completed(
    SELECT_QUIET,
    'select-busy',
    'ns/op',
    'lower',
    r.quiet.map(nsOf),
    { ...common, mainThread: 'asleep (Atomics.wait)', opsPerRun: r.quiet.map((x) => x.ops) },
    {
      impossibleSelections: r.invalidChunks,
      quietSlicesWithChanges: r.quietChanges,
      publicationsDuringQuiet: r.quiet.reduce((n, x) => n + x.publications, 0),
    },
  );
  const busy = completed(
    SELECT_BUSY,
    'select-busy',
    'ns/op',
    'lower',
    r.busy.map(nsOf),
    {
      ...common,
      mainThread:
        'in a loop until the slice ends: testHooks().setLastMetrics(victim, {weight: 1}) + rebuildSelectionTable() ' +
        '(table without the victim), then collectMetrics() (weights reset, all shards back); victim rotates',
      opsPerRun: r.busy.map((x) => x.ops),
      publicationsPerRun: r.busy.map((x) => x.publications),
      publicationsPerSecondPerRun: r.busy.map((x) => Math.round(x.publications / (x.ms / 1000))),
      mainRebuildCyclesPerRun: mainCyclesPerRun,
      chunksPerRun: r.busy.map((x) => x.chunks),
      changedChunksPerRun: r.busy.map((x) => x.changedChunks),
      genChangedChunksPerRun: r.busy.map((x) => x.genChangedChunks),
    },
    {
      publications: busyPubs,
      chunks: r.busy.reduce((n, x) => n + x.chunks, 0),
      chunksWithChangedSelections: busyChanged,
      chunksEndingOnANewGeneration: r.busy.reduce((n, x) => n + x.genChangedChunks, 0),
      impossibleSelections: r.invalidChunks,
    },
    'a chunk = one selectShard call per hash of a fixed 4096-hash array, ' +
      'so its sum of ids is a function of the table; "changed" = its sum differs from the previous chunk\'s',
  );
  const pubsPerS = r.busy.map((x) => x.publications / (x.ms / 1000));
  const chunks = r.busy.reduce((n, x) => n + x.chunks, 0);
  return {
    cases: [quiet, busy],
    busyVsQuiet: pairedRatio([quiet, busy], SELECT_BUSY, SELECT_QUIET),
    publicationsPerS: pubsPerS.length > 0 ? median(pubsPerS) : null,
    changedChunkFraction: chunks > 0 ? busyChanged / chunks : null,
  };
}

// ------------------------------------------------------------------ 3. route + push and its baselines

interface RouteSpec {
  name: string;
  group: string;
  producers: number;
  batch: number;
  /** Per producer, per timed run. */
  events: number;
  /** How producers and consumers wait on a full or empty ring. */
  ringWait: RingWaitPolicy;
}

/**
 * A worker's result, or the worker's failure if it ends first (a 'started' that never comes must not hang the suite).
 */
function startedOrFailed<T>(w: Started<T>, what: string): Promise<void> {
  return Promise.race([
    w.started,
    w.result.then(() => Promise.reject(new Error(`${what} answered before it started`))),
  ]);
}

async function routeCase(p: Plan, s: RouteSpec): Promise<CaseCompleted> {
  const r = p.route;
  const P = s.producers;
  const router = Router.create({
    initialShards: P,
    ringCapacity: r.capacity,
    policy: { maxShards: P, autoScale: false },
    eventWords: 2,
    ringWait: s.ringWait,
    // With more threads than cores (and other processes busy) a consumer may
    // not run for a 5 ms slice; the breaker would then move its producer,
    // which these runs count as an error. Breakers are not what they measure.
    ...(P > 2 ? { waitSliceMs: 50 } : {}),
  });
  const mapper = router.mapper;
  const slots = mapper.activeShardIds().map((id) => mapper.slotOf(id));
  check(slots.length === P && slots.every((x) => x >= 0), `${s.name}: ${slots.length} active shards, expected ${P}`);
  const consumers = slots.map((slot) => {
    const input: RouteDrainInput = { handle: router.handle, slot, batch: r.consumerBatch };
    return start<RouteDrainResult>('router-drain', input);
  });
  const warmupEvents = Math.max(s.batch, Math.floor(s.events / 4));
  let prs: RouteProducerResult[];
  let drs: RouteDrainResult[];
  try {
    await Promise.all(consumers.map((c) => startedOrFailed(c, `${s.name}: consumer`)));
    const line = createRendezvous(P);
    prs = await results<RouteProducerResult[]>(
      Array.from({ length: P }, (_, i) => {
        const input: RouteProducerInput = {
          handle: router.handle,
          producerId: i,
          start: line,
          batch: s.batch,
          events: s.events,
          warmupRuns: r.warmupRuns,
          warmupEvents,
          runs: 1,
          maxUnboundCalls: 5,
          blockTimeoutMs: 1000,
        };
        return start<RouteProducerResult>('router-producer', input);
      }),
    );
    for (const slot of slots) router.requestStop(slot);
    drs = await results<RouteDrainResult[]>(consumers);
  } finally {
    await Promise.all(consumers.map((c) => c.worker.terminate()));
  }

  // Correctness.
  const perProducer = r.warmupRuns * warmupEvents + s.events;
  const produced = new Map<number, number>();
  for (const pr of prs) {
    produced.set(pr.producerId, pr.pushed);
    check(
      pr.pushed === perProducer,
      `${s.name}: producer ${pr.producerId} pushed ${pr.pushed}, expected ${perProducer}`,
    );
    check(
      pr.unboundCalls === 0,
      `${s.name}: producer ${pr.producerId} found no shard on ${pr.unboundCalls} push calls`,
    );
    check(
      pr.slotsSeen.length === 1 && pr.slotsSeen[0] === pr.slot,
      `${s.name}: producer ${pr.producerId} moved between slots ${pr.slotsSeen.join(', ')}`,
    );
  }
  check(
    new Set(prs.map((x) => x.slot)).size === P,
    `${s.name}: producers share a shard (slots ${prs.map((x) => x.slot).join(', ')})`,
  );
  const verdict = verifyDelivery(
    produced,
    drs.flatMap((d) => d.traces),
  );
  check(
    verdict.lost === 0 && verdict.duplicated === 0 && verdict.reordered === 0,
    `${s.name}: verifyDelivery: ${verdict.lost} lost, ${verdict.duplicated} duplicated, ` +
      `${verdict.reordered} reordered of ${verdict.produced}`,
  );
  check(
    verdict.consumed === verdict.produced && verdict.produced === P * perProducer,
    `${s.name}: consumed ${verdict.consumed} of ${verdict.produced}`,
  );
  for (const d of drs) {
    check(d.foreign === 0, `${s.name}: consumer of slot ${d.slot} saw ${d.foreign} events with a foreign producer id`);
    const owner = prs.find((x) => x.slot === d.slot);
    check(
      owner !== undefined && d.consumed === owner.pushed,
      `${s.name}: consumer of slot ${d.slot} took ${d.consumed}, its producer pushed ${owner?.pushed}`,
    );
  }
  for (const slot of slots) {
    const ring = router.rings[slot]!;
    check(ring.isEmpty() && ring.checkGuards(), `${s.name}: ring of slot ${slot} not empty or guards overwritten`);
  }
  router.reportLengths();
  const metrics = mapper.collectMetrics();
  const counted = metrics.reduce((n, x) => n + x.eventRate, 0);
  check(
    counted === P * perProducer,
    `${s.name}: shard metrics counted ${counted} pushed events, producers pushed ${P * perProducer}`,
  );

  const ms = prs[0]!.ms.map((_, run) => Math.max(...prs.map((x) => x.ms[run]!)));
  const eventsPerRun = P * s.events;
  return completed(
    s.name,
    s.group,
    'events/s',
    'higher',
    ms.map((x) => eventsPerRun / (x / 1000)),
    {
      producers: P,
      consumers: P,
      threads: 2 * P,
      ringWait: s.ringWait,
      waitSliceMs: router.waitSliceMs,
      eventBytes: 8,
      producerBatch: s.batch,
      ringCapacity: r.capacity,
      consumerMaxTake: r.consumerBatch,
      eventsPerRunPerProducer: s.events,
      warmupRuns: r.warmupRuns,
      warmupEventsPerRun: warmupEvents,
      how:
        'producer workers: Router.attach(handle).producer(id).push(staging, 0, batch), ' +
        'and pushBlocking(staging, done, batch - done) for what a full ring refused ' +
        '(metrics recorded by the producer on every call: events, and a latency sample every 64th call); ' +
        `consumer workers: drainShard(router, slot, {batch: ${r.consumerBatch}, verify: true}) until stopped`,
      timing:
        "producers' clocks from a shared start line until their ring is seen empty after the last push; " +
        "figure = all producers' events / slowest producer's time",
      msPerRun: ms.map(round2),
      pushMsPerRun: prs.map((x) => x.pushMs.map(round2)).flat(),
      processCpusPerRun: prs.map((x) => x.cpus.map(round2)).flat(),
      avgPushLatencyNsLastWindow: metrics.map((x) => x.avgPushLatencyNs),
      avgFlushLatencyUsLastWindow: metrics.map((x) => x.avgFlushLatencyUs),
    },
    {
      eventsMoved: verdict.produced,
      lost: verdict.lost,
      duplicated: verdict.duplicated,
      reordered: verdict.reordered,
      foreign: drs.reduce((n, d) => n + d.foreign, 0),
      eventsCountedByMetrics: counted,
      pushCalls: prs.reduce((n, x) => n + x.pushCalls, 0),
      batchesThatWaitedForRoom: prs.reduce((n, x) => n + x.fullCalls, 0),
      consumerFlushes: drs.reduce((n, d) => n + d.flushes, 0),
      starvedRuns: starved(
        prs.flatMap((x) => x.cpus),
        Math.min(2, 2 * P),
      ),
    },
  );
}

async function postMessageCase(name: string, events: number, warmupEvents: number): Promise<CaseCompleted> {
  const { port1, port2 } = new MessageChannel();
  const common = { start: createRendezvous(2), probe: createProbe(), events, warmupEvents, runs: 1 };
  const producerIn: PostMessageSideInput = { ...common, port: port1 };
  const consumerIn: PostMessageSideInput = { ...common, port: port2 };
  const [pr, c] = await results<[PostMessageProducerResult, PostMessageConsumerResult]>([
    start<PostMessageProducerResult>('pm-producer', producerIn, [port1]),
    start<PostMessageConsumerResult>('pm-consumer', consumerIn, [port2]),
  ]);
  const total = warmupEvents + events;
  check(
    pr.posted === total && c.received === total,
    `${name}: posted ${pr.posted}, received ${c.received}, expected ${total}`,
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
      how:
        'producer worker -> consumer worker over a MessageChannel port, one postMessage(number) per event ' +
        '(bench/workers/pm-producer, pm-consumer)',
      eventsPerRun: events,
      warmupEvents,
      timing: "consumer's clock, shared start line -> last message handled",
      processCpusPerRun: c.cpus.map(round2),
    },
    { eventsMoved: total, outOfOrder: c.mismatches, checksumOk: true },
  );
}

const ROUTE = {
  b256: 'route+push 1 producer b256',
  b256p2: 'route+push 2 producers b256',
  b16: 'route+push 1 producer b16',
  b1: 'route+push 1 producer b1',
  b1p2: 'route+push 2 producers b1',
  b256p4: 'route+push 4 producers b256',
  b1p4: 'route+push 4 producers b1',
  b256p8: 'route+push 8 producers b256',
  b1p8: 'route+push 8 producers b1',
  spinB256: 'route+push 1 producer b256, spin wait',
  spinB256p2: 'route+push 2 producers b256, spin wait',
  spinB1: 'route+push 1 producer b1, spin wait',
  spinB1p2: 'route+push 2 producers b1, spin wait',
  spinB1p8: 'route+push 8 producers b1, spin wait',
  pm: 'postMessage per event',
  pz: 'piscina task per event (tuned)',
  pzDefaults: 'piscina task per event (defaults)',
} as const;

async function routeSuite(p: Plan, log: (m: string) => void): Promise<CaseResult[]> {
  const e = p.route.events;
  const route = (name: string, producers: number, batch: number, ringWait: RingWaitPolicy = 'backoff'): Runner => ({
    name,
    group: 'route',
    // Beyond 2 producers the run's total stays that of 2 (runs stay bounded when threads outnumber cores).
    run: () =>
      routeCase(p, {
        name,
        group: 'route',
        producers,
        batch,
        events: Math.ceil((e[batch]! * Math.min(2, producers)) / producers),
        ringWait,
      }),
  });
  const pz = p.piscina;
  const runners: Runner[] = [
    route(ROUTE.b256, 1, 256),
    route(ROUTE.b256p2, 2, 256),
    route(ROUTE.b16, 1, 16),
    route(ROUTE.b1, 1, 1),
    route(ROUTE.b1p2, 2, 1),
    route(ROUTE.b256p4, 4, 256),
    route(ROUTE.b1p4, 4, 1),
    route(ROUTE.b256p8, 8, 256),
    route(ROUTE.b1p8, 8, 1),
    // The same cases with the wait policy before the backoff: the fast path's before/after, in the same rounds.
    route(ROUTE.spinB256, 1, 256, 'spin'),
    route(ROUTE.spinB256p2, 2, 256, 'spin'),
    route(ROUTE.spinB1, 1, 1, 'spin'),
    route(ROUTE.spinB1p2, 2, 1, 'spin'),
    route(ROUTE.spinB1p8, 8, 1, 'spin'),
    {
      name: ROUTE.pm,
      group: 'baseline',
      run: () => postMessageCase(ROUTE.pm, p.postMessage.events, p.postMessage.warmup),
    },
    {
      name: ROUTE.pz,
      group: 'baseline',
      run: () =>
        piscinaCase(
          ROUTE.pz,
          // The fastest setting found for the shm suite on this machine.
          { minThreads: 1, maxThreads: 1, idleTimeout: 60_000, concurrentTasksPerWorker: 64, atomics: 'sync' },
          "minThreads = maxThreads = 1, concurrentTasksPerWorker 64, atomics sync (the shm suite's tuned setting)",
          pz.tasks,
          pz.warmup,
          64,
          1,
        ),
    },
    {
      name: ROUTE.pzDefaults,
      group: 'baseline',
      run: () => piscinaCase(ROUTE.pzDefaults, {}, 'Piscina defaults', pz.defaultsTasks, pz.warmup, 256, 1),
    },
  ];
  return runRounds(runners, p.runs, 0x726f75, log, 'route');
}

// ------------------------------------------------------------------ the suite

export async function runRouter(o: SuiteOptions): Promise<SuiteOutput> {
  const p = plan(o);
  const log = o.log;
  const GROUPS = ['select', 'select-busy', 'route'];
  const want = (group: string): boolean => o.only === undefined || o.only.includes(group);
  const unknownGroups = (o.only ?? []).filter((g) => !GROUPS.includes(g));
  if (unknownGroups.length > 0)
    throw new Error(`unknown case group(s) ${unknownGroups.join(', ')}; known: ${GROUPS.join(', ')}`);

  const cases: CaseResult[] = [];
  const notes: string[] = [];
  if (want('select')) {
    log('select_shard, main thread');
    cases.push(...(await guarded(SELECT, 'select', () => selectSuite(p))));
  }
  let busy: Omit<SelectBusyOutput, 'cases'> = { busyVsQuiet: null, publicationsPerS: null, changedChunkFraction: null };
  if (want('select-busy')) {
    cases.push(
      ...(await guarded(SELECT_BUSY, 'select-busy', async () => {
        const r = await selectBusySuite(p, log);
        busy = r;
        return r.cases;
      })),
    );
  }
  if (want('route')) cases.push(...(await guarded('route', 'route', () => routeSuite(p, log))));

  const route256 = medianOf(cases, ROUTE.b256);
  const busyCase = cases.find((c): c is CaseCompleted => c.state === 'completed' && c.name === SELECT_BUSY);
  const figures: Record<string, number | null> = {
    select_shard_ns: medianOf(cases, SELECT),
    select_shard_baseline_ns: medianOf(cases, SELECT_BASE),
    select_shard_worker_quiet_ns: medianOf(cases, SELECT_QUIET),
    select_shard_worker_rebuilt_ns: medianOf(cases, SELECT_BUSY),
    table_publications_per_run_rebuilt: busyCase ? median(busyCase.params.publicationsPerRun as number[]) : null,
    table_publications_per_s_rebuilt: busy.publicationsPerS,
    changed_chunks_per_run_rebuilt: busyCase ? median(busyCase.params.changedChunksPerRun as number[]) : null,
    changed_chunk_fraction_rebuilt: busy.changedChunkFraction,
    route_1p_b256_events_per_s: route256,
    route_2p_b256_events_per_s: medianOf(cases, ROUTE.b256p2),
    route_1p_b16_events_per_s: medianOf(cases, ROUTE.b16),
    route_1p_b1_events_per_s: medianOf(cases, ROUTE.b1),
    route_2p_b1_events_per_s: medianOf(cases, ROUTE.b1p2),
    route_4p_b256_events_per_s: medianOf(cases, ROUTE.b256p4),
    route_4p_b1_events_per_s: medianOf(cases, ROUTE.b1p4),
    route_8p_b256_events_per_s: medianOf(cases, ROUTE.b256p8),
    route_8p_b1_events_per_s: medianOf(cases, ROUTE.b1p8),
    route_spin_1p_b256_events_per_s: medianOf(cases, ROUTE.spinB256),
    route_spin_2p_b256_events_per_s: medianOf(cases, ROUTE.spinB256p2),
    route_spin_1p_b1_events_per_s: medianOf(cases, ROUTE.spinB1),
    route_spin_2p_b1_events_per_s: medianOf(cases, ROUTE.spinB1p2),
    route_spin_8p_b1_events_per_s: medianOf(cases, ROUTE.spinB1p8),
    postmessage_events_per_s: medianOf(cases, ROUTE.pm),
    piscina_tuned_events_per_s: medianOf(cases, ROUTE.pz),
    piscina_defaults_events_per_s: medianOf(cases, ROUTE.pzDefaults),
  };
  const ratios: SuiteOutput['ratios'] = {
    select_shard_vs_baseline: pairedRatio(cases, SELECT, SELECT_BASE),
    select_shard_rebuilt_vs_quiet: busy.busyVsQuiet,
    select_shard_worker_quiet_vs_main: ratio(
      figures.select_shard_worker_quiet_ns ?? null,
      figures.select_shard_ns ?? null,
    ),
    route_vs_piscina: pairedRatio(cases, ROUTE.b256, ROUTE.pz),
    route_vs_piscina_of_medians: ratio(route256, figures.piscina_tuned_events_per_s ?? null),
    route_vs_piscina_defaults: pairedRatio(cases, ROUTE.b256, ROUTE.pzDefaults),
    route_vs_postmessage: pairedRatio(cases, ROUTE.b256, ROUTE.pm),
    route_vs_postmessage_of_medians: ratio(route256, figures.postmessage_events_per_s ?? null),
    route_2p_vs_1p: pairedRatio(cases, ROUTE.b256p2, ROUTE.b256),
    route_b256_vs_b16: pairedRatio(cases, ROUTE.b256, ROUTE.b16),
    route_b256_vs_b1: pairedRatio(cases, ROUTE.b256, ROUTE.b1),
    oversubscribed_8p_vs_2p: pairedRatio(cases, ROUTE.b1p8, ROUTE.b1p2),
    oversubscribed_8p_vs_2p_b256: pairedRatio(cases, ROUTE.b256p8, ROUTE.b256p2),
    oversubscribed_4p_vs_2p: pairedRatio(cases, ROUTE.b1p4, ROUTE.b1p2),
    oversubscribed_4p_vs_2p_b256: pairedRatio(cases, ROUTE.b256p4, ROUTE.b256p2),
    backoff_vs_spin_1p_b256: pairedRatio(cases, ROUTE.b256, ROUTE.spinB256),
    backoff_vs_spin_2p_b256: pairedRatio(cases, ROUTE.b256p2, ROUTE.spinB256p2),
    backoff_vs_spin_1p_b1: pairedRatio(cases, ROUTE.b1, ROUTE.spinB1),
    backoff_vs_spin_2p_b1: pairedRatio(cases, ROUTE.b1p2, ROUTE.spinB1p2),
    backoff_vs_spin_8p_b1: pairedRatio(cases, ROUTE.b1p8, ROUTE.spinB1p8),
  };
  const targets: Record<string, Target> = {
    select_shard_ns: target(
      'ShardMapper.selectShard ns/op, one thread, 4 Active shards',
      figures.select_shard_ns ?? null,
      '<=',
      5,
    ),
    route_1p_b256_events_per_s: target(
      'route + push, 1 producer, batch 256, metrics on, drained and verified by a consumer worker',
      route256,
      '>=',
      50e6,
    ),
    oversubscribed_8p_vs_2p: target(
      'route + push at batch 1, 8 producers (16 threads) / 2 producers (4 threads) on this machine, ' +
        'median of per-round ratios',
      ratios.oversubscribed_8p_vs_2p as number | null,
      '>=',
      0.5,
    ),
    route_vs_piscina: target(
      'route + push 1 producer b256 / Piscina task per event (tuned), median of per-round ratios',
      ratios.route_vs_piscina as number | null,
      '>=',
      1000,
    ),
  };

  notes.push(
    'select_shard vs baseline: tasks side by side in the same tinybench runs (main thread), ' +
      'ratio = median of per-run ratios.',
    "select_shard from a worker: quiet and rebuilt slices alternate in the same runs on the worker's clock; " +
      'select_shard_rebuilt_vs_quiet = median of per-run ratios.',
    `route + push and the baselines: cross-thread cases in ${p.runs} shuffled rounds with fresh threads, ` +
      'one timed run each per round; route ratios are medians of per-round ratios (*_of_medians for comparison). ' +
      "The route cases are timed on the producers' clocks (start line -> ring empty after the last push), " +
      "postMessage on the consumer's, Piscina on the main thread's.",
    "route_vs_piscina is against the tuned Piscina setting (the same baseline as the shm suite's ring_vs_piscina); " +
      "route_vs_piscina_defaults against Piscina's defaults.",
    'P producers run P producer + P consumer threads (each producer its own shard) on this 2-core machine: ' +
      'from 2 producers on the figures measure oversubscription as much as the router. Waits back off ' +
      "(adaptive spin, yield, announced park); the ', spin wait' cases run the same with the earlier policy " +
      '(fixed spin, then park) in the same rounds: backoff_vs_spin_* are the before/after ratios.',
    'beyond 2 producers each producer moves 2/P of the 2-producer events per run, so a run stays bounded.',
  );
  const sel = cases.find((c): c is CaseCompleted => c.state === 'completed' && c.name === SELECT);
  if (sel !== undefined && sel.spreadPct > 30) {
    notes.push(
      `select_shard runs spread by ${sel.spreadPct.toFixed(0)}% ` +
        `(min ${sel.min.toFixed(2)}, max ${sel.max.toFixed(2)} ns): ` +
        'this host changes speed over seconds and the baseline task moves with it in the same runs; ' +
        'select_shard_vs_baseline pairs the two within each run.',
    );
  }
  if (busyCase !== undefined) {
    notes.push(
      'the rebuilt-table figures show the worker re-reading at chunk granularity ' +
        '(a chunk is one call of a function making 4096 selectShard calls); ' +
        'they do not separate a re-read on every call from one per chunk.',
    );
  }
  const routeCases = cases.filter((c): c is CaseCompleted => c.state === 'completed' && c.group === 'route');
  const starvedRuns = routeCases
    .filter((c) => Number(c.checks.starvedRuns ?? 0) > 0)
    .map((c) => `${c.name} (${String(c.checks.starvedRuns)})`);
  if (starvedRuns.length > 0) {
    notes.push(
      'route runs with clearly less CPU than 2 busy threads want (another process was busy, or threads slept): ' +
        `${starvedRuns.join('; ')}; see processCpusPerRun.`,
    );
  }
  const FOREIGN_LIMIT = 0.25;
  const disturbed = cases
    .filter((c): c is CaseCompleted => c.state === 'completed')
    .map((c) => {
      const xs = [c.params.foreignCpus, ...((c.params.foreignCpusPerRun as unknown[] | undefined) ?? [])].filter(
        (x): x is number => typeof x === 'number',
      );
      return {
        name: c.name,
        worst: xs.length > 0 ? Math.max(...xs) : 0,
        n: xs.filter((x) => x > FOREIGN_LIMIT).length,
      };
    })
    .filter((x) => x.worst > FOREIGN_LIMIT);
  if (disturbed.length > 0) {
    notes.push(
      `other processes took more than ${FOREIGN_LIMIT} CPU (of 2) during: ` +
        `${disturbed.map((x) => `${x.name} (${x.n} run(s), up to ${x.worst.toFixed(2)})`).join('; ')}. ` +
        'Those figures are likely low; see foreignCpus / foreignCpusPerRun.',
    );
  }
  if (route256 !== null && !targets.route_1p_b256_events_per_s!.pass) {
    notes.push(
      'route_1p_b256_events_per_s below target: see pushMsPerRun (producer side) against msPerRun (until drained) ' +
        'for which side limits.',
    );
  }
  return { cases, ratios, figures, targets, notes };
}
