/**
 * Real threads on one breaker table. Four workers initialise every slot at
 * once (each slot is initialised exactly once), then run rounds the main
 * thread sets up on a random slot:
 * - probe rounds: the breaker is open (or half-open with an unreported
 *   probe) and its cool-down has passed on the manual clock; every worker
 *   calls `allow()` many times. Exactly one call in all gets the probe.
 *   Then the main thread reports the probe failed, succeeded, or never
 *   reports it.
 * - early rounds: the breaker opened less than a cool-down ago; every call
 *   is refused and nothing changes.
 * - failure rounds: the breaker is closed; every worker records at least a
 *   threshold of failures. Exactly one call opens it: one transition into
 *   open per generation, the opens counter up by one, the generation by one.
 * The clock moves only between rounds (no sleeping, no timing). The seed
 * comes from KGSHARD_SEED and is printed on failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BREAKER_CLOSED,
  BREAKER_HALF_OPEN,
  BREAKER_HALF_OPEN_TO_CLOSED,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_OPEN,
  BREAKER_PROBE,
  BREAKER_STATE_NAMES,
  BreakerTable,
  type Breaker,
} from '../../src/shm/breaker.js';
import { ManualClock } from '../../src/shm/clock.js';
import { waitAsync } from '../../src/shm/wait.js';
import {
  ALLOWED,
  CALLS,
  CONTROL_WORDS,
  DONE,
  GO,
  OP,
  OP_ALLOW,
  OP_FAIL,
  OPENED,
  PROBES,
  READY,
  REFUSED,
  SLOT,
  type RacerReport,
} from '../fixtures/breaker-shared.js';
import { seeded } from '../fixtures/cursor-shared.js';
import { withSeed } from '../helpers/prop.js';
import { firstMessage, startWorker } from '../helpers/threads.js';

const WORKERS = 4;
const SLOTS = 16;
const ROUNDS = 90;

/** Wait (without blocking the main thread) until ctl[index] >= target; a guard against a hung worker, not a timing. */
async function until(ctl: Int32Array, index: number, target: number, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = Atomics.load(ctl, index);
    if (v >= target) return;
    if (Date.now() > deadline) throw new Error(`${what}: still ${v} of ${target} after two minutes`);
    await waitAsync(ctl, index, v, 50);
  }
}

const NAME = 'racing allow() after a cool-down gives exactly one probe; racing failures open a breaker exactly once';
test(NAME, () =>
  withSeed(NAME, async (seed) => {
    const rand = seeded(seed >>> 0);
    const pick = (n: number): number => Math.floor(rand() * n);
    const threshold = 1 + pick(12);
    const coolDownMs = 1 + pick(1000);
    const clock = ManualClock.create(0);
    const table = BreakerTable.create({ slots: SLOTS, failureThreshold: threshold, coolDownMs, clock });
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const ctl = new Int32Array(control);
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker('breaker-racer', { table: table.handle, control, worker: w, seed: (seed + 7919 * (w + 1)) >>> 0 }),
    );
    const reports = workers.map((w) => firstMessage<RacerReport>(w, 300_000));
    for (const r of reports) void r.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const setting = `threshold ${threshold}, cool-down ${coolDownMs} ms`;

    /** Open `b` afresh at the current time, whatever its state. */
    const reopen = (b: Breaker): void => {
      if (b.state() === BREAKER_OPEN) {
        clock.advance(coolDownMs);
        assert.is(b.allow(), BREAKER_PROBE);
      }
      if (b.state() === BREAKER_HALF_OPEN) assert.is(b.recordFailure(), BREAKER_HALF_OPEN_TO_OPEN);
      for (let i = 0; b.state() === BREAKER_CLOSED; i++) {
        assert.ok(i < threshold, 'a threshold of failures opens it');
        b.recordFailure();
      }
    };
    /** Close `b` with no failures counted, whatever its state. */
    const close = (b: Breaker): void => {
      if (b.state() === BREAKER_OPEN) {
        clock.advance(coolDownMs);
        assert.is(b.allow(), BREAKER_PROBE);
      }
      if (b.state() === BREAKER_HALF_OPEN) assert.is(b.recordSuccess(), BREAKER_HALF_OPEN_TO_CLOSED);
      b.recordSuccess();
      assert.is(b.failures(), 0);
    };

    let done = 0;
    const tally = { probe: 0, early: 0, fail: 0, retaken: 0 };
    try {
      await until(ctl, READY, WORKERS, 'workers ready');
      assert.is(table.initialisedSlots(), SLOTS, 'every slot initialised exactly once');
      for (let s = 0; s < SLOTS; s++) {
        assert.is(table.get(s).state(), BREAKER_CLOSED);
        assert.is(table.get(s).generation(), 0);
      }
      for (let round = 1; round <= ROUNDS; round++) {
        const slot = pick(SLOTS);
        const b = table.get(slot);
        const kind = pick(3);
        let op: number;
        let calls: number;
        if (kind === 0) {
          // Probe round: past the cool-down of an open breaker, or of a half-open one whose probe went unreported.
          if (b.state() === BREAKER_CLOSED) reopen(b);
          if (b.state() === BREAKER_HALF_OPEN) tally.retaken++;
          clock.advance(coolDownMs + pick(3));
          op = OP_ALLOW;
          calls = 1 + pick(60);
        } else if (kind === 1) {
          // Early round: opened less than a cool-down ago.
          reopen(b);
          clock.advance(pick(coolDownMs));
          op = OP_ALLOW;
          calls = 1 + pick(60);
        } else {
          close(b);
          op = OP_FAIL;
          calls = threshold + pick(20);
        }
        const gen = b.generation();
        const opens = b.opens();
        const stateBefore = b.state();
        Atomics.store(ctl, SLOT, slot);
        Atomics.store(ctl, OP, op);
        Atomics.store(ctl, CALLS, calls);
        for (const i of [PROBES, ALLOWED, REFUSED, OPENED]) Atomics.store(ctl, i, 0);
        Atomics.store(ctl, GO, round);
        Atomics.notify(ctl, GO);
        done += WORKERS;
        await until(ctl, DONE, done, `round ${round}`);

        const name = kind === 0 ? 'probe' : kind === 1 ? 'early' : 'failures';
        const at = `round ${round} (${name}, slot ${slot}, ${setting})`;
        const total = WORKERS * calls;
        if (kind === 0) {
          tally.probe++;
          assert.is(Atomics.load(ctl, PROBES), 1, `${at}: probes`);
          assert.is(Atomics.load(ctl, REFUSED), total - 1, `${at}: refused`);
          assert.is(Atomics.load(ctl, ALLOWED), 0, `${at}: allowed`);
          assert.is(BREAKER_STATE_NAMES[b.state()], 'half-open', at);
          assert.is(b.generation(), gen + 1, `${at}: one transition`);
          // The probe's fate: it failed, it succeeded, or it is never reported.
          const fate = pick(3);
          if (fate === 0) assert.is(b.recordFailure(), BREAKER_HALF_OPEN_TO_OPEN);
          else if (fate === 1) assert.is(b.recordSuccess(), BREAKER_HALF_OPEN_TO_CLOSED);
        } else if (kind === 1) {
          tally.early++;
          assert.is(Atomics.load(ctl, PROBES), 0, `${at}: probes`);
          assert.is(Atomics.load(ctl, REFUSED), total, `${at}: refused`);
          assert.is(b.state(), stateBefore);
          assert.is(b.generation(), gen, `${at}: no transition`);
        } else {
          tally.fail++;
          assert.is(Atomics.load(ctl, OPENED), 1, `${at}: transitions into open`);
          assert.is(b.opens(), opens + 1, `${at}: opens counter`);
          assert.is(b.generation(), gen + 1, `${at}: one transition`);
          assert.is(BREAKER_STATE_NAMES[b.state()], 'open', at);
          assert.is(b.failures(), 0);
        }
      }
    } finally {
      Atomics.store(ctl, GO, -1);
      Atomics.notify(ctl, GO);
    }
    for (const r of await Promise.all(reports)) {
      assert.equal(r.failures, []);
      assert.is(r.rounds, ROUNDS);
    }
    await Promise.all(workers.map((w) => w.terminate()));
    assert.ok(tally.probe > 0 && tally.early > 0 && tally.fail > 0, JSON.stringify(tally));
  }),
);

test.run();
