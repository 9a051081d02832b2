/**
 * Floor copies come before bonus copies:
 * - in any step that holds back floor work (a missing floor copy or a new
 *   chunk deferred for capacity or budget), no bonus copy is added;
 * - the ideal placement gives bonus copies only when every chunk has all
 *   its floor copies;
 * - concretely: three shards full of bonus copies when three new chunks
 *   arrive: the first step drops the bonus copies (they drain) and places
 *   nothing, and once they have drained a step places the new chunks, and the end state has one
 *   floor copy per chunk and no bonus copy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { idealPlacement, planStep } from '../../src/ps/reshard/plan.js';
import { check } from '../helpers/prop.js';
import { floorOf, iterate, nextHoldings, planCase } from '../helpers/reshard-plans.js';

test('a step that holds back floor work adds no bonus copy', () =>
  check(
    fc.property(planCase(false), ({ input }) => {
      const step = planStep(input);
      if (!step.deferred.some((d) => d.floor)) return;
      const ideal = idealPlacement(
        [...input.placement.keys(), ...input.newChunks],
        input.chunkBytes,
        input.shards,
        input.capacity,
        input.replication,
        input.bonusReplicas,
      );
      for (const a of step.adds) {
        assert.ok(
          !(ideal.bonus.get(a.chunk) ?? []).includes(a.shard),
          `bonus copy of chunk ${a.chunk} on shard ${a.shard} while floor work waits`,
        );
      }
    }),
    300,
  ));

test('the ideal placement has bonus copies only when every floor copy found room', () =>
  check(
    fc.property(planCase(false), ({ input }) => {
      const chunks = [...input.placement.keys(), ...input.newChunks];
      const ideal = idealPlacement(
        chunks,
        input.chunkBytes,
        input.shards,
        input.capacity,
        input.replication,
        input.bonusReplicas,
      );
      const t = floorOf(input);
      const short = chunks.some((c) => (ideal.floor.get(c) ?? []).length < t);
      if (short) assert.is(ideal.bonus.size, 0);
    }),
    300,
  ));

test('new chunks evict bonus copies from full shards, then take their place', () => {
  // 3 shards of 300 bytes, each full with one 100-byte copy of chunks 0-2
  // (one floor and two bonus copies per chunk). Chunks 3-5 arrive: their
  // floor copies need the room the bonus copies hold.
  const chunkBytes = new Map([0, 1, 2, 3, 4, 5].map((c) => [c, 100]));
  const steps = iterate(
    {
      placement: new Map([0, 1, 2].map((c) => [c, [0, 1, 2]])),
      draining: new Map(),
      newChunks: [3, 4, 5],
      shards: [0, 1, 2],
      capacity: () => 300,
      chunkBytes,
      replication: 1,
      bonusReplicas: 2,
      maxMoves: 3,
    },
    10,
  );
  const first = steps[0]!;
  assert.equal(first.placed, [], 'no room before the bonus copies drain');
  assert.is(first.drops.length, 6, 'two bonus copies of each old chunk go');
  assert.ok(first.deferred.every((d) => d.floor && d.reason === 'capacity'));
  // The dropped copies drain for one step, then the new chunks fit.
  assert.equal(steps[1]!.placed, []);
  assert.equal(steps[2]!.placed, [3, 4, 5]);
  const last = steps.at(-1)!;
  assert.ok(last.atIdeal);
  for (const c of chunkBytes.keys()) {
    const h = last.next.get(c)!;
    assert.is(h.floor.length, 1, `chunk ${c}`);
    assert.is(h.bonus.length, 0, `chunk ${c}`);
  }
  assert.ok(nextHoldings(last).size === 6);
});

test.run();
