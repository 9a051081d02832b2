/**
 * One scheduler step from random start states (copies on up to 7 shards,
 * draining copies, new chunks, 1-6 target shards, replication 1-3, bonus
 * 0-2, K 1-5, capacities 300-4000 bytes):
 * - at most K chunks gain a copy;
 * - no shard that receives a copy ends above its capacity, counting live
 *   and draining bytes (a copy made over its own draining copy reuses its
 *   bytes);
 * - a new chunk is placed with exactly its floor copies, or not at all;
 * - every added copy is on a shard the ideal placement names for that
 *   chunk (a copy that does not fit is skipped, not spilled elsewhere);
 * - no chunk loses a copy it needs: each placed chunk keeps at least
 *   min(its copies, floor) live copies, and no placed chunk disappears;
 * - the same input gives the same step.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { idealPlacement, planStep } from '../../src/ps/reshard/plan.js';
import { check } from '../helpers/prop.js';
import { floorOf, loads, planCase } from '../helpers/reshard-plans.js';

test('a step moves at most K chunks, never overfills a shard, places new chunks whole and only on ideal shards', () =>
  check(
    fc.property(planCase(false), ({ input }) => {
      const step = planStep(input);
      const t = floorOf(input);
      const movedChunks = new Set(step.adds.map((a) => a.chunk));
      assert.ok(movedChunks.size <= input.maxMoves, `moved ${movedChunks.size} > K ${input.maxMoves}`);
      assert.is(step.moved, movedChunks.size);

      const before = loads(input.placement, input.chunkBytes);
      for (const [s, b] of loads(input.draining, input.chunkBytes)) before.set(s, (before.get(s) ?? 0) + b);
      const after = new Map(before);
      for (const a of step.adds) {
        if (input.draining.get(a.chunk)?.includes(a.shard)) continue;
        after.set(a.shard, (after.get(a.shard) ?? 0) + input.chunkBytes.get(a.chunk)!);
      }
      for (const s of new Set(step.adds.map((a) => a.shard))) {
        assert.ok(after.get(s)! <= input.capacity(s), `shard ${s} holds ${after.get(s)} > ${input.capacity(s)}`);
      }

      for (const c of input.newChunks) {
        const h = step.next.get(c);
        if (h === undefined) continue;
        assert.is(h.floor.length, t, `new chunk ${c} placed with ${h.floor.length} floor copies, not ${t}`);
        assert.ok(step.placed.includes(c));
      }

      const ideal = idealPlacement(
        [...input.placement.keys(), ...input.newChunks],
        input.chunkBytes,
        input.shards,
        input.capacity,
        input.replication,
        input.bonusReplicas,
      );
      for (const a of step.adds) {
        const named = [...(ideal.floor.get(a.chunk) ?? []), ...(ideal.bonus.get(a.chunk) ?? [])];
        assert.ok(named.includes(a.shard), `chunk ${a.chunk} spilled to shard ${a.shard}, ideal ${named}`);
      }

      for (const [c, ss] of input.placement) {
        const h = step.next.get(c);
        assert.ok(h !== undefined, `chunk ${c} disappeared`);
        const n = h.floor.length + h.bonus.length;
        assert.ok(n >= Math.min(ss.length, t), `chunk ${c} went from ${ss.length} to ${n} copies (floor ${t})`);
      }

      assert.equal(planStep(input), step);
    }),
    300,
  ));

test('a step refuses bad inputs, naming the field', () => {
  const base = {
    placement: new Map(),
    draining: new Map(),
    newChunks: [0],
    shards: [0],
    capacity: () => 100,
    chunkBytes: new Map([[0, 10]]),
    replication: 1,
    bonusReplicas: 0,
    maxMoves: 1,
  };
  assert.throws(() => planStep({ ...base, maxMoves: 0 }), /planStep: maxMoves must be an integer >= 1, got 0/);
  assert.throws(() => planStep({ ...base, shards: [] }), /planStep: shards must be a non-empty list/);
  assert.throws(() => planStep({ ...base, chunkBytes: new Map() }), /chunkBytes of chunk 0/);
});

test.run();
