/**
 * The router under churn: producer threads push sequenced events through
 * the router while the main thread keeps adding shards and draining them
 * (operator requests through the running service, so drains, producer
 * moves, finalization and removal all happen mid-stream). At the end every
 * producer's events must have been consumed exactly once, in order within
 * each shard.
 *
 * Options: threads (producer threads), producers (per thread), events (per
 * producer, at least), maxBatch, churnMs (ms between scale actions),
 * minChurn (scale actions before the producers may stop), duration
 * (seconds; producers stop early when it passes), seed.
 */
import { verifyDelivery } from '../../src/router/consumer.js';
import { Router } from '../../src/router/router.js';
import { RouterService } from '../../src/router/service.js';
import type { PusherInput, PusherReport } from '../fixtures/router-pusher.js';
import { runWorker } from '../helpers/threads.js';
import { opt, type StressReport, type StressScenario } from './report.js';

export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const threads = opt(opts, 'threads', 2);
  const perThread = opt(opts, 'producers', 2);
  const events = opt(opts, 'events', 20_000_000);
  const maxBatch = opt(opts, 'maxBatch', 300);
  const churnMs = opt(opts, 'churnMs', 40);
  const minChurn = opt(opts, 'minChurn', 10);
  const control = new Int32Array(new SharedArrayBuffer(64));
  const duration = opt(opts, 'duration', 60);
  const seed = opt(opts, 'seed', (Date.now() & 0x7fffffff) >>> 0);
  const producers = threads * perThread;
  const router = Router.create({
    initialShards: producers,
    ringCapacity: 1024,
    maxProducers: producers,
    policy: { minShards: 1, maxShards: producers + 2, cooldownMs: 0, minDrainMs: 1, autoScale: false },
  });
  const svc = await RouterService.start(router, { tickMs: 5, batch: 64 });
  const deadline = Date.now() + duration * 1000;
  const running = Array.from({ length: threads }, (_, t) => {
    const input: PusherInput = {
      handle: router.handle,
      ids: Array.from({ length: perThread }, (_, k) => t * perThread + k),
      events,
      maxBatch,
      seed: seed + t,
      deadline,
      control,
    };
    return runWorker<PusherReport>('router-pusher', input, (duration + 120) * 1000);
  });
  let finished = false;
  const all = Promise.all(running).finally(() => {
    finished = true;
  });
  // Churn: alternately add a shard and drain a random Active one.
  let adds = 0;
  let drains = 0;
  let k = 0;
  while (!finished) {
    await new Promise((r) => setTimeout(r, churnMs));
    if (finished) break;
    if (k++ % 2 === 0) {
      if ((await svc.addShards(1)).length > 0) adds++;
    } else {
      const ids = router.mapper.activeShardIds();
      const id = ids[(seed + k) % ids.length];
      if (id !== undefined && svc.drainShard(id)) drains++;
    }
    // The producers may stop once the churn has run its minimum and moved a producer at least once.
    if (k >= minChurn && Atomics.load(control, 1) > 0) Atomics.store(control, 0, 1);
  }
  Atomics.store(control, 0, 1);
  const reports = await all;
  const result = await svc.stop();
  const produced = new Map<number, number>();
  for (const r of reports) for (const [id, n] of Object.entries(r.produced)) produced.set(Number(id), n);
  const v = verifyDelivery(produced, result.traces);
  const failures: string[] = [];
  if (v.lost > 0) failures.push(`${v.lost} events lost`);
  if (v.duplicated > 0) failures.push(`${v.duplicated} events duplicated`);
  if (v.reordered > 0) failures.push(`${v.reordered} events reordered`);
  if (v.produced !== v.consumed) failures.push(`produced ${v.produced} but consumed ${v.consumed}`);
  const removed = result.scaleEvents.filter((e) => e.kind === 'remove').length;
  const moves = reports.reduce((a, r) => a + r.moves, 0);
  return {
    name: 'router',
    ok: failures.length === 0,
    failures,
    details: { produced: v.produced, consumed: v.consumed, adds, drains, removed, producerMoves: moves, seed },
  };
};
