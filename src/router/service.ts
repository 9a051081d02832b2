/**
 * The router as a running service on the main thread: a Piscina pool of
 * consumers (one long-running drain task per live shard) and the control
 * loop that watches the shards and scales them.
 *
 * Each tick (every `tickMs`, on a timer; nothing here blocks the event
 * loop):
 *  1. report ring lengths, collect metrics (this also refreshes the
 *     selection table's weights);
 *  2. evaluate scaling and execute it: scale up = provision shards, start
 *     their consumers, wait until the consumers run, then activate; scale
 *     down = drain the least loaded shards (their producers move on their
 *     next push);
 *  3. with no metric-driven decision, producers waiting for a shard of their
 *     own are demand for one: provision and activate one per waiting
 *     producer (within the cooldown and maxShards like any scale-up);
 *  4. finish drains: re-arm a drain whose producer left after racing its
 *     start, stop the finished ones, let their consumers empty the ring and
 *     exit, then remove the shards.
 *
 * Before all that, each tick looks after the shards' circuit breakers
 * (`watchBreakers`; the policy is in breakers.ts). A breaker is opened by
 * the producer whose waits for ring space kept failing; the mapper then no
 * longer routes to the shard and the producer has moved on. The service
 * logs the transition, fences the shard's consumer (it may be stalled
 * holding a batch) and starts a replacement that drains the ring. After
 * the cool-down it claims the breaker's half-open probe; the probe passes
 * when the replacement runs and the ring is empty, closing the breaker
 * (the shard is routable again), and fails when that has not happened
 * within another cool-down, reopening it (and replacing the consumer
 * again). Every transition is a `BreakerEvent`.
 */
import { Piscina } from 'piscina';
import { judgeProbe, type BreakerStateName } from './breakers.js';
import type { DrainResult, ProducerTrace } from './consumer.js';
import { SLOT_DRAINING, type ScalingDecision } from './mapper.js';
import type { ShardMetrics } from './metrics.js';
import type { Router } from './router.js';

export type ScaleEventKind = 'provision' | 'activate' | 'drain' | 'rearm' | 'stop' | 'remove';

export interface ScaleEvent {
  /** Milliseconds since the service started. */
  tMs: number;
  kind: ScaleEventKind;
  shard: number;
  /** What caused it: 'metrics' (evaluateScaling), 'waiting-producers', 'manual', 'drain-finished'. */
  reason: string;
}

/** A circuit-breaker transition of one shard. */
export interface BreakerEvent {
  /** Milliseconds since the service started (for an opening: when the producer opened it). */
  tMs: number;
  shard: number;
  from: BreakerStateName;
  to: BreakerStateName;
}

export interface RouterServiceOptions {
  /** Control loop period (ms, default 100). */
  tickMs?: number;
  /** Consumer batch size (default 256). */
  batch?: number;
  /** Check producer sequences in the consumers (default true). */
  verify?: boolean;
  /** Whether the loop scales at all (default: the policy's autoScale). */
  autoScale?: boolean;
  /** Called for every scale event as it happens. */
  onScaleEvent?: (e: ScaleEvent) => void;
  /** Called for every circuit-breaker transition as the service sees or makes it. */
  onBreakerEvent?: (e: BreakerEvent) => void;
  /** Called after each tick's collection with the metrics. */
  onMetrics?: (metrics: ShardMetrics[], decision: ScalingDecision) => void;
  /** Most time to wait for a new consumer to start before activating anyway (ms, default 5000). */
  consumerStartTimeoutMs?: number;
  /**
   * Most time `stop` waits for a replaced (fenced) consumer to return once
   * its injected stall has ended (ms, default 10000). One that is stuck for
   * good is abandoned: its thread is ended and what it took is missing from
   * the result (`ServiceResult.abandoned`).
   */
  fencedReturnTimeoutMs?: number;
}

export interface ServiceResult {
  /** Every consumer's result, retired shards included. */
  drains: DrainResult[];
  traces: ProducerTrace[];
  consumed: number;
  scaleEvents: ScaleEvent[];
  breakerEvents: BreakerEvent[];
  /** Replaced consumers that never returned (stuck for good), by slot; what they took is not in `drains`. */
  abandoned: number[];
  /** Active shard ids at the end (before the final stop). */
  shardsFinal: number[];
}

const CONSUMER_FILE = new URL('../../workers/router-consumer.js', import.meta.url).href;

/** What the service knows of one slot's breaker: the shard, the state it last saw, the probe it runs. */
interface BreakerWatch {
  shard: number;
  seen: BreakerStateName;
  /** When the service last saw the breaker closed (ms on the mapper's clock). */
  closedSeenMs: number;
  /** When the half-open probe began (ms on the mapper's clock). */
  probeStartMs: number;
  /** The consumer epoch the probe judges (the replacement running when it began). */
  probeEpoch: number;
}

/** A consumer that was fenced by a replacement and has not returned yet. */
interface FencedTask {
  readonly slot: number;
  readonly task: Promise<DrainResult>;
  /** Its published total when it was fenced (shown as consumed until it returns). */
  readonly consumed: number;
}

export class RouterService {
  readonly router: Router;
  readonly scaleEvents: ScaleEvent[] = [];
  readonly breakerEvents: BreakerEvent[] = [];
  private readonly pool: Piscina;
  private readonly opts: Required<Omit<RouterServiceOptions, 'onScaleEvent' | 'onBreakerEvent' | 'onMetrics'>> &
    Pick<RouterServiceOptions, 'onScaleEvent' | 'onBreakerEvent' | 'onMetrics'>;
  private readonly t0 = performance.now();
  /** Running drain task per slot (the slot's current consumer epoch). */
  private readonly tasks = new Map<number, Promise<DrainResult>>();
  /** Consumers replaced while they were stuck: they return when they wake (at `stop` at the latest). */
  private readonly fenced: FencedTask[] = [];
  private readonly breakers = new Map<number, BreakerWatch>();
  /** Replaced consumers given up on at `stop`: ending their threads is not a failure. */
  private readonly abandonedTasks = new Set<Promise<DrainResult>>();
  private readonly finished: DrainResult[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** A failure of the tick loop or of a consumer (boxed: the rejection value may be anything, even undefined). */
  private failure: { error: unknown } | undefined;

  private constructor(router: Router, options: RouterServiceOptions) {
    this.router = router;
    this.opts = {
      tickMs: options.tickMs ?? 100,
      batch: options.batch ?? 256,
      verify: options.verify ?? true,
      autoScale: options.autoScale ?? router.mapper.policy.autoScale,
      consumerStartTimeoutMs: options.consumerStartTimeoutMs ?? 5000,
      fencedReturnTimeoutMs: options.fencedReturnTimeoutMs ?? 10_000,
      onScaleEvent: options.onScaleEvent,
      onBreakerEvent: options.onBreakerEvent,
      onMetrics: options.onMetrics,
    };
    // One thread per slot, and as many again for stuck consumers that were
    // replaced (each keeps its thread until it wakes): every live shard has a
    // drain task running for its whole life, and a queued drain task would
    // leave a shard without a consumer.
    this.pool = new Piscina({
      filename: CONSUMER_FILE,
      minThreads: 0,
      maxThreads: 2 * router.mapper.slots,
      idleTimeout: 1000,
      workerData: { handle: router.handle },
    });
  }

  /** Start consumers for the shards that exist now, then the control loop. */
  static async start(router: Router, options: RouterServiceOptions = {}): Promise<RouterService> {
    const svc = new RouterService(router, options);
    for (const id of router.mapper.allShardIds()) {
      const s = router.mapper.slotOf(id);
      svc.startConsumer(s);
      await svc.consumerStarted(s);
    }
    svc.schedule();
    return svc;
  }

  /** Milliseconds since start. */
  elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /**
   * Events taken by consumers that are no longer their slot's current one:
   * finished (retired shards, replaced consumers that returned) and replaced
   * ones still stuck (their total when they were replaced).
   */
  retiredConsumed(): number {
    let c = 0;
    for (const d of this.finished) c += d.consumed;
    for (const f of this.fenced) c += f.consumed;
    return c;
  }

  /** Whether every live shard's circuit breaker is closed. Any time; reads shared state. */
  breakersClosed(): boolean {
    const mapper = this.router.mapper;
    for (let s = 0; s < mapper.slots; s++) {
      if (mapper.idAtSlot(s) >= 0 && mapper.breakerStateAt(s) !== 'closed') return false;
    }
    return true;
  }

  /**
   * Wait until every breaker is closed again (the control loop keeps
   * recovering them), or `timeoutMs` passes; returns whether they all are.
   * A load test calls it after its producers stop, so a breaker that opened
   * late still gets to its probe before the report. Never blocks the thread.
   */
  async settleBreakers(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.breakersClosed()) {
      if (performance.now() >= deadline || this.failure !== undefined || this.stopped) return false;
      await new Promise((r) => setTimeout(r, Math.min(this.opts.tickMs, 50)));
    }
    return true;
  }

  /**
   * Fault injection (load tests): stall the current consumer of shard `id`
   * at its next batch until `stop` (see `Router.stallConsumer`). Returns
   * whether the shard exists and has a consumer.
   */
  stallConsumer(id: number): boolean {
    const s = this.router.mapper.slotOf(id);
    if (s < 0 || !this.tasks.has(s)) return false;
    this.router.stallConsumer(s, this.router.consumerEpoch(s));
    return true;
  }

  /** Run one control step now (the loop calls this; tests may too). */
  tick(): Promise<void> {
    this.ticking ??= this.step().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Operator request: add `count` shards now (skips the cooldown, not maxShards). Returns the new ids. */
  async addShards(count: number): Promise<number[]> {
    const r = this.router.mapper.scaleUpProvisioningForce(count);
    if (!r.ok) return [];
    await this.bringUp(r.value, 'manual');
    return r.value;
  }

  /** Operator request: drain shard `id`. Returns whether it started draining. */
  drainShard(id: number): boolean {
    const mapper = this.router.mapper;
    const wasActive = mapper.shardState(id) === 'active';
    const r = mapper.drainSpecific(id);
    if (r.ok && wasActive) this.emit('drain', id, 'manual');
    return r.ok && wasActive;
  }

  /**
   * Stop the loop, finish every drain and stop every consumer once its ring
   * is empty. Call after the producers have stopped pushing. Returns what
   * the consumers took and the scale events.
   */
  async stop(): Promise<ServiceResult> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const shardsFinal = this.router.mapper.activeShardIds();
    for (const s of this.tasks.keys()) this.router.requestStop(s);
    // A stalled consumer wakes now; if it was replaced, it finds itself
    // fenced and returns what it took before, without its stale batch.
    for (let s = 0; s < this.router.mapper.slots; s++) if (this.router.stallEpoch(s) !== 0) this.router.endStall(s);
    const rest = await Promise.all(this.tasks.values());
    this.tasks.clear();
    this.finished.push(...rest);
    // A replaced consumer returns at its next check once it runs again; one
    // that does not within the timeout is stuck for good and is abandoned
    // (the pool's destroy below ends its thread).
    const abandoned: number[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.opts.fencedReturnTimeoutMs, undefined);
    });
    const replaced = await Promise.all(this.fenced.map((f) => Promise.race([f.task, timeout])));
    clearTimeout(timer);
    replaced.forEach((r, k) => {
      const f = this.fenced[k]!;
      if (r !== undefined) {
        this.finished.push(r);
      } else {
        abandoned.push(f.slot);
        this.abandonedTasks.add(f.task);
      }
    });
    this.fenced.length = 0;
    await this.pool.destroy();
    if (this.failure !== undefined) throw this.failure.error;
    const drains = this.finished;
    return {
      drains,
      traces: drains.flatMap((d) => d.traces),
      consumed: drains.reduce((a, d) => a + d.consumed, 0),
      scaleEvents: this.scaleEvents,
      breakerEvents: this.breakerEvents,
      abandoned,
      shardsFinal,
    };
  }

  // ------------------------------------------------------------ internals

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().then(
        () => this.schedule(),
        (err: unknown) => {
          this.failure = { error: err };
        },
      );
    }, this.opts.tickMs);
  }

  private async step(): Promise<void> {
    const router = this.router;
    const mapper = router.mapper;
    // Breakers first: the collection below republishes the selection table,
    // so an opening seen now is out of routing by the end of this tick.
    await this.watchBreakers();
    router.reportLengths();
    const metrics = mapper.collectMetrics();
    const decision: ScalingDecision = this.opts.autoScale ? mapper.evaluateScaling() : { kind: 'none' };
    this.opts.onMetrics?.(metrics, decision);
    if (decision.kind === 'scale-up') {
      const r = mapper.scaleUpProvisioning(decision.count);
      if (r.ok) await this.bringUp(r.value, 'metrics');
    } else if (decision.kind === 'scale-down') {
      const r = mapper.scaleDown(decision.count);
      if (r.ok) for (const id of r.value) this.emit('drain', id, 'metrics');
    } else if (this.opts.autoScale) {
      const waiting = router.waitingProducers();
      const room = mapper.policy.maxShards - mapper.activeShardCount();
      if (waiting > 0 && room > 0) {
        const r = mapper.scaleUpProvisioning(Math.min(waiting, room));
        if (r.ok) await this.bringUp(r.value, 'waiting-producers');
      }
    }
    await this.finishDrains();
  }

  /** Start consumers for provisioned shards, wait until they run, then activate the shards. */
  private async bringUp(ids: number[], reason: string): Promise<void> {
    const mapper = this.router.mapper;
    for (const id of ids) {
      this.emit('provision', id, reason);
      const s = mapper.slotOf(id);
      this.startConsumer(s);
    }
    for (const id of ids) {
      await this.consumerStarted(mapper.slotOf(id));
      const r = mapper.activate(id);
      if (r.ok && r.value) this.emit('activate', id, reason);
    }
  }

  private async finishDrains(): Promise<void> {
    const router = this.router;
    const mapper = router.mapper;
    for (let s = 0; s < mapper.slots; s++) {
      if (mapper.slotState(s) !== SLOT_DRAINING) continue;
      const id = mapper.idAtSlot(s);
      // The producer has left and the ring is empty, but a push that raced
      // the drain's start was counted: restart the drain window once.
      if (mapper.attachedProducer(s) === 0 && router.rings[s]!.size() === 0) {
        const c = mapper.collectorAtSlot(s);
        if (c !== undefined && c.pushesSinceDrainStart() > 0 && mapper.rearmDrain(id))
          this.emit('rearm', id, 'late-push');
      }
    }
    router.reportLengths();
    const stopped = mapper.finalizeDraining();
    for (const id of stopped) {
      this.emit('stop', id, 'drain-finished');
      const s = mapper.slotOf(id);
      router.requestStop(s);
      const task = this.tasks.get(s);
      if (task !== undefined) {
        this.finished.push(await task);
        this.tasks.delete(s);
      }
      if (mapper.removeSpecificStoppedShard(id)) this.emit('remove', id, 'drain-finished');
    }
  }

  /**
   * One look at every live shard's breaker (see the file comment): log the
   * transitions made elsewhere (a producer's opening; any other caller's),
   * replace the consumer of a shard that opened, claim the half-open probe
   * after the cool-down, judge a running probe.
   */
  private async watchBreakers(): Promise<void> {
    const router = this.router;
    const mapper = router.mapper;
    for (let s = 0; s < mapper.slots; s++) {
      const id = mapper.idAtSlot(s);
      if (id < 0) {
        this.breakers.delete(s);
        continue;
      }
      const now = mapper.clock.now();
      let w = this.breakers.get(s);
      if (w === undefined || w.shard !== id) {
        w = { shard: id, seen: 'closed', closedSeenMs: now, probeStartMs: now, probeEpoch: 0 };
        this.breakers.set(s, w);
      }
      const state = mapper.breakerStateAt(s);
      if (state !== w.seen) {
        if (w.seen === 'closed') {
          // Opened by the shard's producer. Its time is the producer's
          // stamp, unless the stamp predates the last time the breaker was
          // seen closed (not written yet): then now.
          const opened = mapper.breakerOpenedAtMs(id);
          const ago = opened >= w.closedSeenMs && opened <= now ? now - opened : 0;
          this.emitBreaker(id, 'closed', 'open', Math.max(0, this.elapsedMs() - ago));
          w.seen = 'open';
          await this.replaceConsumer(s);
        }
        // Any other transition was made by another caller of the mapper.
        if (state !== w.seen) {
          this.emitBreaker(id, w.seen, state);
          if (state === 'open') await this.replaceConsumer(s);
          if (state === 'half-open') this.startProbe(w, s, now);
          w.seen = state;
        }
      }
      if (state === 'closed') {
        w.closedSeenMs = now;
      } else if (state === 'open') {
        if (mapper.tryHalfOpen(id)) {
          this.emitBreaker(id, 'open', 'half-open');
          w.seen = 'half-open';
          this.startProbe(w, s, mapper.clock.now());
        }
      } else {
        const verdict = judgeProbe({
          ringSize: router.rings[s]!.size(),
          consumerRunning: router.runningEpoch(s) === w.probeEpoch && router.consumerEpoch(s) === w.probeEpoch,
          elapsedMs: now - w.probeStartMs,
          windowMs: mapper.breakerPolicy.coolDownMs,
        });
        if (verdict === 'pass' && mapper.closeBreaker(id)) {
          this.emitBreaker(id, 'half-open', 'closed');
          w.seen = 'closed';
          w.closedSeenMs = now;
        } else if (verdict === 'fail' && mapper.reopenBreaker(id)) {
          this.emitBreaker(id, 'half-open', 'open');
          w.seen = 'open';
          await this.replaceConsumer(s);
        }
      }
    }
  }

  /** The half-open probe of slot `s` begins: it judges the consumer running now. */
  private startProbe(w: BreakerWatch, s: number, now: number): void {
    w.probeStartMs = now;
    w.probeEpoch = this.router.consumerEpoch(s);
  }

  /**
   * Fence slot `s`'s consumer and start a replacement that drains the ring;
   * the fenced one returns when it wakes (`stop` ends an injected stall).
   */
  private async replaceConsumer(s: number): Promise<void> {
    const old = this.tasks.get(s);
    if (old !== undefined) {
      // Its total moves to the fenced list; the slot's figure is the replacement's from now on.
      this.fenced.push({ slot: s, task: old, consumed: this.router.consumed(s) });
      this.router.setConsumed(s, 0);
    }
    this.tasks.delete(s);
    this.startConsumer(s);
    await this.consumerStarted(s);
  }

  private startConsumer(s: number): void {
    this.router.requestStop(s, false);
    const epoch = this.router.fenceConsumers(s);
    const task = this.pool.run({
      slot: s,
      batch: this.opts.batch,
      verify: this.opts.verify,
      epoch,
    }) as Promise<DrainResult>;
    task.catch((err: unknown) => {
      if (!this.abandonedTasks.has(task)) this.failure ??= { error: err };
    });
    this.tasks.set(s, task);
  }

  /** Wait (bounded) until slot `s`'s current consumer epoch runs. */
  private async consumerStarted(s: number): Promise<void> {
    const deadline = performance.now() + this.opts.consumerStartTimeoutMs;
    const epoch = this.router.consumerEpoch(s);
    while (this.router.runningEpoch(s) !== epoch && performance.now() < deadline && this.failure === undefined) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  private emitBreaker(shard: number, from: BreakerStateName, to: BreakerStateName, tMs = this.elapsedMs()): void {
    const e: BreakerEvent = { tMs: Math.round(tMs), shard, from, to };
    this.breakerEvents.push(e);
    this.opts.onBreakerEvent?.(e);
  }

  private emit(kind: ScaleEventKind, shard: number, reason: string): void {
    const e: ScaleEvent = { tMs: Math.round(this.elapsedMs()), kind, shard, reason };
    this.scaleEvents.push(e);
    this.opts.onScaleEvent?.(e);
  }
}
