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
 */
import { Piscina } from 'piscina';
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
  /** Called after each tick's collection with the metrics. */
  onMetrics?: (metrics: ShardMetrics[], decision: ScalingDecision) => void;
  /** Most time to wait for a new consumer to start before activating anyway (ms, default 5000). */
  consumerStartTimeoutMs?: number;
}

export interface ServiceResult {
  /** Every consumer's result, retired shards included. */
  drains: DrainResult[];
  traces: ProducerTrace[];
  consumed: number;
  scaleEvents: ScaleEvent[];
  /** Active shard ids at the end (before the final stop). */
  shardsFinal: number[];
}

const CONSUMER_FILE = new URL('../../workers/router-consumer.js', import.meta.url).href;

export class RouterService {
  readonly router: Router;
  readonly scaleEvents: ScaleEvent[] = [];
  private readonly pool: Piscina;
  private readonly opts: Required<Omit<RouterServiceOptions, 'onScaleEvent' | 'onMetrics'>> &
    Pick<RouterServiceOptions, 'onScaleEvent' | 'onMetrics'>;
  private readonly t0 = performance.now();
  /** Running drain task per slot. */
  private readonly tasks = new Map<number, Promise<DrainResult>>();
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
      onScaleEvent: options.onScaleEvent,
      onMetrics: options.onMetrics,
    };
    // One thread per slot at most: every live shard has a drain task
    // running for its whole life, and a queued drain task would leave a
    // shard without a consumer.
    this.pool = new Piscina({
      filename: CONSUMER_FILE,
      minThreads: 0,
      maxThreads: router.mapper.slots,
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

  /** Events taken by consumers that have already finished (retired shards). */
  retiredConsumed(): number {
    let c = 0;
    for (const d of this.finished) c += d.consumed;
    return c;
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
    const rest = await Promise.all(this.tasks.values());
    this.tasks.clear();
    this.finished.push(...rest);
    await this.pool.destroy();
    if (this.failure !== undefined) throw this.failure.error;
    const drains = this.finished;
    return {
      drains,
      traces: drains.flatMap((d) => d.traces),
      consumed: drains.reduce((a, d) => a + d.consumed, 0),
      scaleEvents: this.scaleEvents,
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

  private startConsumer(s: number): void {
    this.router.requestStop(s, false);
    const task = this.pool.run({ slot: s, batch: this.opts.batch, verify: this.opts.verify }) as Promise<DrainResult>;
    task.catch((err: unknown) => {
      this.failure ??= { error: err };
    });
    this.tasks.set(s, task);
  }

  private async consumerStarted(s: number): Promise<void> {
    const deadline = performance.now() + this.opts.consumerStartTimeoutMs;
    while (!this.router.consumerRunning(s) && performance.now() < deadline && this.failure === undefined) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  private emit(kind: ScaleEventKind, shard: number, reason: string): void {
    const e: ScaleEvent = { tMs: Math.round(this.elapsedMs()), kind, shard, reason };
    this.scaleEvents.push(e);
    this.opts.onScaleEvent?.(e);
  }
}
