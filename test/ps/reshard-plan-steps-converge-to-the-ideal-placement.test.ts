/**
 * Repeated scheduler steps converge. From any start state the iteration
 * (each step's drops drain for one step, then free their bytes) reaches a
 * fixed point within 2 x (copies added + copies dropped) + 2 steps, and
 * when every target shard has room for its ideal load plus what it held at
 * the start, that fixed point is the ideal placement, reached within
 * ceil(chunks / K) + 3 steps. Also: growth from 2 to 4 shards
 * moves chunks only onto the new shards when capacity is ample.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { idealPlacement, planStep } from '../../src/ps/reshard/plan.js';
import { check } from '../helpers/prop.js';
import { iterate, planCase } from '../helpers/reshard-plans.js';

const bound = (chunks: number, k: number): number => Math.ceil(chunks / k) + 3;

test('with room for the ideal plus the start, steps reach the ideal placement within ceil(chunks / K) + 3', () =>
  check(
    fc.property(planCase(true), ({ input }) => {
      const chunks = input.placement.size + input.newChunks.length;
      const limit = bound(chunks, input.maxMoves);
      const steps = iterate(input, limit + 5);
      const last = steps.at(-1)!;
      assert.ok(steps.length <= limit, `took ${steps.length} steps, bound ${limit}`);
      assert.ok(last.idle && last.atIdeal, `not at the ideal after ${steps.length} steps`);
    }),
    200,
  ));

test('from any start, steps reach a fixed point (which may fall short of the ideal when shards are full)', () =>
  check(
    fc.property(planCase(false), ({ input }) => {
      // Every copy is added at most once (only on ideal shards, which never
      // drop) and dropped at most once, and a step waits idle at most once
      // for a drain: 2 x (adds + drops) + 2 steps at most.
      const ideal = idealPlacement(
        [...input.placement.keys(), ...input.newChunks],
        input.chunkBytes,
        input.shards,
        input.capacity,
        input.replication,
        input.bonusReplicas,
      );
      let idealCopies = 0;
      for (const ss of [...ideal.floor.values(), ...ideal.bonus.values()]) idealCopies += ss.length;
      let startCopies = 0;
      for (const ss of input.placement.values()) startCopies += ss.length;
      const limit = 2 * (2 * idealCopies + startCopies) + 2;
      const steps = iterate(input, limit + 1);
      assert.ok(steps.length <= limit, `no fixed point within ${limit} steps`);
      const last = steps.at(-1)!;
      assert.ok(last.idle);
    }),
    300,
  ));

test('growing from 2 to 4 roomy shards moves chunks only onto the new shards', () => {
  const chunkBytes = new Map(Array.from({ length: 40 }, (_, c) => [c, 100]));
  const ideal2 = idealPlacement([...chunkBytes.keys()], chunkBytes, [0, 1], () => 1e9, 1, 0);
  const ideal4 = idealPlacement([...chunkBytes.keys()], chunkBytes, [0, 1, 2, 3], () => 1e9, 1, 0);
  let moved = 0;
  for (const c of chunkBytes.keys()) {
    const before = ideal2.floor.get(c)![0]!;
    const after = ideal4.floor.get(c)![0]!;
    if (before !== after) {
      moved++;
      assert.ok(after >= 2, `chunk ${c} moved from shard ${before} to old shard ${after}`);
    }
  }
  assert.ok(moved > 0 && moved <= 30, `moved ${moved} of 40`);
  const step = planStep({
    placement: new Map([...ideal2.floor].map(([c, s]) => [c, [...s]])),
    draining: new Map(),
    newChunks: [],
    shards: [0, 1, 2, 3],
    capacity: () => 1e9,
    chunkBytes,
    replication: 1,
    bonusReplicas: 0,
    maxMoves: 3,
  });
  assert.is(step.moved, 3);
  assert.is(step.drops.length, 3);
});

test.run();
