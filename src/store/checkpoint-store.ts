/**
 * The checkpoint store: a directory of entries, one file per (fingerprint,
 * run id) slot, each written with `writeDurable` (kind "checkpoint") so a
 * crash at any moment leaves the previous entry of that slot loadable.
 *
 * File name: `<fingerprint>--<runId>.kgck`. Entry payload layout (inside
 * the durable envelope, little-endian):
 *
 *   offset  size  field
 *   0       4     header length h (u32)
 *   4       h     header, UTF-8 JSON: { fingerprint, nearKey, runId,
 *                 objective, iteration, kind, writtenAt, payloadLength }
 *   4+h     n     payload bytes, n = payloadLength
 *
 * Lookup by fingerprint returns the best entry over every run: the lowest
 * objective (an entry without one ranks after every entry with one), then
 * a final entry before a checkpoint, then the newest. Entries older than
 * the time-to-live are deleted on lookup and prune. After each write, while
 * the entry files exceed the size budget, entries are evicted: checkpoints
 * before finals, then the oldest, then the worst objective; the entry just
 * written and a run's only final entry are never evicted.
 *
 * A truncated, corrupt, foreign or newer-format file is reported once per
 * path through `onWarning` and skipped (never loaded, never deleted).
 * Temporary files left by killed writers (`*.tmp-*`) are ignored by
 * lookups; prune deletes those whose writing process is gone or that are
 * older than `staleTempMs`.
 *
 * Each store has a write breaker (`writeBreaker()`, created on first use,
 * options in `StoreOptions.breaker`): sessions ask it before a checkpoint
 * and report every write's outcome to it, so that after a failed write
 * (disk full, permissions, an I/O error) checkpoints are skipped for a
 * cool-down instead of failing again on every attempt (see `Session`).
 * `save` itself does not consult it.
 *
 * The store is synchronous and knows nothing about threads; several
 * processes may share a directory (each run writes only its own slot).
 * A store opened `readOnly` (an evaluation of a run that may be writing to
 * it) never creates, writes or deletes a file: it refuses a missing
 * directory, skips expired entries instead of deleting them, and refuses
 * `save` and `prune`. Every entry it reads is whole, since writers only
 * rename complete files into place.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KgError, invalidArgument } from '../errors.js';
import { Breaker, resolveBreakerOptions, type BreakerOptions, type ResolvedBreakerOptions } from '../shm/breaker.js';
import { readDurable, writeDurable } from './durable.js';

export const ENTRY_KIND = 'checkpoint';
export const ENTRY_SUFFIX = '.kgck';
/** Failed writes in a row that open a store's write breaker, unless its options say otherwise. */
export const DEFAULT_WRITE_FAILURE_THRESHOLD = 1;
/** How long (ms) an open write breaker skips checkpoints, unless its options say otherwise. */
export const DEFAULT_WRITE_COOL_DOWN_MS = 30_000;

export type EntryKind = 'checkpoint' | 'final';

export interface StoreEntry {
  readonly fingerprint: string;
  /** Near-match key of the problem, '' when the writer gave none. */
  readonly nearKey: string;
  readonly runId: string;
  readonly payload: Uint8Array;
  /** Lower is better; null when the writer gave none. */
  readonly objective: number | null;
  readonly iteration: number | null;
  readonly kind: EntryKind;
  /** Milliseconds since the epoch, by the store's clock. */
  readonly writtenAt: number;
}

export interface StoreOptions {
  /** Upper bound on the bytes of entry files; default 1 GiB. */
  readonly sizeBudgetBytes?: number;
  /** Entries older than this (ms) are dropped; default 7 days. */
  readonly ttlMs?: number;
  /** Where damaged files and failed writes are reported; default process.emitWarning. */
  readonly onWarning?: (message: string) => void;
  /** Wall clock in ms (tests); default Date.now. */
  readonly now?: () => number;
  /** A temporary file this old is removed by prune even if its writer may live; default 10 minutes. */
  readonly staleTempMs?: number;
  /**
   * The write breaker (`writeBreaker()`): options of the one the store
   * creates on first use (default: 1 failed write opens it for 30 s, on the
   * real clock), or a breaker to share, such as one attached in this
   * thread from another thread's store (`Breaker.attach(handle)`).
   */
  readonly breaker?: BreakerOptions | Breaker;
  /** Read an existing store without changing it (see the module comment); default false. */
  readonly readOnly?: boolean;
}

export interface SaveOptions {
  readonly objective?: number | null;
  readonly iteration?: number | null;
  readonly kind?: EntryKind;
  readonly nearKey?: string;
}

export interface PruneReport {
  readonly expired: number;
  readonly evicted: number;
  readonly tempsRemoved: number;
  readonly damaged: number;
  /** Bytes of valid entry files left. */
  readonly bytes: number;
}

interface Header {
  fingerprint: string;
  nearKey: string;
  runId: string;
  objective: number | null;
  iteration: number | null;
  kind: EntryKind;
  writtenAt: number;
  payloadLength: number;
}

interface Scanned {
  readonly path: string;
  readonly size: number;
  readonly entry: StoreEntry;
}

const FP_RE = /^[0-9a-f]{8,128}$/;
const RUN_RE = /^[A-Za-z0-9._-]{1,128}$/;
const TEMP_RE = /\.tmp-(\d+)-[0-9a-z]*$/;

/** Encode an entry as the payload of its durable file. */
export function encodeEntry(e: StoreEntry): Uint8Array {
  const header: Header = {
    fingerprint: e.fingerprint,
    nearKey: e.nearKey,
    runId: e.runId,
    objective: e.objective,
    iteration: e.iteration,
    kind: e.kind,
    writtenAt: e.writtenAt,
    payloadLength: e.payload.length,
  };
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(4 + h.length + e.payload.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 4);
  out.set(e.payload, 4 + h.length);
  return out;
}

/** Decode an entry payload; a string says what is wrong. */
export function decodeEntry(bytes: Uint8Array): StoreEntry | string {
  if (bytes.length < 4) return `entry of ${bytes.length} bytes has no header length`;
  const h = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + h > bytes.length) return `header length ${h} runs past the entry (${bytes.length} bytes)`;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + h)).toString('utf8'));
  } catch {
    return 'entry header is not JSON';
  }
  const x = header as Partial<Header> | null;
  const numOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v));
  if (
    x === null ||
    typeof x !== 'object' ||
    typeof x.fingerprint !== 'string' ||
    typeof x.nearKey !== 'string' ||
    typeof x.runId !== 'string' ||
    !numOrNull(x.objective) ||
    !numOrNull(x.iteration) ||
    (x.kind !== 'checkpoint' && x.kind !== 'final') ||
    typeof x.writtenAt !== 'number' ||
    typeof x.payloadLength !== 'number'
  ) {
    return 'entry header lacks a field or has one of the wrong type';
  }
  if (x.payloadLength !== bytes.length - 4 - h)
    return `header says ${x.payloadLength} payload bytes, the entry holds ${bytes.length - 4 - h}`;
  return {
    fingerprint: x.fingerprint,
    nearKey: x.nearKey,
    runId: x.runId,
    objective: x.objective ?? null,
    iteration: x.iteration ?? null,
    kind: x.kind,
    writtenAt: x.writtenAt,
    payload: bytes.subarray(4 + h),
  };
}

/** True when `a` is a better entry than `b` (see the module comment). */
export function betterEntry(a: StoreEntry, b: StoreEntry): boolean {
  const ao = a.objective ?? Number.POSITIVE_INFINITY;
  const bo = b.objective ?? Number.POSITIVE_INFINITY;
  if (ao !== bo) return ao < bo;
  if (a.kind !== b.kind) return a.kind === 'final';
  return a.writtenAt > b.writtenAt;
}

function best(list: readonly Scanned[]): StoreEntry | null {
  let top: StoreEntry | null = null;
  for (const s of list) if (top === null || betterEntry(s.entry, top)) top = s.entry;
  return top;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class CheckpointStore {
  readonly dir: string;
  readonly sizeBudgetBytes: number;
  readonly ttlMs: number;
  readonly staleTempMs: number;
  readonly readOnly: boolean;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  readonly #warned = new Set<string>();
  readonly #breakerSpec: ResolvedBreakerOptions | Breaker;
  #breaker: Breaker | null = null;

  private constructor(dir: string, opts: StoreOptions, breaker: ResolvedBreakerOptions | Breaker) {
    this.dir = dir;
    this.#breakerSpec = breaker;
    this.sizeBudgetBytes = opts.sizeBudgetBytes ?? 1 << 30;
    this.ttlMs = opts.ttlMs ?? 7 * 24 * 3600 * 1000;
    this.staleTempMs = opts.staleTempMs ?? 10 * 60 * 1000;
    this.readOnly = opts.readOnly === true;
    this.#warn = opts.onWarning ?? ((m) => process.emitWarning(m, { code: 'KGSHARD_STORE' }));
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Open the store in `dir`, creating the directory if needed; with
   * `readOnly`, a missing directory (or a file in its place) throws
   * E_DATASET naming it.
   */
  static open(dir: string, opts: StoreOptions = {}): CheckpointStore {
    const where = 'CheckpointStore.open';
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArgument(where, 'dir', dir, 'a non-empty path');
    for (const f of ['sizeBudgetBytes', 'ttlMs', 'staleTempMs'] as const) {
      const v = opts[f];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && !Number.isNaN(v)))
        throw invalidArgument(where, f, v, 'a non-negative number');
    }
    const breaker = opts.breaker instanceof Breaker ? opts.breaker : writeBreakerOptions(where, opts.breaker);
    if (opts.readOnly !== undefined && typeof opts.readOnly !== 'boolean')
      throw invalidArgument(where, 'readOnly', opts.readOnly, 'a boolean');
    if (opts.readOnly === true) {
      let isDir: boolean;
      try {
        isDir = statSync(dir).isDirectory();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new KgError('E_DATASET', `${dir}: no checkpoint store here (${code})`, { path: dir, code });
      }
      if (!isDir) throw new KgError('E_DATASET', `${dir}: no checkpoint store here (not a directory)`, { path: dir });
      return new CheckpointStore(dir, opts, breaker);
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new KgError(
        'E_STORE_WRITE',
        `${dir}: could not create the checkpoint store directory (${err.code ?? 'error'}: ${err.message})`,
        {
          path: dir,
          code: err.code,
        },
      );
    }
    return new CheckpointStore(dir, opts, breaker);
  }

  /**
   * The store's write breaker, created on the first call (from
   * `StoreOptions.breaker`). Sessions writing through this store consult it
   * (see `Session`); it lives in shared memory, so its `handle` lets a store
   * opened in another thread share it.
   */
  writeBreaker(): Breaker {
    const spec = this.#breakerSpec;
    return (this.#breaker ??= spec instanceof Breaker ? spec : Breaker.create(spec));
  }

  /** Path of the slot of (`fingerprint`, `runId`). */
  slotPath(fingerprint: string, runId: string): string {
    if (typeof fingerprint !== 'string' || !FP_RE.test(fingerprint))
      throw invalidArgument('CheckpointStore', 'fingerprint', fingerprint, '8 to 128 lowercase hex digits');
    if (typeof runId !== 'string' || !RUN_RE.test(runId))
      throw invalidArgument('CheckpointStore', 'runId', runId, '1 to 128 of A-Z a-z 0-9 . _ -');
    return join(this.dir, `${fingerprint}--${runId}${ENTRY_SUFFIX}`);
  }

  /**
   * Overwrite the slot of (`fingerprint`, `runId`) with a new entry, then
   * keep the store within its budget. A failed write (disk full,
   * permissions) throws E_STORE_WRITE naming the path; the slot's previous
   * entry is intact.
   */
  save(fingerprint: string, runId: string, payload: Uint8Array, opts: SaveOptions = {}): StoreEntry {
    const where = 'CheckpointStore.save';
    this.#writable(where);
    const path = this.slotPath(fingerprint, runId);
    if (!(payload instanceof Uint8Array)) throw invalidArgument(where, 'payload', payload, 'a Uint8Array');
    const objective = opts.objective ?? null;
    const iteration = opts.iteration ?? null;
    const kind = opts.kind ?? 'checkpoint';
    const nearKey = opts.nearKey ?? '';
    if (objective !== null && !(typeof objective === 'number' && Number.isFinite(objective)))
      throw invalidArgument(where, 'objective', objective, 'a finite number or null');
    if (iteration !== null && !(Number.isSafeInteger(iteration) && iteration >= 0))
      throw invalidArgument(where, 'iteration', iteration, 'a non-negative integer or null');
    if (kind !== 'checkpoint' && kind !== 'final')
      throw invalidArgument(where, 'kind', kind, '"checkpoint" or "final"');
    if (typeof nearKey !== 'string' || (nearKey !== '' && !FP_RE.test(nearKey)))
      throw invalidArgument(where, 'nearKey', nearKey, "'' or 8 to 128 lowercase hex digits");
    const entry: StoreEntry = {
      fingerprint,
      nearKey,
      runId,
      payload,
      objective,
      iteration,
      kind,
      writtenAt: this.#now(),
    };
    writeDurable(path, ENTRY_KIND, encodeEntry(entry));
    this.#enforceBudget(path);
    return entry;
  }

  /** The best unexpired entry for `fingerprint` over every run, or null. */
  lookup(fingerprint: string): StoreEntry | null {
    if (typeof fingerprint !== 'string' || !FP_RE.test(fingerprint))
      throw invalidArgument('CheckpointStore.lookup', 'fingerprint', fingerprint, '8 to 128 lowercase hex digits');
    return best(this.#scan().filter((s) => s.entry.fingerprint === fingerprint));
  }

  /**
   * The best unexpired entry whose near-match key is `nearKey` and whose
   * fingerprint is not `excludeFingerprint` (a warm-start seed), or null.
   */
  lookupNear(nearKey: string, excludeFingerprint?: string): StoreEntry | null {
    if (typeof nearKey !== 'string' || !FP_RE.test(nearKey))
      throw invalidArgument('CheckpointStore.lookupNear', 'nearKey', nearKey, '8 to 128 lowercase hex digits');
    return best(this.#scan().filter((s) => s.entry.nearKey === nearKey && s.entry.fingerprint !== excludeFingerprint));
  }

  /** Every valid unexpired entry (for inspection and tests). */
  entries(): StoreEntry[] {
    return this.#scan().map((s) => s.entry);
  }

  /** Drop expired entries and stale temporary files, then enforce the budget. */
  prune(): PruneReport {
    this.#writable('CheckpointStore.prune');
    let tempsRemoved = 0;
    const now = this.#now();
    for (const name of this.#list()) {
      const m = TEMP_RE.exec(name);
      if (!m) continue;
      const path = join(this.dir, name);
      let old: boolean;
      try {
        old = now - statSync(path).mtimeMs > this.staleTempMs;
      } catch {
        continue;
      }
      if (old || !pidAlive(Number(m[1]))) {
        rmSync(path, { force: true });
        tempsRemoved++;
      }
    }
    const counts = { expired: 0, damaged: 0 };
    const scanned = this.#scan(counts);
    const evicted = this.#evict(scanned, null);
    const bytes = scanned.reduce((s, x) => s + x.size, 0) - evicted.bytes;
    return { expired: counts.expired, evicted: evicted.count, tempsRemoved, damaged: counts.damaged, bytes };
  }

  /** Report `message` once for `key` (a path). */
  warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warn(message);
  }

  /** Report `message` every time (failed writes). */
  warn(message: string): void {
    this.#warn(message);
  }

  #writable(where: string): void {
    if (this.readOnly)
      throw new KgError('E_INVALID_ARGUMENT', `${where}: the store in ${this.dir} was opened read-only`, {
        where,
        path: this.dir,
      });
  }

  #list(): string[] {
    try {
      return readdirSync(this.dir);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.warnOnce(
        this.dir,
        `${this.dir}: could not list the checkpoint store (${err.code ?? 'error'}: ${err.message})`,
      );
      return [];
    }
  }

  /** Valid unexpired entries; deletes expired ones, reports damaged ones once. */
  #scan(counts?: { expired: number; damaged: number }): Scanned[] {
    const out: Scanned[] = [];
    const now = this.#now();
    for (const name of this.#list()) {
      if (!name.endsWith(ENTRY_SUFFIX)) continue;
      const path = join(this.dir, name);
      const r = readDurable(path, ENTRY_KIND);
      if (!r.ok) {
        if (r.problem === 'missing') continue; // replaced or evicted since the listing
        if (counts) counts.damaged++;
        this.warnOnce(path, `checkpoint store: skipping ${r.problem} file ${r.message}`);
        continue;
      }
      const e = decodeEntry(r.payload);
      const expectedName = typeof e === 'string' ? '' : `${e.fingerprint}--${e.runId}${ENTRY_SUFFIX}`;
      if (typeof e === 'string' || expectedName !== name) {
        if (counts) counts.damaged++;
        const why = typeof e === 'string' ? e : `it holds the entry of ${expectedName}`;
        this.warnOnce(path, `checkpoint store: skipping corrupt file ${path}: ${why}`);
        continue;
      }
      if (now - e.writtenAt > this.ttlMs) {
        if (this.readOnly) continue;
        rmSync(path, { force: true });
        if (counts) counts.expired++;
        continue;
      }
      out.push({ path, size: r.payload.length, entry: e });
    }
    return out;
  }

  #enforceBudget(keep: string): void {
    this.#evict(this.#scan(), keep);
  }

  #evict(scanned: Scanned[], keep: string | null): { count: number; bytes: number } {
    let total = scanned.reduce((s, x) => s + x.size, 0);
    if (total <= this.sizeBudgetBytes) return { count: 0, bytes: 0 };
    const finals = new Map<string, number>();
    for (const s of scanned)
      if (s.entry.kind === 'final') finals.set(s.entry.runId, (finals.get(s.entry.runId) ?? 0) + 1);
    const order = [...scanned].sort((a, b) => {
      if (a.entry.kind !== b.entry.kind) return a.entry.kind === 'checkpoint' ? -1 : 1;
      if (a.entry.writtenAt !== b.entry.writtenAt) return a.entry.writtenAt - b.entry.writtenAt;
      return betterEntry(a.entry, b.entry) ? 1 : betterEntry(b.entry, a.entry) ? -1 : 0;
    });
    let count = 0;
    let bytes = 0;
    for (const s of order) {
      if (total <= this.sizeBudgetBytes) break;
      if (s.path === keep) continue;
      if (s.entry.kind === 'final') {
        const n = finals.get(s.entry.runId) ?? 0;
        if (n <= 1) continue;
        finals.set(s.entry.runId, n - 1);
      }
      rmSync(s.path, { force: true });
      total -= s.size;
      bytes += s.size;
      count++;
    }
    return { count, bytes };
  }
}

/**
 * Check the options of a store's write breaker (undefined or an object of
 * `BreakerOptions`) and fill in the store's defaults (1 failure, 30 s, the
 * real clock). Errors name the field as `field.coolDownMs` and so on.
 */
export function writeBreakerOptions(where: string, value: unknown, field = 'breaker'): ResolvedBreakerOptions {
  if (value instanceof Breaker || (value !== undefined && (value === null || typeof value !== 'object')))
    throw invalidArgument(where, field, value, 'an object of failureThreshold, coolDownMs and clock');
  const o = (value ?? {}) as BreakerOptions;
  return resolveBreakerOptions(
    where,
    {
      failureThreshold: o.failureThreshold ?? DEFAULT_WRITE_FAILURE_THRESHOLD,
      coolDownMs: o.coolDownMs ?? DEFAULT_WRITE_COOL_DOWN_MS,
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
    },
    `${field}.`,
  );
}
