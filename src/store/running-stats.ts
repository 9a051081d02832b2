/**
 * Per-relation running statistics of the training loss: count, mean and
 * M2 (the sum of squared deviations from the mean), updated one sample at a
 * time with Welford's method and merged exactly with the parallel formula of
 * Chan, Golub and LeVeque, so each worker can accumulate its own
 * `RelationStats` and the owner merges them: merging the parts gives the
 * statistics of the whole (up to floating-point rounding), whatever the
 * split.
 *
 * `StatsPersister` keeps one `RelationStats` on disk in the durable envelope
 * (`writeDurable`, kind `relation-stats`), rewriting it every `every`
 * recorded samples and on `flush()`. At start a missing file is a fresh
 * start; a damaged, foreign or mismatched one is reported once through
 * `onWarning` (default `process.emitWarning`) and is also a fresh start:
 * statistics are advisory, never a reason to refuse to train. For the same
 * reason a periodic write that fails (disk full, permissions) is reported
 * once per run of failures and leaves the samples pending, to be written by
 * a later one; only an explicit `flush()` throws.
 *
 * Serialized payload (little-endian):
 *
 *   offset  size   field
 *   0       4      payload version (u32), STATS_VERSION
 *   4       4      relations R (u32)
 *   8       24*R   per relation: count (f64, an integer), mean (f64), m2 (f64)
 */
import { KgError, invalidArgument, outOfRange } from '../errors.js';
import { readDurable, writeDurable } from './durable.js';

export const STATS_KIND = 'relation-stats';
export const STATS_VERSION = 1;
const MAX_RELATIONS = 1 << 24;

export interface RunningSummary {
  /** Samples seen. */
  readonly count: number;
  /** Their mean; 0 when count is 0. */
  readonly mean: number;
  /** Population variance M2/count; 0 when count < 2. */
  readonly variance: number;
  /** Sample (unbiased) variance M2/(count-1); 0 when count < 2. */
  readonly sampleVariance: number;
  /** The raw sum of squared deviations. */
  readonly m2: number;
}

export class RelationStats {
  readonly relations: number;
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(relations: number) {
    if (!Number.isInteger(relations) || relations < 0)
      throw invalidArgument('RelationStats', 'relations', relations, 'a non-negative integer');
    if (relations > MAX_RELATIONS) throw outOfRange('RelationStats', 'relations', relations, 0, MAX_RELATIONS);
    this.relations = relations;
    this.count = new Float64Array(relations);
    this.mean = new Float64Array(relations);
    this.m2 = new Float64Array(relations);
  }

  /**
   * Statistics from packed moments [count, mean, M2] per relation (what a
   * training worker reports), checked before use.
   */
  static fromMoments(packed: ArrayLike<number>): RelationStats {
    if (packed.length % 3 !== 0)
      throw invalidArgument('RelationStats.fromMoments', 'packed.length', packed.length, 'a multiple of 3');
    const s = new RelationStats(packed.length / 3);
    for (let r = 0; r < s.relations; r++) {
      const c = packed[3 * r]!;
      const mean = packed[3 * r + 1]!;
      const m2 = packed[3 * r + 2]!;
      if (!(Number.isInteger(c) && c >= 0 && Number.isFinite(mean) && m2 >= 0 && Number.isFinite(m2))) {
        throw invalidArgument(
          'RelationStats.fromMoments',
          `relation ${r}`,
          [c, mean, m2],
          'a count >= 0, a finite mean and a finite M2 >= 0',
        );
      }
      s.count[r] = c;
      s.mean[r] = c === 0 ? 0 : mean;
      s.m2[r] = c === 0 ? 0 : m2;
    }
    return s;
  }

  /** Add one sample `x` (a finite number) to relation `rel`. Welford's update. */
  update(rel: number, x: number): void {
    this.checkRel('RelationStats.update', rel);
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw invalidArgument('RelationStats.update', 'x', x, 'a finite number');
    const n = this.count[rel]! + 1;
    const mean = this.mean[rel]!;
    const d = x - mean;
    const nextMean = mean + d / n;
    this.count[rel] = n;
    this.mean[rel] = nextMean;
    this.m2[rel] = this.m2[rel]! + d * (x - nextMean);
  }

  /**
   * Fold `other` (same number of relations) into this one. Exact in count;
   * mean and M2 by Chan et al.: with n = na + nb and d = mb - ma,
   * mean = ma + d*nb/n, M2 = M2a + M2b + d^2*na*nb/n. `other` is unchanged.
   */
  merge(other: RelationStats): this {
    if (!(other instanceof RelationStats))
      throw invalidArgument('RelationStats.merge', 'other', other, 'a RelationStats');
    if (other.relations !== this.relations) {
      throw new KgError(
        'E_DIM_MISMATCH',
        `RelationStats.merge: other has ${other.relations} relations, expected ${this.relations}`,
        {
          where: 'RelationStats.merge',
          expected: this.relations,
          actual: other.relations,
        },
      );
    }
    for (let r = 0; r < this.relations; r++) {
      const nb = other.count[r]!;
      if (nb === 0) continue;
      const na = this.count[r]!;
      if (na === 0) {
        this.count[r] = nb;
        this.mean[r] = other.mean[r]!;
        this.m2[r] = other.m2[r]!;
        continue;
      }
      const n = na + nb;
      const d = other.mean[r]! - this.mean[r]!;
      this.count[r] = n;
      this.mean[r] = this.mean[r]! + (d * nb) / n;
      this.m2[r] = this.m2[r]! + other.m2[r]! + ((d * d * na) / n) * nb;
    }
    return this;
  }

  get(rel: number): RunningSummary {
    this.checkRel('RelationStats.get', rel);
    const count = this.count[rel]!;
    const m2 = this.m2[rel]!;
    return {
      count,
      mean: this.mean[rel]!,
      variance: count < 2 ? 0 : m2 / count,
      sampleVariance: count < 2 ? 0 : m2 / (count - 1),
      m2,
    };
  }

  /** Samples over all relations. */
  total(): number {
    let t = 0;
    for (let r = 0; r < this.relations; r++) t += this.count[r]!;
    return t;
  }

  /** A plain object (e.g. for a run report): one entry per relation. */
  toJSON(): { relations: number; stats: RunningSummary[] } {
    const stats: RunningSummary[] = [];
    for (let r = 0; r < this.relations; r++) stats.push(this.get(r));
    return { relations: this.relations, stats };
  }

  /** The payload described in the module comment. */
  serialize(): Uint8Array {
    const out = new Uint8Array(8 + 24 * this.relations);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, STATS_VERSION, true);
    dv.setUint32(4, this.relations, true);
    let o = 8;
    for (let r = 0; r < this.relations; r++) {
      dv.setFloat64(o, this.count[r]!, true);
      dv.setFloat64(o + 8, this.mean[r]!, true);
      dv.setFloat64(o + 16, this.m2[r]!, true);
      o += 24;
    }
    return out;
  }

  /** Inverse of `serialize`. Throws E_PARSE naming what is wrong with the bytes. */
  static deserialize(bytes: Uint8Array): RelationStats {
    const bad = (problem: string): KgError =>
      new KgError('E_PARSE', `RelationStats.deserialize: ${problem}`, { problem });
    if (bytes.length < 8) throw bad(`${bytes.length} bytes, shorter than the 8-byte header`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = dv.getUint32(0, true);
    if (version !== STATS_VERSION) throw bad(`payload version ${version}, expected ${STATS_VERSION}`);
    const relations = dv.getUint32(4, true);
    if (relations > MAX_RELATIONS) throw bad(`${relations} relations, more than ${MAX_RELATIONS}`);
    if (bytes.length !== 8 + 24 * relations)
      throw bad(`${bytes.length} bytes, ${relations} relations need ${8 + 24 * relations}`);
    const s = new RelationStats(relations);
    let o = 8;
    for (let r = 0; r < relations; r++) {
      const count = dv.getFloat64(o, true);
      const mean = dv.getFloat64(o + 8, true);
      const m2 = dv.getFloat64(o + 16, true);
      o += 24;
      if (!Number.isSafeInteger(count) || count < 0)
        throw bad(`relation ${r}: count ${count} is not a non-negative integer`);
      if (!Number.isFinite(mean) || !Number.isFinite(m2) || m2 < 0)
        throw bad(`relation ${r}: mean ${mean} / m2 ${m2} not finite or m2 negative`);
      s.count[r] = count;
      s.mean[r] = mean;
      s.m2[r] = m2;
    }
    return s;
  }

  private checkRel(where: string, rel: number): void {
    if (!Number.isInteger(rel) || rel < 0 || rel >= this.relations) {
      throw outOfRange(where, 'rel', rel, 0, this.relations - 1);
    }
  }
}

export type StatsWarning = (message: string) => void;

export interface StatsPersisterOptions {
  /** Persist after this many recorded samples (and merged samples) since the last write; default 100. */
  readonly every?: number;
  /** Called once per problem found while loading; default `process.emitWarning`. */
  readonly onWarning?: StatsWarning;
}

/** How `StatsPersister` started. */
export type StatsStart = 'loaded' | 'fresh' | 'recovered';

/**
 * A `RelationStats` that lives in `path`. Construction loads the file:
 * `start` is `loaded` (the file was good), `fresh` (no file) or `recovered`
 * (a bad file, warned about, replaced by fresh statistics on the next
 * write). Not for concurrent use from several threads: workers accumulate
 * their own `RelationStats` and the owner `merge`s them in here.
 */
export class StatsPersister {
  readonly path: string;
  readonly every: number;
  readonly start: StatsStart;
  private current: RelationStats;
  private pending = 0;
  private writes = 0;
  private readonly warn: StatsWarning;
  /** The last periodic write failed (and was reported). */
  private failing = false;

  constructor(path: string, relations: number, options: StatsPersisterOptions = {}) {
    const every = options.every ?? 100;
    if (!Number.isInteger(every) || every < 1)
      throw invalidArgument('StatsPersister', 'every', every, 'a positive integer');
    const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, { code: 'KGSHARD_STATS' }));
    this.warn = warn;
    this.path = path;
    this.every = every;
    const fresh = new RelationStats(relations);
    const r = readDurable(path, STATS_KIND);
    if (r.ok) {
      let loaded: RelationStats | null = null;
      try {
        loaded = RelationStats.deserialize(r.payload);
      } catch (e) {
        warn(`${path}: relation statistics unreadable (${(e as Error).message}); starting fresh`);
      }
      if (loaded && loaded.relations !== relations) {
        warn(
          `${path}: relation statistics are for ${loaded.relations} relations, ` +
            `this run has ${relations}; starting fresh`,
        );
        loaded = null;
      }
      this.current = loaded ?? fresh;
      this.start = loaded ? 'loaded' : 'recovered';
    } else if (r.problem === 'missing') {
      this.current = fresh;
      this.start = 'fresh';
    } else {
      warn(`${r.message} (${r.problem}); relation statistics start fresh`);
      this.current = fresh;
      this.start = 'recovered';
    }
  }

  get stats(): RelationStats {
    return this.current;
  }

  /** Files written so far by this persister. */
  get writeCount(): number {
    return this.writes;
  }

  /**
   * Record one loss sample; persists when `every` samples are pending.
   * Returns true if it wrote (false also when that write failed: reported,
   * and tried again later).
   */
  record(rel: number, x: number): boolean {
    this.current.update(rel, x);
    this.pending++;
    return this.maybeFlush();
  }

  /** Merge a worker's statistics; its samples count toward `every`. Returns true if it wrote. */
  merge(other: RelationStats): boolean {
    this.current.merge(other);
    this.pending += other.total();
    return this.maybeFlush();
  }

  /** Write now if anything is pending (or `force`). Throws E_STORE_WRITE if the file cannot be written. */
  flush(force = false): boolean {
    if (this.pending === 0 && !force) return false;
    writeDurable(this.path, STATS_KIND, this.current.serialize());
    this.pending = 0;
    this.writes++;
    return true;
  }

  private maybeFlush(): boolean {
    if (this.pending < this.every) return false;
    try {
      this.flush();
    } catch (e) {
      if (!(e instanceof KgError) || e.code !== 'E_STORE_WRITE') throw e;
      if (!this.failing) this.warn(`${e.message}; relation statistics stay in memory and are written again later`);
      this.failing = true;
      return false;
    }
    this.failing = false;
    return true;
  }
}
