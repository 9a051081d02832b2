import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer, type PsHandle } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import { Seqlock, SEQ_OK } from '../../src/shm/seqlock.js';
import type { AsyncDrillOptions, AsyncDrillResult, SyncDrillResult } from '../fixtures/ps-drills.js';
import { ATTACHED, GARBAGE, GO, READY, type DyingPusherInput } from '../fixtures/ps-dying-pusher-shared.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import { withSeed } from '../helpers/prop.js';
import { ManualClock } from '../../src/shm/clock.js';
import { KgError } from '../../src/errors.js';
import { asyncReference, compareTables, ids, psPool, syncReference, tables } from '../stress/ps.js';

const ASYNC: Partial<PsConfig> = {
  dim: 4,
  numShards: 2,
  expectedWorkers: 1,
  mode: 'async',
  learningRate: 0.125,
  maxStaleness: 2 ** 31 - 1,
  strategy: 'range',
};
/** Sync mode with one worker: every push completes its step at once (under the shard lock). */
const SYNC1: Partial<PsConfig> = {
  dim: 4,
  numShards: 2,
  expectedWorkers: 1,
  mode: 'sync',
  learningRate: 0.125,
  barrierTimeoutMs: 60_000,
  strategy: 'range',
};

/**
 * Start a pusher that takes `shard`'s writer lock and begins a write (half
 * the rows already overwritten with GARBAGE), and terminate it at that
 * moment. `onExit` runs from the worker's `exit` event, as an application
 * would call `recoverDeadThread` from there.
 */
async function killPusherMidPush(
  ps: ParameterServer,
  shard: number,
  onExit?: (threadId: number) => void,
  mode: DyingPusherInput['mode'] = 'die-mid-push',
  relations = false,
): Promise<number> {
  const control = new SharedArrayBuffer(16);
  const input: DyingPusherInput = { handle: ps.handle, control, mode, shard, relations };
  const worker = startWorker('ps-dying-pusher', input);
  const msg = await firstMessage<{ threadId: number; locked: number }>(worker);
  assert.is(msg.locked, SEQ_OK);
  assert.is(Atomics.load(new Int32Array(control), READY), 1);
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      onExit?.(msg.threadId);
      resolve();
    }),
  );
  await worker.terminate();
  await exited;
  return msg.threadId;
}

function shardLock(handle: PsHandle, shard: number): Seqlock {
  return Seqlock.attach(handle.shards[shard]!);
}

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('async (Hogwild) mode: a pusher terminated mid-push holds no lock; pushes and pulls from a worker go on at once', () =>
  withSeed('async Hogwild pusher terminated', async (seed) => {
    const ps = ParameterServer.create({ ...ASYNC, lockLeaseMs: 60_000 }, ids(16), ['r0']);
    const shard = 1;
    const lock = shardLock(ps.handle, shard);
    const before = tables(ps);
    await killPusherMidPush(ps, shard, undefined, 'die-mid-hogwild-push');
    assert.is(lock.owner(), -1, 'a Hogwild push takes no lock');
    assert.is(lock.sequence() % 2, 0, 'and opens no seqlock write');
    const left = Float32Array.from(ps.view(shard)); // what the dead pusher left (no writer is alive)
    assert.is(left[0], GARBAGE);

    const run: AsyncDrillOptions = { worker: 1, pushes: 50, rowsPerPush: 8, seed, shard, pullEvery: 5 };
    const pool = psPool(ps, 1);
    let r: AsyncDrillResult;
    try {
      r = (await pool.run(run, { name: 'asyncPushes' })) as AsyncDrillResult;
    } finally {
      await pool.destroy();
    }
    assert.is(r.notApplied, 0);
    assert.is(r.pulls, 10, 'pulls between the pushes completed');
    assert.is(lock.recoveries(), 0, 'nothing to recover: the lease (60 s) never had to pass');
    assert.equal(ps.shardSteps(), [0, 50], 'the dead push was never counted');

    const expected = [before[0]!, left];
    asyncReference(expected, 4, 0.125, [run]);
    const cmp = compareTables(tables(ps), expected);
    assert.is(cmp.differing, 0, cmp.first);
    assert.is(ps.pull(shard).step, 50, 'the main thread pulls too');
  }));

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('recoverDeadThread frees a shard a terminated sync pusher left mid-write at once, long before the lease', async () => {
  const ps = ParameterServer.create({ ...SYNC1, lockLeaseMs: 60_000 }, ids(16), ['r0']);
  const shard = 0;
  const lock = shardLock(ps.handle, shard);
  const dead = await killPusherMidPush(ps, shard);
  assert.is(lock.readBegin(), -1, 'the dead write is still open: no pull can complete before recovery');
  assert.is(ps.recoverDeadThread(dead + 1000), 0, 'another thread id recovers nothing');
  assert.is(ps.recoverDeadThread(dead), 1);
  assert.is(ps.recoverDeadThread(dead), 0, 'recovery happens once');
  assert.is(lock.owner(), -1);
  assert.is(lock.sequence() % 2, 0);

  const left = Float32Array.from(ps.view(shard));
  const rows = ps.entityIds(shard).length;
  const r = await ps.pushFlatAsync(
    shard,
    0,
    Int32Array.from({ length: rows }, (_, i) => i),
    new Float32Array(rows * 4).fill(8),
    rows,
  );
  assert.equal(r, { state: 'step-complete', step: 1, last: true });
  const snap = ps.pull(shard);
  assert.is(snap.step, 1);
  assert.equal(
    Array.from(snap.entities),
    Array.from(left, (v) => Math.fround(v - 1)),
  );
});

test('the same recovery through the worker exit event (the documented call site)', async () => {
  const ps = ParameterServer.create({ ...SYNC1, lockLeaseMs: 60_000 }, ids(16), ['r0']);
  let recovered = -1;
  await killPusherMidPush(ps, 1, (threadId) => (recovered = ps.recoverDeadThread(threadId)));
  assert.is(recovered, 1);
  assert.is(shardLock(ps.handle, 1).owner(), -1);
  const pool = psPool(ps, 1);
  try {
    const r = (await pool.run({ worker: 3, steps: 20, rowsPerPush: 8 }, { name: 'syncSteps' })) as SyncDrillResult;
    assert.equal(r.timeouts, []);
    assert.is(r.stepMismatches, 0);
  } finally {
    await pool.destroy();
  }
  assert.equal(ps.shardSteps(), [20, 20]);
});

test(
  'the main thread never waits for a shard lock: ' +
    'pushAsync parks while a dead pusher holds it and completes once the lease has passed on the clock',
  async () => {
    const clock = ManualClock.create();
    const ps = ParameterServer.create({ ...SYNC1, lockLeaseMs: 500 }, ids(16), ['r0'], { clock });
    const shard = 0;
    const lock = shardLock(ps.handle, shard);
    await killPusherMidPush(ps, shard);
    const left = Float32Array.from(ps.view(shard));
    let settled = false;
    const pushed = ps.pushAsync(shard, 0, [[0, [8, 8, 8, 8]]]).finally(() => (settled = true));
    // The event loop keeps running while the push waits for the lock.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    assert.is(settled, false, 'the push waits for the lock without blocking the loop');
    assert.is(lock.owner() >= 0, true);
    clock.advance(501);
    assert.equal(await pushed, { state: 'step-complete', step: 1, last: true });
    assert.is(lock.recoveries(), 1);
    assert.is(lock.owner(), -1);
    assert.is(lock.sequence() % 2, 0);
    const snap = ps.pull(shard);
    assert.equal(
      Array.from(snap.entities.subarray(0, 4)),
      Array.from(left.subarray(0, 4), (v) => Math.fround(v - 1)),
    );
  },
);

test(
  'sync relations: pushRelationAsync on the main thread parks while a dead pusher holds the relation lock, ' +
    'and completes once the lease has passed on the clock',
  async () => {
    const clock = ManualClock.create();
    const ps = ParameterServer.create({ ...SYNC1, lockLeaseMs: 500 }, ids(16), ['r0'], { clock });
    const dead = await killPusherMidPush(ps, 0, undefined, 'die-mid-push', true);
    assert.ok(dead > 0);
    const lock = Seqlock.attach(ps.handle.relations);
    const left = Float32Array.from(ps.relationView());
    let settled = false;
    const pushed = ps.pushRelationAsync(0, [[0, [8, 8, 8, 8]]]).finally(() => (settled = true));
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    assert.is(settled, false, 'the push waits for the lock without blocking the loop');
    assert.is(ps.stats().relationPushes, 0);
    // The blocking form is for workers: on the main thread it refuses at once.
    const e = (() => {
      try {
        ps.pushRelation(0, [[0, [1, 1, 1, 1]]]);
      } catch (err) {
        return err as KgError;
      }
      return undefined;
    })();
    assert.ok(e instanceof KgError);
    assert.is(e.code, 'E_INVALID_ARGUMENT');
    clock.advance(501);
    assert.equal(await pushed, { state: 'step-complete', step: 1, last: true });
    assert.is(lock.owner(), -1);
    assert.is(lock.sequence() % 2, 0);
    assert.is(ps.stats().relationPushes, 1);
    assert.equal(
      Array.from(ps.relationView()),
      Array.from(left, (v) => Math.fround(v - 1)),
    );
  },
);

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('sync mode: two pusher threads take over a shard a terminated pusher left locked, and every step completes', async () => {
  const clock = ManualClock.create();
  const ps = ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      expectedWorkers: 2,
      mode: 'sync',
      learningRate: 0.05,
      barrierTimeoutMs: 1_000_000,
      lockLeaseMs: 200,
      strategy: 'range',
    },
    ids(16),
    ['r0'],
    { clock },
  );
  const before = tables(ps);
  await killPusherMidPush(ps, 0);
  clock.advance(201); // the dead pusher's lease has passed; no barrier timeout can
  const expected = [Float32Array.from(ps.view(0)), before[1]!];
  const pool = psPool(ps, 2);
  let results: SyncDrillResult[];
  try {
    results = await Promise.all(
      [0, 1].map(
        (worker) => pool.run({ worker, steps: 5, rowsPerPush: 3 }, { name: 'syncSteps' }) as Promise<SyncDrillResult>,
      ),
    );
  } finally {
    await pool.destroy();
  }
  for (const r of results) {
    assert.equal(r.timeouts, []);
    assert.is(r.stepMismatches, 0);
  }
  assert.equal(ps.shardSteps(), [5, 5]);
  assert.is(ps.stats().warnings, 0);
  assert.is(shardLock(ps.handle, 0).owner(), -1);
  syncReference(expected, 4, 0.05, 3, 0, 5, () => [0, 1]);
  const cmp = compareTables(tables(ps), expected);
  assert.is(cmp.differing, 0, cmp.first);
});

test(
  'sync mode: a pusher terminated before its next step costs one barrier timeout; ' +
    'the partial average is applied and later steps run',
  async () => {
    const lr = 0.05;
    const rowsPerPush = 3;
    // The barrier timeout runs on a manual clock: steps 0 and 2..11 cannot
    // time out however slow the machine is; step 1 times out when the test
    // moves the clock past it.
    const clock = ManualClock.create();
    const ps = ParameterServer.create(
      {
        dim: 4,
        numShards: 2,
        expectedWorkers: 2,
        mode: 'sync',
        learningRate: lr,
        barrierTimeoutMs: 300,
        strategy: 'range',
      },
      ids(16),
      ['r0'],
      { clock },
    );
    const expected = tables(ps);
    const control = new SharedArrayBuffer(16);
    const input: DyingPusherInput = {
      handle: ps.handle,
      control,
      mode: 'push-then-hang',
      worker: 1,
      rowsPerPush,
      firstStep: 0,
    };
    const pool = psPool(ps, 2);
    try {
      // Step 0: worker 0 (a pool thread) and worker 1 (the fixture) both push,
      // released together once both threads are up.
      const fixture = startWorker('ps-dying-pusher', input);
      const theirsP = firstMessage<{ threadId: number; result: SyncDrillResult }>(fixture);
      await pool.run({ worker: 0, steps: 0, rowsPerPush }, { name: 'syncSteps' }); // warm-up: attaches, pushes nothing
      const ctl = new Int32Array(control);
      while (Atomics.load(ctl, ATTACHED) === 0) await new Promise((r) => setTimeout(r, 2));
      Atomics.store(ctl, GO, 1);
      Atomics.notify(ctl, GO);
      const [own, theirs] = await Promise.all([
        pool.run({ worker: 0, steps: 1, rowsPerPush }, { name: 'syncSteps' }) as Promise<SyncDrillResult>,
        theirsP,
      ]);
      assert.equal(own.timeouts, []);
      assert.equal(theirs.result.timeouts, []);
      assert.equal(ps.shardSteps(), [1, 1]);
      await fixture.terminate();
      assert.is(ps.recoverDeadThread(theirs.threadId), 0, 'it held no lock when it died');

      // Step 1: worker 1 is gone; worker 0's push on each shard ends by the timeout with its own gradient alone.
      // Move the clock past the timeout until the run ends: each push that
      // waits sees its deadline pass after the next move.
      const aloneP = pool.run(
        { worker: 0, steps: 1, rowsPerPush, firstStep: 1 },
        { name: 'syncSteps' },
      ) as Promise<SyncDrillResult>;
      let ended = false;
      void aloneP.finally(() => (ended = true)).catch(() => undefined);
      while (!ended) {
        clock.advance(300);
        await new Promise((r) => setTimeout(r, 5));
      }
      const alone = await aloneP;
      assert.equal(alone.timeouts, [
        { shard: 0, step: 1, arrived: 1 },
        { shard: 1, step: 1, arrived: 1 },
      ]);
      assert.is(alone.stepMismatches, 0);
      assert.equal(
        alone.warnings.map((w) => w.code),
        ['KGSHARD_BARRIER_TIMEOUT', 'KGSHARD_BARRIER_TIMEOUT'],
      );
      assert.is(ps.stats().warnings, 2);
      assert.equal(ps.shardSteps(), [2, 2]);

      // Steps 2..11: a replacement worker 2 joins, and every step completes in full.
      const later = await Promise.all(
        [0, 2].map(
          (worker) =>
            pool.run(
              { worker, steps: 10, rowsPerPush, firstStep: 2 },
              { name: 'syncSteps' },
            ) as Promise<SyncDrillResult>,
        ),
      );
      for (const r of later) {
        assert.equal(r.timeouts, []);
        assert.equal(r.warnings, []);
      }
      assert.is(later[0]!.lasts + later[1]!.lasts, 20);
    } finally {
      await pool.destroy();
    }
    const st = ps.stats();
    assert.is(st.warnings, 2);
    assert.is(st.barriersCompleted, 24);
    assert.equal(ps.shardSteps(), [12, 12]);

    syncReference(expected, 4, lr, rowsPerPush, 0, 1, () => [0, 1]);
    syncReference(expected, 4, lr, rowsPerPush, 1, 2, () => [0]);
    syncReference(expected, 4, lr, rowsPerPush, 2, 12, () => [0, 2]);
    const cmp = compareTables(tables(ps), expected);
    assert.is(cmp.differing, 0, cmp.first);
  },
);

test(
  'sync mode: a pusher terminated half-way through adding its gradient: ' +
    'the pending step is discarded with a warning, never applied',
  async () => {
    const ps = ParameterServer.create(
      {
        dim: 4,
        numShards: 1,
        expectedWorkers: 2,
        mode: 'sync',
        learningRate: 0.125,
        strategy: 'range',
        barrierTimeoutMs: 10_000,
        lockLeaseMs: 60_000,
      },
      ids(4),
      ['r0'],
    );
    const warnings: string[] = [];
    ps.onWarning = (code, message) => warnings.push(`${code}: ${message}`);
    const before = Float32Array.from(ps.view(0));
    // Worker 0's push is pending (waiting for a second push) when the dying pusher arrives.
    const early = ps.pushAsync(0, 0, [[1, [8, 8, 8, 8]]]);
    const control = new SharedArrayBuffer(16);
    const input: DyingPusherInput = {
      handle: ps.handle,
      control,
      mode: 'die-mid-sync-accumulate',
      shard: 0,
      worker: 5,
    };
    const worker = startWorker('ps-dying-pusher', input);
    const msg = await firstMessage<{ threadId: number; locked: number }>(worker);
    assert.is(msg.locked, SEQ_OK);
    await worker.terminate();
    assert.is(ps.recoverDeadThread(msg.threadId), 1);
    // The next pushes find the dead push's mark, discard the pending step
    // (worker 0's push and the partial garbage), and complete a fresh step.
    const [a, b] = await Promise.all([
      ps.pushAsync(0, 1, [[0, [1, 1, 1, 1]]]),
      ps.pushAsync(0, 2, [[0, [3, 3, 3, 3]]]),
    ]);
    assert.ok(a.state === 'step-complete' && b.state === 'step-complete');
    await early;
    assert.is(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^KGSHARD_PUSH_INTERRUPTED: shard 0: worker 5 died in the middle of a push; discarded the pending step \(1 complete pushes and the partial one\)$/,
    );
    const after = ps.view(0);
    const lr = Math.fround(0.125);
    for (let k = 0; k < 4; k++) {
      assert.is(after[k], Math.fround(before[k]! - Math.fround(lr * 2)), 'row 0: the average of workers 1 and 2 only');
      assert.is(after[4 + k], before[4 + k], "row 1: worker 0's discarded push was not applied");
    }
    for (const v of after) assert.ok(Math.abs(v) < 1, 'no garbage reached the table');
    assert.equal(ps.shardSteps(), [1]);
    assert.is(ps.stats().warnings, 1);
  },
);

test.run();
