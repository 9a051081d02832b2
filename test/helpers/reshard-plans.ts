/**
 * Random inputs for the reconciliation scheduler (`planStep`) and a driver
 * that iterates it the way the lifecycle does: each step's drops drain for
 * one step and are then freed.
 */
import fc from 'fast-check';
import { idealPlacement, planStep, type PlanInput, type PlanStep } from '../../src/ps/reshard/plan.js';
import { floorCount, type ChunkId, type ShardId } from '../../src/ps/reshard/types.js';

export interface PlanCase {
  readonly input: PlanInput;
  /** Per-shard capacities (target shards and the others). */
  readonly caps: ReadonlyMap<ShardId, number>;
}

/** Bytes per shard of a holdings map. */
export function loads(
  holdings: ReadonlyMap<ChunkId, readonly ShardId[]>,
  bytes: ReadonlyMap<ChunkId, number>,
): Map<ShardId, number> {
  const out = new Map<ShardId, number>();
  for (const [c, ss] of holdings) for (const s of ss) out.set(s, (out.get(s) ?? 0) + (bytes.get(c) ?? 0));
  return out;
}

/**
 * A start state: up to 24 chunks of 100-400 bytes on up to 7 shards
 * (copies dropped where they would overflow), some draining copies, some
 * new chunks, a target of 1-6 shards, replication 1-3, bonus 0-2, K 1-5.
 * `roomy` makes every target shard big enough for its ideal load plus what
 * it holds at the start (the condition under which steps must reach the
 * ideal).
 */
export function planCase(roomy: boolean): fc.Arbitrary<PlanCase> {
  return fc
    .record({
      chunks: fc.array(
        fc.record({
          bytes: fc.integer({ min: 100, max: 400 }),
          at: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
          drainAt: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 1 }),
        }),
        { maxLength: 24 },
      ),
      targets: fc.integer({ min: 1, max: 6 }),
      caps: fc.array(fc.integer({ min: 300, max: 4000 }), { minLength: 7, maxLength: 7 }),
      replication: fc.integer({ min: 1, max: 3 }),
      bonusReplicas: fc.integer({ min: 0, max: 2 }),
      maxMoves: fc.integer({ min: 1, max: 5 }),
    })
    .map((g) => {
      const chunkBytes = new Map<ChunkId, number>();
      const placement = new Map<ChunkId, ShardId[]>();
      const draining = new Map<ChunkId, ShardId[]>();
      const newChunks: ChunkId[] = [];
      const caps = new Map<ShardId, number>(g.caps.map((c, s) => [s, c]));
      const used = new Map<ShardId, number>();
      const fits = (s: ShardId, b: number): boolean => (used.get(s) ?? 0) + b <= (caps.get(s) ?? 0);
      const take = (s: ShardId, b: number): void => void used.set(s, (used.get(s) ?? 0) + b);
      g.chunks.forEach((c, id) => {
        chunkBytes.set(id, c.bytes);
        const at = c.at.filter((s) => fits(s, c.bytes) && (take(s, c.bytes), true));
        if (at.length === 0) newChunks.push(id);
        else placement.set(id, at);
        const dr = c.drainAt.filter((s) => !at.includes(s) && fits(s, c.bytes) && (take(s, c.bytes), true));
        if (dr.length > 0) draining.set(id, dr);
      });
      const shards = Array.from({ length: g.targets }, (_, i) => i);
      if (roomy) {
        const ideal = idealPlacement(
          [...chunkBytes.keys()],
          chunkBytes,
          shards,
          () => Number.POSITIVE_INFINITY,
          g.replication,
          g.bonusReplicas,
        );
        const idealLoad = loads(new Map([...ideal.floor, ...mergeBonus(ideal.bonus, ideal.floor)]), chunkBytes);
        const maxBytes = Math.max(0, ...chunkBytes.values());
        for (const s of shards) {
          caps.set(s, (idealLoad.get(s) ?? 0) + (used.get(s) ?? 0) + maxBytes);
        }
      }
      const input: PlanInput = {
        placement,
        draining,
        newChunks,
        shards,
        capacity: (s) => caps.get(s) ?? 0,
        chunkBytes,
        replication: g.replication,
        bonusReplicas: roomy ? 0 : g.bonusReplicas,
        maxMoves: g.maxMoves,
      };
      return { input, caps };
    });
}

function mergeBonus(
  bonus: ReadonlyMap<ChunkId, readonly ShardId[]>,
  floor: ReadonlyMap<ChunkId, readonly ShardId[]>,
): [ChunkId, ShardId[]][] {
  return [...bonus].map(([c, ss]) => [c, [...(floor.get(c) ?? []), ...ss]]);
}

/** The holdings of a step's `next` placement (roles dropped). */
export function nextHoldings(step: PlanStep): Map<ChunkId, ShardId[]> {
  return new Map([...step.next].map(([c, h]) => [c, [...h.floor, ...h.bonus]]));
}

/**
 * Iterate `planStep` from `input` until two idle steps in a row with
 * nothing draining, or `maxSteps`. Drops drain for one step. Returns the
 * steps taken.
 */
export function iterate(input: PlanInput, maxSteps: number): PlanStep[] {
  const steps: PlanStep[] = [];
  let cur: PlanInput = input;
  for (let i = 0; i < maxSteps; i++) {
    const step = planStep(cur);
    steps.push(step);
    const placed = new Set(step.placed);
    const draining = new Map<ChunkId, ShardId[]>();
    for (const d of step.drops) draining.set(d.chunk, [...(draining.get(d.chunk) ?? []), d.shard]);
    const wasQuiet = cur.draining.size === 0;
    cur = {
      ...cur,
      placement: nextHoldings(step),
      draining,
      newChunks: cur.newChunks.filter((c) => !placed.has(c)),
    };
    if (step.idle && wasQuiet && draining.size === 0) break;
  }
  return steps;
}

/** Floor copies the input asks of each chunk. */
export function floorOf(input: PlanInput): number {
  return floorCount(input.replication, input.shards.length);
}
