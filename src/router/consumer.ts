/**
 * The consumer side of a shard: drain its ring in batches, record the flush
 * latency, and (optionally) check every event's producer id and sequence
 * number, so that a run can prove nothing was lost, duplicated or
 * reordered.
 *
 * Events checked by `SequenceVerifier` carry the producer id in word 0 and
 * the producer's sequence number (a u32 counting from 0) in word 1.
 */
import type { Router } from './router.js';

/** Most out-of-order sequence numbers a verifier keeps individually. */
const MAX_BACKWARDS_KEPT = 4096;

/** What one consumer saw of one producer: runs of consecutive sequence numbers, and any that went backwards. */
export interface ProducerTrace {
  producer: number;
  /** Events taken from this producer. */
  count: number;
  /** [first, last] runs of consecutive sequence numbers, in arrival order. */
  segments: [number, number][];
  /** Sequence numbers that arrived lower than one already seen (out of order or repeated). */
  backwards: number[];
  backwardsTotal: number;
}

/**
 * Per-consumer record of every producer's sequence. `observe` is the hot
 * path: array reads and writes only, no allocation except when a run
 * breaks (which a correct run never does after the first event).
 */
export class SequenceVerifier {
  readonly maxProducers: number;
  private readonly next: Float64Array;
  private readonly first: Float64Array;
  private readonly counts: Float64Array;
  private readonly closed: ([number, number][] | undefined)[];
  private readonly back: (number[] | undefined)[];
  private readonly backTotal: Float64Array;
  /** Events whose producer id was out of range. */
  foreign = 0;

  constructor(maxProducers: number) {
    this.maxProducers = maxProducers;
    this.next = new Float64Array(maxProducers).fill(-1);
    this.first = new Float64Array(maxProducers);
    this.counts = new Float64Array(maxProducers);
    this.backTotal = new Float64Array(maxProducers);
    this.closed = new Array<[number, number][] | undefined>(maxProducers).fill(undefined);
    this.back = new Array<number[] | undefined>(maxProducers).fill(undefined);
  }

  /** Check `n` events starting at word `offset` of `words` (`eventWords` words each). */
  observe(words: Int32Array, offset: number, n: number, eventWords: number): void {
    const next = this.next;
    const counts = this.counts;
    let o = offset;
    for (let i = 0; i < n; i++, o += eventWords) {
      const p = words[o]!;
      const seq = words[o + 1]! >>> 0;
      if (!(p >= 0 && p < this.maxProducers)) {
        this.foreign++;
        continue;
      }
      counts[p]!++;
      const e = next[p]!;
      if (seq === e) {
        next[p] = seq + 1;
      } else if (e < 0) {
        this.first[p] = seq;
        next[p] = seq + 1;
      } else if (seq > e) {
        // A gap in this shard's run: close the run, start another.
        (this.closed[p] ??= []).push([this.first[p]!, e - 1]);
        this.first[p] = seq;
        next[p] = seq + 1;
      } else {
        this.backTotal[p]!++;
        const b = (this.back[p] ??= []);
        if (b.length < MAX_BACKWARDS_KEPT) b.push(seq);
      }
    }
  }

  /** Everything observed, per producer that sent anything. */
  traces(): ProducerTrace[] {
    const out: ProducerTrace[] = [];
    for (let p = 0; p < this.maxProducers; p++) {
      if (this.counts[p] === 0) continue;
      const segments = [...(this.closed[p] ?? [])];
      segments.push([this.first[p]!, this.next[p]! - 1]);
      out.push({
        producer: p,
        count: this.counts[p]!,
        segments,
        backwards: [...(this.back[p] ?? [])],
        backwardsTotal: this.backTotal[p]!,
      });
    }
    return out;
  }
}

/** The verdict over every consumer's traces against what each producer says it sent. */
export interface DeliveryVerdict {
  produced: number;
  consumed: number;
  /** Sequence numbers a producer sent that no consumer took. */
  lost: number;
  /** Events taken more than once, or with a sequence number never sent. */
  duplicated: number;
  /** Events that arrived in a shard after a higher sequence number of the same producer. */
  reordered: number;
  /** Per producer: [produced, consumed, lost, duplicated, reordered]. */
  perProducer: Record<number, [number, number, number, number, number]>;
}

/**
 * Merge consumer traces. `produced[p]` is how many events producer p sent
 * (sequence numbers 0..produced-1). Exact when nothing arrived out of
 * order; with out-of-order arrivals it stays exact while each consumer
 * kept every backward sequence number (up to 4096 per producer).
 */
export function verifyDelivery(produced: ReadonlyMap<number, number>, traces: readonly ProducerTrace[]): DeliveryVerdict {
  const byProducer = new Map<number, ProducerTrace[]>();
  for (const t of traces) {
    const list = byProducer.get(t.producer) ?? [];
    list.push(t);
    byProducer.set(t.producer, list);
  }
  const ids = new Set<number>([...produced.keys(), ...byProducer.keys()]);
  const v: DeliveryVerdict = { produced: 0, consumed: 0, lost: 0, duplicated: 0, reordered: 0, perProducer: {} };
  for (const p of [...ids].sort((a, b) => a - b)) {
    const sent = produced.get(p) ?? 0;
    const ts = byProducer.get(p) ?? [];
    const intervals: [number, number][] = [];
    let count = 0;
    let reordered = 0;
    for (const t of ts) {
      count += t.count;
      reordered += t.backwardsTotal;
      for (const s of t.segments) intervals.push(s);
      for (const b of t.backwards) intervals.push([b, b]);
    }
    intervals.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    // Union of the intervals, clipped to [0, sent).
    let covered = 0;
    let end = -1;
    for (const [a, b] of intervals) {
      const lo = Math.max(a, end + 1, 0);
      const hi = Math.min(b, sent - 1);
      if (hi >= lo) covered += hi - lo + 1;
      if (b > end) end = b;
    }
    const lost = sent - covered;
    const duplicated = Math.max(0, count - covered);
    v.produced += sent;
    v.consumed += count;
    v.lost += lost;
    v.duplicated += duplicated;
    v.reordered += reordered;
    v.perProducer[p] = [sent, count, lost, duplicated, reordered];
  }
  return v;
}

export interface DrainOptions {
  /** Most events taken per batch (default 256). */
  batch?: number;
  /** Check sequences (events must carry producer id and sequence number). Default true. */
  verify?: boolean;
  /** Called with each batch (zero-copy view: `words`, word `offset`, `n` events); the events are released after it returns. */
  onBatch?: (words: Int32Array, offset: number, n: number) => void;
}

export interface DrainResult {
  slot: number;
  shardId: number;
  consumed: number;
  flushes: number;
  traces: ProducerTrace[];
  foreign: number;
}

/**
 * Consumer loop for slot `slot`, in a worker: take batches until the
 * control loop asks it to stop AND the ring is empty, recording each
 * batch's flush latency (us) on the shard's collector. Sleeps (bounded)
 * when the ring is empty. Returns what it took.
 */
export function drainShard(router: Router, slot: number, options: DrainOptions = {}): DrainResult {
  const ring = router.rings[slot]!;
  const shardId = router.mapper.idAtSlot(slot);
  const collector = router.mapper.collectorAtSlot(slot);
  const batch = options.batch ?? 256;
  const verifier = options.verify === false ? undefined : new SequenceVerifier(router.maxProducers);
  const onBatch = options.onBatch;
  const ew = router.eventWords;
  let consumed = 0;
  let flushes = 0;
  router.setConsumerRunning(slot, true);
  try {
    for (;;) {
      const n = ring.acquire(batch);
      if (n > 0) {
        const t0 = performance.now();
        verifier?.observe(ring.slots, ring.acquiredOffset, n, ew);
        onBatch?.(ring.slots, ring.acquiredOffset, n);
        ring.release(n);
        consumed += n;
        flushes++;
        router.setConsumed(slot, consumed);
        collector?.recordFlush((performance.now() - t0) * 1000);
        continue;
      }
      // Stop only when asked AND empty: the stop request comes after the
      // shard was stopped (no producer, nothing pushed since the drain), so
      // an empty ring now stays empty.
      if (router.stopRequested(slot) && ring.size() === 0) break;
      ring.awaitData(2);
    }
  } finally {
    // The total moves to the result; a later consumer of this slot starts from 0.
    router.setConsumed(slot, 0);
    router.setConsumerRunning(slot, false);
  }
  return { slot, shardId, consumed, flushes, traces: verifier?.traces() ?? [], foreign: verifier?.foreign ?? 0 };
}
