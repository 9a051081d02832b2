/**
 * The consumer side of a shard: drain its ring in batches, record the flush
 * latency, and (optionally) check every event's producer id and sequence
 * number, so that a run can prove nothing was lost, duplicated or
 * reordered.
 *
 * Events checked by `SequenceVerifier` carry the producer id and a 48-bit
 * sequence number (each producer counts from 0): word 0 holds the id in its
 * low 16 bits and sequence bits 32..47 in its high 16 bits, word 1 holds
 * sequence bits 0..31. `writeSequencedEvents` writes them. An event of a
 * producer below its 2^32nd therefore reads as (id, sequence), the plain
 * pair. 2^48 events last more than an hour (the longest load test) even at
 * the highest rate a load test accepts (1e10 events/s per producer), so no
 * run wraps.
 */
import type { Router } from './router.js';

/** Bits of a sequence number; sequence numbers are 0..2^48-1. */
export const SEQUENCE_BITS = 48;
/**
 * The producer id's bits in word 0 of a sequenced event (the rest are
 * sequence bits 32..47); every router producer id (below MAX_PRODUCERS,
 * 0xffff) fits.
 */
export const EVENT_PRODUCER_MASK = 0xffff;
const TWO_32 = 2 ** 32;

/**
 * Write `n` events of producer `id` (0..0xfffe) with sequence numbers
 * `first`..`first+n-1` into `buf`, from its event 0 (`eventWords` words per
 * event, words 2.. untouched). Any thread; allocates nothing, never throws.
 * `first + n` must not pass 2^48 (and n < 2^32).
 */
export function writeSequencedEvents(buf: Int32Array, eventWords: number, id: number, first: number, n: number): void {
  const hi = Math.floor(first / TWO_32);
  const lo = first - hi * TWO_32;
  // Word 1 wraps at most once in a batch: events before `wrap` carry `hi`
  // in word 0, the rest `hi + 1`; word 1 is the sequence modulo 2^32 either way.
  const wrap = TWO_32 - lo < n ? TWO_32 - lo : n;
  // Int32 arithmetic from here: (lo32 + i) | 0 is the sequence modulo 2^32.
  const lo32 = lo | 0;
  let w0 = id | (hi << 16);
  let o = 0;
  for (let i = 0; i < wrap; i++, o += eventWords) {
    buf[o] = w0;
    buf[o + 1] = (lo32 + i) | 0;
  }
  w0 = id | ((hi + 1) << 16);
  for (let i = wrap; i < n; i++, o += eventWords) {
    buf[o] = w0;
    buf[o + 1] = (lo32 + i) | 0;
  }
}

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
 * path: an event that continues its producer's run is matched word for
 * word against the two words expected next (int32 compares, no arithmetic
 * on doubles); anything else goes to `jump`, which allocates only when a
 * run breaks (which a correct run never does after the first event).
 */
export class SequenceVerifier {
  readonly maxProducers: number;
  /**
   * Per producer, the words 0 and 1 its next event must carry to continue
   * the run. -1 in word 0 means nothing seen yet: its id bits are 0xffff,
   * never a producer's, so no event matches it.
   */
  private readonly nextW0: Int32Array;
  private readonly nextW1: Int32Array;
  private readonly first: Float64Array;
  private readonly closed: ([number, number][] | undefined)[];
  private readonly back: (number[] | undefined)[];
  private readonly backTotal: Float64Array;
  /** Events whose producer id (the low 16 bits of word 0) was out of range. */
  foreign = 0;

  constructor(maxProducers: number) {
    this.maxProducers = maxProducers;
    this.nextW0 = new Int32Array(maxProducers).fill(-1);
    this.nextW1 = new Int32Array(maxProducers);
    this.first = new Float64Array(maxProducers);
    this.backTotal = new Float64Array(maxProducers);
    this.closed = new Array<[number, number][] | undefined>(maxProducers).fill(undefined);
    this.back = new Array<number[] | undefined>(maxProducers).fill(undefined);
  }

  /** Check `n` events starting at word `offset` of `words` (`eventWords` words each). */
  observe(words: Int32Array, offset: number, n: number, eventWords: number): void {
    const nextW0 = this.nextW0;
    const nextW1 = this.nextW1;
    const producers = this.maxProducers;
    let o = offset;
    for (let i = 0; i < n; i++, o += eventWords) {
      const w0 = words[o]!;
      const w1 = words[o + 1]!;
      const p = w0 & EVENT_PRODUCER_MASK;
      if (p >= producers) {
        this.foreign++;
        continue;
      }
      if (w1 === nextW1[p] && w0 === nextW0[p]) {
        // The run goes on: expect sequence + 1, carrying into word 0's high bits when word 1 wraps.
        const lo = (w1 + 1) | 0;
        nextW1[p] = lo;
        if (lo === 0) nextW0[p] = (w0 + 0x10000) | 0;
      } else {
        this.jump(p, w0, w1);
      }
    }
  }

  /** Producer `p`'s first event, or one that does not continue its run. */
  private jump(p: number, w0: number, w1: number): void {
    // Exact in a double: below 2^48.
    const seq = (w0 >>> 16) * TWO_32 + (w1 >>> 0);
    const e = this.expected(p);
    if (e >= 0 && seq < e) {
      this.backTotal[p]!++;
      const b = (this.back[p] ??= []);
      if (b.length < MAX_BACKWARDS_KEPT) b.push(seq);
      return;
    }
    // A gap in this shard's run (or the first event): close the run, start another.
    if (e >= 0) (this.closed[p] ??= []).push([this.first[p]!, e - 1]);
    this.first[p] = seq;
    const lo = (w1 + 1) | 0;
    this.nextW1[p] = lo;
    this.nextW0[p] = lo === 0 ? (w0 + 0x10000) | 0 : w0;
  }

  /** The sequence number producer `p`'s next event continues the run with, or -1 before its first event. */
  private expected(p: number): number {
    const w0 = this.nextW0[p]!;
    return w0 === -1 ? -1 : (w0 >>> 16) * TWO_32 + (this.nextW1[p]! >>> 0);
  }

  /**
   * Everything observed, per producer that sent anything. Every event
   * either extended a run, started one or went backwards, so the count is
   * the runs' lengths plus the backward events.
   */
  traces(): ProducerTrace[] {
    const out: ProducerTrace[] = [];
    for (let p = 0; p < this.maxProducers; p++) {
      if (this.nextW0[p] === -1) continue;
      const segments = [...(this.closed[p] ?? [])];
      segments.push([this.first[p]!, this.expected(p) - 1]);
      let count = this.backTotal[p]!;
      for (const [a, b] of segments) count += b - a + 1;
      out.push({
        producer: p,
        count,
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
 * (sequence numbers firstSequence..firstSequence+produced-1; every producer
 * starts at `firstSequence`, 0 unless a test starts elsewhere). Exact when
 * nothing arrived out of order; with out-of-order arrivals it stays exact
 * while each consumer kept every backward sequence number (up to 4096 per
 * producer).
 */
export function verifyDelivery(
  produced: ReadonlyMap<number, number>,
  traces: readonly ProducerTrace[],
  firstSequence = 0,
): DeliveryVerdict {
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
    // Union of the intervals, clipped to [firstSequence, firstSequence + sent).
    let covered = 0;
    let end = -1;
    for (const [a, b] of intervals) {
      const lo = Math.max(a, end + 1, firstSequence);
      const hi = Math.min(b, firstSequence + sent - 1);
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
  /**
   * The consumer epoch this drain runs as (from `Router.fenceConsumers`).
   * Default: a new one, taken at the start, which fences every earlier
   * consumer of the slot.
   */
  epoch?: number;
  /**
   * Called with each batch this consumer took: `n` events from word `offset`
   * of `words`, a private copy (valid until the call returns).
   */
  onBatch?: (words: Int32Array, offset: number, n: number) => void;
}

export interface DrainResult {
  slot: number;
  shardId: number;
  /** The consumer epoch it ran as. */
  epoch: number;
  consumed: number;
  flushes: number;
  traces: ProducerTrace[];
  foreign: number;
  /** True when it stopped because a newer consumer epoch fenced it (it was replaced), not because it was asked to. */
  fenced: boolean;
  /** Batches it copied but found already taken by another consumer of the slot (and dropped). */
  overtaken: number;
}

/**
 * Consumer loop for slot `slot`, in a worker: take batches until the
 * control loop asks it to stop AND the ring is empty, or until a newer
 * consumer epoch fences it. Records each batch's flush latency (us) on the
 * shard's collector. Sleeps (bounded) when the ring is empty. Returns what
 * it took.
 *
 * Exactly once with a replacement. The control loop may start another
 * consumer on the slot while this one is stuck (a stalled consumer behind
 * an open circuit breaker). Both then work on the same ring, so a batch is
 * copied out (`Ring.peek`) and becomes this consumer's only when its
 * compare-and-swap release (`Ring.releasePeeked`) succeeds; only then is it
 * verified and handed to `onBatch`. A batch another consumer released first
 * is dropped (`overtaken`). The epoch is checked before every batch and
 * again just before each release, so a consumer that wakes after being
 * replaced takes nothing more (at most a batch whose release won a race
 * with its replacement's first one, which is then this consumer's alone).
 * A stall injected for this epoch (`Router.stallConsumer`) happens at the
 * worst moment: a batch copied and not yet released.
 */
export function drainShard(router: Router, slot: number, options: DrainOptions = {}): DrainResult {
  const ring = router.rings[slot]!;
  const shardId = router.mapper.idAtSlot(slot);
  const collector = router.mapper.collectorAtSlot(slot);
  const batch = options.batch ?? 256;
  const epoch = options.epoch ?? router.fenceConsumers(slot);
  const verifier = options.verify === false ? undefined : new SequenceVerifier(router.maxProducers);
  const onBatch = options.onBatch;
  const ew = router.eventWords;
  const buf = new Int32Array(batch * ew);
  let consumed = 0;
  let flushes = 0;
  let overtaken = 0;
  let fenced = false;
  router.setConsumerRunning(slot, epoch);
  try {
    for (;;) {
      if (router.consumerEpoch(slot) !== epoch) {
        fenced = true;
        break;
      }
      const n = ring.peek(buf, 0, batch);
      if (n > 0) {
        if (router.stallEpoch(slot) === epoch) router.waitOutStall(slot, epoch);
        // A consumer replaced while it held the batch drops it.
        if (router.consumerEpoch(slot) !== epoch) {
          fenced = true;
          break;
        }
        if (!ring.releasePeeked(n)) {
          overtaken++;
          continue;
        }
        const t0 = performance.now();
        verifier?.observe(buf, 0, n, ew);
        onBatch?.(buf, 0, n);
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
    router.clearConsumerRunning(slot, epoch);
  }
  return {
    slot,
    shardId,
    epoch,
    consumed,
    flushes,
    traces: verifier?.traces() ?? [],
    foreign: verifier?.foreign ?? 0,
    fenced,
    overtaken,
  };
}
