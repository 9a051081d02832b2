/**
 * The `reshard` suite: a live reshard 2 → 4 → 2 of the parameter server
 * while training runs, beside a run without resharding.
 *
 * Both runs are `kgshard train`'s defaults on the built-in leak-free graph
 * (`wordnet-lf`): the default model (ComplEx) with its default settings and
 * epochs, 2 workers, async (Hogwild) mode, 2 shards, trained in this process
 * through the library (`Trainer`, options resolved and checked as
 * `runTraining` does). The reshard run adds `reshardAt` (as
 * `--reshard-at A:4,B:2`): to 4 shards during epoch A (about a third of the
 * run) and back to 2 during epoch B (about two thirds). Seeds 1..3 (`--runs
 * N`: seeds 1..N); per seed both runs, one after the other in a shuffled
 * order (a round), so the two sample the same stretch of time. After the last
 * epoch each run is evaluated on test (filtered link prediction).
 *
 * Reported:
 * - throughput: positives/s of each epoch (`EpochReport.positives /
 *   seconds`; in async mode the trainer's epoch waits for the reshard as
 *   well as for the workers) and of the whole run
 *   (`Trainer.triplesPerSecond`). `reshard_epoch_vs_baseline` is the
 *   epoch a reshard ran in over the same epoch of the run without
 *   resharding (ratio of medians over seeds; `paired_*` the median of
 *   same-seed ratios), `run_vs_baseline` the same for whole runs.
 *   Within-run controls: `reshard_epoch_vs_neighbours` is that epoch over
 *   the median of the epochs up to 3 before and after it in the same run
 *   that ran under the same load from other processes (within a quarter
 *   of a core; never epoch 1, which starts the pool, nor another
 *   reshard's), and `baseline_epoch_vs_neighbours` the same for the run
 *   without resharding (what noise alone gives); `phase_vs_baseline` compares the
 *   median epoch before the first reshard, at 4 shards and after the
 *   second with the baseline's same epochs (epochs during which other
 *   processes used half a core or more left out).
 * - load: CPU that other processes took (/proc/stat, see lib/foreign.ts)
 *   during every epoch. A pair of runs during which they took half a core
 *   or more within 2 epochs of a reshard, in either run, is run again
 *   once every seed has run (at most 3 attempts per seed, full mode only,
 *   while the time budget lasts) and the least disturbed attempt kept;
 *   the `quiet_*` keys of the epoch ratios use only the pairs left
 *   undisturbed.
 * - the reshards: the library's `ReshardReport` (steps, chunks moved,
 *   longest and total writer pause, time to converge, copies still
 *   draining), captured by wrapping the run's `ParameterServer.reshard`
 *   (the trainer's `ReshardEntry` keeps no total pause); the scheduler's
 *   steps that moved nothing (waiting for old copies to drain) through
 *   its `onStep` hook; and, instrumented from here, how long each move's
 *   fence kept writers out (from `fenceAsync` to `unfence`, which also
 *   counts the wait for Hogwild writers already inside the shard; the
 *   library's pause starts once they have left). A reference copy of one
 *   chunk (rows and Adagrad accumulators, `Float32Array.set` between two
 *   shared buffers on the main thread, no training running), into memory
 *   written before (warm) and into memory never touched (cold: every page
 *   faulted in on first write), gives the scale of "a writer pauses for
 *   about the copy of one chunk" (`*_writer_pause_vs_one_chunk_copy`).
 * - quality: filtered test MRR, Hits@10 and mean rank of both runs per
 *   seed; `mrr_reshard_vs_baseline` is the median over seeds of the
 *   same-seed MRR ratio, beside the baseline's seed-to-seed spread.
 *
 *   npm run bench -- reshard [--quick] [--runs N]     # writes bench/results/reshard.json
 *
 * About 3 minutes on 2 quiet cores (6 runs of 40 epochs of ~0.4 s, plus
 * their evaluations), up to about 9 with every retry; `--quick`: 1 seed,
 * 6 epochs, no retry.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Dataset } from '../src/data/dataset.js';
import { loadWordnet } from '../src/data/wordnet.js';
import { EVAL_TASK_FILENAME, evaluate } from '../src/kge/eval.js';
import { FilterIndex } from '../src/kge/filter.js';
import { createModel } from '../src/kge/models/index.js';
import { settingsJson } from '../src/kge/training/options.js';
import { Trainer, resolveTrainOptions, validateTrainOptions, type TrainOptions } from '../src/kge/trainer.js';
import type { LiveReshardOptions, ParameterServer, ReshardReport, ReshardStepReport } from '../src/ps/server.js';
import { cpuSnapshot, foreignCpu } from './lib/foreign.js';
import { completed, target, type CaseResult, type SuiteReport, type Target } from './lib/report.js';
import { median, summarize } from './lib/stats.js';
import { medianOrNull, mulberry32, ratio, round2, round4, settle, shuffled } from './lib/suite.js';
import type { SuiteOptions, SuiteOutput } from './main.js';

/** Seeds (1..N); `--runs` sets N. */
export const DEFAULT_RUNS = 3;

const DATASET = 'wordnet-lf' as const;
const WORKERS = 2;
const SHARDS = 2;
const PEAK_SHARDS = 4;
const QUICK_EPOCHS = 6;
/**
 * Epochs on each side of a reshard's epoch that may serve as its within-run
 * control: those during which other processes used within LOAD_MATCH cores
 * of what they used during the reshard's epoch.
 */
const NEIGHBOURS = 3;
const LOAD_MATCH = 0.25;
/** Epochs on each side of a reshard's epoch whose load decides whether a pair of runs was disturbed. */
const DISTURB_WINDOW = 2;
/** Before each round, wait up to QUIET_MAX_S for other processes to use fewer than QUIET_CORES. */
const QUIET_CORES = 0.5;
const QUIET_MAX_S = 10;
/**
 * A seed's pair of runs is run again (full mode, at most MAX_ATTEMPTS in all)
 * when other processes used QUIET_CORES or more in an epoch within
 * DISTURB_WINDOW of a reshard's epoch, in either run; the least disturbed
 * attempt is kept. Every seed runs once before any runs again (the most
 * disturbed first); no retry starts after RETRY_DEADLINE_S of the suite.
 */
const MAX_ATTEMPTS = 3;
const RETRY_DEADLINE_S = 420;

type Side = 'reshard' | 'baseline';

interface Step {
  readonly epoch: number;
  readonly shards: number;
}

interface EpochRecord {
  readonly rate: number;
  readonly seconds: number;
  readonly loss: number;
  /** CPUs other processes used during the epoch, and the hypervisor stole (null where /proc/stat is unavailable). */
  readonly foreign: number | null;
  readonly steal: number | null;
}

interface GateFigures {
  /** Fences the mover raised (one per chunk moved). */
  readonly fences: number;
  /** From `fenceAsync` to `unfence` (µs): how long the shard's writers were kept out. */
  readonly maxClosedUs: number;
  readonly medianClosedUs: number;
  readonly totalClosedUs: number;
  /** From `fenceAsync` until it resolved (µs): the wait for writers already inside. */
  readonly maxDrainUs: number;
  /** Which move (0-based, in order) kept its shard closed longest, and the first move's time (µs). */
  readonly longestAtMove: number;
  readonly firstClosedUs: number;
}

interface ReshardRecord {
  readonly report: ReshardReport;
  /** The (1-based) epoch it ran in. */
  readonly epoch: number;
  /** Wall time of the `reshard` call on the main thread, and its start after the epoch's start (ms). */
  readonly wallMs: number;
  readonly startMs: number;
  /** The workers had trained the whole epoch when the reshard returned (it then lengthened the epoch). */
  readonly outlastedWorkers: boolean;
  /** Scheduler steps run (`onStep` calls), and those that moved nothing (waiting for old copies to drain). */
  readonly attempts: number;
  readonly idleAttempts: number;
  readonly maxDeferred: number;
  readonly gate: GateFigures | null;
}

interface RunRecord {
  readonly side: Side;
  readonly seed: number;
  readonly epochs: EpochRecord[];
  readonly rate: number;
  readonly trainS: number;
  readonly wallS: number;
  readonly foreign: number | null;
  readonly steal: number | null;
  readonly mrr: number;
  readonly hits10: number;
  readonly mr: number;
  readonly evalS: number;
  readonly reshards: ReshardRecord[];
  readonly chunkRows: number;
  readonly rowFloats: number;
  readonly accFloatsPerRow: number;
  readonly chunks: number;
  readonly model: string;
  readonly settings: Record<string, unknown>;
}

// ------------------------------------------------------------------ instrumentation

interface FenceLock {
  fenceAsync(timeoutMs?: number): Promise<number>;
  unfence(): number;
}

function isFenceLock(x: unknown): x is FenceLock {
  if (x === null || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  return typeof o['fenceAsync'] === 'function' && typeof o['unfence'] === 'function';
}

/**
 * Times the fences the mover raises on this thread's locks of the entity
 * shards, while `active`. Reaches into the server's internals (its
 * `tables.locks`); when they are not where it looks, `attached` is false
 * and the suite reports no gate figures.
 */
class GateMeter {
  active = false;
  closedUs: number[] = [];
  drainUs: number[] = [];
  readonly attached: boolean;

  constructor(ps: ParameterServer, regions: number) {
    const locks = (ps as unknown as { tables?: { locks?: unknown } }).tables?.locks;
    if (!Array.isArray(locks) || locks.length < regions || !locks.slice(0, regions).every(isFenceLock)) {
      this.attached = false;
      return;
    }
    for (const lock of locks.slice(0, regions) as FenceLock[]) {
      const fence = lock.fenceAsync.bind(lock);
      const unfence = lock.unfence.bind(lock);
      let t0 = -1;
      let t1 = -1;
      lock.fenceAsync = async (timeoutMs?: number): Promise<number> => {
        t0 = performance.now();
        const s = await fence(timeoutMs);
        t1 = performance.now();
        return s;
      };
      lock.unfence = (): number => {
        const s = unfence();
        if (this.active && t0 >= 0) {
          const t2 = performance.now();
          this.closedUs.push((t2 - t0) * 1000);
          this.drainUs.push((t1 - t0) * 1000);
        }
        t0 = -1;
        return s;
      };
    }
    this.attached = true;
  }

  /** The figures since the last take, then start afresh. */
  take(): GateFigures | null {
    const closed = this.closedUs;
    const drain = this.drainUs;
    this.closedUs = [];
    this.drainUs = [];
    if (!this.attached || closed.length === 0) return null;
    return {
      fences: closed.length,
      maxClosedUs: Math.round(Math.max(...closed)),
      medianClosedUs: Math.round(median(closed)),
      totalClosedUs: Math.round(closed.reduce((a, b) => a + b, 0)),
      maxDrainUs: Math.round(Math.max(...drain)),
      longestAtMove: closed.indexOf(Math.max(...closed)),
      firstClosedUs: Math.round(closed[0]!),
    };
  }
}

/** Wait until other processes use fewer than QUIET_CORES over 1 s windows, at most `maxS`. */
async function waitQuiet(maxS: number): Promise<{ waitedS: number; foreign: number | null }> {
  const t0 = performance.now();
  for (;;) {
    const snap = cpuSnapshot();
    await settle(1000);
    const last = foreignCpu(snap)?.others ?? null;
    const waited = (performance.now() - t0) / 1000;
    if (last === null || last < QUIET_CORES || waited >= maxS) return { waitedS: round2(waited), foreign: last };
  }
}

/**
 * Copy one chunk (its rows, then its accumulators) from one shared buffer
 * into another on this thread, microseconds: `cold`, the median over
 * `coldReps` destinations never touched before (distinct slices of one
 * large buffer, so every page is written for the first time, as in a
 * shard region no chunk has lived in yet), and `warm`, the median of
 * `warmReps` copies into the same destination.
 */
function chunkCopyUs(
  floatsRows: number,
  floatsAcc: number,
  coldReps: number,
  warmReps: number,
): { coldUs: number; warmUs: number } {
  const f = floatsRows + floatsAcc;
  const src = new Float32Array(new SharedArrayBuffer(f * 4)).fill(0.5);
  const dst = new Float32Array(new SharedArrayBuffer(f * 4 * (coldReps + 1)));
  const copyAt = (k: number): number => {
    const t0 = performance.now();
    dst.set(src.subarray(0, floatsRows), k * f);
    dst.set(src.subarray(floatsRows), k * f + floatsRows);
    return (performance.now() - t0) * 1000;
  };
  const cold: number[] = [];
  for (let k = 1; k <= coldReps; k++) cold.push(copyAt(k));
  const warm: number[] = [];
  copyAt(0);
  for (let i = 0; i < warmReps; i++) warm.push(copyAt(0));
  if (dst[f - 1] !== 0.5 || dst[(coldReps + 1) * f - 1] !== 0.5) throw new Error('chunk copy reference: copy wrong');
  return { coldUs: round2(median(cold)), warmUs: round2(median(warm)) };
}

// ------------------------------------------------------------------ one run

interface Ctx {
  readonly dataset: Dataset;
  readonly filter: FilterIndex;
  readonly evalPool: Piscina;
}

function trainOptions(seed: number, epochs: number, plan: readonly Step[] | null): TrainOptions {
  return validateTrainOptions(
    resolveTrainOptions({
      epochs,
      workers: WORKERS,
      seed,
      shards: SHARDS,
      mode: 'async',
      ...(plan !== null ? { reshardAt: plan } : {}),
    }),
  );
}

async function runOnce(ctx: Ctx, side: Side, seed: number, epochs: number, plan: readonly Step[]): Promise<RunRecord> {
  const options = trainOptions(seed, epochs, side === 'reshard' ? plan : null);
  const n = ctx.dataset.train.count;
  const trainer = new Trainer(ctx.dataset, options);
  const ps = trainer.ps;
  const gate = new GateMeter(ps, ps.numShards);
  const reshards: ReshardRecord[] = [];
  let epochStarted = 0;
  let epochNo = 0;
  // The trainer calls `ps.reshard(shards)`; keep its full report (and the scheduler's idle steps).
  const reshard = ps.reshard.bind(ps);
  ps.reshard = async (shards: number, o: LiveReshardOptions = {}): Promise<ReshardReport> => {
    const steps: ReshardStepReport[] = [];
    const t0 = performance.now();
    gate.active = true;
    let report: ReshardReport;
    try {
      report = await reshard(shards, {
        ...o,
        onStep: (s) => {
          steps.push(s);
          o.onStep?.(s);
        },
      });
    } finally {
      gate.active = false;
    }
    const t1 = performance.now();
    reshards.push({
      report,
      epoch: epochNo + 1,
      wallMs: round2(t1 - t0),
      startMs: round2(t0 - epochStarted),
      outlastedWorkers: trainer.epochProgress() === n,
      attempts: steps.length,
      idleAttempts: steps.filter((s) => s.moved === 0).length,
      maxDeferred: steps.reduce((m, s) => Math.max(m, s.deferred), 0),
      gate: gate.take(),
    });
    return report;
  };
  const wall0 = performance.now();
  const runSnap = cpuSnapshot();
  try {
    const records: EpochRecord[] = [];
    for (let e = 0; e < epochs; e++) {
      const snap = cpuSnapshot();
      epochNo = e;
      epochStarted = performance.now();
      const r = await trainer.epoch(e);
      const f = foreignCpu(snap);
      if (r.positives !== n) throw new Error(`epoch ${e + 1}: trained ${r.positives} positives, expected ${n}`);
      if (!Number.isFinite(r.loss)) throw new Error(`epoch ${e + 1}: non-finite loss ${r.loss}`);
      records.push({
        rate: r.positives / r.seconds,
        seconds: r.seconds,
        loss: r.loss,
        foreign: f?.others ?? null,
        steal: f?.steal ?? null,
      });
    }
    const runForeign = foreignCpu(runSnap);
    const wallS = (performance.now() - wall0) / 1000;
    // The reshards happened as planned, the trainer's entries agree with the reports, nothing moved otherwise.
    const moves = ps.moveStats().moves;
    if (side === 'reshard') {
      if (reshards.length !== plan.length || trainer.reshards.length !== plan.length)
        throw new Error(`${reshards.length} reshard(s) recorded, ${trainer.reshards.length} by the trainer`);
      plan.forEach((p, i) => {
        const r = reshards[i]!;
        const t = trainer.reshards[i]!;
        const from = i === 0 ? SHARDS : plan[i - 1]!.shards;
        if (r.epoch !== p.epoch || t.epoch !== p.epoch || r.report.from !== from || r.report.to !== p.shards)
          throw new Error(`reshard ${i + 1}: epoch ${r.epoch} ${r.report.from} -> ${r.report.to}, planned ${p.epoch}`);
        if (t.chunksMoved !== r.report.chunksMoved || t.maxWriterPauseUs !== r.report.maxWriterPauseUs)
          throw new Error(`reshard ${i + 1}: the trainer's entry differs from the server's report`);
      });
      const total = reshards.reduce((s, r) => s + r.report.chunksMoved, 0);
      if (moves !== total) throw new Error(`moveStats counts ${moves} moves, the reports ${total}`);
      if (ps.activeShards() !== plan[plan.length - 1]!.shards)
        throw new Error(`${ps.activeShards()} active shards at the end`);
    } else if (moves !== 0 || trainer.reshards.length !== 0) {
      throw new Error(`the run without resharding moved ${moves} chunk(s)`);
    }
    const t = trainer.tables();
    const ev = await evaluate({
      model: createModel(trainer.model.name),
      dim: options.dim,
      entities: t.entities,
      relations: t.relations,
      dataset: ctx.dataset,
      split: 'test',
      filter: ctx.filter,
      pool: ctx.evalPool,
    });
    const cfg = ps.handle.config;
    const rowFloats = cfg.dim;
    const accFloatsPerRow = options.optimizer === 'sgd' ? 0 : options.optimizer === 'adagrad-row' ? 1 : cfg.dim;
    return {
      side,
      seed,
      epochs: records,
      rate: trainer.triplesPerSecond(),
      trainS: trainer.trainSeconds,
      wallS,
      foreign: runForeign?.others ?? null,
      steal: runForeign?.steal ?? null,
      mrr: ev.both.mrr,
      hits10: ev.both.hits10,
      mr: ev.both.mr,
      evalS: ev.seconds,
      reshards,
      chunkRows: cfg.chunkRows,
      rowFloats,
      accFloatsPerRow,
      chunks: Math.ceil(ctx.dataset.entities.length / cfg.chunkRows),
      model: options.model,
      settings: { model: options.model, ...settingsJson(options) },
    };
  } finally {
    await trainer.close();
  }
}

// ------------------------------------------------------------------ figures

/**
 * Epochs (1-based) of run `r` within NEIGHBOURS of `epoch`: not epoch 1, not
 * one in `skip`, and during which other processes used within LOAD_MATCH
 * cores of what they used during `epoch` (all of them where unknown).
 */
function neighbours(r: RunRecord, epoch: number, epochs: number, skip: readonly number[]): number[] {
  const load = (e: number): number | null => r.epochs[e - 1]!.foreign;
  const out: number[] = [];
  for (let e = epoch - NEIGHBOURS; e <= epoch + NEIGHBOURS; e++) {
    if (e === epoch || e <= 1 || e > epochs || skip.includes(e)) continue;
    const a = load(e);
    const b = load(epoch);
    if (a === null || b === null || Math.abs(a - b) < LOAD_MATCH) out.push(e);
  }
  return out;
}

function rateAt(r: RunRecord, epoch: number): number {
  return r.epochs[epoch - 1]!.rate;
}

function secondsAt(r: RunRecord, epoch: number): number {
  return r.epochs[epoch - 1]!.seconds;
}

/** Epoch `epoch`'s rate over the median rate of its neighbours in the same run. */
function vsNeighbours(r: RunRecord, epoch: number, epochs: number, skip: readonly number[]): number | null {
  const nb = neighbours(r, epoch, epochs, skip);
  return nb.length === 0 ? null : rateAt(r, epoch) / median(nb.map((e) => rateAt(r, e)));
}

/**
 * Median rate of each run over epochs [a, b] (1-based, inclusive), minus
 * epoch 1, the reshard epochs and the epochs during which other processes
 * used QUIET_CORES or more in either run; null if none is left.
 */
function phaseRates(
  x: { r: RunRecord; b: RunRecord },
  a: number,
  b: number,
  skip: readonly number[],
): { r: number; b: number } | null {
  const rr: number[] = [];
  const bb: number[] = [];
  for (let e = Math.max(2, a); e <= b; e++) {
    if (skip.includes(e)) continue;
    if ((x.r.epochs[e - 1]!.foreign ?? 0) >= QUIET_CORES || (x.b.epochs[e - 1]!.foreign ?? 0) >= QUIET_CORES) continue;
    rr.push(rateAt(x.r, e));
    bb.push(rateAt(x.b, e));
  }
  return rr.length > 0 ? { r: median(rr), b: median(bb) } : null;
}

/** The most CPUs other processes used in an epoch within DISTURB_WINDOW of a reshard's epoch (0 when unknown). */
function disturbance(r: RunRecord, planEpochs: readonly number[], epochs: number): number {
  let m = 0;
  for (const p of planEpochs)
    for (let e = Math.max(1, p - DISTURB_WINDOW); e <= Math.min(epochs, p + DISTURB_WINDOW); e++)
      m = Math.max(m, r.epochs[e - 1]!.foreign ?? 0);
  return round2(m);
}

/** What a discarded attempt measured (kept in the report, left out of the figures). */
function summaryOf(x: { r: RunRecord; b: RunRecord; d: number; attempt: number }): Record<string, unknown> {
  return {
    seed: x.r.seed,
    attempt: x.attempt,
    foreignCoresNearReshards: x.d,
    positivesPerS: { reshard: Math.round(x.r.rate), baseline: Math.round(x.b.rate) },
    mrr: { reshard: round4(x.r.mrr), baseline: round4(x.b.mrr) },
    reshards: x.r.reshards.map((q) => ({
      from: q.report.from,
      to: q.report.to,
      maxWriterPauseUs: q.report.maxWriterPauseUs,
      totalWriterPauseUs: q.report.totalWriterPauseUs,
      convergeMs: round2(q.report.convergeMs),
    })),
  };
}

function keyOf(s: Step): string {
  return `to_${s.shards}`;
}

// ------------------------------------------------------------------ suite

export async function runReshard(o: SuiteOptions): Promise<SuiteOutput> {
  if (o.only !== undefined) throw new Error('--only: the reshard suite has no case groups');
  const seeds = o.quick ? [1] : Array.from({ length: o.runs ?? DEFAULT_RUNS }, (_, i) => i + 1);
  const epochs = o.quick ? QUICK_EPOCHS : resolveTrainOptions({}).epochs;
  const plan: Step[] = [
    { epoch: Math.floor(epochs / 3) + 1, shards: PEAK_SHARDS },
    { epoch: Math.floor((2 * epochs) / 3) + 1, shards: SHARDS },
  ];
  const planEpochs = plan.map((p) => p.epoch);
  const label = (i: number): string => `${i === 0 ? SHARDS : plan[i - 1]!.shards}→${plan[i]!.shards}`;
  const notes: string[] = [];
  const cases: CaseResult[] = [];
  const ratios: SuiteReport['ratios'] = {};
  const figures: Record<string, number | null> = {};
  const targets: Record<string, Target> = {};

  const dataset = loadWordnet({ variant: DATASET });
  const evalPool = new Piscina({
    filename: EVAL_TASK_FILENAME,
    minThreads: WORKERS,
    maxThreads: WORKERS,
    idleTimeout: 60_000,
  });
  const ctx: Ctx = { dataset, filter: FilterIndex.fromDataset(dataset), evalPool };
  const runs: Record<Side, RunRecord[]> = { reshard: [], baseline: [] };
  const quiet: Array<{ seed: number; attempt: number; side: Side; waitedS: number; foreign: number | null }> = [];
  const kept: Array<{ seed: number; attempt: number; disturbance: number }> = [];
  const discarded: Array<Record<string, unknown>> = [];
  const started = performance.now();
  const maxAttempts = o.quick ? 1 : MAX_ATTEMPTS;
  type Pair = { r: RunRecord; b: RunRecord; d: number; attempt: number };
  const best = new Map<number, Pair>();
  const attempts = new Map<number, number>();
  const failed = new Set<number>();
  /** One attempt of a seed's pair; keeps the less disturbed of it and the best so far. */
  const attemptSeed = async (seed: number): Promise<void> => {
    const attempt = (attempts.get(seed) ?? 0) + 1;
    attempts.set(seed, attempt);
    const order = shuffled<Side>(['reshard', 'baseline'], mulberry32(seed * 7919 + attempt * 31));
    o.log(`seed ${seed}, attempt ${attempt}: ${order.join(' then ')}`);
    const got: Partial<Record<Side, RunRecord>> = {};
    for (const side of order) {
      const q = await waitQuiet(o.quick ? 2 : QUIET_MAX_S);
      quiet.push({ seed, attempt, side, ...q });
      await settle();
      try {
        const r = await runOnce(ctx, side, seed, epochs, plan);
        got[side] = r;
        o.log(
          `  ${side} seed ${seed}: ${r.rate.toFixed(0)} positives/s, MRR ${r.mrr.toFixed(4)}, ` +
            `Hits@10 ${r.hits10.toFixed(4)}, MR ${r.mr.toFixed(0)}, ` +
            `others ${disturbance(r, planEpochs, epochs)} cores near the reshards` +
            r.reshards
              .map(
                (x) =>
                  `; ${x.report.from}→${x.report.to}: ${x.report.chunksMoved} chunks, ${x.report.steps} steps, ` +
                  `max pause ${x.report.maxWriterPauseUs} µs, converged ${x.report.convergeMs.toFixed(1)} ms`,
              )
              .join(''),
        );
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        cases.push({ state: 'errored', name: `${side} run seed ${seed}`, group: side, error: msg });
        o.log(`  ${side} seed ${seed}: ERROR ${msg}`);
        failed.add(seed);
        return;
      }
    }
    const cand: Pair = {
      r: got.reshard!,
      b: got.baseline!,
      d: Math.max(disturbance(got.reshard!, planEpochs, epochs), disturbance(got.baseline!, planEpochs, epochs)),
      attempt,
    };
    const prev = best.get(seed);
    if (prev === undefined || cand.d < prev.d) {
      if (prev !== undefined) discarded.push(summaryOf(prev));
      best.set(seed, cand);
    } else {
      discarded.push(summaryOf(cand));
    }
  };
  try {
    for (const seed of seeds) await attemptSeed(seed);
    // Retries: the most disturbed seed with attempts left, while the budget lasts.
    for (;;) {
      if ((performance.now() - started) / 1000 > RETRY_DEADLINE_S) break;
      const next = seeds
        .filter((s) => !failed.has(s) && (attempts.get(s) ?? 0) < maxAttempts)
        .map((s) => ({ s, d: best.get(s)?.d ?? 0 }))
        .filter((x) => x.d >= QUIET_CORES)
        .sort((a, b) => b.d - a.d || (attempts.get(a.s) ?? 0) - (attempts.get(b.s) ?? 0))[0];
      if (next === undefined) break;
      await attemptSeed(next.s);
    }
    for (const seed of seeds) {
      const x = best.get(seed);
      if (x === undefined) continue;
      runs.reshard.push(x.r);
      runs.baseline.push(x.b);
      kept.push({ seed, attempt: x.attempt, disturbance: x.d });
    }
  } finally {
    await evalPool.destroy();
  }

  const R = runs.reshard;
  const B = runs.baseline;
  // Same-seed pairs (both runs completed).
  const pairs = R.flatMap((r) => {
    const b = B.find((x) => x.seed === r.seed);
    return b === undefined ? [] : [{ r, b }];
  });
  // Pairs during which no other process used QUIET_CORES or more near a reshard, in either run.
  const quietPairs = pairs.filter(
    (x) => disturbance(x.r, planEpochs, epochs) < QUIET_CORES && disturbance(x.b, planEpochs, epochs) < QUIET_CORES,
  );
  figures['quiet_seeds'] = quietPairs.length;
  const first = R[0] ?? B[0];
  const common = first === undefined ? {} : { dataset: DATASET, settings: first.settings, epochs, reshardAt: plan };
  const perRun = (rs: readonly RunRecord[]): Record<string, unknown> => ({
    seeds: rs.map((r) => r.seed),
    train_s: rs.map((r) => round2(r.trainS)),
    wall_s: rs.map((r) => round2(r.wallS)),
    foreignCpusPerRun: rs.map((r) => r.foreign),
    stealCpusPerRun: rs.map((r) => r.steal),
  });

  // ---------------------------------------------------------------- throughput
  const sideName = (side: Side): string =>
    side === 'reshard' ? `reshard run (${SHARDS}→${PEAK_SHARDS}→${SHARDS})` : 'baseline run (no reshard)';
  for (const [side, rs] of [
    ['reshard', R],
    ['baseline', B],
  ] as const) {
    if (rs.length === 0) continue;
    cases.push(
      completed(
        `${sideName(side)}: positives/s, whole run`,
        side,
        'positives/s',
        'higher',
        rs.map((r) => Math.round(r.rate)),
        {
          ...common,
          ...perRun(rs),
          how: 'Trainer.triplesPerSecond(): positives / seconds of all epochs (epoch 1 includes the pool start)',
          epochRates: rs.map((r) => r.epochs.map((e) => Math.round(e.rate))),
          epochForeignCpus: rs.map((r) => r.epochs.map((e) => e.foreign)),
          epochStealCpus: rs.map((r) => r.epochs.map((e) => e.steal)),
          foreignCoresNearReshards: rs.map((r) => disturbance(r, planEpochs, epochs)),
          attemptKept: rs.map((r) => kept.find((k) => k.seed === r.seed)?.attempt ?? null),
          ...(side === 'reshard' ? { discardedAttempts: discarded } : {}),
        },
        { positivesPerEpoch: dataset.train.count, epochsChecked: rs.length * epochs },
      ),
    );
  }
  ratios['run_vs_baseline'] =
    R.length > 0 && B.length > 0 ? round4(ratio(median(R.map((r) => r.rate)), median(B.map((r) => r.rate)))!) : null;
  ratios['paired_run_vs_baseline'] = pairs.length > 0 ? round4(median(pairs.map((p) => p.r.rate / p.b.rate))) : null;

  const epochVsBase: Record<string, number | null> = {};
  const epochVsBasePaired: Record<string, number | null> = {};
  const epochVsNb: Record<string, number | null> = {};
  const baseVsNb: Record<string, number | null> = {};
  plan.forEach((p, i) => {
    const k = keyOf(p);
    for (const [side, rs] of [
      ['reshard', R],
      ['baseline', B],
    ] as const) {
      if (rs.length === 0) continue;
      cases.push(
        completed(
          side === 'reshard'
            ? `reshard run: positives/s, epoch ${p.epoch} (reshard ${label(i)})`
            : `baseline run: positives/s, epoch ${p.epoch} (no reshard)`,
          side,
          'positives/s',
          'higher',
          rs.map((r) => Math.round(rateAt(r, p.epoch))),
          {
            seeds: rs.map((r) => r.seed),
            epochSeconds: rs.map((r) => round4(secondsAt(r, p.epoch))),
            neighbourEpochs: rs.map((r) => neighbours(r, p.epoch, epochs, planEpochs)),
            vsNeighbours: rs.map((r) => {
              const v = vsNeighbours(r, p.epoch, epochs, planEpochs);
              return v === null ? null : round4(v);
            }),
            foreignCpus: rs.map((r) => r.epochs[p.epoch - 1]!.foreign),
          },
          { positives: dataset.train.count },
        ),
      );
    }
    epochVsBase[k] =
      R.length > 0 && B.length > 0
        ? round4(median(R.map((r) => rateAt(r, p.epoch))) / median(B.map((r) => rateAt(r, p.epoch))))
        : null;
    epochVsBasePaired[k] =
      pairs.length > 0 ? round4(median(pairs.map((x) => rateAt(x.r, p.epoch) / rateAt(x.b, p.epoch)))) : null;
    const nbR = medianOrNull(R.map((r) => vsNeighbours(r, p.epoch, epochs, planEpochs)));
    const nbB = medianOrNull(B.map((r) => vsNeighbours(r, p.epoch, epochs, planEpochs)));
    epochVsNb[k] = nbR === null ? null : round4(nbR);
    baseVsNb[k] = nbB === null ? null : round4(nbB);
    // Extra epoch time: the reshard epoch's seconds minus the median of its neighbours' (same run), ms.
    const extraOf = (r: RunRecord): number | null => {
      const nb = neighbours(r, p.epoch, epochs, planEpochs);
      return nb.length === 0 ? null : (secondsAt(r, p.epoch) - median(nb.map((e) => secondsAt(r, e)))) * 1000;
    };
    const extra = medianOrNull(R.map(extraOf));
    figures[`reshard_epoch_extra_ms_${k}`] = extra === null ? null : round2(extra);
    // The same over the quiet pairs only (no other process near either reshard in either run).
    const qp = quietPairs;
    const r4 = (x: number | null): number | null => (x === null ? null : round4(x));
    epochVsBase[`quiet_${k}`] =
      qp.length > 0
        ? r4(median(qp.map((x) => rateAt(x.r, p.epoch))) / median(qp.map((x) => rateAt(x.b, p.epoch))))
        : null;
    epochVsBasePaired[`quiet_${k}`] =
      qp.length > 0 ? r4(median(qp.map((x) => rateAt(x.r, p.epoch) / rateAt(x.b, p.epoch)))) : null;
  });
  ratios['reshard_epoch_vs_baseline'] = epochVsBase;
  ratios['paired_reshard_epoch_vs_baseline'] = epochVsBasePaired;
  ratios['reshard_epoch_vs_neighbours'] = epochVsNb;
  ratios['baseline_epoch_vs_neighbours'] = baseVsNb;
  const phases: Record<string, [number, number]> = {
    [`before_${SHARDS}_shards`]: [1, plan[0]!.epoch - 1],
    [`at_${PEAK_SHARDS}_shards`]: [plan[0]!.epoch + 1, plan[1]!.epoch - 1],
    [`after_${SHARDS}_shards`]: [plan[1]!.epoch + 1, epochs],
  };
  const phaseVs: Record<string, number | null> = {};
  for (const [name, [a, b]] of Object.entries(phases)) {
    const v = medianOrNull(
      pairs.map((x) => {
        const q = phaseRates(x, a, b, planEpochs);
        return q === null ? null : q.r / q.b;
      }),
    );
    phaseVs[name] = v === null ? null : round4(v);
  }
  ratios['phase_vs_baseline'] = phaseVs;

  // ---------------------------------------------------------------- the reshards
  const copyRef =
    first === undefined
      ? null
      : chunkCopyUs(first.chunkRows * first.rowFloats, first.chunkRows * first.accFloatsPerRow, 32, 200);
  const meanVsCopy: Record<string, number | null> = {};
  const maxVsCopy: Record<string, number | null> = {};
  let maxPauseAll: number | null = null;
  plan.forEach((p, i) => {
    const k = keyOf(p);
    const recs = R.map((r) => r.reshards[i]!);
    if (recs.length === 0) return;
    const rep = recs.map((x) => x.report);
    const params = {
      seeds: R.map((r) => r.seed),
      epoch: p.epoch,
      from: rep.map((x) => x.from),
      to: rep.map((x) => x.to),
      steps: rep.map((x) => x.steps),
      chunksMoved: rep.map((x) => x.chunksMoved),
      maxWriterPauseUs: rep.map((x) => x.maxWriterPauseUs),
      totalWriterPauseUs: rep.map((x) => x.totalWriterPauseUs),
      convergeMs: rep.map((x) => round2(x.convergeMs)),
      version: rep.map((x) => x.version),
      drainingAtEnd: rep.map((x) => x.draining),
      schedulerAttempts: recs.map((x) => x.attempts),
      idleAttempts: recs.map((x) => x.idleAttempts),
      maxDeferred: recs.map((x) => x.maxDeferred),
      callWallMs: recs.map((x) => x.wallMs),
      startAfterEpochStartMs: recs.map((x) => x.startMs),
      outlastedWorkers: recs.map((x) => x.outlastedWorkers),
      gate: recs.map((x) => x.gate),
    };
    const checks = { chunksOfTheTable: first!.chunks, movesMatchMoveStats: true, trainerEntriesMatch: true };
    cases.push(
      completed(
        `reshard ${label(i)}: longest writer pause`,
        'reshard',
        'µs',
        'lower',
        rep.map((x) => x.maxWriterPauseUs),
        params,
        checks,
        'ReshardReport.maxWriterPauseUs: one move, from the fence raised (writers inside gone) to lowered',
      ),
      completed(
        `reshard ${label(i)}: total writer pause`,
        'reshard',
        'µs',
        'lower',
        rep.map((x) => x.totalWriterPauseUs),
        { seeds: params.seeds, chunksMoved: params.chunksMoved },
        {},
        'ReshardReport.totalWriterPauseUs: the sum over moves (each pause holds up only its source shard)',
      ),
      completed(
        `reshard ${label(i)}: placement converged`,
        'reshard',
        'ms',
        'lower',
        rep.map((x) => round2(x.convergeMs)),
        { seeds: params.seeds, steps: params.steps, chunksMoved: params.chunksMoved },
        {},
        'ReshardReport.convergeMs: from the call until the placement was the ideal one',
      ),
    );
    figures[`max_writer_pause_us_${k}`] = median(rep.map((x) => x.maxWriterPauseUs));
    figures[`total_writer_pause_us_${k}`] = median(rep.map((x) => x.totalWriterPauseUs));
    figures[`converge_ms_${k}`] = round2(median(rep.map((x) => x.convergeMs)));
    figures[`chunks_moved_${k}`] = median(rep.map((x) => x.chunksMoved));
    figures[`steps_${k}`] = median(rep.map((x) => x.steps));
    const gates = recs.map((x) => x.gate).filter((g): g is GateFigures => g !== null);
    figures[`gate_closed_max_us_${k}`] = gates.length > 0 ? median(gates.map((g) => g.maxClosedUs)) : null;
    figures[`gate_closed_median_us_${k}`] = gates.length > 0 ? median(gates.map((g) => g.medianClosedUs)) : null;
    const worst = Math.max(...rep.map((x) => x.maxWriterPauseUs));
    maxPauseAll = Math.max(maxPauseAll ?? 0, worst);
    if (copyRef !== null && copyRef.warmUs > 0 && copyRef.coldUs > 0) {
      // The mean pause of a move (total / chunks moved) and the longest, over a warm and a cold copy of one chunk.
      const mean = median(rep.map((x) => x.totalWriterPauseUs / Math.max(1, x.chunksMoved)));
      const max = median(rep.map((x) => x.maxWriterPauseUs));
      meanVsCopy[k] = round2(mean / copyRef.warmUs);
      meanVsCopy[`cold_${k}`] = round2(mean / copyRef.coldUs);
      maxVsCopy[k] = round2(max / copyRef.warmUs);
      maxVsCopy[`cold_${k}`] = round2(max / copyRef.coldUs);
    }
  });
  figures['max_writer_pause_us_any'] = maxPauseAll;
  if (copyRef !== null) {
    figures['one_chunk_copy_us_warm'] = copyRef.warmUs;
    figures['one_chunk_copy_us_cold'] = copyRef.coldUs;
    ratios['mean_writer_pause_vs_one_chunk_copy'] = meanVsCopy;
    ratios['max_writer_pause_vs_one_chunk_copy'] = maxVsCopy;
  }

  // ---------------------------------------------------------------- quality
  for (const [side, rs] of [
    ['reshard', R],
    ['baseline', B],
  ] as const) {
    if (rs.length === 0) continue;
    cases.push(
      completed(
        `${sideName(side)}: filtered test MRR`,
        side,
        'MRR',
        'higher',
        rs.map((r) => round4(r.mrr)),
        {
          seeds: rs.map((r) => r.seed),
          hits10: rs.map((r) => round4(r.hits10)),
          mr: rs.map((r) => Math.round(r.mr)),
          eval_s: rs.map((r) => round2(r.evalS)),
          finalLoss: rs.map((r) => round4(r.epochs[r.epochs.length - 1]!.loss)),
        },
        { testTriples: dataset.test.count },
      ),
    );
    figures[`mrr_${side}`] = round4(median(rs.map((r) => r.mrr)));
    figures[`hits10_${side}`] = round4(median(rs.map((r) => r.hits10)));
    figures[`mr_${side}`] = Math.round(median(rs.map((r) => r.mr)));
  }
  if (B.length > 0) {
    const s = summarize(B.map((r) => r.mrr));
    figures['baseline_mrr_min'] = round4(s.min);
    figures['baseline_mrr_max'] = round4(s.max);
    figures['baseline_mrr_spread_pct'] = round2(s.spreadPct);
  }
  if (R.length > 0) figures['reshard_mrr_spread_pct'] = round2(summarize(R.map((r) => r.mrr)).spreadPct);
  const mrrRatio = pairs.length > 0 ? round4(median(pairs.map((x) => x.r.mrr / x.b.mrr))) : null;
  ratios['mrr_reshard_vs_baseline'] = mrrRatio;
  ratios['hits10_reshard_vs_baseline'] =
    pairs.length > 0 ? round4(median(pairs.map((x) => x.r.hits10 / x.b.hits10))) : null;
  ratios['mr_reshard_vs_baseline'] = pairs.length > 0 ? round4(median(pairs.map((x) => x.r.mr / x.b.mr))) : null;
  if (B.length > 0) {
    const sb = summarize(B.map((r) => r.mrr));
    // Within noise: the reshard run loses no more MRR than the baseline's seed-to-seed range.
    const floor = round4(1 - (sb.max - sb.min) / sb.median);
    targets['mrr_within_baseline_noise'] = target(
      'median over seeds of the same-seed MRR ratio (reshard / baseline), at least 1 - the baseline MRR range ' +
        `over its median (${B.length} seed${B.length === 1 ? '' : 's'})`,
      mrrRatio,
      '>=',
      floor,
    );
  }

  // ---------------------------------------------------------------- notes
  const all = [...R, ...B];
  const foreign = all.map((r) => r.foreign).filter((x): x is number => x !== null);
  if (foreign.length > 0) {
    const f = summarize(foreign);
    figures['foreign_cpus_median'] = round2(f.median);
    notes.push(
      `other processes used ${round2(f.median)} cores (median over runs; min ${round2(f.min)}, ` +
        `max ${round2(f.max)}) of this ${availableParallelism()}-CPU machine while the runs trained` +
        (f.max >= QUIET_CORES
          ? ': the machine was NOT quiet throughout; per-epoch foreign CPU is in the whole-run cases ' +
            '(epochForeignCpus) and beside each reshard epoch'
          : ''),
    );
  }
  notes.push(
    `rounds: one per seed, its two runs in a shuffled order, each after a wait of up to ` +
      `${o.quick ? 2 : QUIET_MAX_S} s for other processes to use < ${QUIET_CORES} cores: ` +
      quiet.map((q) => `seed ${q.seed}.${q.attempt} ${q.side} (${q.waitedS} s -> ${q.foreign ?? '?'})`).join(', '),
    maxAttempts > 1
      ? `a seed's pair was run again (at most ${MAX_ATTEMPTS} attempts, none started after ${RETRY_DEADLINE_S} s) ` +
          `when other processes used >= ${QUIET_CORES} cores in an epoch within ${DISTURB_WINDOW} of a reshard's, ` +
          'in either run; the least disturbed attempt is kept: ' +
          kept.map((k) => `seed ${k.seed}: attempt ${k.attempt} (${k.disturbance} cores)`).join(', ') +
          `; ${discarded.length} attempt(s) discarded ` +
          "(their figures: params.discardedAttempts of the reshard run's whole-run case)"
      : '--quick: 1 seed, 1 attempt',
    `${DATASET}, kgshard train's defaults (${first?.model ?? '?'}, ${epochs} epochs), ` +
      `${WORKERS} workers, async, ${SHARDS} shards; the reshard run adds reshardAt ` +
      plan.map((p) => `${p.epoch}:${p.shards}`).join(',') +
      '; same seed, same settings otherwise',
    `*_epoch_vs_neighbours: the epoch over the median of the epochs within ${NEIGHBOURS} of it in the same run ` +
      `during which other processes used within ${LOAD_MATCH} cores of what they used during it ` +
      '(params.neighbourEpochs); reshard_epoch_extra_ms_*: its seconds minus theirs',
    'phase_vs_baseline: same-seed ratios of the median epoch (epoch 1 and the reshard epochs left out, and ' +
      `every epoch during which other processes used >= ${QUIET_CORES} cores in either run)`,
    `the reshard run's server is made with ${PEAK_SHARDS} shard regions (${SHARDS} active) sized for the move, ` +
      `the baseline's with ${SHARDS}: phase_vs_baseline.before_* shows what that layout alone costs`,
    'an epoch with a reshard: the trainer runs the reshard beside the workers and the epoch ends when both are ' +
      'done (params.outlastedWorkers says when the reshard finished after the workers)',
    'writer pause (ReshardReport): per move, from the source shard fenced (its writers already inside gone) to ' +
      'the fence lowered; params.gate (instrumented here, from fenceAsync to unfence on the main thread) also ' +
      "counts the wait for the writers inside, i.e. the whole time the shard's gate was closed",
    'one_chunk_copy_us_*: one chunk of rows and Adagrad accumulators copied between two shared buffers on the main ' +
      'thread, no training running (cold: median over 32 destinations never touched before; warm: median of 200 ' +
      'copies into one)',
    'test metrics are filtered (train + valid + test), ties counted as the mean rank, over heads and tails',
  );
  return { cases, ratios, figures, targets, notes };
}
