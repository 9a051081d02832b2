/**
 * The router service with real threads and a manual clock: two producer
 * threads push sequenced events into three shards; one shard's consumer is
 * stalled mid-batch. Its producer's waits fail and open the shard's
 * breaker; the producer moves to the free healthy shard; the mapper stops
 * routing to the open shard; a replacement consumer drains its ring. The
 * breaker stays open while the manual clock stands still, and once the
 * clock passes the cool-down it goes half-open and closes, and the shard is
 * routed again. The stalled consumer wakes at the end, finds itself fenced
 * and drops the batch it held; every event arrives exactly once, in order
 * per shard. Which shard stalls comes from the seed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { verifyDelivery } from '../../src/router/consumer.js';
import { Router } from '../../src/router/router.js';
import { RouterService } from '../../src/router/service.js';
import { ManualClock } from '../../src/shm/clock.js';
import type { PusherInput, PusherReport } from '../fixtures/router-pusher.js';
import { withSeed } from '../helpers/prop.js';
import { runWorker } from '../helpers/threads.js';

const COOL_DOWN = 1000;

/** Wait (without blocking the event loop) until `cond()` holds; fail naming `what` after a minute. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`${what}: not within a minute`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('stalled consumer: breaker opens, producer moves, replacement drains, breaker closes after the cool-down', () =>
  withSeed('stalled consumer is replaced and its producer moves', async (seed) => {
    const clock = ManualClock.create(100_000);
    const router = Router.create({
      initialShards: 3,
      ringCapacity: 1024,
      maxProducers: 2,
      waitSliceMs: 5,
      policy: { minShards: 1, maxShards: 3, cooldownMs: 0, autoScale: false },
      breaker: { failureThreshold: 10, coolDownMs: COOL_DOWN },
      clock,
    });
    const mapper = router.mapper;
    const svc = await RouterService.start(router, { tickMs: 5, batch: 64 });
    const control = new Int32Array(new SharedArrayBuffer(64));
    const pushers = [0, 1].map((t) =>
      runWorker<PusherReport>(
        'router-pusher',
        {
          handle: router.handle,
          ids: [t],
          events: 1000,
          maxBatch: 64,
          seed: (seed + t) >>> 0,
          deadline: Date.now() + 120_000,
          control,
        } satisfies PusherInput,
        180_000,
      ),
    );
    let slot = -1;
    let id = -1;
    let stalledEpoch = 0;
    try {
      const bound = (): number[] => [0, 1, 2].filter((s) => mapper.attachedProducer(s) !== 0);
      await until('both producers bound', () => bound().length === 2);
      const [a, b] = bound() as [number, number];
      slot = (seed & 1) === 0 ? a : b;
      const free = [0, 1, 2].find((s) => s !== a && s !== b)!;
      id = mapper.idAtSlot(slot);
      stalledEpoch = router.consumerEpoch(slot);
      assert.ok(svc.stallConsumer(id));

      await until('the breaker opens', () => mapper.breakerState(id) === 'open');
      await until('the producer moves to the free shard', () => mapper.attachedProducer(free) !== 0);
      assert.is(mapper.attachedProducer(slot), 0, 'nobody produces into the open shard');
      await until('the open shard leaves the selection table', () => !mapper.selectionTable().includes(id));
      await until('a replacement consumer runs', () => router.runningEpoch(slot) > stalledEpoch);
      await until('the replacement drains the ring', () => router.rings[slot]!.size() === 0);
      // No time passes on the manual clock: the breaker waits out its cool-down.
      await new Promise((r) => setTimeout(r, 50));
      assert.is(mapper.breakerState(id), 'open');
      assert.not.ok(mapper.selectionTable().includes(id));

      clock.advance(COOL_DOWN);
      await until('the breaker closes', () => mapper.breakerState(id) === 'closed');
      await until('the shard is routed again', () => mapper.selectionTable().includes(id));
    } finally {
      Atomics.store(control, 0, 1);
    }
    const reports = await Promise.all(pushers);
    const result = await svc.stop();

    // The stalled shard's breaker: opened, half-open after the cool-down, closed by the probe.
    const mine = result.breakerEvents.filter((e) => e.shard === id).map((e) => `${e.from}->${e.to}`);
    assert.equal(mine, ['closed->open', 'open->half-open', 'half-open->closed']);
    const produced = new Map<number, number>();
    for (const r of reports) for (const [p, n] of Object.entries(r.produced)) produced.set(Number(p), n);
    const v = verifyDelivery(produced, result.traces);
    const what = JSON.stringify({ ...v, perProducer: undefined, events: mine });
    assert.equal([v.lost, v.duplicated, v.reordered], [0, 0, 0], what);
    assert.is(v.consumed, v.produced, what);
    assert.ok(v.produced > 0, what);
    assert.ok(reports.reduce((n, r) => n + r.moves, 0) >= 1, `a producer moved off the open shard: ${what}`);
    assert.ok(
      result.drains.some((d) => d.fenced && d.slot === slot && d.epoch === stalledEpoch),
      `the stalled consumer returned, fenced: ${what}`,
    );
  }));

test.run();
