/**
 * Router soak: the load test's ramp profile with auto-scaling, flat out,
 * for `minutes`. Producers join one by one until mid-run and then leave, so
 * under full load the control loop provisions and activates a shard for
 * each new producer, drains the shards retired producers let go of, stops
 * and removes them, and producers move between shards. It must end with
 * exact accounting: every event consumed once, nothing lost, duplicated or
 * reordered. The report carries the events routed, the shards activated
 * and drained, the push latency percentiles and the highest sequence
 * number a producer reached (a run of a few minutes passes 2^32).
 *
 * Options: minutes (default 2, at most 60), producers (default 4),
 * maxShards (default: producers), batch (256), cooldownMs (500), tickMs
 * (100), firstSequence (every producer's first sequence number, default 0;
 * the short test starts just below 2^32 to cross it in seconds).
 */
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';
import type { SoakReport, SoakScenario } from './report.js';
import { opt } from '../stress/report.js';

export const soak: SoakScenario = async (opts): Promise<SoakReport> => {
  const minutes = opt(opts, 'minutes', 2);
  if (!(minutes > 0 && minutes <= 60)) {
    return {
      name: 'router',
      ok: false,
      details: { minutes },
      failures: [`--minutes must be in (0, 60], got ${minutes}`],
    };
  }
  const producers = opt(opts, 'producers', 4);
  const firstSequence = opt(opts, 'firstSequence', 0);
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers,
    shards: 1,
    minShards: 1,
    maxShards: opt(opts, 'maxShards', producers),
    durationMs: Math.max(1, Math.round(minutes * 60_000)),
    rate: 'max',
    batch: opt(opts, 'batch', 256),
    autoScale: true,
    profile: 'ramp',
    cooldownMs: opt(opts, 'cooldownMs', 500),
    tickMs: opt(opts, 'tickMs', 100),
    firstSequence,
  });
  const count = (kind: string): number => s.scale_events.filter((e) => e.kind === kind).length;
  const mostSent = Math.max(0, ...Object.values(s.per_producer).map((p) => p.produced));
  const highestSequence = mostSent > 0 ? firstSequence + mostSent - 1 : -1;
  const activated = count('activate');
  const drained = count('drain');
  const failures: string[] = [];
  if (s.lost > 0) failures.push(`${s.lost} events lost`);
  if (s.duplicated > 0) failures.push(`${s.duplicated} events duplicated`);
  if (s.reordered > 0) failures.push(`${s.reordered} events reordered`);
  if (s.consumed !== s.produced) failures.push(`produced ${s.produced} but consumed ${s.consumed}`);
  if (s.produced === 0) failures.push('no event was routed');
  if (activated === 0) failures.push('no shard was activated: the ramp never scaled up');
  if (drained === 0) failures.push('no shard was drained: the ramp never scaled down');
  const l = s.push_latency_ns;
  return {
    name: 'router',
    ok: failures.length === 0,
    failures,
    details: {
      minutes,
      producers,
      events_routed: s.consumed,
      produced: s.produced,
      lost: s.lost,
      duplicated: s.duplicated,
      reordered: s.reordered,
      events_per_s: s.events_per_s,
      shards_activated: activated,
      shards_drained: drained,
      shards_removed: count('remove'),
      shards_max: s.shards_max,
      shards_final: s.shards_final.length,
      push_latency_ns: { p50: l.p50, p99: l.p99, p999: l.p999, max: l.max },
      highest_sequence: highestSequence,
      passed_2_32: highestSequence >= 2 ** 32,
    },
  };
};
