/**
 * The router's load test: producer threads push sequenced events through
 * the router at a set rate (or flat out) while the service's consumers
 * drain and verify them and its control loop scales the shards. Returns a
 * summary that says whether every event arrived exactly once and in order
 * per producer within each shard.
 *
 * Load shapes: `flat` keeps every producer active at `rate` for the whole
 * run; a staged profile (a JSON file, see schedule.ts, or the built-in
 * `ramp`) ramps the rate per producer and the number of active producers
 * linearly between stages. `ramp` activates producers one by one up to all
 * of them by mid-run, then retires them again, so the offered load rises
 * then falls and, with auto-scaling, the shard count follows it up and back
 * down (each active producer needs a shard of its own; an idle producer lets
 * go of its shard, which then shows as idle and is drained). The producer
 * threads are started for `producers`; a profile's `producers` is how many
 * of them push at a time (the others idle, holding no shard).
 *
 * Paced runs (a numeric rate) keep each producer on a schedule: event i of
 * an active spell is due at the time the rate's integral from the spell's
 * start reaches i (start + i / rate at a constant rate). A producer behind
 * schedule pushes whole batches until it catches up. Push latency is
 * recorded twice, as wrk2 does: from the push call's start (uncorrected)
 * and from the events' intended send time (corrected for coordinated
 * omission: a stall that holds the producer back shows in the events it
 * delays). The summary compares the requested and achieved rates and
 * warns when the generator, not the router, fell behind.
 *
 * A stall (`stallConsumer`) freezes one shard's consumer mid-batch at a
 * set time, for the rest of the run: its ring fills, its producer's waits
 * for space fail, and the shard's circuit breaker opens. The service then
 * replaces the consumer, the producer moves (to a free shard, or waits for
 * one), and after the cool-down the breaker goes half-open and closes once
 * the replacement has drained the ring. The summary lists the breaker's
 * transitions; the accounting must stay exact throughout.
 */
import hdr from 'hdr-histogram-js';
import { invalidArgument, outOfRange } from '../errors.js';
import { verifyDelivery } from './consumer.js';
import { startProducerThreads } from './producer-threads.js';
import { CTL_ACTIVE, CTL_STOP, CTL_WORDS, PUSH_HISTOGRAM, PUSH_TIMEOUT_MS } from './producer-thread.js';
import { Router } from './router.js';
import { BREAKER_LIMITS, DEFAULT_BREAKER_POLICY } from './breakers.js';
import { RouterService, type BreakerEvent, type ScaleEvent } from './service.js';
import type { ShardMetrics } from './metrics.js';
import {
  BUILT_IN_PROFILES,
  flatProfile,
  loadProfile,
  producersAt,
  rateSchedule,
  resolveProfile,
  type ProfileSpec,
  type ResolvedProfile,
} from './schedule.js';
import { existsSync } from 'node:fs';

/** `flat`, a built-in profile's name (`ramp`), or a profile file's path. */
export type LoadProfile = string;

export interface LoadTestOptions {
  /** Logical producers (each binds to a shard of its own). */
  producers: number;
  /** Producer threads hosting them (default min(producers, 2)). */
  threads?: number;
  /** Shards at the start. */
  shards: number;
  minShards: number;
  maxShards: number;
  durationMs: number;
  /** Events per second per producer, or 'max'. */
  rate: number | 'max';
  /** Events per push call. */
  batch: number;
  autoScale: boolean;
  /**
   * `flat`, a built-in profile (`ramp`), a profile file's path, or a
   * profile as an object (see schedule.ts). A staged profile sets the run's
   * length (its shares of `durationMs` resolve against `durationMs`).
   */
  profile: LoadProfile | ProfileSpec;
  /** Scaling cooldown (ms). */
  cooldownMs: number;
  /** Control loop period (ms). */
  tickMs: number;
  /** Events per shard ring (a power of two). */
  ringCapacity: number;
  /** Failed waits for ring space in a row that open a shard's circuit breaker. */
  breakerThreshold: number;
  /** How long (ms) an open breaker refuses its shard before it goes half-open. */
  breakerCoolDownMs: number;
  /**
   * Stall the consumer of shard `shard` (one that exists at the start) `atMs`
   * into the run, until the run ends. Default: no stall.
   */
  stallConsumer?: { shard: number; atMs: number };
  /**
   * @internal First sequence number of every producer (default 0). Tests
   * start just below a boundary of the sequence space (2^32) to cross it in
   * a short run. An integer in [0, 2^47].
   */
  firstSequence?: number;
  /**
   * Record the run's figures over time in the summary (`timeline`): a
   * sample about every 250 ms, taken on the main thread with the live
   * figures (nothing on the producers' or consumers' paths). Default off.
   */
  timeline?: boolean;
  /** Called about every 250 ms with the live figures. */
  onProgress?: (p: LoadProgress) => void;
  /**
   * Called with each timeline sample as it is taken (about every 250 ms; `--series` writes them as JSON lines).
   * Samples are taken when this or `timeline` is set.
   */
  onSample?: (s: LoadSample) => void;
  onScaleEvent?: (e: ScaleEvent) => void;
  onBreakerEvent?: (e: BreakerEvent) => void;
}

export const DEFAULT_LOADTEST: Omit<
  LoadTestOptions,
  'timeline' | 'onProgress' | 'onSample' | 'onScaleEvent' | 'onBreakerEvent'
> &
  Readonly<{ profile: LoadProfile }> = Object.freeze({
  producers: 2,
  shards: 2,
  minShards: 1,
  maxShards: 8,
  durationMs: 5000,
  rate: 'max',
  batch: 256,
  autoScale: false,
  profile: 'flat',
  cooldownMs: 500,
  tickMs: 100,
  ringCapacity: 1 << 16,
  breakerThreshold: DEFAULT_BREAKER_POLICY.failureThreshold,
  breakerCoolDownMs: DEFAULT_BREAKER_POLICY.coolDownMs,
});

export interface LoadProgress {
  elapsedMs: number;
  produced: number;
  consumed: number;
  /** Events per second consumed since the last report. */
  eventsPerS: number;
  pushLatencyNs: { p50: number; p99: number; p999: number };
  /**
   * Per live shard: id, state ('open' or 'half-open' for an Active shard whose breaker is) and fill ratio from the
   * last collection.
   */
  shards: { id: number; state: string; fill: number }[];
  activeProducers: number;
  waitingProducers: number;
}

/** One sample of a load test's figures (`LoadTestSummary.timeline`). */
export interface LoadSample {
  /** On the time base of the scale and breaker events (ms since the router's service started). */
  t_ms: number;
  /** Events consumed per second since the previous sample. */
  events_per_s: number;
  // The fields below marked optional are always written by runLoadTest; older saved timelines lack them.
  /** Events pushed per second since the previous sample, per producer id (as reported by the producer threads). */
  producer_events_per_s?: Record<number, number>;
  /** Events consumed per second since the previous sample, per live shard id. */
  shard_events_per_s?: Record<number, number>;
  /** Push latency over the pushes timed since the previous sample (all 0: none was). */
  push_latency_ns: { p50: number; p90?: number; p99: number; p999: number };
  /** Paced runs: latency from the intended send time over the same pushes (all 0: none); null flat out. */
  push_latency_corrected_ns?: { p50: number; p90: number; p99: number; p999: number } | null;
  /** Scale events since the previous sample. */
  scale_events?: number;
  /** Shards taking events (Active). */
  active_shards: number;
  /** Every live shard: id, state (an Active shard's breaker state when not closed) and ring fill (0 to 1). */
  shards: { id: number; state: string; fill: number }[];
  active_producers: number;
  waiting_producers: number;
}

export interface LoadTestSummary {
  events_per_s: number;
  produced: number;
  consumed: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Push-call latency from the call's start (per call; with batch < 64, one call in 64 / batch). */
  push_latency_ns: LatencySummary;
  /**
   * Paced runs: latency from each event's intended send time to the end of its push call (per event, on the timed
   * calls), corrected for coordinated omission; null flat out.
   */
  push_latency_corrected_ns: LatencySummary | null;
  /** Paced runs: events/s the schedule asked for, over the producing time, all producers together; null flat out. */
  rate_requested: number | null;
  /** Paced runs: events/s pushed over the producing time; null flat out. */
  rate_achieved: number | null;
  /** Paced runs: events the schedule made due that were not pushed by the end; null flat out. */
  behind_schedule_events: number | null;
  /** Push calls; those that timed out waiting for space in a full ring; those that found no shard to bind to. */
  push_calls: number;
  full_push_calls: number;
  unbound_push_calls: number;
  /** Whether the producers fell behind schedule while the rings had room: the load generator was the bottleneck. */
  generator_bound: boolean;
  /** One line each: conditions that make the figures measure something else than the router. */
  warnings: string[];
  scale_events: { t_ms: number; kind: string; shard: number; reason: string }[];
  /** Every circuit-breaker transition, in order. */
  breaker_events: { t_ms: number; shard: number; from: string; to: string }[];
  /**
   * The injected stall, when one was requested: the shard, the requested time (ms into the run) and when it began on
   * the events' time base (null if its shard was gone by then).
   */
  stall_consumer: { shard: number; at_ms: number; t_ms: number | null } | null;
  shards_final: number[];
  shards_max: number;
  duration_ms: number;
  producers: number;
  threads: number;
  batch: number;
  rate: number | 'max';
  /** The profile's name: flat, ramp, or the file. */
  profile: string;
  /** The resolved profile: its corners (ms into the run, rate per producer, active producers). */
  profile_points: { t_ms: number; rate: number | 'max'; producers: number }[];
  auto_scale: boolean;
  per_producer: Record<
    number,
    {
      produced: number;
      consumed: number;
      lost: number;
      duplicated: number;
      reordered: number;
      /** Paced runs (else null), as the totals. */
      rate_requested: number | null;
      rate_achieved: number | null;
      behind_schedule_events: number | null;
    }
  >;
  /** The figures over time, with `timeline: true`. */
  timeline?: LoadSample[];
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  samples: number;
}

/**
 * The run's profile, resolved against its producers, rate and duration
 * (reads the file for a file's path). Throws E_PROFILE for a bad file and
 * E_INVALID_ARGUMENT (field `profile`) for a name that is neither built in
 * nor a file.
 */
export function resolveLoadProfile(o: LoadTestOptions): ResolvedProfile {
  const run = { producers: o.producers, rate: o.rate, durationMs: o.durationMs };
  const p = o.profile;
  if (p === 'flat') return flatProfile(run);
  if (typeof p === 'string') {
    if (!BUILT_IN_PROFILES.includes(p) && !existsSync(p)) {
      throw invalidArgument(
        'loadtest',
        'profile',
        p,
        `'flat', ${BUILT_IN_PROFILES.map((b) => `'${b}'`).join(', ')} or a JSON profile file (there is no such file)`,
      );
    }
    return loadProfile(p, run);
  }
  if (typeof p !== 'object' || p === null)
    throw invalidArgument('loadtest', 'profile', p, "'flat', a name, a file or a profile object");
  return resolveProfile('(object)', p, run);
}

/** Check options (edges only); throws naming the flag-level field and value. */
export function validateLoadTest(o: LoadTestOptions): void {
  const where = 'loadtest';
  const int = (field: string, v: unknown, min: number, max: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidArgument(where, field, v, 'an integer');
    if (v < min || v > max) throw outOfRange(where, field, v, min, max);
  };
  int('producers', o.producers, 1, 1024);
  if (o.threads !== undefined) int('threads', o.threads, 1, Math.min(64, o.producers));
  int('shards', o.shards, 1, 1024);
  int('minShards', o.minShards, 1, 1024);
  int('maxShards', o.maxShards, 1, 1024);
  if (o.minShards > o.maxShards)
    throw invalidArgument(where, 'minShards', o.minShards, `at most maxShards (${o.maxShards})`);
  if (o.shards < o.minShards || o.shards > o.maxShards) {
    throw outOfRange(where, 'shards', o.shards, o.minShards, o.maxShards);
  }
  int('durationMs', o.durationMs, 1, 3_600_000);
  if (o.rate !== 'max') {
    if (typeof o.rate !== 'number' || !Number.isFinite(o.rate) || o.rate <= 0 || o.rate > 1e10) {
      throw invalidArgument(where, 'rate', o.rate, "'max' or events/s per producer in (0, 1e10]");
    }
  }
  int('batch', o.batch, 1, 65536);
  int('ringCapacity', o.ringCapacity, 2, 1 << 24);
  if ((o.ringCapacity & (o.ringCapacity - 1)) !== 0)
    throw invalidArgument(where, 'ringCapacity', o.ringCapacity, 'a power of two');
  if (o.batch > o.ringCapacity)
    throw invalidArgument(where, 'batch', o.batch, `at most the ring capacity (${o.ringCapacity})`);
  // Every mapper slot (2 x maxShards + 2) gets its ring up front.
  const ringBytes = (2 * o.maxShards + 2) * o.ringCapacity * 8;
  if (ringBytes > 4 * 2 ** 30) {
    throw invalidArgument(
      where,
      'ringCapacity',
      o.ringCapacity,
      `small enough that (2 x maxShards + 2) rings of 8-byte events fit in 4 GiB (maxShards ${o.maxShards})`,
    );
  }
  if (typeof o.cooldownMs !== 'number' || !(o.cooldownMs >= 0) || o.cooldownMs > 86_400_000) {
    throw outOfRange(where, 'cooldownMs', o.cooldownMs, 0, 86_400_000);
  }
  int('tickMs', o.tickMs, 1, 60_000);
  int('breakerThreshold', o.breakerThreshold, BREAKER_LIMITS.failureThreshold[0], BREAKER_LIMITS.failureThreshold[1]);
  const [coolMin, coolMax] = BREAKER_LIMITS.coolDownMs;
  if (typeof o.breakerCoolDownMs !== 'number' || !Number.isInteger(o.breakerCoolDownMs)) {
    throw invalidArgument(where, 'breakerCoolDownMs', o.breakerCoolDownMs, 'an integer');
  }
  if (o.breakerCoolDownMs < coolMin || o.breakerCoolDownMs > coolMax) {
    throw outOfRange(where, 'breakerCoolDownMs', o.breakerCoolDownMs, coolMin, coolMax);
  }
  if (o.stallConsumer !== undefined) {
    const st = o.stallConsumer as { shard?: unknown; atMs?: unknown } | null;
    if (st === null || typeof st !== 'object') {
      throw invalidArgument(where, 'stallConsumer', st, 'a { shard, atMs } object');
    }
    const { shard, atMs } = st;
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= o.shards) {
      throw invalidArgument(
        where,
        'stallConsumer',
        st,
        `a shard that exists at the start (0 to ${o.shards - 1}) at a time within the run`,
      );
    }
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < 0 || atMs >= o.durationMs) {
      throw invalidArgument(where, 'stallConsumer', st, `a shard at a time within the run (before durationMs)`);
    }
  }
  if (o.firstSequence !== undefined) int('firstSequence', o.firstSequence, 0, 2 ** 47);
  resolveLoadProfile(o);
}

/** Active producers at `t` of a `duration` run under a named profile (`flat`, `ramp` or a file). */
export function activeProducersAt(profile: LoadProfile, producers: number, tMs: number, durationMs: number): number {
  const p = resolveLoadProfile({ ...DEFAULT_LOADTEST, producers, rate: 'max', durationMs, profile });
  return producersAt(p, tMs, producers);
}

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestSummary> {
  validateLoadTest(options);
  const o = options;
  const profile = resolveLoadProfile(o);
  const durationMs = profile.durationMs;
  const schedule = rateSchedule(profile);
  const threads = Math.min(o.threads ?? Math.min(o.producers, 2), o.producers);
  const firstSequence = o.firstSequence ?? 0;
  const router = Router.create({
    initialShards: o.shards,
    ringCapacity: o.ringCapacity,
    maxProducers: o.producers,
    policy: { minShards: o.minShards, maxShards: o.maxShards, cooldownMs: o.cooldownMs, autoScale: o.autoScale },
    breaker: { failureThreshold: o.breakerThreshold, coolDownMs: o.breakerCoolDownMs },
  });
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  control[CTL_ACTIVE] = producersAt(profile, 0, o.producers);
  let lastMetrics: ShardMetrics[] = [];
  let shardsMax = router.mapper.activeShardCount();
  let scaleEventsSeen = 0;
  const service = await RouterService.start(router, {
    tickMs: o.tickMs,
    autoScale: o.autoScale,
    onScaleEvent: (e) => {
      shardsMax = Math.max(shardsMax, router.mapper.activeShardCount());
      scaleEventsSeen++;
      o.onScaleEvent?.(e);
    },
    onBreakerEvent: (e) => o.onBreakerEvent?.(e),
    onMetrics: (m) => {
      lastMetrics = m;
    },
  });

  const merged = hdr.build(PUSH_HISTOGRAM);
  const window = hdr.build(PUSH_HISTOGRAM);
  const mergedCorrected = hdr.build(PUSH_HISTOGRAM);
  const windowCorrected = hdr.build(PUSH_HISTOGRAM);
  const producedLive = new Float64Array(threads);
  /** Events pushed so far per producer id, from the threads' reports. */
  const pushedLive = new Float64Array(o.producers);
  const idsOf = (t: number): number[] => {
    const ids: number[] = [];
    for (let p = t; p < o.producers; p += threads) ids.push(p);
    return ids;
  };
  // The schedule's time 0, on a clock every thread shares.
  const runStartEpochMs = performance.timeOrigin + performance.now();
  const threadsUp = startProducerThreads(
    threads,
    (t) => ({
      handle: router.handle,
      control,
      ids: idsOf(t),
      batch: o.batch,
      schedule,
      runStartEpochMs,
      firstSequence,
    }),
    (t, m) => {
      const h = hdr.decodeFromCompressedBase64(m.histogram);
      merged.add(h);
      window.add(h);
      if (m.corrected !== '') {
        const c = hdr.decodeFromCompressedBase64(m.corrected);
        mergedCorrected.add(c);
        windowCorrected.add(c);
      }
      producedLive[t] = m.produced;
      const ids = idsOf(t);
      for (let k = 0; k < ids.length; k++) pushedLive[ids[k]!] = m.perProducer[k] ?? 0;
    },
  );

  const t0 = performance.now();
  let lastT = t0;
  let lastConsumed = 0;
  const consumedNow = (): number => {
    let c = 0;
    for (let s = 0; s < router.mapper.slots; s++) c += router.consumed(s);
    return c + service.retiredConsumed();
  };
  const stall = o.stallConsumer;
  let stalledAtMs: number | null = null;
  let stallDue = stall !== undefined;
  const timeline: LoadSample[] | null = o.timeline === true ? [] : null;
  const sampling = timeline !== null || o.onSample !== undefined;
  const lastPushed = new Float64Array(o.producers);
  const lastShardConsumed = new Map<number, number>();
  let lastScaleEvents = 0;
  await new Promise<void>((resolve) => {
    let lastReport = t0;
    const pace = setInterval(() => {
      const now = performance.now();
      const t = now - t0;
      Atomics.store(control, CTL_ACTIVE, producersAt(profile, t, o.producers));
      if (stallDue && stall !== undefined && t >= stall.atMs) {
        stallDue = false;
        // On the service's time base, like the breaker events.
        if (service.stallConsumer(stall.shard)) stalledAtMs = Math.round(service.elapsedMs());
      }
      if (now - lastReport >= 250 || t >= durationMs) {
        lastReport = now;
        const consumed = consumedNow();
        const p: LoadProgress = {
          elapsedMs: t,
          produced: producedLive.reduce((a, b) => a + b, 0),
          consumed,
          eventsPerS: ((consumed - lastConsumed) * 1000) / Math.max(1, now - lastT),
          pushLatencyNs: percentiles(window.totalCount > 0 ? window : merged),
          shards: liveShards(router, lastMetrics),
          activeProducers: Atomics.load(control, CTL_ACTIVE),
          waitingProducers: router.waitingProducers(),
        };
        const secs = Math.max(1, now - lastT) / 1000;
        if (sampling) {
          const producerRates: Record<number, number> = {};
          for (let id = 0; id < o.producers; id++) {
            producerRates[id] = Math.round((pushedLive[id]! - lastPushed[id]!) / secs);
            lastPushed[id] = pushedLive[id]!;
          }
          const shardRates: Record<number, number> = {};
          for (const id of router.mapper.allShardIds()) {
            const slot = router.mapper.slotOf(id);
            if (slot < 0) continue;
            const c = router.consumed(slot);
            shardRates[id] = Math.round(Math.max(0, c - (lastShardConsumed.get(id) ?? 0)) / secs);
            lastShardConsumed.set(id, c);
          }
          const sample: LoadSample = {
            t_ms: Math.round(service.elapsedMs()),
            events_per_s: Math.round(p.eventsPerS),
            producer_events_per_s: producerRates,
            shard_events_per_s: shardRates,
            push_latency_ns: percentiles(window),
            push_latency_corrected_ns: schedule === null ? null : percentiles(windowCorrected),
            scale_events: scaleEventsSeen - lastScaleEvents,
            active_shards: router.mapper.activeShardCount(),
            shards: p.shards,
            active_producers: p.activeProducers,
            waiting_producers: p.waitingProducers,
          };
          timeline?.push(sample);
          o.onSample?.(sample);
          lastScaleEvents = scaleEventsSeen;
        }
        o.onProgress?.(p);
        window.reset();
        windowCorrected.reset();
        lastConsumed = consumed;
        lastT = now;
      }
      if (t >= durationMs) {
        clearInterval(pace);
        resolve();
      }
    }, 20);
  });
  Atomics.store(control, CTL_STOP, 1);
  const perThread = await threadsUp.finished();
  const producing = performance.now() - t0;
  // A breaker still open or half-open gets to finish its recovery (its
  // replacement consumer drains the ring, the probe runs after the
  // cool-down) before the report: at most two cool-downs and a few ticks.
  await service.settleBreakers(2 * o.breakerCoolDownMs + 20 * o.tickMs + 5000);
  const result = await service.stop();
  const elapsed = performance.now() - t0;
  const produced = new Map<number, number>();
  const scheduled = new Map<number, number>();
  let calls = 0;
  let fullCalls = 0;
  let unboundCalls = 0;
  let unboundMs = 0;
  for (const rec of perThread) {
    for (const [k, x] of Object.entries(rec.pushed)) produced.set(Number(k), x);
    for (const [k, x] of Object.entries(rec.scheduled)) scheduled.set(Number(k), x);
    calls += rec.calls;
    fullCalls += rec.fullCalls;
    unboundCalls += rec.unboundCalls;
    unboundMs += rec.unboundMs;
  }
  const v = verifyDelivery(produced, result.traces, firstSequence);
  const secs = Math.max(1, producing) / 1000;
  const paced = schedule !== null;
  const per: LoadTestSummary['per_producer'] = {};
  let requestedAll = 0;
  let behindAll = 0;
  for (const [k, [pr, co, lo, du, re]] of Object.entries(v.perProducer)) {
    const id = Number(k);
    const due = scheduled.get(id) ?? 0;
    const sent = produced.get(id) ?? 0;
    requestedAll += due;
    behindAll += Math.max(0, due - sent);
    per[id] = {
      produced: pr,
      consumed: co,
      lost: lo,
      duplicated: du,
      reordered: re,
      rate_requested: paced ? Math.round(due / secs) : null,
      rate_achieved: paced ? Math.round(sent / secs) : null,
      behind_schedule_events: paced ? Math.max(0, due - sent) : null,
    };
  }
  const pacing = pacingVerdict({
    paced,
    requested: requestedAll,
    behind: behindAll,
    calls,
    fullCalls,
    unboundMs,
    producerMs: o.producers * producing,
    producers: o.producers,
    threads,
  });
  return {
    events_per_s: Math.round((v.consumed * 1000) / Math.max(1, producing)),
    produced: v.produced,
    consumed: v.consumed,
    lost: v.lost,
    duplicated: v.duplicated,
    reordered: v.reordered,
    push_latency_ns: latencySummary(merged),
    push_latency_corrected_ns: paced ? latencySummary(mergedCorrected) : null,
    rate_requested: paced ? Math.round(requestedAll / secs) : null,
    rate_achieved: paced ? Math.round(v.produced / secs) : null,
    behind_schedule_events: paced ? behindAll : null,
    push_calls: calls,
    full_push_calls: fullCalls,
    unbound_push_calls: unboundCalls,
    generator_bound: pacing.generatorBound,
    warnings: pacing.warnings,
    scale_events: result.scaleEvents.map((e) => ({ t_ms: e.tMs, kind: e.kind, shard: e.shard, reason: e.reason })),
    breaker_events: result.breakerEvents.map((e) => ({ t_ms: e.tMs, shard: e.shard, from: e.from, to: e.to })),
    stall_consumer: stall === undefined ? null : { shard: stall.shard, at_ms: stall.atMs, t_ms: stalledAtMs },
    shards_final: result.shardsFinal,
    shards_max: shardsMax,
    duration_ms: Math.round(elapsed),
    producers: o.producers,
    threads,
    batch: o.batch,
    rate: o.rate,
    profile: profile.name,
    profile_points: profile.points.map((x) => ({ ...x })),
    auto_scale: o.autoScale,
    per_producer: per,
    ...(timeline !== null ? { timeline } : {}),
  };
}

/** Each live shard: its state (an Active shard whose breaker is not closed shows the breaker's) and fill. */
function liveShards(router: Router, metrics: ShardMetrics[]): LoadProgress['shards'] {
  const m = router.mapper;
  const fill = new Map(metrics.map((x) => [x.shardId, x.fillRatio]));
  return m.allShardIds().map((id) => {
    const state = m.shardState(id) ?? 'gone';
    const breaker = m.breakerState(id) ?? 'closed';
    return { id, state: state === 'active' && breaker !== 'closed' ? breaker : state, fill: fill.get(id) ?? 0 };
  });
}

function percentiles(h: hdr.Histogram): { p50: number; p90: number; p99: number; p999: number } {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0 };
  return {
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
  };
}

function latencySummary(h: hdr.Histogram): LatencySummary {
  return { ...percentiles(h), max: h.totalCount > 0 ? h.maxValue : 0, samples: h.totalCount };
}

/** Share of the requested events a paced run may miss before the summary says it fell behind. */
export const BEHIND_TOLERANCE = 0.02;
/** Share of the producers' time spent waiting on the router under which the router counts as having had room. */
export const WAIT_TOLERANCE = 0.01;

/**
 * Whether a paced run's generator was its bottleneck: the producers fell
 * behind schedule (more than BEHIND_TOLERANCE of the requested events)
 * while they spent under WAIT_TOLERANCE of their time waiting on the
 * router (for ring space or a shard; a push call that falls short has
 * waited its whole PUSH_TIMEOUT_MS), so the router had room for more. A
 * pure function of the run's counts; the warnings say which side fell
 * behind.
 */
export function pacingVerdict(r: {
  paced: boolean;
  requested: number;
  behind: number;
  calls: number;
  fullCalls: number;
  /** Time (ms, summed over producers) active producers spent without a shard. */
  unboundMs: number;
  /** Producer time (producers x producing ms): what the waits are a share of. */
  producerMs: number;
  producers: number;
  threads: number;
}): { generatorBound: boolean; warnings: string[] } {
  if (!r.paced || r.requested <= 0 || r.behind <= BEHIND_TOLERANCE * r.requested) {
    return { generatorBound: false, warnings: [] };
  }
  const pct = (x: number): string => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
  const behind = pct(r.behind / r.requested);
  // A push call that does not push all its events has waited its whole timeout: time the router held the producer.
  const share = (calls: number): number => (r.producerMs > 0 ? (calls * PUSH_TIMEOUT_MS) / r.producerMs : 0);
  const full = share(r.fullCalls);
  const unbound = r.producerMs > 0 ? r.unboundMs / r.producerMs : 0;
  if (unbound >= WAIT_TOLERANCE && unbound >= full) {
    return {
      generatorBound: false,
      warnings: [
        `behind schedule: the producers fell ${behind} behind, waiting for a shard ${pct(unbound)} of their time ` +
          `(each producer needs a shard of its own); add shards or --auto-scale`,
      ],
    };
  }
  if (full < WAIT_TOLERANCE) {
    const hosts =
      r.threads < r.producers
        ? ` (${r.producers} producers share ${r.threads} thread${r.threads === 1 ? '' : 's'})`
        : '';
    return {
      generatorBound: true,
      warnings: [
        `generator-bound: the producers fell ${behind} behind schedule while the rings had room ` +
          `(the producers waited for space ${pct(full)} of their time)${hosts}; ` +
          `the achieved rate measures the load generator, not the router`,
      ],
    };
  }
  return {
    generatorBound: false,
    warnings: [
      `behind schedule: the producers fell ${behind} behind, waiting for ring space ${pct(full)} of their time; ` +
        `the router (its consumers) did not keep up`,
    ],
  };
}
