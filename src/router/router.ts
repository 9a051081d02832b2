/**
 * The event router's data path: one single-producer/single-consumer ring per
 * shard slot, producers bound to shards by the mapper (one producer per
 * ring at a time), and the consumer's side of a ring.
 *
 * Producers live on any thread. A producer binds itself to an Active shard
 * nobody else produces into (the mapper's least-loaded choice), pushes into
 * that shard's ring, and checks the shard's state once per push call: when
 * the shard has started draining, the producer lets go of it (after its
 * last push there is published) and binds to another. Its events keep
 * their order within each shard; the drained ring is emptied by its
 * consumer before the mapper may stop the shard (the mapper's finalize
 * waits for the producer to let go, the ring to be reported empty and no
 * push since the drain began).
 */
import { isMainThread } from 'node:worker_threads';
import {
  allocate,
  checkHeader,
  indexOf,
  offsetOf,
  routerLayout,
  type RegionLayout,
} from '../../native-layout/index.js';
import { badHandle, invalidArgument, outOfRange } from '../errors.js';
import { Ring, type RingHandle, type RingWaitPolicy } from '../shm/ring.js';
import { ShardMapper, SLOT_ACTIVE, type ShardMapperHandle, type ShardMapperOptions } from './mapper.js';
import type { ShardMetricsCollector } from './metrics.js';

/** Push status codes (`Producer.status` after a push call). */
export const PUSH_OK = 0;
/** The ring was full: fewer events (maybe none) were pushed. */
export const PUSH_FULL = 1;
/** A blocking push ran out of time before every event was pushed. */
export const PUSH_TIMED_OUT = 2;
/** No Active shard without a producer: nothing was pushed. */
export const PUSH_UNBOUND = 3;
export type PushStatus = 0 | 1 | 2 | 3;
export const PUSH_STATUS_NAMES = ['ok', 'full', 'timed-out', 'unbound'] as const;

export const MAX_PRODUCERS = 0xffff;
/** Default `waitSliceMs`. */
export const DEFAULT_WAIT_SLICE_MS = 5;
/** Largest `waitSliceMs`. */
export const MAX_WAIT_SLICE_MS = 60_000;

export interface RouterOptions extends ShardMapperOptions {
  /** 32-bit words per event (default 2: an 8-byte event). */
  eventWords?: number;
  /** Producer ids are 0..maxProducers-1 (default 64). */
  maxProducers?: number;
  /**
   * How long (ms, integer in [1, 60000]; default 5) a blocking push waits for
   * ring space in one go before it re-checks its binding. A whole slice with
   * the ring full and not one slot released is a *failed wait*, which the
   * producer reports to its shard's circuit breaker (see `breaker` in the
   * mapper's options).
   */
  waitSliceMs?: number;
  /**
   * How producers and consumers wait on a full or empty ring (default
   * 'backoff': an adaptive spin, then short yields, then an announced
   * park; see `RingWaitPolicy`). 'spin' is the earlier policy, a fixed
   * spin then the park, kept as the benchmarks' baseline.
   */
  ringWait?: RingWaitPolicy;
}

/** Longest an unbound producer sleeps in one go before it looks for a shard again (ms). */
export const UNBOUND_PARK_MS = 2;
/** Bind attempts an unbound blocking push makes back to back before it sleeps. */
const UNBOUND_SPINS = 4;

export interface RouterHandle {
  readonly kind: 'router';
  readonly sab: SharedArrayBuffer;
  readonly mapper: ShardMapperHandle;
  readonly rings: readonly RingHandle[];
}

export class Router {
  readonly handle: RouterHandle;
  readonly mapper: ShardMapper;
  /** One ring per mapper slot; a slot's ring serves whichever shard occupies the slot. */
  readonly rings: readonly Ring[];
  readonly eventWords: number;
  readonly maxProducers: number;
  /** See `RouterOptions.waitSliceMs`. */
  readonly waitSliceMs: number;
  private readonly ctl: Int32Array;
  private readonly consumedF64: Float64Array;
  private readonly WAITING: number;
  private readonly BIND_GEN: number;
  private readonly BIND_SLEEPERS: number;
  private readonly STOP: number;
  private readonly EPOCH: number;
  private readonly STALL: number;
  private readonly RUNNING: number;
  private readonly CONSUMED: number;

  private constructor(handle: RouterHandle, layout: RegionLayout, mapper: ShardMapper, rings: Ring[]) {
    this.handle = handle;
    this.mapper = mapper;
    this.rings = rings;
    const u32 = new Uint32Array(handle.sab);
    this.eventWords = u32[indexOf(layout, 'eventWords')]!;
    this.maxProducers = u32[indexOf(layout, 'maxProducers')]!;
    this.waitSliceMs = u32[indexOf(layout, 'waitSliceMs')]!;
    this.ctl = new Int32Array(handle.sab);
    this.consumedF64 = new Float64Array(handle.sab);
    this.WAITING = indexOf(layout, 'waitingProducers');
    this.BIND_GEN = indexOf(layout, 'bindGeneration');
    this.BIND_SLEEPERS = indexOf(layout, 'bindSleepers');
    this.STOP = indexOf(layout, 'stop');
    this.EPOCH = indexOf(layout, 'consumerEpoch');
    this.STALL = indexOf(layout, 'stallEpoch');
    this.RUNNING = indexOf(layout, 'running');
    this.CONSUMED = offsetOf(layout, 'consumed') / 8;
  }

  /**
   * Main thread: allocate the mapper (see `ShardMapper.create`), one ring of
   * `ringCapacity` events per slot (a power of two) and the control region.
   */
  static create(options: RouterOptions): Router {
    const where = 'Router.create';
    if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
    // The router's own fields; the rest are the mapper's.
    const {
      eventWords: eventWordsOption,
      maxProducers: maxProducersOption,
      waitSliceMs: waitSliceOption,
      ringWait,
      ...mapperOptions
    } = options;
    const eventWords = eventWordsOption ?? 2;
    if (!Number.isInteger(eventWords) || eventWords < 1 || eventWords > 64)
      throw outOfRange(where, 'eventWords', eventWords, 1, 64);
    const maxProducers = maxProducersOption ?? 64;
    if (!Number.isInteger(maxProducers) || maxProducers < 1 || maxProducers > MAX_PRODUCERS) {
      throw outOfRange(where, 'maxProducers', maxProducers, 1, MAX_PRODUCERS);
    }
    const waitSliceMs = waitSliceOption ?? DEFAULT_WAIT_SLICE_MS;
    if (!Number.isInteger(waitSliceMs) || waitSliceMs < 1 || waitSliceMs > MAX_WAIT_SLICE_MS) {
      throw outOfRange(where, 'waitSliceMs', waitSliceMs, 1, MAX_WAIT_SLICE_MS);
    }
    const cap = options.ringCapacity;
    if (!Number.isInteger(cap) || cap < 2 || (cap & (cap - 1)) !== 0) {
      throw invalidArgument(where, 'ringCapacity', cap, 'a power of two >= 2');
    }
    const mapper = ShardMapper.create(mapperOptions);
    const rings: Ring[] = [];
    for (let s = 0; s < mapper.slots; s++) {
      rings.push(Ring.create({ capacity: cap, slotWords: eventWords, wait: ringWait }));
    }
    const layout = routerLayout(mapper.slots);
    const sab = allocate(layout);
    const u32 = new Uint32Array(sab);
    u32[indexOf(layout, 'slots')] = mapper.slots;
    u32[indexOf(layout, 'eventWords')] = eventWords;
    u32[indexOf(layout, 'maxProducers')] = maxProducers;
    u32[indexOf(layout, 'waitSliceMs')] = waitSliceMs;
    const handle: RouterHandle = Object.freeze({
      kind: 'router',
      sab,
      mapper: mapper.handle,
      rings: Object.freeze(rings.map((r) => r.handle)),
    });
    return new Router(handle, layout, mapper, rings);
  }

  /** Wrap an existing router in any thread; checks every region. */
  static attach(handle: RouterHandle): Router {
    const where = 'Router.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'router') {
      throw badHandle(where, "handle.kind must be 'router'", (handle as { kind?: unknown } | null)?.kind);
    }
    const mapper = ShardMapper.attach(handle.mapper);
    const rings: unknown = handle.rings; // checked as unknown: Array.isArray would narrow `handle.rings` to any[]
    if (!Array.isArray(rings) || handle.rings.length !== mapper.slots) {
      throw badHandle(where, `handle.rings must hold one ring per mapper slot (${mapper.slots})`, handle.rings?.length);
    }
    const layout = routerLayout(mapper.slots);
    checkHeader(handle.sab, layout);
    return new Router(
      handle,
      layout,
      mapper,
      handle.rings.map((h) => Ring.attach(h)),
    );
  }

  /**
   * A producer with id `id` (0..maxProducers-1) for this thread. Each id must be used by one producer object at a time.
   */
  producer(id: number): Producer {
    if (!Number.isInteger(id) || id < 0 || id >= this.maxProducers)
      throw outOfRange('Router.producer', 'id', id, 0, this.maxProducers - 1);
    return new Producer(this, id);
  }

  /** Producers currently waiting for a shard of their own (any thread; may be stale). */
  waitingProducers(): number {
    return Atomics.load(this.ctl, this.WAITING);
  }

  /** @internal producers adjust the waiting count. */
  addWaiting(delta: number): void {
    Atomics.add(this.ctl, this.WAITING, delta);
  }

  /**
   * @internal a producer let go of a shard: wake the unbound producers
   * asleep in `awaitShard`, if any said so (one load when none did).
   */
  shardLetGo(): void {
    if (Atomics.load(this.ctl, this.BIND_SLEEPERS) === 0) return;
    Atomics.add(this.ctl, this.BIND_GEN, 1);
    Atomics.notify(this.ctl, this.BIND_GEN);
  }

  /**
   * @internal an unbound producer, worker threads only: announce itself as
   * asleep, call `tryBind` once more, and if that fails sleep until a
   * producer lets go of a shard or `timeoutMs` passes. Returns what the
   * last `tryBind` returned. No lost wake-up: the generation is read before
   * the announcement and the re-check, and `shardLetGo` reads the sleeper
   * count after the shard was let go (both sequentially consistent), so
   * either the re-check sees the free shard or the generation has moved
   * and the wait returns at once.
   */
  awaitShard(tryBind: () => boolean, timeoutMs: number): boolean {
    const g = Atomics.load(this.ctl, this.BIND_GEN);
    Atomics.add(this.ctl, this.BIND_SLEEPERS, 1);
    let bound = tryBind();
    if (!bound) {
      Atomics.wait(this.ctl, this.BIND_GEN, g, timeoutMs);
      bound = tryBind();
    }
    Atomics.sub(this.ctl, this.BIND_SLEEPERS, 1);
    return bound;
  }

  /** Ask the consumer of slot `s` to stop once its ring is empty (control loop). */
  requestStop(s: number, stop = true): void {
    Atomics.store(this.ctl, this.STOP + s, stop ? 1 : 0);
  }

  stopRequested(s: number): boolean {
    return Atomics.load(this.ctl, this.STOP + s) !== 0;
  }

  /**
   * Whether a consumer is draining slot `s` now: the epoch of the one that
   * last announced itself is set, and cleared when that one returns.
   */
  consumerRunning(s: number): boolean {
    return Atomics.load(this.ctl, this.RUNNING + s) !== 0;
  }

  /** The epoch of the consumer running on slot `s` (0: none). Any thread; may be stale. */
  runningEpoch(s: number): number {
    return Atomics.load(this.ctl, this.RUNNING + s);
  }

  /**
   * @internal the consumer of slot `s` with `epoch` announces itself; its
   * published total starts from 0 (a consumer it replaced counted its own).
   */
  setConsumerRunning(s: number, epoch: number): void {
    this.setConsumed(s, 0);
    Atomics.store(this.ctl, this.RUNNING + s, epoch);
  }

  /**
   * @internal the consumer of slot `s` with `epoch` returns: clears the
   * running word and its published total only if they are still its own
   * (a replacement that announced itself since keeps its words).
   */
  clearConsumerRunning(s: number, epoch: number): void {
    if (Atomics.compareExchange(this.ctl, this.RUNNING + s, epoch, 0) === epoch) this.setConsumed(s, 0);
  }

  // ------------------------------------------------------------ consumer epochs (fencing)

  /**
   * Control loop: make a new consumer epoch for slot `s` the only one
   * allowed to take events from its ring, and return it (>= 1). A consumer
   * of an earlier epoch stops at its next check (see `drainShard`): this is
   * how a stalled consumer is replaced without both taking events. Any
   * thread.
   */
  fenceConsumers(s: number): number {
    let e = (Atomics.add(this.ctl, this.EPOCH + s, 1) + 1) | 0;
    // Epoch 0 means "none"; after 2^32 replacements of one slot, skip it.
    if (e === 0) e = (Atomics.add(this.ctl, this.EPOCH + s, 1) + 1) | 0;
    return e;
  }

  /** The epoch of the consumer allowed to take events from slot `s` (0: none yet). One atomic load. */
  consumerEpoch(s: number): number {
    return Atomics.load(this.ctl, this.EPOCH + s);
  }

  /**
   * Fault injection (load tests): the consumer of slot `s` with `epoch`
   * stalls at its next batch, holding the batch it copied and not yet
   * released, until `endStall(s)`. A stall names one consumer: its
   * replacement does not stall.
   */
  stallConsumer(s: number, epoch: number): void {
    Atomics.store(this.ctl, this.STALL + s, epoch);
  }

  /** End the injected stall of slot `s` (the stalled consumer wakes within its wait slice). */
  endStall(s: number): void {
    Atomics.store(this.ctl, this.STALL + s, 0);
    Atomics.notify(this.ctl, this.STALL + s);
  }

  /** The consumer epoch an injected stall on slot `s` names (0: none). One atomic load. */
  stallEpoch(s: number): number {
    return Atomics.load(this.ctl, this.STALL + s);
  }

  /**
   * @internal the stalled consumer of slot `s` with `epoch` waits until the
   * stall is ended (worker threads, `Atomics.wait` in 50 ms slices; the main
   * thread never blocks, so a consumer there does not stall).
   */
  waitOutStall(s: number, epoch: number): void {
    if (isMainThread) return;
    while (Atomics.load(this.ctl, this.STALL + s) === epoch) Atomics.wait(this.ctl, this.STALL + s, epoch, 50);
  }

  /**
   * Events the consumer of slot `s` has taken so far. Written by that
   * consumer only, as a plain f64 (an aligned 8-byte store); a display
   * figure, not a synchronisation word.
   */
  consumed(s: number): number {
    return this.consumedF64[this.CONSUMED + s]!;
  }

  /** @internal the consumer of slot `s` publishes its total. */
  setConsumed(s: number, total: number): void {
    this.consumedF64[this.CONSUMED + s] = total;
  }

  /** Report every occupied slot's ring length to the mapper (before collecting metrics or finalizing drains). */
  reportLengths(): void {
    for (let s = 0; s < this.rings.length; s++) {
      if (this.mapper.idAtSlot(s) >= 0) this.mapper.reportBufferLen(s, this.rings[s]!.size());
    }
  }
}

/**
 * One producer: binds to a shard of its own and pushes events into its ring.
 * Use it from one thread. Push calls allocate nothing and never throw; they
 * return how many events went in and leave the reason in `status`.
 */
export class Producer {
  readonly id: number;
  /** Status of the last push call (PUSH_*). */
  status: PushStatus = PUSH_OK;
  private readonly router: Router;
  private readonly mapper: ShardMapper;
  private readonly token: number;
  private readonly hash: number;
  private readonly sampleMask: number;
  private slot = -1;
  private ring: Ring | undefined;
  private collector: ShardMetricsCollector | undefined;
  private calls = 0;
  private waiting = false;
  private bindAttempts = 0;
  /** Whether a wait for space in the bound ring failed since the last push that went in (see `pushBlocking`). */
  private failedWaits = false;
  private readonly waitSliceMs: number;
  /** `bindNow`, bound once (an unbound producer's sleep re-checks through it without allocating). */
  private readonly bindNowFn: () => boolean;

  /** @internal use `Router.producer(id)`. */
  constructor(router: Router, id: number) {
    this.router = router;
    this.mapper = router.mapper;
    this.id = id;
    this.token = id + 1;
    // A fixed mix of the id, so producers spread over the selection table.
    let h = Math.imul(id ^ 0x5bd1e995, 0x85ebca6b);
    h ^= h >>> 13;
    this.hash = Math.imul(h, 0xc2b2ae35) >>> 0;
    this.sampleMask = this.mapper.policy.latencySampleEvery - 1;
    this.waitSliceMs = router.waitSliceMs;
    this.bindNowFn = () => this.bindNow();
  }

  /** Slot of the bound shard, or -1. */
  get boundSlot(): number {
    return this.slot;
  }

  /** Id of the bound shard, or -1. */
  get boundShard(): number {
    return this.slot < 0 ? -1 : this.mapper.idAtSlot(this.slot);
  }

  /**
   * Push `count` events (`eventWords` words each, from event `srcEvent` of
   * `src`). Returns how many were pushed; `status` says why fewer: PUSH_FULL
   * (ring full) or PUSH_UNBOUND (no shard available). One push call in
   * `latencySampleEvery` records its latency per event. Never waits: a
   * caller that retries a full ring in a tight loop takes the core its
   * consumer needs when threads outnumber cores; use `pushBlocking` then.
   */
  push(src: Int32Array, srcEvent: number, count: number): number {
    if (!this.ensureBound()) return 0;
    const sample = (++this.calls & this.sampleMask) === 0;
    const t0 = sample ? performance.now() : 0;
    const n = this.ring!.push(src, srcEvent, count);
    if (n > 0) {
      this.collector!.recordEvents(n);
      if (sample) this.collector!.recordLatencySample(((performance.now() - t0) * 1e6) / n);
    }
    this.status = n === count ? PUSH_OK : PUSH_FULL;
    return n;
  }

  /**
   * Push all `count` events, waiting for ring space (spinning, then sleeping
   * in workers) for up to `timeoutMs`, re-checking the binding between
   * attempts. Returns how many were pushed: all of them with PUSH_OK, fewer
   * with PUSH_TIMED_OUT (or PUSH_UNBOUND when no shard was available). On
   * the main thread it never sleeps; keep the timeout short there.
   *
   * Circuit breaker. The wait for space is measured in slices of the
   * router's `waitSliceMs`. A whole slice that passes with the ring full and
   * not one slot released is a failed wait, reported to the shard's breaker; the
   * next event that goes in reports the recovery (only then: a push that
   * never waited costs the breaker nothing). When a failed wait opens the
   * breaker, the producer lets go of the shard at once and the rest of the
   * call binds to a healthy shard (or waits for one, PUSH_UNBOUND). What it
   * pushed into the open shard stays there, for the shard's (replacement)
   * consumer: the producer's events keep their order within each shard.
   */
  pushBlocking(src: Int32Array, srcEvent: number, count: number, timeoutMs: number): number {
    const sample = (++this.calls & this.sampleMask) === 0;
    const t0 = sample ? performance.now() : 0;
    // The clock is read for the deadline only once the call has to wait.
    let deadline = 0;
    // When the current wait for ring space began (0: not waiting).
    let waitFrom = 0;
    let done = 0;
    let unbound = false;
    let unboundTurns = 0;
    while (done < count) {
      if (!this.ensureBound()) {
        unbound = true;
        const now = performance.now();
        if (deadline === 0) deadline = now + timeoutMs;
        else if (now >= deadline) break;
        // Back off: a few turns back to back, then (workers) sleep until a
        // producer lets go of a shard, at most UNBOUND_PARK_MS at a time (a
        // shard the control loop activates, or whose breaker closes, is
        // found when the sleep ends). Spinning here would take the core
        // from the threads that make progress.
        if (++unboundTurns > UNBOUND_SPINS && !isMainThread) {
          const left = deadline - now;
          this.router.awaitShard(this.bindNowFn, left < UNBOUND_PARK_MS ? left : UNBOUND_PARK_MS);
        }
        continue;
      }
      unbound = false;
      const n = this.ring!.push(src, srcEvent + done, count - done);
      if (n > 0) {
        this.collector!.recordEvents(n);
        done += n;
        waitFrom = 0;
        if (this.failedWaits) this.waitRecovered();
        continue;
      }
      const now = performance.now();
      if (deadline === 0) deadline = now + timeoutMs;
      if (waitFrom === 0) waitFrom = now;
      const left = deadline - now;
      if (left <= 0) break;
      // Wait for at least one slot (at most a slice), then re-check the binding.
      const slice = this.waitSliceMs;
      const w = this.ring!.pushBlocking(src, srcEvent + done, 1, left < slice ? left : slice);
      if (w > 0) {
        this.collector!.recordEvents(w);
        done += w;
        waitFrom = 0;
        if (this.failedWaits) this.waitRecovered();
        continue;
      }
      const t = performance.now();
      if (t - waitFrom >= slice) {
        // A whole slice has passed with the ring full (asleep in a worker,
        // spinning in short turns on the main thread): a failed wait. When it
        // opens the breaker, let go of the shard; the next turn binds to a
        // healthy one.
        waitFrom = t;
        this.failedWaits = true;
        if (this.mapper.recordFailedWait(this.slot)) {
          this.unbind();
          waitFrom = 0;
        }
      }
    }
    // The sample includes any wait for ring space: back-pressure is what it is meant to show.
    if (sample && done > 0 && this.collector !== undefined) {
      this.collector.recordLatencySample(((performance.now() - t0) * 1e6) / done);
    }
    this.status = done === count ? PUSH_OK : unbound ? PUSH_UNBOUND : PUSH_TIMED_OUT;
    return done;
  }

  /**
   * Check the binding without pushing: let go of a shard that is no longer
   * Active or whose circuit breaker is not closed. An idle producer should
   * call this now and then (or `release`), or a drain of its shard waits for
   * it.
   */
  refresh(): void {
    const s = this.slot;
    if (s >= 0 && (this.mapper.slotState(s) !== SLOT_ACTIVE || !this.mapper.breakerClosedAt(s))) this.unbind();
  }

  /** Let go of the shard (after the last push). The next push binds again. */
  release(): void {
    this.unbind();
    if (this.waiting) {
      this.waiting = false;
      this.router.addWaiting(-1);
    }
  }

  /*
   * Bound to an Active shard, or bind now. The per-call cost when bound is
   * one atomic load of the shard's state. When no shard is free, binding is
   * retried on every 64th call (binding scans the slots), and the producer
   * counts itself as waiting, which the control loop reads as demand for a
   * shard.
   */
  private ensureBound(): boolean {
    const s = this.slot;
    if (s >= 0) {
      if (this.mapper.slotState(s) === SLOT_ACTIVE) return true;
      this.unbind();
    }
    if ((this.bindAttempts++ & 63) !== 0 && this.waiting) {
      this.status = PUSH_UNBOUND;
      return false;
    }
    return this.bindNow();
  }

  /** Try to bind to an Active shard of its own now (scans the slots). */
  private bindNow(): boolean {
    if (this.slot >= 0) return true;
    const slot = this.mapper.bindProducer(this.hash, this.token);
    if (slot < 0) {
      if (!this.waiting) {
        this.waiting = true;
        this.router.addWaiting(1);
      }
      this.status = PUSH_UNBOUND;
      return false;
    }
    if (this.waiting) {
      this.waiting = false;
      this.router.addWaiting(-1);
    }
    this.bindAttempts = 0;
    this.slot = slot;
    this.ring = this.router.rings[slot];
    this.collector = this.mapper.collectorAtSlot(slot);
    return true;
  }

  /** A push went in after failed waits: tell the shard's breaker (it counts failures in a row). */
  private waitRecovered(): void {
    this.failedWaits = false;
    this.mapper.recordWaitSuccess(this.slot);
  }

  private unbind(): void {
    if (this.slot < 0) return;
    // Every push to this ring has been published (the ring's write index is
    // stored atomically in push), so a drain that sees us gone sees them.
    this.mapper.unbindProducer(this.slot, this.token);
    this.router.shardLetGo();
    this.slot = -1;
    this.ring = undefined;
    this.collector = undefined;
    this.failedWaits = false;
  }
}
