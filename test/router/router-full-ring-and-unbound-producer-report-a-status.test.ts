/**
 * Push outcomes that are not errors: a full ring (push returns what fit,
 * status 'full'), a blocking push that runs out of time ('timed-out'), and
 * a producer with no free Active shard ('unbound', counted as waiting until
 * a shard appears). None of them changes what is already queued.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PUSH_FULL,
  PUSH_OK,
  PUSH_STATUS_NAMES,
  PUSH_TIMED_OUT,
  PUSH_UNBOUND,
  Router,
} from '../../src/router/router.js';

const ev = (n: number): Int32Array => new Int32Array(2 * n);

test('full ring: push returns 0 with status full; blocking push times out', () => {
  const router = Router.create({ initialShards: 1, ringCapacity: 8, policy: { minShards: 1, maxShards: 2 } });
  const p = router.producer(0);
  assert.is(p.push(ev(6), 0, 6), 6);
  assert.is(p.status, PUSH_OK);
  assert.is(p.push(ev(6), 0, 6), 2, 'only what fits');
  assert.is(p.status, PUSH_FULL);
  assert.is(p.push(ev(1), 0, 1), 0);
  assert.is(PUSH_STATUS_NAMES[p.status], 'full');
  assert.is(p.pushBlocking(ev(3), 0, 3, 5), 0);
  assert.is(p.status, PUSH_TIMED_OUT);
  assert.is(router.rings[p.boundSlot]!.size(), 8, 'the queued events are untouched');
});

test('no free shard: status unbound, counted as waiting, bound once a shard appears', () => {
  const router = Router.create({
    initialShards: 1,
    ringCapacity: 8,
    policy: { minShards: 1, maxShards: 2, cooldownMs: 0 },
  });
  const a = router.producer(0);
  const b = router.producer(1);
  assert.is(a.push(ev(1), 0, 1), 1);
  assert.is(b.push(ev(1), 0, 1), 0);
  assert.is(b.status, PUSH_UNBOUND);
  assert.is(router.waitingProducers(), 1);
  assert.is(b.pushBlocking(ev(1), 0, 1, 2), 0);
  assert.is(b.status, PUSH_UNBOUND);
  assert.ok(router.mapper.scaleUp(1).ok);
  let pushed = 0;
  for (let i = 0; i < 70 && pushed === 0; i++) pushed = b.push(ev(1), 0, 1);
  assert.is(pushed, 1, 'bound within the retry interval');
  assert.is.not(b.boundShard, a.boundShard, 'one producer per shard');
  assert.is(router.waitingProducers(), 0);
  b.release();
  assert.is(router.mapper.attachedProducer(1), 0);
});

test('bad router options name the field', () => {
  assert.throws(() => Router.create({ initialShards: 1, ringCapacity: 100 }), /ringCapacity/);
  assert.throws(() => Router.create({ initialShards: 1, ringCapacity: 64, eventWords: 0 }), /eventWords/);
  assert.throws(() => Router.create({ initialShards: 1, ringCapacity: 64, maxProducers: 0 }), /maxProducers/);
  const r = Router.create({ initialShards: 1, ringCapacity: 64, maxProducers: 2 });
  assert.throws(() => r.producer(2), /id/);
});

test.run();
