import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { threadId } from 'node:worker_threads';
import { allocate, indexOf, seqlockLayout } from '../../native-layout/index.js';
import { ManualClock } from '../../src/shm/clock.js';
import {
  LOCK_BUSY,
  LOCK_LOST,
  LOCK_MISUSED,
  LOCK_OK,
  LOCK_RECOVERED,
  OwnerLock,
  type StaleHolder,
} from '../../src/shm/owner-lock.js';

// Two lock objects over the owner-lock words of one region stand for two
// threads (the lock is per object); a manual clock moves the lease.
const LAYOUT = seqlockLayout(1, 1);

function pair(leaseMs = 100): { a: OwnerLock; b: OwnerLock; clock: ManualClock; i32: Int32Array; seen: StaleHolder[] } {
  const i32 = new Int32Array(allocate(LAYOUT));
  const clock = ManualClock.create(1000);
  const seen: StaleHolder[] = [];
  const hook = (s: StaleHolder): void => void seen.push(s);
  return {
    a: new OwnerLock(i32, LAYOUT, leaseMs, clock, hook),
    b: new OwnerLock(i32, LAYOUT, leaseMs, clock, hook),
    clock,
    i32,
    seen,
  };
}

test(
  'a held lock is busy for others until its lease has passed; ' +
    'then it is taken over once, the hook runs, and the old holder has lost it',
  () => {
    const { a, b, clock, seen } = pair();
    assert.is(a.lock(), LOCK_OK);
    assert.is(a.lock(), LOCK_MISUSED, 'not re-entrant');
    assert.is(a.owner(), threadId);
    assert.is(b.tryLock(), LOCK_BUSY);
    clock.advance(100);
    assert.is(b.tryLock(), LOCK_BUSY, 'not stale at exactly the lease');
    clock.advance(1);
    assert.is(b.tryLock(), LOCK_RECOVERED);
    assert.is(seen.length, 1);
    assert.is(seen[0]!.ownerThread, threadId);
    assert.is(seen[0]!.heldSinceMs, 1000);
    assert.is(b.recoveries(), 1);
    assert.is(a.unlock(), LOCK_LOST, 'the old holder learns it lost the lock');
    assert.ok(b.holds());
    assert.is(b.unlock(), LOCK_OK);
    assert.is(b.unlock(), LOCK_MISUSED);
    assert.is(a.owner(), -1);
  },
);

test('a holder that died between taking the word and stamping it is taken over a lease after it was first seen', () => {
  const { b, clock, i32, seen } = pair();
  Atomics.store(i32, indexOf(LAYOUT, 'lockWord'), 0x12345); // taken, never stamped
  assert.is(b.tryLock(), LOCK_BUSY, 'first sighting');
  clock.advance(100);
  assert.is(b.tryLock(), LOCK_BUSY);
  clock.advance(1);
  assert.is(b.tryLock(), LOCK_RECOVERED);
  assert.equal(seen, [{ token: 0x12345, ownerThread: -1, heldSinceMs: -1 }]);
  assert.is(b.unlock(), LOCK_OK);
});

test('recoverIfStale and recoverDeadOwner run the hook and leave the lock free', () => {
  const { a, b, clock, seen } = pair();
  assert.is(a.lock(), LOCK_OK);
  assert.is(b.recoverIfStale(), false, 'a live holder within its lease is left alone');
  assert.is(b.recoverDeadOwner(threadId + 1), false, 'another thread id recovers nothing');
  assert.is(b.recoverDeadOwner(threadId), true);
  assert.is(seen.length, 1);
  assert.is(b.owner(), -1);
  assert.is(a.unlock(), LOCK_LOST);
  assert.is(a.lock(), LOCK_OK);
  clock.advance(101);
  assert.is(b.recoverIfStale(), true);
  assert.is(seen.length, 2);
  assert.is(b.owner(), -1);
});

test('async callers sharing one object take the lock in turn, without blocking the loop', async () => {
  const { a, b } = pair();
  assert.is(b.lock(), LOCK_OK);
  const order: string[] = [];
  const first = a.lockAsync().then((s) => {
    order.push(`first ${s}`);
    a.unlock();
  });
  const second = a.lockAsync().then((s) => {
    order.push(`second ${s}`);
    a.unlock();
  });
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(order, [], 'both wait while another holder has the lock');
  b.unlock();
  await Promise.all([first, second]);
  assert.equal(order.sort(), [`first ${LOCK_OK}`, `second ${LOCK_OK}`], 'each took the lock and released it');
});

test.run();
