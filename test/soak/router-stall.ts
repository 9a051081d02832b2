/**
 * Router stall soak: `runs` load tests of `seconds` each, flat out, each
 * stalling the consumer of one starting shard at a moment in its first half
 * (shard and moment from the seed). Every run must see the stalled shard's
 * breaker open, go half-open and close, and keep exact accounting: every
 * event consumed once, nothing lost, duplicated or reordered. Every run
 * starts with as many shards as producers, so the stalled shard has a
 * producer; runs alternate between a fixed shard count (that producer waits
 * for the breaker to close) and auto-scaling with room for one more shard
 * (the waiting producer is demand for one, and it moves there).
 *
 * Options: runs (default 10), seconds (default 8), producers (default 2),
 * coolDownMs (breaker cool-down, default 500), seed (default KGSHARD_SEED).
 */
import { mulberry32 } from '../../src/prng.js';
import { DEFAULT_LOADTEST, runLoadTest } from '../../src/router/loadtest.js';
import { SEED } from '../helpers/prop.js';
import { opt } from '../stress/report.js';
import type { SoakReport, SoakScenario } from './report.js';

export const soak: SoakScenario = async (opts): Promise<SoakReport> => {
  const runs = opt(opts, 'runs', 10);
  const seconds = opt(opts, 'seconds', 8);
  const producers = opt(opts, 'producers', 2);
  const coolDownMs = opt(opts, 'coolDownMs', 500);
  const seed = opt(opts, 'seed', SEED) >>> 0;
  const failures: string[] = [];
  if (!(Number.isInteger(runs) && runs >= 1 && runs <= 1000)) failures.push(`--runs must be in [1, 1000], got ${runs}`);
  if (!(seconds >= 1 && seconds <= 600)) failures.push(`--seconds must be in [1, 600], got ${seconds}`);
  if (failures.length > 0) return { name: 'router-stall', ok: false, details: { runs, seconds }, failures };
  const rand = mulberry32(seed);
  const durationMs = Math.round(seconds * 1000);
  let routed = 0;
  let recovered = 0;
  const perRun: string[] = [];
  for (let k = 0; k < runs; k++) {
    const autoScale = k % 2 === 1;
    const shards = producers;
    const shard = Math.floor(rand() * shards);
    const atMs = Math.round(durationMs * (0.1 + 0.4 * rand()));
    const s = await runLoadTest({
      ...DEFAULT_LOADTEST,
      producers,
      shards,
      // The starting shards stay (they idle before the producers start, and
      // auto-scaling would drain one); there is room for one more.
      minShards: shards,
      maxShards: autoScale ? shards + 1 : shards,
      autoScale,
      durationMs,
      breakerCoolDownMs: coolDownMs,
      tickMs: 50,
      stallConsumer: { shard, atMs },
    });
    const at = `run ${k} (seed ${seed}, auto-scale ${autoScale ? 'on' : 'off'}, shard ${shard} stalled at ${atMs} ms)`;
    if (s.lost > 0 || s.duplicated > 0 || s.reordered > 0) {
      failures.push(`${at}: ${s.lost} lost, ${s.duplicated} duplicated, ${s.reordered} reordered`);
    }
    if (s.consumed !== s.produced) failures.push(`${at}: produced ${s.produced} but consumed ${s.consumed}`);
    if (s.stall_consumer?.t_ms === null) failures.push(`${at}: the stall was not injected (the shard was gone)`);
    const mine = s.breaker_events.filter((e) => e.shard === shard).map((e) => `${e.from}->${e.to}`);
    if (mine[0] !== 'closed->open' || mine[1] !== 'open->half-open' || mine.at(-1) !== 'half-open->closed') {
      failures.push(`${at}: breaker events ${mine.join(', ') || 'none'}`);
    } else {
      recovered++;
    }
    routed += s.consumed;
    const opened = s.breaker_events.find((e) => e.shard === shard)?.t_ms ?? -1;
    const closed = s.breaker_events.filter((e) => e.shard === shard).at(-1)?.t_ms ?? -1;
    const added = s.scale_events.filter((e) => e.kind === 'activate').length;
    perRun.push(`${shard}@${atMs}ms: open ${opened} closed ${closed} ms, ${added} shards added, ${s.consumed} events`);
  }
  return {
    name: 'router-stall',
    ok: failures.length === 0,
    failures,
    details: {
      seed,
      runs,
      seconds,
      producers,
      cool_down_ms: coolDownMs,
      recovered,
      events_routed: routed,
      runs_seen: perRun,
    },
  };
};
