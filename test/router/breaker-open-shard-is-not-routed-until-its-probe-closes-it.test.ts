/**
 * A shard's circuit breaker and routing, on one thread with a manual clock:
 * a producer whose waits for ring space keep failing opens its shard's
 * breaker and moves to another shard; from then on the mapper neither
 * selects nor binds the shard, through the cool-down and the half-open
 * probe, and routes to it again once the probe closes the breaker. A
 * failed probe reopens it for a fresh cool-down. (Time passes on the
 * manual clock only; failed waits are counted in real wait slices of 1 ms,
 * however long the machine takes for them.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PUSH_OK, Router } from '../../src/router/router.js';
import { ManualClock } from '../../src/shm/clock.js';
import { selected, spread } from './helpers/mapper.js';

const COOL_DOWN = 1000;

function setup() {
  const clock = ManualClock.create(10_000);
  const router = Router.create({
    initialShards: 3,
    ringCapacity: 8,
    maxProducers: 4,
    waitSliceMs: 1,
    policy: { minShards: 1, maxShards: 4, cooldownMs: 0 },
    breaker: { failureThreshold: 3, coolDownMs: COOL_DOWN },
    clock,
  });
  return { clock, router, mapper: router.mapper };
}

function events(n: number): Int32Array {
  return new Int32Array(2 * n);
}

/** Push into a full ring, with nobody consuming, until the producer's shard's breaker opens. */
function failUntilOpen(router: Router, producer: ReturnType<Router['producer']>): number {
  const ev = events(8);
  assert.is(producer.push(ev, 0, 8), 8);
  const shard = producer.boundShard;
  for (let i = 0; i < 100_000 && router.mapper.breakerState(shard) === 'closed'; i++) {
    producer.pushBlocking(ev, 0, 1, 2);
  }
  assert.is(router.mapper.breakerState(shard), 'open', 'the breaker opened');
  return shard;
}

test('failed waits open the breaker; the producer moves; the shard is not routed until the probe closes it', () => {
  const { clock, router, mapper } = setup();
  const hashes = spread(2000);
  assert.equal(selected(mapper, hashes), [0, 1, 2]);
  const p = router.producer(0);
  const stalled = failUntilOpen(router, p);
  const slot = mapper.slotOf(stalled);
  assert.is(mapper.attachedProducer(slot), 0, 'the producer let go of the shard');
  // Its next push goes to a healthy shard, and the full ring keeps what it had.
  assert.is(p.pushBlocking(events(1), 0, 1, 1000), 1);
  assert.is(p.status, PUSH_OK);
  assert.is.not(p.boundShard, stalled);
  assert.is(mapper.breakerState(p.boundShard), 'closed');
  assert.is(router.rings[slot]!.size(), 8);
  // The next collection republishes the table without the shard.
  mapper.collectMetrics();
  assert.not.ok(mapper.selectionTable().includes(stalled));
  assert.not.ok(selected(mapper, hashes).includes(stalled), 'selectShard never picks the open shard');
  // No other producer binds to it, even with nowhere else to go.
  const q = router.producer(1);
  assert.is(q.push(events(1), 0, 1), 1);
  assert.is.not(q.boundShard, stalled);
  const r = router.producer(2);
  assert.is(r.push(events(1), 0, 1), 0, 'the only free shard is open: no binding');
  assert.is(mapper.attachedProducer(slot), 0);

  // Within the cool-down the probe cannot be claimed.
  clock.advance(COOL_DOWN - 1);
  assert.not.ok(mapper.tryHalfOpen(stalled));
  assert.is(mapper.breakerState(stalled), 'open');
  clock.advance(1);
  assert.ok(mapper.tryHalfOpen(stalled), 'claimed after the cool-down');
  assert.not.ok(mapper.tryHalfOpen(stalled), 'one probe');
  assert.is(mapper.breakerState(stalled), 'half-open');
  mapper.collectMetrics();
  assert.not.ok(selected(mapper, hashes).includes(stalled), 'not routed while half-open');
  assert.is(r.push(events(1), 0, 1), 0, 'no binding while half-open');

  // The probe passes: routed again, and a producer may bind to it.
  router.rings[slot]!.pop(events(8), 0, 8);
  assert.ok(mapper.closeBreaker(stalled));
  assert.is(mapper.breakerState(stalled), 'closed');
  assert.ok(mapper.selectionTable().includes(stalled), 'closeBreaker republished the table');
  assert.ok(selected(mapper, hashes).includes(stalled));
  let pushed = 0;
  for (let i = 0; i < 70 && pushed === 0; i++) pushed = r.push(events(1), 0, 1);
  assert.is(pushed, 1);
  assert.is(r.boundShard, stalled, 'the waiting producer took the closed shard');
});

test('a failed probe reopens the breaker for a fresh cool-down', () => {
  const { clock, router, mapper } = setup();
  const stalled = failUntilOpen(router, router.producer(3));
  clock.advance(COOL_DOWN);
  assert.ok(mapper.tryHalfOpen(stalled));
  assert.ok(mapper.reopenBreaker(stalled));
  assert.is(mapper.breakerState(stalled), 'open');
  assert.not.ok(mapper.closeBreaker(stalled), 'an open breaker is not closed by a late success');
  clock.advance(COOL_DOWN - 1);
  assert.not.ok(mapper.tryHalfOpen(stalled), 'the cool-down starts again');
  clock.advance(1);
  assert.ok(mapper.tryHalfOpen(stalled));
  assert.ok(mapper.closeBreaker(stalled));
  assert.is(mapper.breakerState(stalled), 'closed');
});

test('failures must come in a row: a push that goes in between resets the count', () => {
  const { router, mapper } = setup();
  const p = router.producer(0);
  assert.is(p.push(events(1), 0, 1), 1);
  const shard = p.boundShard;
  const slot = p.boundSlot;
  for (let round = 0; round < 20; round++) {
    // Two failed waits (the threshold is 3), then a wait that ends with room.
    assert.not.ok(mapper.recordFailedWait(slot));
    assert.not.ok(mapper.recordFailedWait(slot));
    mapper.recordWaitSuccess(slot);
    assert.is(mapper.breakerState(shard), 'closed', `round ${round}`);
  }
  assert.not.ok(mapper.recordFailedWait(slot));
  assert.not.ok(mapper.recordFailedWait(slot));
  assert.ok(mapper.recordFailedWait(slot), 'the third in a row opens it');
  assert.is(mapper.breakerState(shard), 'open');
});

test('bad breaker options name the field', () => {
  const where = { initialShards: 1, ringCapacity: 8 };
  assert.throws(() => Router.create({ ...where, breaker: { failureThreshold: 0 } }), /breaker\.failureThreshold/);
  assert.throws(() => Router.create({ ...where, breaker: { coolDownMs: 0.5 } }), /breaker\.coolDownMs/);
  assert.throws(
    () => Router.create({ ...where, breaker: { cooldown: 5 } as unknown as { coolDownMs: number } }),
    /breaker\.cooldown/,
  );
  assert.throws(() => Router.create({ ...where, waitSliceMs: 0 }), /waitSliceMs/);
});

test.run();
