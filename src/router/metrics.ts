/**
 * Per-shard metrics: the snapshot a collection produces (`ShardMetrics`),
 * the weight derived from it, and the live collector producers and
 * consumers record into (`ShardMetricsCollector`), over shared memory.
 */
import { MAPPER_COUNTERS } from '../../native-layout/index.js';
import { LatencyCounter, newCounterWindow, type CounterWindow } from '../shm/counter.js';

/** What one collection window saw on one shard. */
export interface ShardMetrics {
  shardId: number;
  /** Ring length / ring capacity, 0..1, as last reported. */
  fillRatio: number;
  /** Events pushed in the window (a count per window, not per second). */
  eventRate: number;
  /** Average push latency per event over the window's samples (ns; 0 without samples). */
  avgPushLatencyNs: number;
  /** Average batch flush latency over the window's samples (us; 0 without samples). */
  avgFlushLatencyUs: number;
  draining: boolean;
  /** Lower is less loaded; `Number.MAX_VALUE` for a draining shard, which is never chosen. */
  weight: number;
}

/** Metrics of a shard nothing has been collected for yet. */
export function emptyMetrics(shardId: number): ShardMetrics {
  return {
    shardId,
    fillRatio: 0,
    eventRate: 0,
    avgPushLatencyNs: 0,
    avgFlushLatencyUs: 0,
    draining: false,
    weight: 0,
  };
}

/**
 * The load weight: fill ratio (x100), push latency (ns / 10) and the
 * window's events (per million) added up; a draining shard gets the largest
 * finite number so it is never the least loaded. Sets and returns
 * `m.weight`.
 */
export function computeWeight(m: ShardMetrics): number {
  m.weight = m.draining ? Number.MAX_VALUE : m.fillRatio * 100 + m.avgPushLatencyNs / 10 + m.eventRate / 1_000_000;
  return m.weight;
}

/**
 * Where one shard's live figures live: counters in the mapper's counter
 * region, and words in the mapper region. Created by the mapper.
 */
export interface CollectorCells {
  readonly counter: LatencyCounter;
  /** Index of this slot's first counter (push; flush and drain follow). */
  readonly counterBase: number;
  /** Mapper region words: buffer length, draining flag (index `slot`). */
  readonly bufferLen: Int32Array;
  readonly draining: Int32Array;
  /** The mapper's shard id per slot: a collector records only while its slot still holds its shard. */
  readonly slotIds: Int32Array;
  readonly slot: number;
  readonly capacity: number;
}

/**
 * Live metrics of one shard. Recording methods are the hot path: any thread,
 * concurrently, no allocation, never throw. `collectAndReset` is for the
 * mapper's collection (one collector at a time is the intended use).
 */
export class ShardMetricsCollector {
  readonly shardId: number;
  readonly capacity: number;
  private readonly counter: LatencyCounter;
  private readonly push: number;
  private readonly flush: number;
  private readonly drain: number;
  private readonly bufferLen: Int32Array;
  private readonly drainingFlag: Int32Array;
  private readonly slotIds: Int32Array;
  private readonly slot: number;
  private readonly window: CounterWindow = newCounterWindow();

  constructor(shardId: number, cells: CollectorCells) {
    this.shardId = shardId;
    this.capacity = cells.capacity;
    this.counter = cells.counter;
    this.push = cells.counterBase + MAPPER_COUNTERS.push;
    this.flush = cells.counterBase + MAPPER_COUNTERS.flush;
    this.drain = cells.counterBase + MAPPER_COUNTERS.drain;
    this.bufferLen = cells.bufferLen;
    this.drainingFlag = cells.draining;
    this.slotIds = cells.slotIds;
    this.slot = cells.slot;
  }

  /*
   * Whether the slot still holds this collector's shard. A slot is reused
   * for a new shard only after this one was stopped and removed; a
   * recording that arrives later (from someone who kept the collector) is
   * dropped, as it would be lost with the shard, instead of landing on the
   * new shard. A plain read: the id changes at removal, long after the
   * shard's last legitimate push, so a late value only delays the drop.
   */
  private live(): boolean {
    return this.slotIds[this.slot] === this.shardId;
  }

  /** Report the ring's current length (any thread; last writer wins). */
  recordBufferLen(len: number): void {
    if (!this.live()) return;
    Atomics.store(this.bufferLen, this.slot, len > 0 ? len | 0 : 0);
  }

  /** Count `n` pushed events: the window's events and the pushes since the drain began (every push calls this). */
  recordEvents(n: number): void {
    if (!this.live()) return;
    this.counter.recordEvents(this.push, n);
    this.counter.recordEvents(this.drain, n);
  }

  /** Count one pushed event. */
  recordEventOnly(): void {
    if (!this.live()) return;
    this.counter.recordEvent(this.push);
    this.counter.recordEvent(this.drain);
  }

  /**
   * Add one push-latency sample (ns per event) to the packed (count, sum):
   * one CAS, so a collection takes a sample's count and value together.
   * Called on one push in `latencySampleEvery`.
   */
  recordLatencySample(latencyNs: number): void {
    if (!this.live()) return;
    this.counter.recordSample(this.push, latencyNs);
  }

  /** One event and one latency sample (tests and callers that want both). */
  recordPush(latencyNs: number): void {
    this.recordEventOnly();
    this.recordLatencySample(latencyNs);
  }

  /** Add one batch-flush latency sample (us), packed like the push samples. */
  recordFlush(latencyUs: number): void {
    if (!this.live()) return;
    this.counter.recordSample(this.flush, latencyUs);
  }

  /**
   * Set or clear drain mode. Entering it zeroes the pushes-since-drain count
   * FIRST and publishes the flag after, so a push that observes the flag is
   * ordered after the reset; a push racing the reset may still be counted,
   * which only defers finalization.
   */
  setDraining(draining: boolean): void {
    if (!this.live()) return;
    if (draining) this.counter.collect(this.drain, this.window);
    Atomics.store(this.drainingFlag, this.slot, draining ? 1 : 0);
  }

  isDraining(): boolean {
    // A shard that is gone counts as draining: nothing should go to it.
    if (!this.live()) return true;
    return Atomics.load(this.drainingFlag, this.slot) !== 0;
  }

  /** Pushes counted since drain mode was last entered; no collection resets it. */
  pushesSinceDrainStart(): number {
    return this.counter.peek(this.drain, this.window).events;
  }

  /** The ring length as last reported. */
  bufferLength(): number {
    return Atomics.load(this.bufferLen, this.slot);
  }

  /**
   * Take the window's figures and start a new window. Each (count, sum) pair
   * is taken with one exchange, so an average never mixes windows; the
   * events counter is a separate word and may be one push ahead of or behind
   * the samples (accepted: it keeps the push path lock-free).
   */
  collectAndReset(out: ShardMetrics = emptyMetrics(this.shardId)): ShardMetrics {
    const w = this.window;
    const len = Atomics.load(this.bufferLen, this.slot);
    this.counter.collect(this.push, w);
    out.eventRate = w.events;
    out.avgPushLatencyNs = w.count > 0 ? Math.floor(w.sum / w.count) : 0;
    this.counter.collect(this.flush, w);
    out.avgFlushLatencyUs = w.count > 0 ? Math.floor(w.sum / w.count) : 0;
    out.shardId = this.shardId;
    out.fillRatio = this.capacity > 0 ? len / this.capacity : 0;
    out.draining = this.isDraining();
    computeWeight(out);
    return out;
  }

  /** Zero every figure (a slot being reused for a new shard; lock holder only). */
  reset(): void {
    this.counter.collect(this.push, this.window);
    this.counter.collect(this.flush, this.window);
    this.counter.collect(this.drain, this.window);
    Atomics.store(this.bufferLen, this.slot, 0);
    Atomics.store(this.drainingFlag, this.slot, 0);
  }
}
