/**
 * The vocabulary of live resharding: chunks, shards, placements and
 * versioned assignments. Plain data only, so the pure scheduler, the
 * single-threaded lifecycle model and any backend can share it.
 *
 * - A **chunk** is a block of consecutive entity rows (at most `chunkRows`
 *   of them) and the unit of placement and movement. Chunk ids are issued
 *   once and never reused: a correction replaces chunk 7 by a new chunk
 *   covering the same rows, it does not rewrite chunk 7 in place.
 * - A **copy** is one shard's replica of a chunk. A chunk's live copies are
 *   split into **floor** copies (mandatory, up to the replication factor)
 *   and **bonus** copies (extra replicas kept while there is room).
 * - An **assignment** is a version number and the live copies of every
 *   placed chunk at that version.
 */

export type ChunkId = number;
export type ShardId = number;

/** The live copies of one chunk: `floor` counts toward the replication factor, `bonus` is extra. */
export interface Holders {
  readonly floor: readonly ShardId[];
  readonly bonus: readonly ShardId[];
}

/** Live copies of every placed chunk. */
export type Placement = ReadonlyMap<ChunkId, Holders>;

/** Shards holding each chunk, roles ignored (what occupies bytes). */
export type Holdings = ReadonlyMap<ChunkId, readonly ShardId[]>;

/** A published placement. Versions start at 1 and grow by one per publication. */
export interface Assignment {
  readonly version: number;
  readonly placement: Placement;
  /**
   * The chunk readers see for each row block, by the block's index (see
   * `RowBlock`). A pending replacement is placed (it appears in
   * `placement`) before it is visible here.
   */
  readonly visible: ReadonlyMap<number, ChunkId>;
}

/** A block of consecutive rows: `rows` rows from `firstRow`. Blocks are numbered in the order they were created. */
export interface RowBlock {
  readonly index: number;
  readonly firstRow: number;
  readonly rows: number;
}

/** Every shard id that holds `chunk` in `placement` (floor first), or an empty list. */
export function holdersOf(placement: Placement, chunk: ChunkId): readonly ShardId[] {
  const h = placement.get(chunk);
  if (h === undefined) return [];
  return h.bonus.length === 0 ? h.floor : [...h.floor, ...h.bonus];
}

/** Whether `shard` holds a live copy of `chunk` in `placement`. */
export function holds(placement: Placement, chunk: ChunkId, shard: ShardId): boolean {
  const h = placement.get(chunk);
  return h !== undefined && (h.floor.includes(shard) || h.bonus.includes(shard));
}

/** The placement with roles dropped. */
export function holdingsOf(placement: Placement): Map<ChunkId, ShardId[]> {
  const out = new Map<ChunkId, ShardId[]>();
  for (const [chunk, h] of placement) out.set(chunk, [...h.floor, ...h.bonus]);
  return out;
}

/** Number of copies a chunk should have: the replication factor, but never more copies than shards. */
export function floorCount(replication: number, shards: number): number {
  return Math.min(replication, shards);
}
