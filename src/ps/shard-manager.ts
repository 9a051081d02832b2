/**
 * Assigns entity ids to shards. Pure functions of the id list and the shard
 * count, so every thread that holds the same list computes the same
 * assignment without coordination.
 *
 * - `entity-hash`: FNV-1a 64 of the id's UTF-8 bytes, mixed with a fixed
 *   seed, mapped to a shard by multiply-shift (not `%`). Stable across
 *   processes and languages (the reference used a toolchain-dependent
 *   hasher; this one is specified).
 * - `range`: contiguous ranges of the id list in its given order: id i of N
 *   goes to shard floor(i * shards / N).
 * Within a shard, rows follow the order of the id list.
 */
import { duplicateId, invalidArgument, unknownId } from '../errors.js';
import type { ShardingStrategy } from './config.js';
import { fnv1a64 } from './init.js';

/** Seed mixed into the entity hash, so shard placement is independent of row initialisation. */
const SHARD_SEED_HI = 0x517cc1b7;
const SHARD_SEED_LO = 0x27220a95;

/** Shard of `id` among `shards` by entity hash. */
export function hashShard(id: string, shards: number): number {
  const h = fnv1a64(id);
  // Mix both halves with the seed (murmur3 finaliser on 32 bits), then
  // multiply-shift into [0, shards).
  let x = (h.hi ^ SHARD_SEED_HI ^ Math.imul(h.lo ^ SHARD_SEED_LO, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x = (x ^ (x >>> 16)) >>> 0;
  return Math.floor((x * shards) / 4294967296);
}

export interface ShardAssignment {
  readonly shards: number;
  readonly strategy: ShardingStrategy;
  /** `ids[s]` lists the ids of shard s in row order. */
  readonly ids: readonly (readonly string[])[];
  /** Shard of the id at each position of the input list. */
  readonly shardOf: Int32Array;
  /** Row inside its shard of the id at each position of the input list. */
  readonly rowOf: Int32Array;
}

export class ShardManager {
  readonly assignment: ShardAssignment;
  private readonly index = new Map<string, number>();

  /** Assign `ids` (unique) to `shards` shards. Throws on a duplicate id. */
  constructor(ids: readonly string[], shards: number, strategy: ShardingStrategy) {
    if (!Number.isInteger(shards) || shards < 1)
      throw invalidArgument('ShardManager', 'shards', shards, 'a positive integer');
    const n = ids.length;
    const shardOf = new Int32Array(n);
    const rowOf = new Int32Array(n);
    const buckets: string[][] = Array.from({ length: shards }, () => []);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (typeof id !== 'string') throw invalidArgument('ShardManager', `ids[${i}]`, id, 'a string');
      const prev = this.index.get(id);
      if (prev !== undefined) throw duplicateId('ShardManager', 'entity', id, prev, i);
      this.index.set(id, i);
      const s = strategy === 'range' ? Math.floor((i * shards) / n) : hashShard(id, shards);
      const bucket = buckets[s]!;
      shardOf[i] = s;
      rowOf[i] = bucket.length;
      bucket.push(id);
    }
    this.assignment = Object.freeze({ shards, strategy, ids: buckets, shardOf, rowOf });
  }

  /** Shard and row of an entity id; throws E_UNKNOWN_ID for an id that was not assigned. */
  locate(id: string): { shard: number; row: number } {
    const i = this.index.get(id);
    if (i === undefined) throw unknownId('ShardManager.locate', 'entity', id);
    return { shard: this.assignment.shardOf[i]!, row: this.assignment.rowOf[i]! };
  }

  /** Index of an entity id in the list the manager was built from, or -1 when unknown. */
  indexOf(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /** Shard of an entity id, or -1 when unknown. */
  shardFor(id: string): number {
    const i = this.index.get(id);
    return i === undefined ? -1 : this.assignment.shardOf[i]!;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }
}
