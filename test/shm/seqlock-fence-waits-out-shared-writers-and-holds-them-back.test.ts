/**
 * Shared (Hogwild) writers and fences on one seqlock region: a fence waits
 * until the writers inside have left, and while it is up no new writer gets
 * in (the main thread is told `SEQ_BUSY` at once; a worker waits until the
 * fence is lowered). A writer that never leaves makes a fence time out
 * rather than wait forever, and the timed-out fence is lowered again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Seqlock, SEQ_BUSY, SEQ_OK, SEQ_TIMED_OUT } from '../../src/shm/seqlock.js';
import { ManualClock } from '../../src/shm/clock.js';

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};

test('a fence waits for the shared writers inside, then keeps new ones out until it is lowered', async () => {
  const region = Seqlock.create({ rows: 4, cols: 3 });
  assert.is(region.enterShared(), SEQ_OK);
  assert.is(region.enterShared(), SEQ_OK);
  assert.is(region.sharedWriters(), 2);
  const fence = region.fenceAsync(10_000);
  assert.not.ok(await settled(fence), 'two writers inside: the fence waits');
  region.leaveShared();
  assert.not.ok(await settled(fence), 'one writer still inside');
  region.leaveShared();
  assert.ok(await settled(fence), 'the last writer left: the fence is up');
  assert.is(await fence, SEQ_OK);
  assert.is(region.enterShared(), SEQ_BUSY, 'the main thread is refused at a fenced gate, at once');
  assert.is(region.sharedWriters(), 0, 'a refused writer is not counted');
  assert.is(region.unfence(), SEQ_OK);
  assert.is(region.enterShared(), SEQ_OK, 'the fence is down: writers get in again');
  assert.is(region.lastSharedWaitMs, 0);
  region.leaveShared();
});

test('a writer that never leaves makes the fence time out, and the fence is lowered', async () => {
  const clock = ManualClock.create();
  const region = Seqlock.create({ rows: 1, cols: 1, clock });
  assert.is(region.enterShared(), SEQ_OK);
  const fence = region.fenceAsync(5);
  assert.not.ok(await settled(fence), 'the fence waits while the clock stands still');
  clock.advance(6);
  assert.is(await fence, SEQ_TIMED_OUT);
  assert.is(region.owner(), -1, 'the timed-out fence released the lock');
  region.leaveShared();
  assert.is(await region.fenceAsync(5), SEQ_OK);
  region.unfence();
});

test.run();
