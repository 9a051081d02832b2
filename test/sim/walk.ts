/**
 * Model-based random walks over a `ReshardBackend`: resharding up and
 * down, entity additions, corrections (good and mismatched), replication
 * changes, workers joining, leaving and confirming late, readers pinning,
 * reading and unpinning, pushes of known increments, scheduler steps and
 * clock jumps. A small model beside the backend knows what every row
 * should hold and what each reader pinned.
 *
 * Oracles after every command:
 * - capacity: no shard holds more bytes (live + draining) than its capacity;
 * - movement: a step gives new copies to at most K chunks, and publishes at
 *   most one version;
 * - readers: a pinned reader within its lease reads each row from a shard
 *   that held the row's chunk at the pinned version and still holds it,
 *   and the chunk is the one visible at that version (so a correction is
 *   seen whole or not at all);
 * - no update lost: after a step, every live copy of a visible chunk holds
 *   exactly the sum of the pushes to its rows (on top of a correction's
 *   rows), and every copy of a placed replacement holds its rows plus the
 *   pushes made since it was registered;
 * - typed refusals: a correction is refused exactly when the model says it
 *   must be, with the code the model predicts; a confirmation reports
 *   `excluded` exactly when the worker was silent past its timeout.
 * At the end of every walk the harness settles (workers confirm, time
 * passes past every pin's lease, steps run) and checks liveness: drains
 * terminate, and when the shards have room, floors are met, every chunk is
 * placed and every correction swapped in (see `settle` for tight walks).
 */
import fc from 'fast-check';
import { KgError } from '../../src/errors.js';
import type { ReshardBackend, ReshardBackendFactory, ReshardState } from '../../src/ps/reshard/backend.js';
import type { ReshardOptions } from '../../src/ps/reshard/options.js';
import { VALUE_BYTES } from '../../src/ps/reshard/options.js';
import { idealPlacement } from '../../src/ps/reshard/plan.js';
import { floorCount, holdersOf, type Placement, type RowBlock } from '../../src/ps/reshard/types.js';
import { ManualClock } from '../../src/shm/clock.js';
import { mulberry32 } from '../../src/prng.js';

export const DIM = 2;

/** The options of one walk; `roomy` walks must reach their floors when they settle. */
export interface WalkConfig {
  readonly options: Partial<ReshardOptions>;
  readonly roomy: boolean;
  /** Seeds the walk's own sampling (which rows the oracles read). */
  readonly sampleSeed: number;
}

/** Counts of each command and outcome over a run, so a never-taken path shows. */
export class SimStats {
  readonly counts = new Map<string, number>();
  walks = 0;
  steps = 0;
  checks = 0;
  readonly lengths: number[] = [];

  add(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }

  merge(other: SimStats): void {
    for (const [k, v] of other.counts) this.add(k, v);
    this.walks += other.walks;
    this.steps += other.steps;
    this.checks += other.checks;
    this.lengths.push(...other.lengths);
  }

  /** `command: outcome n` lines, grouped by command, and the totals. */
  format(): string {
    const groups = new Map<string, string[]>();
    for (const [k, v] of [...this.counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const [cmd, outcome] = k.split(': ');
      const list = groups.get(cmd!) ?? [];
      list.push(`${outcome} ${v}`);
      groups.set(cmd!, list);
    }
    const sorted = [...this.lengths].sort((a, b) => a - b);
    const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const lines = [
      `walks ${this.walks}, commands ${this.steps}, oracle checks ${this.checks}, ` +
        `walk length min ${sorted[0] ?? 0} median ${pct(0.5)} max ${sorted.at(-1) ?? 0}`,
    ];
    for (const [cmd, outcomes] of groups) lines.push(`  ${cmd}: ${outcomes.join(', ')}`);
    return lines.join('\n');
  }
}

interface PinRecord {
  readonly pin: number;
  readonly version: number;
  readonly atMs: number;
  readonly visible: ReadonlyMap<number, number>;
  readonly placement: Placement;
}

export interface SimModel {
  readonly cfg: WalkConfig;
  readonly stats: SimStats;
  readonly rand: () => number;
  now: number;
  /** What each row holds once every registered correction is swapped in. */
  readonly expected: number[][];
  /** What each row holds in its visible chunk now. */
  readonly visible: number[][];
  /** Live workers: id -> when it was last seen and the version it applied. */
  readonly workers: Map<number, { seen: number; confirmed: number }>;
  /** When each version was published (walk clock). */
  readonly publishedAt: Map<number, number>;
  /** The highest watermark any step has used: versions at or after it keep their copies. */
  maxWatermark: number;
  readonly pins: PinRecord[];
  /** The backend's state after the last command. */
  state: ReshardState;
}

export interface SimReal {
  readonly backend: ReshardBackend;
  readonly clock: ManualClock;
}

export class SimFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimFailure';
  }
}

function fail(message: string): never {
  throw new SimFailure(message);
}

function blockOf(blocks: readonly RowBlock[], row: number): RowBlock | undefined {
  let lo = 0;
  let hi = blocks.length - 1;
  if (hi < 0 || row < 0 || row >= blocks[hi]!.firstRow + blocks[hi]!.rows) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (blocks[mid]!.firstRow <= row) lo = mid;
    else hi = mid - 1;
  }
  return blocks[lo];
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  for (let k = 0; k < DIM; k++) if (a[k] !== b[k]) return false;
  return true;
};

// ------------------------------------------------------------------ oracles

/** Oracles that hold after any command: capacity, and reads of every live pin. */
async function checkAlways(m: SimModel, r: SimReal): Promise<void> {
  const s = (m.state = await r.backend.inspect());
  const cap = r.backend.options.capacityBytes;
  for (const [shard, bytes] of s.footprint) {
    m.stats.checks++;
    if (bytes > cap) fail(`capacity: shard ${shard} holds ${bytes} bytes > ${cap}`);
  }
  const out = new Float32Array(DIM);
  const lease = r.backend.options.pinLeaseMs;
  for (const p of m.pins) {
    if (m.expected.length === 0) break;
    const row = Math.floor(m.rand() * m.expected.length);
    await checkPinnedRead(m, r, p, row, m.now - p.atMs <= lease, out);
  }
}

async function checkPinnedRead(
  m: SimModel,
  r: SimReal,
  p: PinRecord,
  row: number,
  withinLease: boolean,
  out: Float32Array,
): Promise<string> {
  m.stats.checks++;
  const got = await r.backend.read(p.pin, row, out);
  const block = blockOf(m.state.blocks, row);
  const chunk = block === undefined ? undefined : p.visible.get(block.index);
  if (got.state === 'expired') {
    if (withinLease) fail(`read: pin ${p.pin} (version ${p.version}) expired within its lease at row ${row}`);
    return 'expired';
  }
  if (got.state === 'unknown-pin') fail(`read: pin ${p.pin} is held but the backend does not know it`);
  if (got.state === 'missing')
    fail(
      `read: pin ${p.pin} (version ${p.version}) routed row ${row} to shard ${got.shard}, ` +
        `which freed chunk ${got.chunk}`,
    );
  if (got.state === 'no-row') {
    if (chunk !== undefined) fail(`read: row ${row} is in chunk ${chunk} at version ${p.version} but reads no-row`);
    return 'no-row';
  }
  if (got.version !== p.version) fail(`read: pin at version ${p.version} read version ${got.version}`);
  if (got.chunk !== chunk) fail(`read: row ${row} at version ${p.version} read chunk ${got.chunk}, visible ${chunk}`);
  if (!holdersOf(p.placement, got.chunk).includes(got.shard))
    fail(`read: chunk ${got.chunk} read from shard ${got.shard}, which did not hold it at version ${p.version}`);
  if (!m.state.copies.some((c) => c.chunk === got.chunk && c.shard === got.shard))
    fail(`read: chunk ${got.chunk} read from shard ${got.shard}, which no longer holds it (pin ${p.pin})`);
  return 'ok';
}

/**
 * An unpinned read at `version`: guaranteed (must find its chunk on a shard
 * that held it then and still does) when the version is the latest, at or
 * after every watermark so far, or superseded less than graceMs ago.
 * Otherwise a miss is allowed and counted.
 */
async function checkReadAt(m: SimModel, r: SimReal, version: number, row: number): Promise<string> {
  m.stats.checks++;
  const out = new Float32Array(DIM);
  const s = m.state;
  const next = m.publishedAt.get(version + 1);
  const guaranteed =
    version === s.latest.version ||
    version >= m.maxWatermark ||
    (next !== undefined && m.now - next < r.backend.options.graceMs);
  const got = await r.backend.readAt(version, row, out);
  if (got.state === 'unknown-pin') fail('readAt: returned unknown-pin');
  if (got.state === 'expired' || got.state === 'missing') {
    if (guaranteed) {
      fail(
        `readAt: version ${version} (latest ${s.latest.version}, max watermark ${m.maxWatermark}) ` +
          `row ${row} reads ${got.state}` +
          (got.state === 'missing' ? ` (chunk ${got.chunk} freed on shard ${got.shard})` : ''),
      );
    }
    return `miss (${got.state})`;
  }
  const a = s.versions.find((v) => v.version === version);
  const block = blockOf(s.blocks, row);
  const chunk = block === undefined || a === undefined ? undefined : a.visible.get(block.index);
  if (got.state === 'no-row') {
    if (chunk !== undefined) fail(`readAt: row ${row} is in chunk ${chunk} at version ${version} but reads no-row`);
    return 'no-row';
  }
  if (a === undefined) fail(`readAt: version ${version} read ok but the backend no longer lists it`);
  if (got.chunk !== chunk) fail(`readAt: row ${row} at version ${version} read chunk ${got.chunk}, visible ${chunk}`);
  if (!holdersOf(a.placement, got.chunk).includes(got.shard))
    fail(`readAt: chunk ${got.chunk} read from shard ${got.shard}, which did not hold it at version ${version}`);
  if (!s.copies.some((c) => c.chunk === got.chunk && c.shard === got.shard))
    fail(`readAt: chunk ${got.chunk} read from shard ${got.shard}, which no longer holds it`);
  return guaranteed ? 'ok' : 'ok (unguaranteed)';
}

/** No update lost: latest reads and every live copy of the sampled rows hold the model's values. */
async function checkValues(m: SimModel, r: SimReal, all: boolean): Promise<void> {
  const s = m.state;
  const n = m.expected.length;
  const rows: number[] = [];
  if (all || n <= 24) for (let i = 0; i < n; i++) rows.push(i);
  else for (let i = 0; i < 12; i++) rows.push(Math.floor(m.rand() * n));
  const out = new Float32Array(DIM);
  const chunkInfo = new Map(s.chunks.map((c) => [c.id, c]));
  for (const row of rows) {
    const block = blockOf(s.blocks, row)!;
    const chunk = s.latest.visible.get(block.index);
    const got = await r.backend.readLatest(row, out);
    m.stats.checks++;
    if (chunk === undefined) {
      if (got.state !== 'no-row') fail(`values: row ${row} is not placed but reads ${got.state}`);
      continue;
    }
    if (got.state !== 'ok') fail(`values: row ${row} (chunk ${chunk}) reads ${got.state} at the latest version`);
    if (!same(out, m.visible[row]!))
      fail(`values: row ${row} reads [${out.join()}], expected [${m.visible[row]!.join()}]`);
    for (const shard of holdersOf(s.latest.placement, chunk)) {
      m.stats.checks++;
      if (!(await r.backend.readCopy(chunk, shard, row, out))) fail(`values: shard ${shard} lost chunk ${chunk}`);
      if (!same(out, m.visible[row]!))
        fail(`values: row ${row} on shard ${shard} holds [${out.join()}], expected [${m.visible[row]!.join()}]`);
    }
    const rep = chunkInfo.get(chunk)?.replacedBy;
    if (rep === undefined) continue;
    for (const shard of holdersOf(s.latest.placement, rep)) {
      m.stats.checks++;
      if (!(await r.backend.readCopy(rep, shard, row, out))) fail(`values: shard ${shard} lost replacement ${rep}`);
      if (!same(out, m.expected[row]!))
        fail(
          `values: replacement row ${row} on shard ${shard} holds [${out.join()}], ` +
            `expected [${m.expected[row]!.join()}]`,
        );
    }
  }
}

// ------------------------------------------------------------------ commands

type Descriptor =
  | { readonly kind: 'step' }
  | { readonly kind: 'reshard'; readonly shards: number }
  | { readonly kind: 'add'; readonly count: number }
  | { readonly kind: 'correct'; readonly pick: number; readonly lengthDelta: number; readonly seed: number }
  | { readonly kind: 'replication'; readonly replication: number; readonly bonus: number }
  | { readonly kind: 'join' }
  | { readonly kind: 'leave'; readonly pick: number }
  | { readonly kind: 'confirm'; readonly pick: number; readonly lag: number }
  | { readonly kind: 'pin' }
  | { readonly kind: 'unpin'; readonly pick: number }
  | { readonly kind: 'read'; readonly pick: number; readonly row: number }
  | { readonly kind: 'workerRead'; readonly pick: number; readonly row: number }
  | { readonly kind: 'readAt'; readonly lag: number; readonly row: number }
  | { readonly kind: 'push'; readonly row: number; readonly delta: readonly number[] }
  | { readonly kind: 'advance'; readonly ms: number };

export type { Descriptor as WalkCommand };

/** One walk command: fast-check's command interface over a plain descriptor (which regressions store). */
export class Cmd implements fc.AsyncCommand<SimModel, SimReal> {
  constructor(readonly d: Descriptor) {}

  check(): boolean {
    return true;
  }

  async run(m: SimModel, r: SimReal): Promise<void> {
    m.stats.steps++;
    const outcome = await runCommand(this.d, m, r);
    m.stats.add(`${this.d.kind}: ${outcome}`);
    await checkAlways(m, r);
  }

  toString(): string {
    return JSON.stringify(this.d);
  }

  toJSON(): Descriptor {
    return this.d;
  }
}

const pickOf = <T>(list: readonly T[], pick: number): T | undefined =>
  list.length === 0 ? undefined : list[pick % list.length];

async function runCommand(d: Descriptor, m: SimModel, r: SimReal): Promise<string> {
  const b = r.backend;
  switch (d.kind) {
    case 'step':
      return step(m, r);
    case 'reshard': {
      const from = m.state.shards;
      await b.reshard(d.shards);
      return d.shards > from ? 'up' : d.shards < from ? 'down' : 'same';
    }
    case 'add': {
      const ids = await b.addEntities(d.count);
      for (let i = 0; i < d.count; i++) {
        m.expected.push(new Array<number>(DIM).fill(0));
        m.visible.push(new Array<number>(DIM).fill(0));
      }
      return ids.length > 1 ? 'several chunks' : 'one chunk';
    }
    case 'correct':
      return correct(d, m, r);
    case 'replication':
      await b.setReplication(d.replication, d.bonus);
      return `r${d.replication}+${d.bonus}`;
    case 'join': {
      const w = await b.workerJoin();
      m.workers.set(w, { seen: m.now, confirmed: m.state.latest.version });
      return 'joined';
    }
    case 'leave': {
      const w = pickOf([...m.workers.keys()], d.pick);
      if (w === undefined) return 'nobody';
      await b.workerLeave(w);
      m.workers.delete(w);
      return 'left';
    }
    case 'confirm': {
      const w = pickOf([...m.workers.keys()], d.pick);
      if (w === undefined) return 'nobody';
      const rec = m.workers.get(w)!;
      const silent = m.now - rec.seen > b.options.workerTimeoutMs;
      const version = Math.max(0, m.state.latest.version - d.lag);
      const got = await b.confirm(w, version);
      if ((got === 'excluded') !== silent) fail(`confirm: worker ${w} got ${got}, silent past timeout: ${silent}`);
      if (got === 'excluded') m.workers.delete(w);
      else m.workers.set(w, { seen: m.now, confirmed: Math.max(rec.confirmed, version) });
      return got === 'excluded' ? 'excluded' : d.lag === 0 ? 'latest' : 'lagging';
    }
    case 'pin': {
      const s = await b.inspect();
      const p = await b.pin();
      if (p.version !== s.latest.version) fail(`pin: got version ${p.version}, latest is ${s.latest.version}`);
      m.pins.push({
        pin: p.pin,
        version: p.version,
        atMs: m.now,
        visible: s.latest.visible,
        placement: s.latest.placement,
      });
      return 'pinned';
    }
    case 'unpin': {
      if (m.pins.length === 0) return 'nothing pinned';
      const [p] = m.pins.splice(d.pick % m.pins.length, 1);
      await b.unpin(p!.pin);
      return 'unpinned';
    }
    case 'read': {
      const p = pickOf(m.pins, d.pick);
      if (p === undefined || m.expected.length === 0) return 'nothing pinned';
      m.state = await b.inspect();
      const within = m.now - p.atMs <= b.options.pinLeaseMs;
      return checkPinnedRead(m, r, p, d.row % m.expected.length, within, new Float32Array(DIM));
    }
    case 'workerRead': {
      // A worker reads at the version it applied; a full quorum guarantees it.
      const w = pickOf([...m.workers.values()], d.pick);
      if (w === undefined || m.expected.length === 0) return 'nobody';
      m.state = await b.inspect();
      const got = await checkReadAt(m, r, w.confirmed, d.row % m.expected.length);
      if (b.options.quorum === 1 && got.startsWith('miss')) fail(`workerRead: a full quorum let a worker ${got}`);
      return b.options.quorum === 1 ? got : `${got} (quorum < 1)`;
    }
    case 'readAt': {
      if (m.expected.length === 0) return 'no rows';
      m.state = await b.inspect();
      const version = Math.max(1, m.state.latest.version - d.lag);
      return checkReadAt(m, r, version, d.row % m.expected.length);
    }
    case 'push': {
      if (m.expected.length === 0) return 'no rows';
      const row = d.row % m.expected.length;
      const got = await b.push(row, Float32Array.from(d.delta));
      const block = blockOf(m.state.blocks, row)!;
      const placed = m.state.latest.visible.has(block.index);
      if ((got.state === 'ok') !== placed) fail(`push: row ${row} returned ${got.state}, placed: ${placed}`);
      if (got.state === 'ok') {
        for (let k = 0; k < DIM; k++) {
          m.expected[row]![k]! += d.delta[k]!;
          m.visible[row]![k]! += d.delta[k]!;
        }
      }
      return got.state;
    }
    case 'advance':
      r.clock.advance(d.ms);
      m.now += d.ms;
      return d.ms > b.options.workerTimeoutMs ? 'past a worker timeout' : 'short';
  }
}

async function step(m: SimModel, r: SimReal): Promise<string> {
  const before = m.state;
  const rep = await r.backend.step();
  const after = (m.state = await r.backend.inspect());
  const k = r.backend.options.maxMoves;
  m.stats.checks += 3;
  if (rep.moved > k) fail(`step: report says ${rep.moved} chunks moved > K ${k}`);
  const gained = new Set<number>();
  for (const [c] of after.latest.placement) {
    for (const s of holdersOf(after.latest.placement, c)) {
      if (!holdersOf(before.latest.placement, c).includes(s)) gained.add(c);
    }
  }
  if (gained.size > k) fail(`step: ${gained.size} chunks gained a copy > K ${k}`);
  if (after.latest.version > before.latest.version + 1) fail('step: published more than one version');
  if (rep.published !== 0) m.publishedAt.set(rep.published, m.now);
  m.maxWatermark = Math.max(m.maxWatermark, rep.watermark);
  for (const rec of rep.swapped) {
    const block = after.blocks[rec.block]!;
    for (let row = block.firstRow; row < block.firstRow + block.rows; row++) m.visible[row] = [...m.expected[row]!];
  }
  for (const w of rep.excluded) {
    if (!m.workers.has(w)) fail(`step: excluded worker ${w}, which the walk does not hold`);
    if (m.now - m.workers.get(w)!.seen <= r.backend.options.workerTimeoutMs)
      fail(`step: excluded worker ${w}, seen ${m.now - m.workers.get(w)!.seen} ms ago`);
    m.workers.delete(w);
  }
  await checkValues(m, r, false);
  const tags: string[] = [];
  if (rep.published === 0) tags.push('no version');
  if (rep.moved > 0) tags.push('moved');
  if (rep.drops.length > 0) tags.push('dropped');
  if (rep.freed.length > 0) tags.push('freed');
  if (rep.placed.length > 0) tags.push('placed new');
  if (rep.swapped.length > 0) tags.push('swapped');
  if (rep.excluded.length > 0) tags.push('excluded worker');
  if (rep.deferred.some((x) => x.reason === 'capacity')) tags.push('deferred (capacity)');
  if (rep.deferred.some((x) => x.reason === 'budget')) tags.push('deferred (K)');
  for (const t of tags) m.stats.add(`step outcome: ${t}`);
  return rep.published === 0 ? 'no version' : 'published';
}

async function correct(d: Extract<Descriptor, { kind: 'correct' }>, m: SimModel, r: SimReal): Promise<string> {
  const s = m.state;
  // Pick any chunk id ever issued, or one past them (unknown).
  const id = d.pick % (s.chunks.length + 1);
  const info = s.chunks.find((c) => c.id === id);
  const block = info === undefined ? undefined : s.blocks[info.block];
  const length = Math.max(0, (block?.rows ?? 1) * DIM + d.lengthDelta);
  const rand = mulberry32(d.seed);
  const values = Float32Array.from({ length }, () => Math.floor(rand() * 9) - 4);
  let predicted: string;
  if (info === undefined) predicted = 'E_RESHARD_UNKNOWN_CHUNK';
  else if (info.phase === 'retired' || info.phase === 'gone') predicted = 'E_RESHARD_CHUNK_REMOVED';
  else if (info.phase !== 'visible' || info.replacedBy !== undefined) predicted = 'E_RESHARD_CHUNK_BUSY';
  else if (d.lengthDelta !== 0) predicted = 'E_RESHARD_SHAPE';
  else predicted = 'registered';
  let got: string;
  try {
    const rec = await r.backend.correct(id, values);
    got = 'registered';
    if (rec.old !== id) fail(`correct: record names chunk ${rec.old}, not ${id}`);
  } catch (e) {
    if (!(e instanceof KgError)) throw e;
    got = e.code;
    if (e.message.includes('\n')) fail(`correct: error message spans lines: ${e.message}`);
  }
  m.stats.checks++;
  if (got !== predicted) fail(`correct: chunk ${id} (${info?.phase ?? 'unknown'}) gave ${got}, expected ${predicted}`);
  if (got === 'registered') {
    for (let i = 0; i < block!.rows; i++)
      m.expected[block!.firstRow + i] = [...values.subarray(i * DIM, (i + 1) * DIM)];
  }
  return got;
}

// ------------------------------------------------------------------ generation

/**
 * What a backend can run, so walks generate only that. A backend that
 * keeps one live copy per chunk (the parameter server) runs walks without
 * replication: replication 1, no bonus copies, no `replication` command.
 */
export interface WalkScope {
  /** Replication factors above 1, bonus copies and `replication` commands. */
  readonly replicas: boolean;
}

export const FULL_SCOPE: WalkScope = Object.freeze({ replicas: true });

const rowPick = fc.nat(10_000);
const replicationArb: fc.Arbitrary<Descriptor> = fc
  .record({
    replication: fc.integer({ min: 1, max: 3 }),
    bonus: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 2 })),
  })
  .map((x): Descriptor => ({ kind: 'replication', ...x }));

function commandArb(scope: WalkScope): fc.Arbitrary<Cmd> {
  return fc
    .oneof(
      { weight: 22, arbitrary: fc.constant<Descriptor>({ kind: 'step' }) },
      {
        weight: 4,
        arbitrary: fc.integer({ min: 1, max: 5 }).map((shards): Descriptor => ({ kind: 'reshard', shards })),
      },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 9 }).map((count): Descriptor => ({ kind: 'add', count })) },
      {
        weight: 5,
        arbitrary: fc
          .record({
            pick: fc.nat(1000),
            lengthDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.constantFrom(-2, -1, 1, 3)),
            seed: fc.nat(),
          })
          .map((x): Descriptor => ({ kind: 'correct', ...x })),
      },
      ...(scope.replicas ? [{ weight: 3, arbitrary: replicationArb }] : []),
      { weight: 3, arbitrary: fc.constant<Descriptor>({ kind: 'join' }) },
      { weight: 2, arbitrary: fc.nat(100).map((pick): Descriptor => ({ kind: 'leave', pick })) },
      {
        weight: 14,
        arbitrary: fc
          .record({
            pick: fc.nat(100),
            lag: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 4 })),
          })
          .map((x): Descriptor => ({ kind: 'confirm', ...x })),
      },
      { weight: 4, arbitrary: fc.constant<Descriptor>({ kind: 'pin' }) },
      { weight: 3, arbitrary: fc.nat(100).map((pick): Descriptor => ({ kind: 'unpin', pick })) },
      {
        weight: 6,
        arbitrary: fc.record({ pick: fc.nat(100), row: rowPick }).map((x): Descriptor => ({ kind: 'read', ...x })),
      },
      {
        weight: 5,
        arbitrary: fc
          .record({ pick: fc.nat(100), row: rowPick })
          .map((x): Descriptor => ({ kind: 'workerRead', ...x })),
      },
      {
        weight: 4,
        arbitrary: fc
          .record({ lag: fc.integer({ min: 0, max: 6 }), row: rowPick })
          .map((x): Descriptor => ({ kind: 'readAt', ...x })),
      },
      {
        weight: 16,
        arbitrary: fc
          .record({
            row: rowPick,
            delta: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: DIM, maxLength: DIM }),
          })
          .map((x): Descriptor => ({ kind: 'push', ...x })),
      },
      {
        weight: 10,
        arbitrary: fc.constantFrom(1, 4, 12, 40, 150, 400).map((ms): Descriptor => ({ kind: 'advance', ms })),
      },
    )
    .map((d) => new Cmd(d));
}

/**
 * Walk commands within `scope`: up to 300 per walk (fast-check draws
 * lengths across the range; most land in 100-300).
 */
export function walkCommandsIn(scope: WalkScope): fc.Arbitrary<Iterable<fc.AsyncCommand<SimModel, SimReal>>> {
  return fc.commands([commandArb(scope)], { maxCommands: 300, size: 'max' });
}

/** Walk commands of the full scope. */
export const walkCommands = walkCommandsIn(FULL_SCOPE);

/** Walk configurations within `scope`. */
export function walkConfigIn(scope: WalkScope): fc.Arbitrary<WalkConfig> {
  return fc
    .record({
      chunkRows: fc.integer({ min: 1, max: 4 }),
      rows: fc.integer({ min: 0, max: 24 }),
      shards: fc.integer({ min: 1, max: 4 }),
      replication: fc.integer({ min: 1, max: 3 }),
      bonusReplicas: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 2 })),
      maxMoves: fc.integer({ min: 1, max: 4 }),
      graceMs: fc.constantFrom(0, 5, 50),
      quorum: fc.constantFrom(0, 0.5, 1),
      workerTimeoutMs: fc.constantFrom(20, 200),
      pinLeaseMs: fc.constantFrom(30, 300),
      roomy: fc.boolean(),
      tightChunks: fc.integer({ min: 2, max: 14 }),
      sampleSeed: fc.nat(),
    })
    .map((g): WalkConfig => ({
      roomy: g.roomy,
      sampleSeed: g.sampleSeed,
      options: {
        rows: g.rows,
        dim: DIM,
        chunkRows: g.chunkRows,
        shards: g.shards,
        // Roomy walks never run short; tight ones hold a few chunks per shard.
        capacityBytes: g.roomy ? 1 << 30 : g.tightChunks * g.chunkRows * DIM * VALUE_BYTES,
        replication: g.replication,
        bonusReplicas: g.bonusReplicas,
        maxMoves: g.maxMoves,
        graceMs: g.graceMs,
        quorum: g.quorum,
        workerTimeoutMs: g.workerTimeoutMs,
        pinLeaseMs: g.pinLeaseMs,
      },
    }))
    .map((c) => (scope.replicas ? c : { ...c, options: { ...c.options, replication: 1, bonusReplicas: 0 } }));
}

/** Walk configurations of the full scope. */
export const walkConfig = walkConfigIn(FULL_SCOPE);

/** Whether a stored walk stays within `scope` (a regression replays only on backends that can run it). */
export function withinScope(scope: WalkScope, config: WalkConfig, commands: readonly Descriptor[]): boolean {
  if (scope.replicas) return true;
  const o = config.options;
  if ((o.replication ?? 1) !== 1 || (o.bonusReplicas ?? 0) !== 0) return false;
  return commands.every((d) => d.kind !== 'replication' || (d.replication === 1 && d.bonus === 0));
}

// ------------------------------------------------------------------ running a walk

/** Run `commands` from `cfg` on a fresh backend, with the oracles and the final settle. */
export async function runWalk(
  factory: ReshardBackendFactory,
  cfg: WalkConfig,
  commands: Iterable<fc.AsyncCommand<SimModel, SimReal>>,
  stats: SimStats,
): Promise<void> {
  const clock = ManualClock.create(0);
  const backend = await factory(cfg.options, clock);
  try {
    const rows = backend.options.rows;
    const m: SimModel = {
      cfg,
      stats,
      rand: mulberry32(cfg.sampleSeed),
      now: 0,
      expected: Array.from({ length: rows }, () => new Array<number>(DIM).fill(0)),
      visible: Array.from({ length: rows }, () => new Array<number>(DIM).fill(0)),
      workers: new Map(),
      publishedAt: new Map(),
      maxWatermark: 0,
      pins: [],
      state: await backend.inspect(),
    };
    const r: SimReal = { backend, clock };
    for (const v of m.state.versions) m.publishedAt.set(v.version, 0);
    stats.walks++;
    let length = 0;
    for (const c of commands) {
      if (!c.check(m)) continue;
      length++;
      await c.run(m, r);
    }
    stats.lengths.push(length);
    await settle(m, r);
  } finally {
    await backend.close();
  }
}

/**
 * Stop the churn and let the system come to rest: pins released, workers
 * confirming the latest version each round, time moving by a grace window
 * (never past a worker timeout), steps run until nothing changes. Then:
 * drains have terminated; in a roomy walk every chunk is placed, every
 * correction swapped and every floor met. In a tight walk whose ideal
 * placement gives every chunk its floor the same must hold, except where
 * copies waiting to trade shards block each other for lack of room (a
 * capacity cycle; the scheduler skips rather than spills): then every
 * missing ideal copy must really lack room.
 */
async function settle(m: SimModel, r: SimReal): Promise<void> {
  const b = r.backend;
  const o = b.options;
  // Pins stay held: drains must still end once their leases run out.
  const dt = Math.min(Math.max(o.graceMs + 1, 10), o.workerTimeoutMs);
  let quiet = 0;
  let rounds = 0;
  const leaseRounds = Math.ceil(o.pinLeaseMs / dt) + 2;
  const limit = leaseRounds + 40 + 4 * (m.state.chunks.length + 1) * (m.state.replication + m.state.bonusReplicas + 1);
  while (quiet < 3 && rounds < limit) {
    rounds++;
    r.clock.advance(dt);
    m.now += dt;
    for (const w of [...m.workers.keys()]) {
      // A worker already silent past its timeout when the walk ended is excluded here.
      if ((await b.confirm(w, m.state.latest.version)) === 'excluded') m.workers.delete(w);
      else m.workers.set(w, { seen: m.now, confirmed: m.state.latest.version });
    }
    const outcome = await step(m, r);
    await checkAlways(m, r);
    const drained = m.state.copies.every((c) => !c.draining);
    quiet = outcome === 'no version' && drained ? quiet + 1 : 0;
  }
  m.stats.checks++;
  if (quiet < 3) fail(`settle: still changing after ${rounds} rounds (drains or moves do not terminate)`);
  for (const p of m.pins.splice(0)) await b.unpin(p.pin);
  await checkValues(m, r, true);
  const s = m.state;
  const t = floorCount(s.replication, s.shards);
  const placed = s.chunks.filter((c) => c.phase === 'visible' || c.phase === 'standby' || c.phase === 'unplaced');
  // The ideal the backend's scheduler aims at: chunks ranked by their plan keys.
  const keyOf = (c: (typeof placed)[number]): number => c.planKey ?? c.id;
  const byKey = idealPlacement(
    placed.map(keyOf),
    new Map(placed.map((c) => [keyOf(c), c.bytes])),
    Array.from({ length: s.shards }, (_, i) => i),
    () => o.capacityBytes,
    s.replication,
    s.bonusReplicas,
  );
  const ideal = { floor: new Map(placed.map((c) => [c.id, byKey.floor.get(keyOf(c)) ?? []])) };
  const feasible = placed.every((c) => (ideal.floor.get(c.id) ?? []).length === t);
  if (!feasible) {
    if (m.cfg.roomy) fail('settle: a roomy walk has an ideal placement short of its floors');
    m.stats.add('settle: short of room (floors not required)');
    return;
  }
  m.stats.checks++;
  const short: string[] = [];
  for (const c of placed) {
    const n = holdersOf(s.latest.placement, c.id).length;
    if (c.phase === 'unplaced') short.push(`chunk ${c.id} still unplaced though the ideal has room`);
    else if (c.phase === 'standby') short.push(`replacement ${c.id} placed but never swapped in`);
    else if (n < t) short.push(`chunk ${c.id} has ${n} copies, floor ${t}`);
    else continue;
    // Without headroom, copies waiting to swap shards can block each other
    // (a capacity cycle): allowed in a tight walk, but only if every missing
    // ideal copy really lacks room; room left unused is a scheduler bug.
    if (m.cfg.roomy) fail(`settle: ${short.at(-1)}`);
    for (const shard of ideal.floor.get(c.id) ?? []) {
      if (holdersOf(s.latest.placement, c.id).includes(shard)) continue;
      const used = s.footprint.get(shard) ?? 0;
      if (used + c.bytes <= o.capacityBytes)
        fail(`settle: ${short.at(-1)}, yet its ideal shard ${shard} has room (${used} + ${c.bytes} bytes)`);
    }
  }
  if (short.length > 0) m.stats.add('settle: stalled by a capacity cycle (tight; floors unmet)');
  else m.stats.add(`settle: floors met${m.cfg.roomy ? ' (roomy)' : ' (tight)'}`);
}

/** Replay a stored walk: its config and its command descriptors. */
export function commandsOf(descriptors: readonly Descriptor[]): Cmd[] {
  return descriptors.map((d) => new Cmd(d));
}

/** The descriptors of the commands a failing walk ran (to store as a regression). */
export function describe(commands: Iterable<fc.AsyncCommand<SimModel, SimReal>>): unknown[] {
  return [...commands].map((c) => JSON.parse(c.toString()) as unknown);
}
