/**
 * What a trainer records beside its tables: where an epoch was when a
 * checkpoint was taken while it ran (`PartialEpoch`, the runs of the
 * epoch's order not yet trained), and what training saw of the parameter
 * server (`PsFigures`: the workers' reads, pushes and staleness, the
 * snapshots and the pauses they cost the writers).
 */
import { invalidArgument } from '../errors.js';
import type { ParameterServer, SnapshotReport } from '../ps/server.js';
import type { TaskResult } from './train-task.js';

/** Where an epoch was when a checkpoint was taken while it ran. */
export interface PartialEpoch {
  readonly epoch: number;
  /**
   * Positions of the epoch's order not yet trained, as [start, end) pairs,
   * flat: every position outside them was trained and pushed before the
   * tables were copied (positions in flight may be in the copy too).
   */
  readonly remaining: number[];
  /** Positives trained in the epoch so far, and the seconds it had run. */
  readonly positives: number;
  readonly seconds: number;
}

/** What training saw of the parameter server (`Trainer.psReport`). */
export interface PsTrainingReport {
  readonly shards: number;
  readonly mode: 'async' | 'sync';
  /** Shard reads (a chunk's gather counts once per shard it touched) and Hogwild pushes (one per shard per chunk). */
  readonly pulls: number;
  readonly pushes: number;
  readonly relationPushes: number;
  /** Sync steps completed at the shards' barriers. */
  readonly barriers: number;
  /** Staleness of async pushes: pushes to the shard by anyone since this worker's last read of it. */
  readonly meanStaleness: number;
  readonly maxStaleness: number;
  /** Snapshots taken while training ran, and the longest time one table stayed fenced (ms). */
  readonly snapshots: number;
  readonly snapshotFenceMaxMs: number;
  /** Pushes that waited at a fenced shard, and those waits (µs). */
  readonly writerPauses: number;
  readonly writerPauseUs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly warnings: number;
}

/** Running totals of a `PsFigures` (cheap to read after every epoch; differences give one epoch's figures). */
export interface PsTotals {
  /** Async pushes and the sum of their staleness (sync mode: 0). */
  readonly pushes: number;
  readonly stalenessSum: number;
  readonly snapshots: number;
  readonly writerPauses: number;
}

/** Writer pauses kept for the percentiles. */
const MAX_PAUSE_SAMPLES = 100_000;

/** The running totals behind a `PsTrainingReport`. */
export class PsFigures {
  private pulls = 0;
  private pushes = 0;
  private relationPushes = 0;
  private stalenessSum = 0;
  private stalenessMax = 0;
  private pauses = 0;
  private pauseMaxUs = 0;
  private snapshots = 0;
  private fenceMaxMs = 0;
  private readonly pauseSamples: number[] = [];

  /** Add one task's client figures (none on the direct path). */
  addTask(r: TaskResult): void {
    const p = r.ps;
    if (p === null) return;
    this.pulls += p.reads;
    this.pushes += p.pushes;
    this.relationPushes += p.relationPushes;
    this.stalenessSum += p.stalenessSum;
    this.stalenessMax = Math.max(this.stalenessMax, p.stalenessMax);
    this.pauses += p.pauses;
    this.pauseMaxUs = Math.max(this.pauseMaxUs, p.pauseMaxUs);
    for (const us of p.pauseSamples) if (this.pauseSamples.length < MAX_PAUSE_SAMPLES) this.pauseSamples.push(us);
  }

  addSnapshot(r: SnapshotReport): void {
    this.snapshots++;
    for (const ms of r.fencedMs) this.fenceMaxMs = Math.max(this.fenceMaxMs, ms);
  }

  totals(): PsTotals {
    return {
      pushes: this.pushes,
      stalenessSum: this.stalenessSum,
      snapshots: this.snapshots,
      writerPauses: this.pauses,
    };
  }

  /** The figures so far; sync mode's pushes are the server's applied steps. */
  report(ps: ParameterServer, mode: 'async' | 'sync'): PsTrainingReport {
    const stats = ps.stats();
    const sorted = Float64Array.from(this.pauseSamples).sort();
    const q = (f: number): number => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]!;
    return {
      shards: ps.activeShards(),
      mode,
      pulls: this.pulls,
      pushes: mode === 'sync' ? stats.pushes : this.pushes,
      relationPushes: mode === 'sync' ? stats.relationPushes : this.relationPushes,
      barriers: stats.barriersCompleted,
      meanStaleness: this.pushes > 0 ? this.stalenessSum / this.pushes : 0,
      maxStaleness: this.stalenessMax,
      snapshots: this.snapshots,
      snapshotFenceMaxMs: this.fenceMaxMs,
      writerPauses: this.pauses,
      writerPauseUs: sorted.length === 0 ? null : { p50: q(0.5), p99: q(0.99), max: this.pauseMaxUs },
      warnings: stats.warnings,
    };
  }
}

/** Append the positions `map[from..to)` (or [from, to) when `map` is null) to `out` as [start, end) runs. */
export function addSegments(out: number[], map: Int32Array | null, from: number, to: number): void {
  if (from >= to) return;
  if (map === null) {
    out.push(from, to);
    return;
  }
  let start = map[from]!;
  let prev = start;
  for (let i = from + 1; i < to; i++) {
    const p = map[i]!;
    if (p !== prev + 1) {
      out.push(start, prev + 1);
      start = p;
    }
    prev = p;
  }
  out.push(start, prev + 1);
}

/** A partial epoch continues the epoch after the completed ones, its segments inside the epoch's order of `n`. */
export function checkPartial(p: PartialEpoch, epochsDone: number, n: number): void {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw invalidArgument('Trainer.restore', `partial.${field}`, value, expected);
  };
  if (p.epoch !== epochsDone) bad('epoch', p.epoch, `the epoch after the completed ones (${epochsDone})`);
  const r = p.remaining;
  if (!Array.isArray(r) || r.length % 2 !== 0) bad('remaining', r, 'a flat list of [start, end) pairs');
  for (let i = 0; i < r.length; i += 2) {
    const a = r[i]!;
    const b = r[i + 1]!;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b <= a || b > n)
      bad(`remaining[${i}]`, [a, b], `a non-empty range inside [0, ${n})`);
  }
  if (!Number.isSafeInteger(p.positives) || p.positives < 0) bad('positives', p.positives, 'a non-negative integer');
  if (!(Number.isFinite(p.seconds) && p.seconds >= 0)) bad('seconds', p.seconds, 'a finite number >= 0');
}
