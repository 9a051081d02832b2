/**
 * A producer pushes into one shard; when that shard starts draining, the
 * producer's next push goes to another Active shard, and it lets go of the
 * drained one only after its last push there. The drained shard is stopped
 * only once its ring has been emptied.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from '../../src/router/router.js';

function events(id: number, from: number, n: number): Int32Array {
  const a = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = id;
    a[2 * i + 1] = from + i;
  }
  return a;
}

test('the producer moves, the drained ring is emptied before the shard stops', () => {
  const router = Router.create({
    initialShards: 2,
    ringCapacity: 64,
    policy: { minShards: 1, maxShards: 4, cooldownMs: 0, minDrainMs: 0 },
  });
  const m = router.mapper;
  const p = router.producer(0);
  assert.is(p.push(events(0, 0, 10), 0, 10), 10);
  const first = p.boundShard;
  const firstSlot = p.boundSlot;
  assert.ok(first === 0 || first === 1);
  assert.is(m.attachedProducer(firstSlot), 1, 'the producer is attached to its shard');
  assert.is(router.rings[firstSlot]!.size(), 10);

  assert.ok(m.drainSpecific(first).ok);
  // Still attached until the producer notices on its next push.
  assert.is(m.attachedProducer(firstSlot), 1);
  router.reportLengths();
  assert.equal(m.finalizeDraining(), [], 'not stopped while the producer is attached and the ring holds events');

  assert.is(p.push(events(0, 10, 5), 0, 5), 5);
  assert.is.not(p.boundShard, first, 'the next push went to another shard');
  assert.is(m.shardState(p.boundShard), 'active');
  assert.is(m.attachedProducer(firstSlot), 0, 'the producer let go of the drained shard');
  assert.is(router.rings[firstSlot]!.size(), 10, 'nothing more went into the drained ring');

  router.reportLengths();
  assert.equal(m.finalizeDraining(), [], 'not stopped while its ring holds events');
  // The consumer empties the drained ring.
  const out = new Int32Array(2 * 64);
  assert.is(router.rings[firstSlot]!.pop(out, 0, 64), 10);
  for (let i = 0; i < 10; i++) assert.is(out[2 * i + 1], i, 'in order');
  router.reportLengths();
  assert.equal(m.finalizeDraining(), [first]);
  assert.is(m.shardState(first), 'stopped');
  assert.ok(m.removeSpecificStoppedShard(first));
  assert.is(m.shardState(first), undefined);
});

test('an idle producer lets go of a draining shard on refresh()', () => {
  const router = Router.create({
    initialShards: 2,
    ringCapacity: 64,
    policy: { minShards: 1, maxShards: 4, cooldownMs: 0, minDrainMs: 0 },
  });
  const m = router.mapper;
  const p = router.producer(3);
  p.push(events(3, 0, 1), 0, 1);
  const slot = p.boundSlot;
  const id = p.boundShard;
  router.rings[slot]!.pop(new Int32Array(2), 0, 1);
  assert.ok(m.drainSpecific(id).ok);
  router.reportLengths();
  assert.equal(m.finalizeDraining(), [], 'an attached producer holds the shard');
  p.refresh();
  assert.is(p.boundSlot, -1);
  assert.is(m.attachedProducer(slot), 0);
  assert.equal(m.finalizeDraining(), [id]);
});

test.run();
