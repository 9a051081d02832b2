import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker } from 'node:worker_threads';
import { Seqlock, SEQ_BUSY, SEQ_OK, SEQ_RECOVERED, SEQ_STALLED } from '../../src/shm/seqlock.js';
import { ManualClock } from '../../src/shm/clock.js';
import { firstMessage, runWorker, startWorker } from '../helpers/threads.js';

// The region's lease runs on a manual clock that only this test moves: a
// lease expires when the test says so, never because the machine was slow.

const STOP = 0;
const READY = 1;

/** Start a writer that takes the lock (and, mid-write, marks all rows), and terminate it at that moment. */
async function killWriterAt(
  region: Seqlock,
  mode: 'die-holding' | 'die-mid-write',
): Promise<{ deadThread: number; worker: Worker }> {
  const control = new SharedArrayBuffer(64);
  const ctl = new Int32Array(control);
  const worker = startWorker('seqlock-writer', { handle: region.handle, control, mode });
  const msg = await firstMessage<{ locked: number; threadId: number }>(worker);
  assert.is(msg.locked, SEQ_OK);
  assert.is(Atomics.load(ctl, READY), 1);
  await worker.terminate();
  return { deadThread: msg.threadId, worker };
}

test('a writer terminated while holding the lock: another writer takes over once the lease has passed', async () => {
  const clock = ManualClock.create();
  const region = Seqlock.create({ rows: 4, cols: 8, leaseMs: 150, clock });
  const { deadThread } = await killWriterAt(region, 'die-holding');
  assert.is(region.owner(), deadThread);
  // Readers are not blocked: the dead writer held the lock but wrote nothing.
  const dst = new Float32Array(32);
  assert.is(region.read(dst), SEQ_OK);
  // Within the lease the main thread is told the lock is busy; it never waits.
  clock.advance(150);
  assert.is(region.lock(), SEQ_BUSY);
  assert.is(region.owner(), deadThread);
  // Past the lease, a writer thread waiting for the lock takes it over.
  clock.advance(1);
  const control = new SharedArrayBuffer(64);
  const r = await runWorker<{ failures: number }>('seqlock-writer', {
    handle: region.handle,
    control,
    mode: 'increment',
    count: 10,
  });
  assert.is(r.failures, 0);
  assert.is(region.data[0], 10);
  assert.is(region.recoveries(), 1);
  assert.is(region.owner(), -1);
});

test(
  'a writer terminated mid-write: readers report a stall within the lease, ' + 'then recover and the region is usable',
  async () => {
    const clock = ManualClock.create();
    const region = Seqlock.create({ rows: 4, cols: 8, leaseMs: 200, clock });
    region.write(0, new Float32Array(32).fill(5));
    const { deadThread } = await killWriterAt(region, 'die-mid-write');
    assert.is(region.sequence() % 2, 1, 'the counter is left odd by the dead writer');
    const dst = new Float32Array(32);
    assert.is(region.read(dst, 0, 4, 1000), SEQ_STALLED, 'within the lease a read gives up instead of waiting');
    clock.advance(201);
    assert.is(region.read(dst, 0, 4, 1000), SEQ_RECOVERED);
    assert.is(region.sequence() % 2, 0);
    assert.is(region.recoveries(), 1);
    assert.equal(region.lastTorn(), { rowStart: 0, rowCount: 4 });
    assert.is(region.owner(), -1);
    assert.not.equal(deadThread, -1);
    // Writers work again and the torn rows are rewritten.
    assert.is(region.write(0, new Float32Array(32).fill(7)), SEQ_OK);
    assert.is(region.read(dst), SEQ_OK);
    assert.ok(dst.every((v) => v === 7));
  },
);

test('recoverDeadOwner frees the lock at once when the exit is observed', async () => {
  const region = Seqlock.create({ rows: 2, cols: 2, leaseMs: 60_000 });
  const { deadThread } = await killWriterAt(region, 'die-mid-write');
  assert.is(region.recoverDeadOwner(deadThread + 1000), false, 'another thread id recovers nothing');
  assert.is(region.recoverDeadOwner(deadThread), true);
  assert.is(region.recoverDeadOwner(deadThread), false, 'recovery happens once');
  const dst = new Float32Array(4);
  assert.is(region.read(dst), SEQ_OK);
  assert.is(region.lock(10), SEQ_OK);
  assert.is(region.unlock(), SEQ_OK);
});

test(
  'the main thread never waits for a writer lock a worker holds: ' +
    'lock says busy, lockAsync resolves after the release',
  async () => {
    const region = Seqlock.create({ rows: 1, cols: 1, clock: ManualClock.create() });
    const control = new SharedArrayBuffer(64);
    const ctl = new Int32Array(control);
    const worker = startWorker('seqlock-writer', { handle: region.handle, control, mode: 'hold-until-stop' });
    try {
      const msg = await firstMessage<{ locked: number }>(worker);
      assert.is(msg.locked, SEQ_OK);
      assert.is(region.lock(), SEQ_BUSY);
      assert.is(region.write(0, Float32Array.of(9)), SEQ_BUSY, 'a write from the main thread is refused, not delayed');
      const waiting = region.lockAsync();
      const released = firstMessage<{ unlocked: number }>(worker);
      Atomics.store(ctl, STOP, 1);
      Atomics.notify(ctl, STOP);
      assert.is((await released).unlocked, SEQ_OK);
      assert.is(await waiting, SEQ_OK);
      assert.is(region.data[0], 1, 'the lock was taken after the worker wrote and released');
      assert.is(region.unlock(), SEQ_OK);
    } finally {
      await worker.terminate();
    }
  },
);

test.run();
