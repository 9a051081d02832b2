/**
 * Real threads (the seed's set_draining_resets_counter_under_concurrent_pushes):
 * a shard has 50 pushes counted; PUSHERS worker threads each record one
 * push, released together with the main thread, which starts a drain at the
 * same moment. The reset may count any subset of the racing pushes, but
 * never the 50 from before: afterwards pushesSinceDrainStart() is at most
 * PUSHERS, and the window still holds every push (50 + PUSHERS events).
 *
 * The second test races the mapper's own drain (drainSpecific) instead of
 * the collector's flag, and follows the shard to the end: finalizeDraining
 * stops it exactly when no push was counted after the drain began; when one
 * was, it stays Draining until rearmDrain restarts the count.
 */
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import type { ShardMetricsCollector } from '../../src/router/metrics.js';
import {
  kPushArrive,
  kPushDone,
  kPushSetup,
  kPushShard,
  PUSH_CONTROL_WORDS,
  waitWord,
  type PusherInput,
  type PusherResult,
} from '../fixtures/mapper-protocol.js';
import { firstMessage, startWorker } from '../helpers/threads.js';

const PUSHERS = 4;

interface Race {
  /** Name the shard, wait for every pusher, release them and run `drain` at once; resolve when all pushed. */
  round(k: number, shardId: number, drain: () => void): Promise<void>;
  finish(): Promise<PusherResult[]>;
  stop(): Promise<void>;
}

function startRace(mapper: ShardMapper, iterations: number): Race {
  const ctlBuf = new SharedArrayBuffer(PUSH_CONTROL_WORDS * 4);
  const ctl = new Int32Array(ctlBuf);
  const input: PusherInput = { handle: mapper.handle, ctl: ctlBuf, pushers: PUSHERS, iterations };
  const workers: Worker[] = Array.from({ length: PUSHERS }, () => startWorker('mapper-pusher', input));
  const results = workers.map((w) => firstMessage<PusherResult>(w, 60_000));
  // Rejects as soon as a pusher fails, so a waiting round fails with the worker's error.
  const died = new Promise<never>((_, reject) => {
    for (const p of results) p.catch(reject);
  });
  died.catch(() => undefined);
  const wait = (idx: number, target: number, what: string): Promise<void> =>
    Promise.race([waitWord(ctl, idx, target, what), died]);
  return {
    async round(k, shardId, drain) {
      Atomics.store(ctl, kPushShard, shardId);
      Atomics.store(ctl, kPushSetup, k + 1);
      Atomics.notify(ctl, kPushSetup);
      await wait(kPushArrive, (PUSHERS + 1) * k + PUSHERS, `iteration ${k}: pushers arriving`);
      Atomics.add(ctl, kPushArrive, 1); // the last party: releases the spinning pushers
      drain();
      await wait(kPushDone, PUSHERS * (k + 1), `iteration ${k}: pushes`);
    },
    finish: () => Promise.all(results),
    stop: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  };
}

function preload(c: ShardMetricsCollector): void {
  for (let i = 0; i < 50; i++) c.recordPush(1);
}

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test(`collector.setDraining(true) racing ${PUSHERS} pushes leaves at most ${PUSHERS} counted (200 iterations)`, async () => {
  const ITERATIONS = 200;
  const mapper = ShardMapper.create({ initialShards: 1, ringCapacity: 1024 });
  const c = mapper.metricsCollector(0)!;
  const race = startRace(mapper, ITERATIONS);
  try {
    for (let k = 0; k < ITERATIONS; k++) {
      // A fresh start: flag clear, drain count zero, empty window; then the 50 pre-drain pushes.
      c.setDraining(true);
      c.setDraining(false);
      c.collectAndReset();
      assert.is(c.pushesSinceDrainStart(), 0);
      preload(c);
      assert.is(c.pushesSinceDrainStart(), 50);
      await race.round(k, 0, () => c.setDraining(true));
      const left = c.pushesSinceDrainStart();
      const at = `iteration ${k}`;
      assert.ok(
        left >= 0 && left <= PUSHERS,
        `${at}: ${left} pushes counted after the reset, expected at most ${PUSHERS}`,
      );
      assert.ok(c.isDraining(), `${at}: drain flag`);
      const w = c.collectAndReset();
      assert.is(w.eventRate, 50 + PUSHERS, `${at}: the window must hold every push, before and after the reset`);
      assert.is(w.avgPushLatencyNs, 1, `${at}: every push recorded 1 ns`);
      assert.is(c.pushesSinceDrainStart(), left, `${at}: a collection must not touch the drain count`);
    }
    const done = await race.finish();
    assert.equal(
      done,
      Array.from({ length: PUSHERS }, () => ({ pushes: ITERATIONS, missing: 0 })),
    );
  } finally {
    await race.stop();
  }
});

test(
  `drainSpecific racing ${PUSHERS} pushes: ` +
    `finalize stops the shard only once no push is counted since the drain (100 iterations)`,
  async () => {
    const ITERATIONS = 100;
    const mapper = ShardMapper.create({
      initialShards: 1,
      ringCapacity: 1024,
      policy: { minShards: 1, maxShards: 4, cooldownMs: 1e-6, minDrainMs: 0 },
    });
    const race = startRace(mapper, ITERATIONS);
    const hooks = mapper.testHooks();
    const removed: number[] = [];
    mapper.setOnShardRemoved((id) => removed.push(id));
    try {
      for (let k = 0; k < ITERATIONS; k++) {
        const at = `iteration ${k}`;
        let up = mapper.scaleUp(1);
        for (let tries = 0; !up.ok && up.error === 'in-cooldown' && tries < 1000; tries++) up = mapper.scaleUp(1);
        assert.ok(up.ok, `${at}: scaleUp: ${JSON.stringify(up)}`);
        const id = up.value[0]!;
        assert.is(id, k + 1, `${at}: ids come from the counter`);
        const c = mapper.metricsCollector(id)!;
        assert.is(c.pushesSinceDrainStart(), 0, `${at}: a new shard starts with no pushes`);
        preload(c);
        let drained: ReturnType<ShardMapper['drainSpecific']> | undefined;
        await race.round(k, id, () => void (drained = mapper.drainSpecific(id)));
        assert.ok(drained?.ok, `${at}: drainSpecific: ${JSON.stringify(drained)}`);
        assert.is(mapper.shardState(id), 'draining', at);
        assert.equal(mapper.activeShardIds(), [0], at);
        const left = c.pushesSinceDrainStart();
        assert.ok(
          left >= 0 && left <= PUSHERS,
          `${at}: ${left} pushes counted after the drain began, expected at most ${PUSHERS}`,
        );
        const m = mapper.collectMetrics().find((x) => x.shardId === id);
        assert.is(m?.eventRate, 50 + PUSHERS, `${at}: the window must hold every push`);
        assert.is(m?.draining, true, at);
        assert.is(m?.weight, Number.MAX_VALUE, `${at}: a draining shard weighs the most`);

        const stopped = mapper.finalizeDraining();
        if (left === 0) {
          assert.equal(stopped, [id], `${at}: no push since the drain began, the shard must stop`);
        } else {
          assert.equal(
            stopped,
            [],
            `${at}: ${left} push(es) counted since the drain began, the shard must keep draining`,
          );
          assert.is(mapper.shardState(id), 'draining', at);
          assert.ok(mapper.rearmDrain(id), `${at}: rearmDrain of a draining shard`);
          assert.is(c.pushesSinceDrainStart(), 0, `${at}: rearmDrain zeroes the count`);
          // minDrainMs 0 still asks for time to pass since the rearm: let the shared clock tick once.
          const t = hooks.now();
          while (hooks.now() <= t);
          assert.equal(mapper.finalizeDraining(), [id], `${at}: rearmed, the shard must stop`);
        }
        assert.is(mapper.shardState(id), 'stopped', at);
        assert.equal(mapper.removeStoppedShards(), [id], at);
        assert.is(mapper.shardState(id), undefined, at);
        assert.is(removed.at(-1), id, `${at}: the removal callback ran for the stopped shard`);
      }
      const done = await race.finish();
      assert.equal(
        done,
        Array.from({ length: PUSHERS }, () => ({ pushes: ITERATIONS, missing: 0 })),
      );
      assert.is(removed.length, ITERATIONS);
    } finally {
      await race.stop();
    }
  },
);

test.run();
