/**
 * The ring's sleep protocol across real threads: a side that announces it
 * sleeps, re-checks and then waits is always woken by the other side's
 * publish or release. The two sides play ping-pong over a 2-slot data ring
 * and an ack ring with seeded random pauses, so each side parks often and
 * the other side's store lands before, between and after the sleeper's
 * announcement, re-check and wait. Each wait has a 30 s timeout: a lost
 * wake-up would make one time out, and the test counts those rather than
 * timing anything. The main-thread twin (`popAsync`, `waitAsync`) is
 * checked the same way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ring } from '../../src/shm/ring.js';
import { withSeed } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { runWorker, startWorker, firstMessage } from '../helpers/threads.js';
import type { PingPongInput, PingPongResult } from '../fixtures/ring-ping-pong.js';

const TIMEOUT_MS = 30_000;

for (const wait of ['backoff', 'spin'] as const) {
  test(`worker sleepers are always woken (${wait})`, () =>
    withSeed(`worker sleepers are always woken (${wait})`, async (seed) => {
      const data = Ring.create({ capacity: 2, slotWords: 1, wait });
      const ack = Ring.create({ capacity: 2, slotWords: 1, wait });
      const rounds = 1500;
      const common = { data: data.handle, ack: ack.handle, rounds, seed, timeoutMs: TIMEOUT_MS };
      const [p, c] = await Promise.all([
        runWorker<PingPongResult>('ring-ping-pong', { ...common, side: 'producer' } satisfies PingPongInput),
        runWorker<PingPongResult>('ring-ping-pong', { ...common, side: 'consumer' } satisfies PingPongInput),
      ]);
      assert.is(p.timedOut + c.timedOut, 0, 'a wait timed out: a wake-up was lost');
      assert.is(p.outOfOrder + c.outOfOrder, 0);
      assert.is(p.moved, 3 * rounds);
      assert.is(c.moved, 3 * rounds);
      assert.ok(data.isEmpty() && ack.isEmpty());
      assert.ok(p.parks + c.parks > 0, 'the sides should have parked (announced sleeps) at times');
    }));
}

test('a main-thread consumer awaiting with popAsync is woken by a worker producer', () =>
  withSeed('a main-thread consumer awaiting with popAsync is woken by a worker producer', async (seed) => {
    const data = Ring.create({ capacity: 2, slotWords: 1 });
    const ack = Ring.create({ capacity: 2, slotWords: 1 });
    const rounds = 300;
    const producer = startWorker('ring-ping-pong', {
      side: 'producer',
      data: data.handle,
      ack: ack.handle,
      rounds,
      seed,
      timeoutMs: TIMEOUT_MS,
    } satisfies PingPongInput);
    const done = firstMessage<PingPongResult>(producer, 120_000);
    const rand = rng(seed ^ 0x77);
    const buf = new Int32Array(1);
    let timedOut = 0;
    let outOfOrder = 0;
    let expected = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < 3; k++) {
          if (rand() < 0.3) await new Promise((r) => setImmediate(r));
          if ((await data.popAsync(buf, 0, 1, TIMEOUT_MS)) === 0) {
            timedOut++;
            continue;
          }
          if (buf[0] !== expected) outOfOrder++;
          expected = buf[0]! + 1;
        }
        buf[0] = round;
        if ((await ack.pushAsync(buf, 0, 1, TIMEOUT_MS)) < 1) timedOut++;
      }
      const p = await done;
      assert.is(timedOut + p.timedOut, 0, 'a wait timed out: a wake-up was lost');
      assert.is(outOfOrder + p.outOfOrder, 0);
      assert.is(p.moved, 3 * rounds);
      assert.ok(data.parks + p.parks > 0, 'someone should have parked');
    } finally {
      await producer.terminate();
    }
  }));

test.run();
