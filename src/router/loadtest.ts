/**
 * The router's load test: producer threads push sequenced events through
 * the router at a set rate (or flat out) while the service's consumers
 * drain and verify them and its control loop scales the shards. Returns a
 * summary that says whether every event arrived exactly once and in order
 * per producer within each shard.
 *
 * Load shapes: `flat` keeps every producer active for the whole run;
 * `ramp` activates producers one by one up to all of them by mid-run, then
 * retires them again, so the offered load rises then falls and, with
 * auto-scaling, the shard count follows it up and back down (each active
 * producer needs a shard of its own; an idle producer lets go of its shard,
 * which then shows as idle and is drained).
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
import { CTL_ACTIVE, CTL_STOP, CTL_WORDS, PUSH_HISTOGRAM } from './producer-thread.js';
import { Router } from './router.js';
import { BREAKER_LIMITS, DEFAULT_BREAKER_POLICY } from './breakers.js';
import { RouterService, type BreakerEvent, type ScaleEvent } from './service.js';
import type { ShardMetrics } from './metrics.js';

export type LoadProfile = 'flat' | 'ramp';

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
  profile: LoadProfile;
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
  onScaleEvent?: (e: ScaleEvent) => void;
  onBreakerEvent?: (e: BreakerEvent) => void;
}

export const DEFAULT_LOADTEST: Omit<LoadTestOptions, 'timeline' | 'onProgress' | 'onScaleEvent' | 'onBreakerEvent'> =
  Object.freeze({
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
  /** Push latency over the pushes timed since the previous sample (all 0: none was). */
  push_latency_ns: { p50: number; p99: number; p999: number };
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
  push_latency_ns: { p50: number; p99: number; p999: number; max: number; samples: number };
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
  profile: LoadProfile;
  auto_scale: boolean;
  per_producer: Record<
    number,
    { produced: number; consumed: number; lost: number; duplicated: number; reordered: number }
  >;
  /** The figures over time, with `timeline: true`. */
  timeline?: LoadSample[];
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
  if (o.profile !== 'flat' && o.profile !== 'ramp')
    throw invalidArgument(where, 'profile', o.profile, "'flat' or 'ramp'");
}

/** Active producers at `t` of a `duration` run. */
export function activeProducersAt(profile: LoadProfile, producers: number, tMs: number, durationMs: number): number {
  if (profile === 'flat') return producers;
  const half = durationMs / 2;
  const f = tMs < half ? tMs / half : Math.max(0, (durationMs - tMs) / half);
  return Math.min(producers, Math.max(1, Math.ceil(f * producers)));
}

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestSummary> {
  validateLoadTest(options);
  const o = options;
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
  control[CTL_ACTIVE] = activeProducersAt(o.profile, o.producers, 0, o.durationMs);
  let lastMetrics: ShardMetrics[] = [];
  let shardsMax = router.mapper.activeShardCount();
  const service = await RouterService.start(router, {
    tickMs: o.tickMs,
    autoScale: o.autoScale,
    onScaleEvent: (e) => {
      shardsMax = Math.max(shardsMax, router.mapper.activeShardCount());
      o.onScaleEvent?.(e);
    },
    onBreakerEvent: (e) => o.onBreakerEvent?.(e),
    onMetrics: (m) => {
      lastMetrics = m;
    },
  });

  const merged = hdr.build(PUSH_HISTOGRAM);
  const window = hdr.build(PUSH_HISTOGRAM);
  const producedLive = new Float64Array(threads);
  const threadsUp = startProducerThreads(
    threads,
    (t) => {
      const ids: number[] = [];
      for (let p = t; p < o.producers; p += threads) ids.push(p);
      return { handle: router.handle, control, ids, batch: o.batch, rate: o.rate, firstSequence };
    },
    (t, m) => {
      const h = hdr.decodeFromCompressedBase64(m.histogram);
      merged.add(h);
      window.add(h);
      producedLive[t] = m.produced;
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
  await new Promise<void>((resolve) => {
    let lastReport = t0;
    const pace = setInterval(() => {
      const now = performance.now();
      const t = now - t0;
      Atomics.store(control, CTL_ACTIVE, activeProducersAt(o.profile, o.producers, t, o.durationMs));
      if (stallDue && stall !== undefined && t >= stall.atMs) {
        stallDue = false;
        // On the service's time base, like the breaker events.
        if (service.stallConsumer(stall.shard)) stalledAtMs = Math.round(service.elapsedMs());
      }
      if (now - lastReport >= 250 || t >= o.durationMs) {
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
        timeline?.push({
          t_ms: Math.round(service.elapsedMs()),
          events_per_s: Math.round(p.eventsPerS),
          push_latency_ns: window.totalCount > 0 ? p.pushLatencyNs : { p50: 0, p99: 0, p999: 0 },
          active_shards: router.mapper.activeShardCount(),
          shards: p.shards,
          active_producers: p.activeProducers,
          waiting_producers: p.waitingProducers,
        });
        o.onProgress?.(p);
        window.reset();
        lastConsumed = consumed;
        lastT = now;
      }
      if (t >= o.durationMs) {
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
  for (const rec of perThread) for (const [k, v] of Object.entries(rec)) produced.set(Number(k), v);
  const v = verifyDelivery(produced, result.traces, firstSequence);
  const per: LoadTestSummary['per_producer'] = {};
  for (const [k, [pr, co, lo, du, re]] of Object.entries(v.perProducer)) {
    per[Number(k)] = { produced: pr, consumed: co, lost: lo, duplicated: du, reordered: re };
  }
  const pct = percentiles(merged);
  return {
    events_per_s: Math.round((v.consumed * 1000) / Math.max(1, producing)),
    produced: v.produced,
    consumed: v.consumed,
    lost: v.lost,
    duplicated: v.duplicated,
    reordered: v.reordered,
    push_latency_ns: { ...pct, max: merged.totalCount > 0 ? merged.maxValue : 0, samples: merged.totalCount },
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
    profile: o.profile,
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

function percentiles(h: hdr.Histogram): { p50: number; p99: number; p999: number } {
  if (h.totalCount === 0) return { p50: 0, p99: 0, p999: 0 };
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9) };
}
