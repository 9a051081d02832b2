/**
 * The byte layout of every shared region in kgshard. Offsets are computed
 * here (through `LayoutBuilder`) and nowhere else: primitives read the
 * indices of their fields from these layouts.
 *
 * Bump a region's version whenever its layout changes; `attach` refuses a
 * buffer whose version differs.
 */
import { alignUp, LayoutBuilder, magicOf, type RegionLayout } from './layout.js';

/** Canary words fill the guard lines around a ring's slots. */
export const GUARD_WORDS = 16;
export const GUARD_PATTERN = 0x6b67_5a5a; // "ZZgk"

// ---------------------------------------------------------------- ring
export const RING_MAGIC = magicOf('KGRG');
export const RING_VERSION = 1;

/**
 * Single-producer/single-consumer ring of `capacity` slots of `slotWords`
 * 32-bit words. The producer's index and the consumer's index sit on lines
 * of their own; each side's "I am asleep" flag sits on a further line of its
 * own, read by the other side only after it publishes. Guard lines of canary
 * words bracket the slots and are never written after creation.
 */
export function ringLayout(capacity: number, slotWords: number): RegionLayout {
  return new LayoutBuilder('ring', RING_MAGIC, RING_VERSION)
    .field('capacity', 'u32', 'creator')
    .field('slotWords', 'u32', 'creator')
    .line()
    .field('writeIndex', 'i32', 'producer')
    .line()
    .field('readIndex', 'i32', 'consumer')
    .line()
    .field('producerSleeping', 'i32', 'producer-sleep')
    .line()
    .field('consumerSleeping', 'i32', 'consumer-sleep')
    .line()
    .field('guardBefore', 'u32', 'creator', GUARD_WORDS)
    .line()
    .field('slots', 'i32', 'producer', capacity * slotWords, 64)
    .line()
    .field('guardAfter', 'u32', 'creator', GUARD_WORDS)
    .build();
}

// ---------------------------------------------------------------- clock
export const CLOCK_MAGIC = magicOf('KGCK');
export const CLOCK_VERSION = 1;

/**
 * A manual clock shared by every thread: one word of milliseconds that only
 * the test driving it advances (see src/shm/clock.ts).
 */
export function clockLayout(): RegionLayout {
  return new LayoutBuilder('clock', CLOCK_MAGIC, CLOCK_VERSION)
    .line()
    .field('nowMs', 'i32', 'clock-driver')
    .line()
    .build();
}

// ---------------------------------------------------------------- owner lock

/**
 * The owner lock's words (see src/shm/owner-lock.ts), added to the region of
 * the structure it guards. The lock word and the sleeper count are
 * contended by every would-be holder and get a line of their own; the stamp
 * (token, owner thread, held-since) and the recovery count are written only
 * by the holder, and the caller puts them on the holder's line, beside the
 * state the lock guards. Field names: `lockWord`, `lockSleepers`,
 * `heldToken`, `ownerThread`, `heldSinceMs`, `recoveries`.
 */
export function ownerLockContendedFields(b: LayoutBuilder): LayoutBuilder {
  return b.field('lockWord', 'i32', 'lock-contenders').field('lockSleepers', 'i32', 'lock-contenders');
}

/** The holder-written half of the owner lock's words (see `ownerLockContendedFields`). */
export function ownerLockHolderFields(b: LayoutBuilder): LayoutBuilder {
  return b
    .field('heldToken', 'i32', 'lock-holder')
    .field('ownerThread', 'i32', 'lock-holder')
    .field('heldSinceMs', 'i32', 'lock-holder')
    .field('recoveries', 'i32', 'lock-holder');
}

// ---------------------------------------------------------------- seqlock
export const SEQLOCK_MAGIC = magicOf('KGSL');
export const SEQLOCK_VERSION = 3;

/**
 * A region of `rows` x `cols` float32 values guarded by a sequence counter,
 * and the owner lock that serialises writers. The lock word is contended by
 * every would-be writer; the count of shared (Hogwild) writers by those
 * writers, on a line of its own; the sequence counter, the lock's stamp and
 * the rows are written only by the lock holder (and, in place, by announced
 * shared writers).
 */
export function seqlockLayout(rows: number, cols: number): RegionLayout {
  const b = new LayoutBuilder('seqlock', SEQLOCK_MAGIC, SEQLOCK_VERSION)
    .field('rows', 'u32', 'creator')
    .field('cols', 'u32', 'creator')
    .field('leaseMs', 'u32', 'creator')
    .line();
  // Contended by all writers (CAS to acquire, wait/notify to sleep).
  ownerLockContendedFields(b).line();
  // Shared (Hogwild) writers announce themselves here while they write rows
  // in place without the lock, so a fence (the lock, held by a snapshot) can
  // wait until none is inside.
  b.field('sharedWriters', 'i32', 'shared-writers').line();
  // Written only by the current lock holder.
  b.field('seq', 'i32', 'lock-holder');
  ownerLockHolderFields(b)
    .field('writeRowStart', 'i32', 'lock-holder')
    .field('writeRowCount', 'i32', 'lock-holder')
    .field('tornRowStart', 'i32', 'lock-holder')
    .field('tornRowCount', 'i32', 'lock-holder')
    .field('writes', 'i32', 'lock-holder')
    .line()
    .field('data', 'f32', 'lock-holder', rows * cols, 64);
  return b.build();
}

// ---------------------------------------------------------------- latency counter
export const COUNTER_MAGIC = magicOf('KGLC');
export const COUNTER_VERSION = 1;
/** Bytes between consecutive counter blocks: one cache line each. */
export const COUNTER_STRIDE = 64;

/**
 * `counters` independent blocks, one cache line each: an every-event count
 * (u32, `Atomics.add`) and a packed latency sample (u64: count in the high
 * 32 bits, sum in the low 32 bits, updated by one compare-and-swap).
 */
export function counterLayout(counters: number): RegionLayout {
  const b = new LayoutBuilder('counter', COUNTER_MAGIC, COUNTER_VERSION).field('counters', 'u32', 'creator').line();
  // Field names carry the block index; blocks are COUNTER_STRIDE apart.
  b.field('events', 'u32', 'recorders', 1, 64).field('sample', 'u64', 'recorders');
  for (let i = 1; i < counters; i++) {
    b.line().field(`events#${i}`, 'u32', 'recorders', 1, 64).field(`sample#${i}`, 'u64', 'recorders');
  }
  return b.line().build();
}

// ---------------------------------------------------------------- barrier
export const BARRIER_MAGIC = magicOf('KGBR');
export const BARRIER_VERSION = 1;

/**
 * Reusable barrier: one state word packing (generation << 16 | trip bit << 15
 * | arrived), where the trip bit says the previous generation was ended by a
 * timeout (see src/shm/barrier.ts); a count of parties asleep on it; and the
 * number of rounds released early by a timeout.
 */
export function barrierLayout(): RegionLayout {
  return new LayoutBuilder('barrier', BARRIER_MAGIC, BARRIER_VERSION)
    .field('parties', 'u32', 'creator')
    .line()
    .field('state', 'i32', 'parties')
    .field('sleepers', 'i32', 'parties')
    .field('timeouts', 'i32', 'parties')
    .line()
    .build();
}

// ---------------------------------------------------------------- cursor
export const CURSOR_MAGIC = magicOf('KGCR');
export const CURSOR_VERSION = 1;

/** A monotonic 64-bit cursor, advanced by compare-and-swap. */
export function cursorLayout(): RegionLayout {
  return new LayoutBuilder('cursor', CURSOR_MAGIC, CURSOR_VERSION)
    .line()
    .field('value', 'u64', 'advancers')
    .line()
    .build();
}

// ---------------------------------------------------------------- threshold accumulator
export const ACCUMULATOR_MAGIC = magicOf('KGTA');
export const ACCUMULATOR_VERSION = 1;

/** Pending amount that many threads add to; whoever's CAS resets it claims a flush. */
export function accumulatorLayout(): RegionLayout {
  return new LayoutBuilder('accumulator', ACCUMULATOR_MAGIC, ACCUMULATOR_VERSION)
    .field('threshold', 'u32', 'creator')
    .line()
    .field('pending', 'i32', 'adders')
    .field('flushes', 'i32', 'adders')
    .line()
    .build();
}

// ---------------------------------------------------------------- parameter server
export const PS_CONTROL_MAGIC = magicOf('KGPS');
export const PS_CONTROL_VERSION = 2;
/** 32-bit words per shard block in the parameter server's control region (a multiple of 16: whole lines). */
export function psShardBlockWords(expectedWorkers: number): number {
  return 16 * Math.ceil((8 + expectedWorkers) / 16);
}

/**
 * The parameter server's control words: server-wide statistics on one line,
 * then one block per shard (whole cache lines) holding the shard's step,
 * staleness, the sync-mode bookkeeping of the current step (who pushed, how
 * many rows are pending) and the last applied gradient's mean squared norm.
 * A shard's block is written by pushes to that shard (under the shard's
 * writer lock) and by pulls (the staleness reset); blocks of different
 * shards never share a line.
 */
export function psControlLayout(shards: number, expectedWorkers: number): RegionLayout {
  const b = new LayoutBuilder('ps-control', PS_CONTROL_MAGIC, PS_CONTROL_VERSION)
    .field('shards', 'u32', 'creator')
    .field('expectedWorkers', 'u32', 'creator')
    .field('dim', 'u32', 'creator')
    .line()
    .field('pulls', 'i32', 'stats')
    .field('pushes', 'i32', 'stats')
    .field('barriers', 'i32', 'stats')
    .field('maxStaleness', 'i32', 'stats')
    .field('warnings', 'i32', 'stats')
    .field('lastNormShard', 'i32', 'stats')
    .field('relationPushes', 'i32', 'stats')
    .line();
  const extra = psShardBlockWords(expectedWorkers) - 8 - expectedWorkers;
  for (let i = 0; i < shards; i++) {
    const role = `shard-${i}`;
    const sfx = i === 0 ? '' : `#${i}`;
    b.line()
      .field(`step${sfx}`, 'i32', role)
      .field(`staleness${sfx}`, 'i32', role)
      .field(`pushedCount${sfx}`, 'i32', role)
      .field(`touchedCount${sfx}`, 'i32', role)
      .field(`pushing${sfx}`, 'i32', role)
      // Padding: keeps lastNorm on an 8-byte boundary.
      .field(`pad${sfx}`, 'i32', role)
      .field(`lastNorm${sfx}`, 'f64', role)
      .field(`pushedWorkers${sfx}`, 'i32', role, expectedWorkers)
      .field(`tail${sfx}`, 'i32', role, extra);
  }
  return b.line().build();
}

export const PS_PENDING_MAGIC = magicOf('KGPP');
export const PS_PENDING_VERSION = 1;

/**
 * One shard's sync-mode pending step: float64 sums of the gradients pushed
 * so far in this step (order-independent to within float64 rounding), the
 * list of rows they touch and a per-row flag. Written only by the holder of
 * the shard's writer lock.
 */
export function psPendingLayout(rows: number, dim: number): RegionLayout {
  return new LayoutBuilder('ps-pending', PS_PENDING_MAGIC, PS_PENDING_VERSION)
    .field('rows', 'u32', 'creator')
    .field('dim', 'u32', 'creator')
    .line()
    .field('sums', 'f64', 'shard-lock-holder', rows * dim, 64)
    .line()
    .field('touched', 'i32', 'shard-lock-holder', rows, 64)
    .line()
    .field('flags', 'u8', 'shard-lock-holder', rows, 64)
    .build();
}

/**
 * Byte offset of a parameter-server table's Adagrad accumulators in the
 * table's WebAssembly memory: past its pending region (which starts at
 * `pendingAt`), on a fresh cache line. Raw float32, one per value or per
 * row; no header (the table's own header covers the memory).
 */
export function psAccumulatorOffset(pendingAt: number, rows: number, dim: number): number {
  return alignUp(pendingAt + psPendingLayout(rows, dim).byteLength, 64);
}

// ------------------------------------------------------------ ps placement

export const PS_PLACEMENT_MAGIC = magicOf('KGPL');
export const PS_PLACEMENT_VERSION = 1;

/** i32 words of one worker's or reader's block (a cache line each). */
export const PS_PLACEMENT_BLOCK_WORDS = 16;

/** Shape of a placement region (see `psPlacementLayout`). */
export interface PsPlacementShape {
  /** Rows per chunk. */
  readonly chunkRows: number;
  /** Shard regions. */
  readonly shards: number;
  /** Chunk slots per shard region. */
  readonly slots: number;
  /** Most chunks (initial and grown). */
  readonly maxChunks: number;
  /** Most entities (initial and grown). */
  readonly maxEntities: number;
  /** Published versions kept (a ring). */
  readonly versions: number;
  /** Worker blocks (confirmations). */
  readonly workers: number;
  /** Reader blocks (pins). */
  readonly readers: number;
}

/**
 * The parameter server's versioned chunk placement (src/ps/placement.ts):
 * entity rows grouped into chunks, each chunk placed in a slot of a shard
 * region, and the placement published as numbered versions in a ring.
 *
 * - `ringLoc[v % versions][chunk]` is the chunk's location at version v
 *   (shard << 20 | slot, or -1), stamped by `ringVersion[v % versions]`;
 *   `latest` is the newest version. Written by the coordinator only.
 * - `chunkOf`/`offsetOf` map an entity to its chunk and row in the chunk;
 *   `chunkLen`/`chunkEntity` list a chunk's entities. Written once per
 *   entity, before the entity count that publishes it.
 * - Per slot: the chunk it holds (or -1), its state (free, live, incoming,
 *   draining), the version from which a draining copy is no longer current,
 *   when it started draining, and a generation counted at every reuse.
 * - Per worker block: the latest version the worker applied and when it was
 *   last seen (the confirmation watermark). Per reader block: a pinned
 *   version and when it was pinned.
 */
export function psPlacementLayout(p: PsPlacementShape): RegionLayout {
  const slots = p.shards * p.slots;
  return new LayoutBuilder('ps-placement', PS_PLACEMENT_MAGIC, PS_PLACEMENT_VERSION)
    .field('chunkRows', 'u32', 'creator')
    .field('shards', 'u32', 'creator')
    .field('slots', 'u32', 'creator')
    .field('maxChunks', 'u32', 'creator')
    .field('maxEntities', 'u32', 'creator')
    .field('versions', 'u32', 'creator')
    .field('workers', 'u32', 'creator')
    .field('readers', 'u32', 'creator')
    .line()
    .field('latest', 'i32', 'coordinator')
    .field('chunks', 'i32', 'coordinator')
    .field('entities', 'i32', 'coordinator')
    .field('activeShards', 'i32', 'coordinator')
    .field('quorum', 'i32', 'coordinator')
    .field('graceMs', 'i32', 'coordinator')
    .field('workerTimeoutMs', 'i32', 'coordinator')
    .field('pinLeaseMs', 'i32', 'coordinator')
    .field('coordinating', 'i32', 'coordinator')
    .field('moves', 'i32', 'coordinator')
    .field('maxPauseUs', 'i32', 'coordinator')
    .line()
    .field('ringVersion', 'i32', 'coordinator', p.versions)
    .field('ringActive', 'i32', 'coordinator', p.versions)
    .field('ringLoc', 'i32', 'coordinator', p.versions * p.maxChunks)
    .field('chunkLen', 'i32', 'coordinator', p.maxChunks)
    .field('chunkEntity', 'i32', 'coordinator', p.maxChunks * p.chunkRows)
    .field('chunkOf', 'i32', 'coordinator', p.maxEntities)
    .field('offsetOf', 'i32', 'coordinator', p.maxEntities)
    .field('slotChunk', 'i32', 'coordinator', slots)
    .field('slotState', 'i32', 'coordinator', slots)
    .field('slotDrainVersion', 'i32', 'coordinator', slots)
    .field('slotGen', 'i32', 'coordinator', slots)
    .field('slotDrainAt', 'f64', 'coordinator', slots)
    .line()
    .field('workerBlocks', 'i32', 'workers', p.workers * PS_PLACEMENT_BLOCK_WORDS, 64)
    .line()
    .field('readerBlocks', 'i32', 'readers', p.readers * PS_PLACEMENT_BLOCK_WORDS, 64)
    .line()
    .build();
}

// ------------------------------------------------------------ shard mapper

export const MAPPER_MAGIC = magicOf('KGMP');
export const MAPPER_VERSION = 3;

/**
 * Words of the scaling policy, as f64s written once by the creator (durations
 * in milliseconds, booleans as 0/1).
 */
export const MAPPER_POLICY = {
  minShards: 0,
  maxShards: 1,
  fillRatioThreshold: 2,
  underutilizedThreshold: 3,
  pushLatencyThresholdNs: 4,
  flushLatencyThresholdUs: 5,
  cooldownMs: 6,
  autoScale: 7,
  latencySampleEvery: 8,
  minDrainMs: 9,
  words: 10,
} as const;

/**
 * Per-slot record, `words` f64s per slot in the `records` field: the metrics
 * of the last collection and the lifecycle timestamps (ms on the mapper's
 * clock). Written only by the holder of the mapper lock.
 */
export const MAPPER_RECORD = {
  fillRatio: 0,
  eventRate: 1,
  pushLatencyNs: 2,
  flushLatencyUs: 3,
  weight: 4,
  drainStartedMs: 5,
  activatedAtMs: 6,
  draining: 7,
  words: 8,
} as const;

/**
 * Latency counters per slot in the mapper's counter region: slot s uses
 * counters s * stride + push (every pushed event, and the sampled push
 * latencies), + flush (sampled flush latencies) and + drain (pushes since the
 * drain began; never reset by a collection).
 */
export const MAPPER_COUNTERS = { push: 0, flush: 1, drain: 2, stride: 3 } as const;

/**
 * The shard mapper's region for `slots` shard slots. Lifecycle state and the
 * two selection-table buffers are written under the mapper lock; the
 * per-slot buffer length, draining flag, producer attachment and breaker
 * opening time each have their own writers and their own lines. (The
 * shards' circuit breakers are a breaker table of their own.)
 */
export function mapperLayout(slots: number): RegionLayout {
  const b = new LayoutBuilder('mapper', MAPPER_MAGIC, MAPPER_VERSION)
    .field('slots', 'u32', 'creator')
    .field('ringCapacity', 'u32', 'creator')
    .field('leaseMs', 'u32', 'creator')
    .field('initialShards', 'u32', 'creator')
    .field('policy', 'f64', 'creator', MAPPER_POLICY.words)
    .line();
  // Contended by every thread that mutates the mapper.
  ownerLockContendedFields(b).line();
  // Written only by the lock holder.
  return (
    ownerLockHolderFields(b)
      .field('activeCount', 'i32', 'lock-holder')
      .field('nextShardId', 'i32', 'lock-holder')
      .field('tableGen', 'i32', 'lock-holder')
      .field('lastScalingMs', 'f64', 'lock-holder')
      .line()
      // Selection table buffers: buffer b holds [length, entries...] at
      // b * (slots + 1); an entry packs (slot << 16) | shard id.
      .field('tables', 'i32', 'lock-holder', 2 * (slots + 1), 64)
      .line()
      .field('slotId', 'i32', 'lock-holder', slots, 64)
      .field('slotState', 'i32', 'lock-holder', slots)
      .line()
      .field('records', 'f64', 'lock-holder', slots * MAPPER_RECORD.words, 64)
      .line()
      // Ring lengths as last reported (by the router's control loop).
      .field('bufferLen', 'i32', 'length-reporter', slots, 64)
      .line()
      .field('draining', 'i32', 'drain-control', slots, 64)
      .line()
      // The producer bound to each slot (producer id + 1; 0 = none), claimed by CAS.
      .field('attached', 'i32', 'producers', slots, 64)
      .line()
      // When a producer last opened the slot's shard's breaker: the low 32 bits of whole ms on the mapper's clock.
      .field('breakerOpened', 'i32', 'breaker-openers', slots, 64)
      .build()
  );
}

export const ROUTER_MAGIC = magicOf('KGRT');
export const ROUTER_VERSION = 3;

/**
 * The router's control region: the wait slice after which a producer's wait
 * for ring space counts as failed (written once by the creator), producers
 * waiting for a shard (a count every producer may bump), the words an
 * unbound producer sleeps on until another producer lets go of a shard (a
 * generation and a count of sleepers, each on its own line), and per slot
 * the control loop's words for the slot's consumer (stop request, the epoch
 * of the one consumer allowed to take events, an injected stall naming a
 * consumer epoch) and the consumer's own (the epoch running, events taken).
 */
export function routerLayout(slots: number): RegionLayout {
  return (
    new LayoutBuilder('router', ROUTER_MAGIC, ROUTER_VERSION)
      .field('slots', 'u32', 'creator')
      .field('eventWords', 'u32', 'creator')
      .field('maxProducers', 'u32', 'creator')
      .field('waitSliceMs', 'u32', 'creator')
      .line()
      .field('waitingProducers', 'i32', 'producers')
      .line()
      // Bumped when a producer lets go of a shard while an unbound producer sleeps; they sleep on it.
      .field('bindGeneration', 'i32', 'producers')
      .line()
      // Unbound producers asleep on bindGeneration: a producer letting go notifies only when this is non-zero.
      .field('bindSleepers', 'i32', 'producer-sleep')
      .line()
      .field('stop', 'i32', 'control', slots, 64)
      .field('consumerEpoch', 'i32', 'control', slots)
      .field('stallEpoch', 'i32', 'control', slots)
      .line()
      .field('running', 'i32', 'consumers', slots, 64)
      .line()
      .field('consumed', 'f64', 'consumers', slots, 64)
      .build()
  );
}

// ---------------------------------------------------------------- training progress
export const TRAIN_PROGRESS_MAGIC = magicOf('KGTP');
export const TRAIN_PROGRESS_VERSION = 1;

/**
 * Where each training worker is in the current epoch, for checkpoints taken
 * while training runs: per worker, the next position of the epoch's order it
 * will train (every position before it, in its range, is trained and
 * pushed). Each worker writes only its own word, once per chunk; the main
 * thread reads them.
 */
export function trainProgressLayout(workers: number): RegionLayout {
  return new LayoutBuilder('train-progress', TRAIN_PROGRESS_MAGIC, TRAIN_PROGRESS_VERSION)
    .field('workers', 'u32', 'creator')
    .line()
    .field('position', 'i32', 'workers', workers, 64)
    .line()
    .build();
}

// ---------------------------------------------------------------- circuit breakers
export const BREAKER_MAGIC = magicOf('KGCB');
export const BREAKER_VERSION = 1;

/**
 * One breaker's block in the breaker table's `breakers` field: a whole cache
 * line (16 i32 words) per breaker, so breakers of different partitions never
 * share a line. Indices are of i32 words from the block's start, except
 * `sinceMs`, the block's one float64, which is an index of f64 words from
 * the block's start (bytes 16..23). See src/shm/breaker.ts.
 */
export const BREAKER_BLOCK = {
  /** The packed state word (generation, failures in a row, state), changed by compare-and-swap. */
  state: 0,
  /** The state word whose start time `sinceMs` holds, or -1 while a stamper writes it. */
  stamp: 1,
  /** Transitions made (u32, wraps). */
  transitions: 2,
  /** Transitions into open (u32, wraps). */
  opens: 3,
  /** When the current open or half-open generation began (ms on the table's clock); f64 index. */
  sinceMs: 2,
  words: 16,
} as const;

/**
 * A table of `slots` circuit breakers sharing one failure threshold,
 * cool-down and clock (written once by the creator), a count of slots
 * initialised (bumped by whichever thread initialises a slot first), and one
 * block per breaker (`BREAKER_BLOCK`), written by every thread that reports
 * to that breaker.
 */
export function breakerTableLayout(slots: number): RegionLayout {
  return new LayoutBuilder('breaker-table', BREAKER_MAGIC, BREAKER_VERSION)
    .field('slots', 'u32', 'creator')
    .field('failureThreshold', 'u32', 'creator')
    .field('coolDownMs', 'u32', 'creator')
    .line()
    .field('initialised', 'i32', 'initialisers')
    .line()
    .field('breakers', 'i32', 'breakers', slots * BREAKER_BLOCK.words, 64)
    .build();
}

/**
 * Every layout in the project, instantiated at representative sizes. The
 * layout test runs the checker over all of them, so a new layout joins CI by
 * being listed here.
 */
export function allLayouts(): RegionLayout[] {
  return [
    ringLayout(2, 1),
    ringLayout(1024, 2),
    ringLayout(1 << 16, 4),
    clockLayout(),
    seqlockLayout(1, 1),
    seqlockLayout(1000, 128),
    seqlockLayout(3, 7),
    counterLayout(1),
    counterLayout(16),
    barrierLayout(),
    cursorLayout(),
    accumulatorLayout(),
    psControlLayout(1, 1),
    psControlLayout(4, 4),
    psControlLayout(3, 20),
    psPendingLayout(1, 1),
    psPendingLayout(1000, 200),
    psPendingLayout(7, 3),
    psPlacementLayout({
      chunkRows: 4,
      shards: 3,
      slots: 5,
      maxChunks: 9,
      maxEntities: 30,
      versions: 16,
      workers: 4,
      readers: 4,
    }),
    mapperLayout(1),
    mapperLayout(64),
    mapperLayout(1000),
    routerLayout(1),
    routerLayout(64),
    trainProgressLayout(1),
    trainProgressLayout(7),
    breakerTableLayout(1),
    breakerTableLayout(4096),
  ];
}
