import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper, NO_SHARD, type MapperFaultPoint } from '../../src/router/mapper.js';
import { ManualClock } from '../../src/shm/clock.js';
import { LOCK_BUSY } from '../../src/shm/owner-lock.js';
import { READY, STOP, type MapperDyingInput } from '../fixtures/mapper-dying-shared.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import { failure, selected, value } from './helpers/mapper.js';

// The mapper's lease runs on a manual clock that only the test moves.
const LEASE = 500;

function create(initialShards: number): { m: ShardMapper; clock: ManualClock } {
  const clock = ManualClock.create(10_000);
  const m = ShardMapper.create({
    initialShards,
    ringCapacity: 1024,
    policy: { minShards: 1, maxShards: 8, cooldownMs: 0 },
    leaseMs: LEASE,
    clock,
  });
  return { m, clock };
}

/** Run `op` on a worker that stops at fault point `at` holding the lock; terminate it there. */
async function killInside(m: ShardMapper, at: MapperFaultPoint, op: 'scaleUp' | 'drain', id = 0): Promise<number> {
  const control = new SharedArrayBuffer(16);
  const input: MapperDyingInput = { handle: m.handle, control, mode: 'die-at', at, op, id };
  const worker = startWorker('mapper-dying', input);
  const msg = await firstMessage<{ threadId: number; owner: number }>(worker);
  assert.is(msg.owner, msg.threadId, 'the worker holds the mapper lock at the fault point');
  assert.is(Atomics.load(new Int32Array(control), READY), 1);
  await worker.terminate();
  return msg.threadId;
}

/** The counters agree with the slots, and the table routes to Active shards only (all of them at equal weight). */
function assertConsistent(m: ShardMapper): void {
  const active = m.activeShardIds();
  assert.is(m.activeShardCount(), active.length, 'the Active count equals the Active slots');
  assert.equal(m.selectionTable(), active, 'the selection table lists exactly the Active shards');
  assert.equal(selected(m), active.length === 0 ? [NO_SHARD] : active);
}

test(
  'a thread terminated inside allocate() (ids taken, one slot filled): ' +
    'after the lease the next operation repairs the mapper',
  async () => {
    const { m, clock } = create(2);
    const dead = await killInside(m, 'allocate:slot-filled', 'scaleUp');
    // What the dead thread left: shard 2 is Active in its slot, but the count
    // was never raised and the table never republished.
    assert.equal(m.activeShardIds(), [0, 1, 2]);
    assert.is(m.activeShardCount(), 2, 'the count disagrees with the slots');
    assert.equal(m.selectionTable(), [0, 1]);
    assert.is(m.lockOwner(), dead);

    // Within the lease, a main-thread mutation returns at once with 'lock-busy'.
    clock.advance(LEASE);
    failure(m.scaleUp(1), 'lock-busy');
    assert.equal(m.collectMetrics(), []);
    assert.is(m.lastLockStatus(), LOCK_BUSY);

    // Past the lease it takes the lock over, the recovery rebuilds from the slots, and the operation runs.
    clock.advance(1);
    const ids = value(m.scaleUp(1));
    assert.equal(ids, [4], 'ids 2 and 3 were taken by the dead allocate: 2 is placed, 3 is skipped, neither is reused');
    assert.is(m.lockRecoveries(), 1);
    assert.is(m.lockOwner(), -1);
    assert.equal(m.activeShardIds(), [0, 1, 2, 4]);
    assertConsistent(m);
    // And it stays usable: drain, finalize, remove, scale again.
    value(m.drainSpecific(2));
    assertConsistent(m);
    assert.equal(value(m.scaleUp(2)), [5, 6]);
    assertConsistent(m);
  },
);

test(
  'a thread terminated after taking ids but before filling a slot: ' +
    'recoverDeadThread repairs at once, long before the lease',
  async () => {
    const { m } = create(1);
    const dead = await killInside(m, 'allocate:ids-taken', 'scaleUp');
    assert.is(m.recoverDeadThread(dead + 1000), false, 'another thread id recovers nothing');
    assert.is(m.recoverDeadThread(dead), true);
    assert.is(m.recoverDeadThread(dead), false, 'recovery happens once');
    assert.equal(m.activeShardIds(), [0]);
    assertConsistent(m);
    assert.equal(value(m.scaleUp(1)), [3], 'the ids the dead thread took are never handed out');
    assertConsistent(m);
  },
);

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test('a thread terminated inside a drain (shard marked draining, state still Active): recovery undoes the half drain', async () => {
  const { m, clock } = create(3);
  await killInside(m, 'drain:slot-marked', 'drain', 1);
  assert.is(m.shardState(1), 'active');
  clock.advance(LEASE + 1);
  value(m.activate(0)); // any mutation takes the lock over; activating an Active shard changes nothing itself
  assert.is(m.lockRecoveries(), 1);
  assert.equal(m.activeShardIds(), [0, 1, 2]);
  assert.is(m.lastMetrics(1)!.draining, false, 'no drain mark is left on an Active shard');
  assertConsistent(m);
  // The shard drains normally afterwards.
  value(m.drainSpecific(1));
  assert.is(m.shardState(1), 'draining');
  assertConsistent(m);
});

test(
  'the main thread never waits for the mapper lock: ' +
    'a mutation while a worker holds it says lock-busy, and succeeds after the release',
  async () => {
    const { m } = create(2);
    const control = new SharedArrayBuffer(16);
    const ctl = new Int32Array(control);
    const input: MapperDyingInput = { handle: m.handle, control, mode: 'hold-until-stop' };
    const worker = startWorker('mapper-dying', input);
    try {
      const msg = await firstMessage<{ threadId: number; owner: number }>(worker);
      assert.is(msg.owner, msg.threadId);
      const r = m.scaleUp(1);
      assert.match(failure(r, 'lock-busy'), /held by thread \d+/);
      assert.equal(m.finalizeDraining(), []);
      assert.is(m.lastLockStatus(), LOCK_BUSY);
      assert.equal(m.activeShardIds(), [0, 1], 'nothing changed');
      const released = firstMessage<{ released: boolean }>(worker);
      Atomics.store(ctl, STOP, 1);
      Atomics.notify(ctl, STOP);
      assert.ok((await released).released);
      assert.equal(value(m.scaleUp(1)), [2]);
      assertConsistent(m);
    } finally {
      await worker.terminate();
    }
  },
);

test.run();
