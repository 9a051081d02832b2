/**
 * The reconciliation scheduler: a pure function from the current placement
 * to one feasible step toward the ideal placement.
 *
 * The ideal placement (`idealPlacement`) depends only on the chunks, their
 * sizes, the target shards, their capacities and the replication asked
 * for, never on where copies are now, so repeated steps move toward a fixed
 * target and cannot oscillate. It is rendezvous hashing with bounded loads:
 * each chunk ranks the shards by a hash of (chunk, shard) and takes the
 * first ones whose load stays under a balance bound (the mean floor load
 * plus one chunk) and under their capacity. Rendezvous hashing keeps
 * movement small: adding a shard takes chunks only onto the new shard, and
 * removing one moves only the chunks it held (the load bound can shift a
 * few more). Floor copies of every chunk are placed before any bonus copy,
 * and bonus copies only exist when every floor copy found room, leaving one
 * chunk of headroom per shard.
 *
 * `planStep` then decides what moves now:
 * - a copy already held on an ideal shard is kept at no cost;
 * - work is done in order: chunks below their floor (fewest copies first),
 *   new chunks, floor copies on the wrong shard, then bonus copies; bonus
 *   copies are added only when no floor work was held back in the step, so
 *   floor copies preempt bonus copies;
 * - a new chunk is placed with all its floor copies in one step or not at
 *   all;
 * - a copy whose ideal shard lacks room is skipped (deferred), never put on
 *   another shard;
 * - at most `maxMoves` chunks gain a copy per step;
 * - a live copy off the ideal is dropped once its chunk has enough copies
 *   on ideal shards (it then drains; the caller decides when its bytes are
 *   free). Until then it stays, so a chunk never loses copies it needs.
 *
 * Capacity counts every byte a shard physically holds: live copies and
 * draining ones. A draining copy is stale (writers no longer update it), so
 * making it live again is a fresh copy (it counts as a move) that reuses its
 * bytes.
 *
 * Not a hot path: it allocates freely.
 */
import { invalidArgument } from '../../errors.js';
import { floorCount, type ChunkId, type Holdings, type Holders, type ShardId } from './types.js';

export interface PlanInput {
  /** Live copies at the latest version (roles ignored). */
  readonly placement: Holdings;
  /** Copies that are no longer live but still occupy bytes. */
  readonly draining: Holdings;
  /** Chunks not placed yet (new entity rows, pending replacements). */
  readonly newChunks: readonly ChunkId[];
  /** The shards the placement should use; copies elsewhere move off. */
  readonly shards: readonly ShardId[];
  /** Capacity of a shard in bytes. */
  readonly capacity: (shard: ShardId) => number;
  /** Size in bytes of every chunk named in placement, draining and newChunks. */
  readonly chunkBytes: ReadonlyMap<ChunkId, number>;
  /** Floor copies per chunk (at most one per shard). */
  readonly replication: number;
  /** Extra copies per chunk, kept while there is room. */
  readonly bonusReplicas: number;
  /** At most this many chunks gain a copy in one step (K). */
  readonly maxMoves: number;
}

export interface CopyChange {
  readonly chunk: ChunkId;
  readonly shard: ShardId;
}

export type DeferReason = 'capacity' | 'budget';

export interface Deferral {
  readonly chunk: ChunkId;
  readonly reason: DeferReason;
  /** Whether the held-back work was floor work (a missing floor copy or a new chunk). */
  readonly floor: boolean;
}

export interface PlanStep {
  /** Copies to create (from a live copy, or from the new chunk's rows) before the step is published. */
  readonly adds: readonly CopyChange[];
  /** Live copies that stop being live (they drain). */
  readonly drops: readonly CopyChange[];
  /** The live placement after the step, with roles. */
  readonly next: Map<ChunkId, Holders>;
  /** New chunks placed by this step. */
  readonly placed: readonly ChunkId[];
  /** Work held back, one entry per chunk. */
  readonly deferred: readonly Deferral[];
  /** Chunks that gained at least one copy (at most maxMoves). */
  readonly moved: number;
  /** No add and no drop: planning again from `next` changes nothing until some bytes drain. */
  readonly idle: boolean;
  /** `next` is the ideal placement and no new chunk is waiting. */
  readonly atIdeal: boolean;
}

export interface IdealPlacement {
  readonly floor: ReadonlyMap<ChunkId, readonly ShardId[]>;
  readonly bonus: ReadonlyMap<ChunkId, readonly ShardId[]>;
}

/** Rendezvous score of (chunk, shard): a 32-bit mix of both. */
export function rendezvousScore(chunk: ChunkId, shard: ShardId): number {
  let x = Math.imul(chunk ^ 0x3c6ef372, 0x9e3779b1) ^ Math.imul(shard + 0x165667b1, 0x85ebca77);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** `shards` ranked for `chunk`: highest score first, ties by shard id. */
export function preference(chunk: ChunkId, shards: readonly ShardId[]): ShardId[] {
  return shards
    .map((s) => ({ s, score: rendezvousScore(chunk, s) }))
    .sort((a, b) => b.score - a.score || a.s - b.s)
    .map((e) => e.s);
}

function check(input: PlanInput): void {
  const where = 'planStep';
  const posInt = (field: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw invalidArgument(where, field, v, `an integer >= ${min}`);
  };
  posInt('replication', input.replication, 1);
  posInt('bonusReplicas', input.bonusReplicas, 0);
  posInt('maxMoves', input.maxMoves, 1);
  if (input.shards.length === 0) throw invalidArgument(where, 'shards', input.shards, 'a non-empty list');
  if (new Set(input.shards).size !== input.shards.length)
    throw invalidArgument(where, 'shards', input.shards, 'a list without repeats');
  const sized = (c: ChunkId): void => {
    const b = input.chunkBytes.get(c);
    if (b === undefined || !(b >= 0)) throw invalidArgument(where, `chunkBytes of chunk ${c}`, b, 'a size in bytes');
  };
  for (const c of input.placement.keys()) sized(c);
  for (const c of input.draining.keys()) sized(c);
  for (const c of input.newChunks) {
    sized(c);
    if (input.placement.has(c)) throw invalidArgument(where, `newChunks`, c, 'chunks not already placed');
  }
}

/**
 * The ideal placement of `chunks` (any order; placed in increasing id
 * order) on `shards`: see the file comment. A chunk gets fewer floor
 * shards than asked when no more have room; bonus copies are given only
 * when every chunk got all its floor copies.
 */
export function idealPlacement(
  chunks: readonly ChunkId[],
  chunkBytes: ReadonlyMap<ChunkId, number>,
  shards: readonly ShardId[],
  capacity: (shard: ShardId) => number,
  replication: number,
  bonusReplicas: number,
): IdealPlacement {
  const sorted = [...chunks].sort((a, b) => a - b);
  const targets = [...shards].sort((a, b) => a - b);
  const t = floorCount(replication, targets.length);
  const bytes = (c: ChunkId): number => chunkBytes.get(c) ?? 0;
  let total = 0;
  let biggest = 0;
  for (const c of sorted) {
    total += t * bytes(c);
    biggest = Math.max(biggest, bytes(c));
  }
  const bound = total / Math.max(1, targets.length) + biggest;
  const load = new Map<ShardId, number>(targets.map((s) => [s, 0]));
  const loadOf = (s: ShardId): number => load.get(s) ?? 0;
  const floor = new Map<ChunkId, ShardId[]>();
  const prefs = new Map<ChunkId, ShardId[]>();
  let allFloors = true;
  for (const c of sorted) {
    const b = bytes(c);
    const pref = preference(c, targets);
    prefs.set(c, pref);
    const picked: ShardId[] = [];
    // First pass within the balance bound, then anywhere with room.
    for (const limit of [bound, Number.POSITIVE_INFINITY]) {
      for (const s of pref) {
        if (picked.length === t) break;
        if (picked.includes(s)) continue;
        if (loadOf(s) + b <= Math.min(limit, capacity(s))) picked.push(s);
      }
    }
    for (const s of picked) load.set(s, loadOf(s) + b);
    if (picked.length < t) allFloors = false;
    floor.set(c, picked);
  }
  const bonus = new Map<ChunkId, ShardId[]>();
  if (allFloors && bonusReplicas > 0) {
    for (const c of sorted) {
      const b = bytes(c);
      const taken = floor.get(c) ?? [];
      const extra: ShardId[] = [];
      for (const s of prefs.get(c) ?? []) {
        if (extra.length === bonusReplicas) break;
        if (taken.includes(s)) continue;
        if (loadOf(s) + b <= capacity(s) - biggest) {
          extra.push(s);
          load.set(s, loadOf(s) + b);
        }
      }
      if (extra.length > 0) bonus.set(c, extra);
    }
  }
  return { floor, bonus };
}

/** One step from `input.placement` toward the ideal placement (see the file comment). */
export function planStep(input: PlanInput): PlanStep {
  check(input);
  const targets = [...input.shards].sort((a, b) => a - b);
  const targetSet = new Set(targets);
  const t = floorCount(input.replication, targets.length);
  const bytes = (c: ChunkId): number => input.chunkBytes.get(c) ?? 0;
  const existing = [...input.placement.keys()].sort((a, b) => a - b);
  const fresh = [...input.newChunks].sort((a, b) => a - b);
  const ideal = idealPlacement(
    [...existing, ...fresh],
    input.chunkBytes,
    targets,
    input.capacity,
    input.replication,
    input.bonusReplicas,
  );
  const idealFloor = (c: ChunkId): readonly ShardId[] => ideal.floor.get(c) ?? [];
  const idealBonus = (c: ChunkId): readonly ShardId[] => ideal.bonus.get(c) ?? [];

  // Bytes each shard holds now, live and draining; which (chunk, shard) copies drain.
  const footprint = new Map<ShardId, number>();
  const charge = (s: ShardId, b: number): void => void footprint.set(s, (footprint.get(s) ?? 0) + b);
  const drainingAt = new Set<string>();
  const key = (c: ChunkId, s: ShardId): string => `${c}:${s}`;
  for (const [c, ss] of input.placement) for (const s of new Set(ss)) charge(s, bytes(c));
  for (const [c, ss] of input.draining) {
    for (const s of new Set(ss)) {
      if (input.placement.get(c)?.includes(s)) continue;
      drainingAt.add(key(c, s));
      charge(s, bytes(c));
    }
  }

  const live = new Map<ChunkId, Set<ShardId>>();
  for (const c of existing) live.set(c, new Set(input.placement.get(c)));
  const adds: CopyChange[] = [];
  const deferred: Deferral[] = [];
  const movedChunks = new Set<ChunkId>();
  let floorHeldBack = false;

  /** Room for a new copy of `c` on `s`: a draining copy's bytes are reused. */
  const fits = (c: ChunkId, s: ShardId): boolean =>
    drainingAt.has(key(c, s)) || (footprint.get(s) ?? 0) + bytes(c) <= input.capacity(s);
  const add = (c: ChunkId, s: ShardId): void => {
    if (!drainingAt.delete(key(c, s))) charge(s, bytes(c));
    let set = live.get(c);
    if (set === undefined) live.set(c, (set = new Set()));
    set.add(s);
    adds.push({ chunk: c, shard: s });
    movedChunks.add(c);
  };
  const defer = (chunk: ChunkId, reason: DeferReason, floor: boolean): void => {
    deferred.push({ chunk, reason, floor });
    if (floor) floorHeldBack = true;
  };
  /** Add the copies of `c` on `wanted` shards it lacks, each where it fits; false if the budget forbids any. */
  const addMissing = (c: ChunkId, wanted: readonly ShardId[], floor: boolean): void => {
    const have = live.get(c) ?? new Set<ShardId>();
    const missing = wanted.filter((s) => !have.has(s));
    if (missing.length === 0) return;
    if (!movedChunks.has(c) && movedChunks.size >= input.maxMoves) return defer(c, 'budget', floor);
    let skipped = false;
    for (const s of missing) {
      if (fits(c, s)) add(c, s);
      else skipped = true;
    }
    if (skipped) defer(c, 'capacity', floor);
  };

  // 1. Chunks below their floor, fewest copies first.
  const below = existing
    .filter((c) => (live.get(c)?.size ?? 0) < t)
    .sort((a, b) => (live.get(a)?.size ?? 0) - (live.get(b)?.size ?? 0) || a - b);
  for (const c of below) addMissing(c, idealFloor(c), true);

  // 2. New chunks: every floor copy in this step, or none.
  const placed: ChunkId[] = [];
  for (const c of fresh) {
    const where = idealFloor(c);
    if (where.length < t || !where.every((s) => fits(c, s))) {
      defer(c, 'capacity', true);
      continue;
    }
    if (movedChunks.size >= input.maxMoves) {
      defer(c, 'budget', true);
      continue;
    }
    for (const s of where) add(c, s);
    placed.push(c);
  }

  // 3. Floor copies held on the wrong shard.
  for (const c of existing) if (!below.includes(c)) addMissing(c, idealFloor(c), true);

  // 4. Bonus copies, only when no floor work was held back.
  if (!floorHeldBack) {
    for (const c of [...existing, ...placed].sort((a, b) => a - b)) addMissing(c, idealBonus(c), false);
  }

  // Drops and roles.
  const drops: CopyChange[] = [];
  const next = new Map<ChunkId, Holders>();
  let atIdeal = fresh.length === placed.length;
  for (const [c, set] of [...live].sort((a, b) => a[0] - b[0])) {
    const fl = idealFloor(c);
    const bo = idealBonus(c);
    const onFloor = fl.filter((s) => set.has(s));
    const onBonus = bo.filter((s) => set.has(s));
    const off = [...set]
      .filter((s) => !fl.includes(s) && !bo.includes(s))
      .sort((a, b) => Number(targetSet.has(b)) - Number(targetSet.has(a)) || a - b);
    const need = Math.max(0, t - onFloor.length - onBonus.length);
    const kept = off.slice(0, need);
    for (const s of off.slice(need)) drops.push({ chunk: c, shard: s });
    const ordered = [...onFloor, ...kept, ...onBonus];
    next.set(c, { floor: ordered.slice(0, t), bonus: ordered.slice(t) });
    if (kept.length > 0 || onFloor.length !== fl.length || onBonus.length !== bo.length) atIdeal = false;
  }
  return {
    adds,
    drops,
    next,
    placed,
    deferred,
    moved: movedChunks.size,
    idle: adds.length === 0 && drops.length === 0,
    atIdeal,
  };
}
