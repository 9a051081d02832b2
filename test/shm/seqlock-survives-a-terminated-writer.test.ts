import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Worker } from 'node:worker_threads';
import { Seqlock, SEQ_OK, SEQ_RECOVERED, SEQ_STALLED, SEQ_TIMED_OUT } from '../../src/shm/seqlock.js';
import { firstMessage, runWorker, startWorker } from '../helpers/threads.js';

const READY = 1;

/** Start a writer that takes the lock (and, mid-write, marks all rows), and terminate it at that moment. */
async function killWriterAt(region: Seqlock, mode: 'die-holding' | 'die-mid-write'): Promise<{ deadThread: number; worker: Worker }> {
  const control = new SharedArrayBuffer(64);
  const ctl = new Int32Array(control);
  const worker = startWorker('seqlock-writer', { handle: region.handle, control, mode });
  const msg = await firstMessage<{ locked: number; threadId: number }>(worker);
  assert.is(msg.locked, SEQ_OK);
  assert.is(Atomics.load(ctl, READY), 1);
  await worker.terminate();
  return { deadThread: msg.threadId, worker };
}

test('a writer terminated while holding the lock: another writer takes over after the lease', async () => {
  const region = Seqlock.create({ rows: 4, cols: 8, leaseMs: 150 });
  const { deadThread } = await killWriterAt(region, 'die-holding');
  assert.is(region.owner(), deadThread);
  // Readers are not blocked: the dead writer held the lock but wrote nothing.
  const dst = new Float32Array(32);
  assert.is(region.read(dst), SEQ_OK);
  // A writer on the main thread with a short timeout times out instead of hanging...
  assert.is(region.lock(20), SEQ_TIMED_OUT);
  // ...and a writer thread waiting past the lease takes the lock over.
  const control = new SharedArrayBuffer(64);
  const r = await runWorker<{ failures: number }>('seqlock-writer', { handle: region.handle, control, mode: 'increment', count: 10 });
  assert.is(r.failures, 0);
  assert.is(region.data[0], 10);
  assert.is(region.recoveries(), 1);
  assert.is(region.owner(), -1);
});

test('a writer terminated mid-write: readers report a stall, then recover after the lease', async () => {
  const region = Seqlock.create({ rows: 4, cols: 8, leaseMs: 200 });
  region.write(0, new Float32Array(32).fill(5));
  const { deadThread } = await killWriterAt(region, 'die-mid-write');
  assert.is(region.sequence() % 2, 1, 'the counter is left odd by the dead writer');
  const dst = new Float32Array(32);
  const t0 = performance.now();
  assert.is(region.read(dst, 0, 4, 1000), SEQ_STALLED);
  assert.ok(performance.now() - t0 < 1000, 'a stalled read returns promptly');
  await new Promise((r) => setTimeout(r, 250));
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
});

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

test.run();
