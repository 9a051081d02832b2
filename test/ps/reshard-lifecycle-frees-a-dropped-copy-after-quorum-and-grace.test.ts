/**
 * A copy dropped by a new version drains, and is freed only when a quorum
 * of live workers has confirmed that version AND the grace window has
 * passed since it was published; the clock is moved by hand, never slept
 * on. Quorum 1 waits for every live worker, 0.5 for half of them, 0 for
 * nobody (zero-quorum mode: only the grace window holds the copy).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssignmentLifecycle } from '../../src/ps/reshard/lifecycle.js';
import type { ReshardOptions } from '../../src/ps/reshard/options.js';

function setup(extra: Partial<ReshardOptions>): {
  life: AssignmentLifecycle;
  clock: { t: number };
  workers: number[];
  droppedAt: number;
} {
  const clock = { t: 1000 };
  const life = new AssignmentLifecycle(
    { rows: 16, dim: 2, chunkRows: 2, shards: 1, graceMs: 100, workerTimeoutMs: 10_000, maxMoves: 8, ...extra },
    () => clock.t,
  );
  const workers = [life.workerJoin(), life.workerJoin()];
  life.reshard(2);
  const r = life.step();
  assert.ok(r.published === 2 && r.drops.length > 0, 'growing to 2 shards moves some chunks');
  assert.is(life.drainingCopies().length, r.drops.length);
  return { life, clock, workers, droppedAt: r.published };
}

test('quorum 1: freed only after every live worker confirmed and the grace window passed', () => {
  const { life, clock, workers, droppedAt } = setup({ quorum: 1 });
  const draining = life.drainingCopies().length;
  clock.t += 500;
  assert.is(life.step().freed.length, 0, 'no confirmation yet');
  life.confirm(workers[0]!, droppedAt);
  assert.is(life.watermark(), 1);
  assert.is(life.step().freed.length, 0, 'one of two workers confirmed');
  life.confirm(workers[1]!, droppedAt);
  assert.is(life.watermark(), droppedAt);
  const r = life.step();
  assert.is(r.freed.length, draining);
  assert.is(life.drainingCopies().length, 0);
});

test('the grace window holds a confirmed drop until it has passed', () => {
  const { life, clock, workers, droppedAt } = setup({ quorum: 1 });
  for (const w of workers) life.confirm(w, droppedAt);
  clock.t += 99;
  assert.is(life.step().freed.length, 0, '99 ms < 100 ms grace');
  clock.t += 1;
  assert.ok(life.step().freed.length > 0, 'grace over');
});

test('quorum 0.5: one of two workers is enough', () => {
  const { life, clock, workers, droppedAt } = setup({ quorum: 0.5 });
  clock.t += 100;
  life.confirm(workers[1]!, droppedAt);
  assert.ok(life.step().freed.length > 0);
});

test('zero quorum: the watermark is the latest version, only the grace window holds', () => {
  const { life, clock } = setup({ quorum: 0 });
  assert.is(life.watermark(), life.latest.version);
  assert.is(life.step().freed.length, 0);
  clock.t += 100;
  assert.ok(life.step().freed.length > 0);
});

test('a worker leaving stops counting for the quorum', () => {
  const { life, clock, workers, droppedAt } = setup({ quorum: 1 });
  clock.t += 100;
  life.confirm(workers[0]!, droppedAt);
  life.workerLeave(workers[1]!);
  assert.ok(life.step().freed.length > 0);
});

test.run();
