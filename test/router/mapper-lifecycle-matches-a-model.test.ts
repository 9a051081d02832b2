/**
 * Model check of the whole shard lifecycle on one thread: fast-check runs
 * random sequences of scaleUp, scaleUpProvisioning(Force), activate,
 * drainSpecific, scaleDown, finalizeDraining, removeStoppedShards,
 * removeSpecificStoppedShard, rearmDrain, weight changes (setLastMetrics +
 * rebuild, NaN and infinities included), collectMetrics, and the
 * recordings that feed them (pushes, batches of events, ring lengths; on
 * draining shards too, which must hold them back from finalization), plus
 * calls with invalid counts and a jump of the id counter to the end of
 * the id space, against a real ShardMapper and a plain model:
 * a map id -> {state, weight, window figures, drain count}, the id counter,
 * the slot budget and the callback logs.
 *
 * Policy: random minShards / maxShards / initial shards / slots / ring
 * capacity, cooldownMs 1e-6 (so the cooldown never blocks: every command is
 * separated by the invariant checks, far more than 1 ns), minDrainMs 0.
 *
 * After EVERY command:
 * - the result (ok or the failure kind, the ids or flag returned) is the
 *   model's, and the creation / removal callbacks fired for exactly the
 *   model's ids;
 * - activeShardCount(), activeShardIds(), allShardIds(), totalShardCount()
 *   and shardState() of every id ever issued agree with the model;
 * - the Active count stays within [minShards, maxShards] once it has been
 *   there (it starts there when the initial shards are within), and never
 *   drops while below minShards;
 * - selectionTable() is exactly the Active shards whose weight is within
 *   0.1 of the least Active weight, ignoring NaN (all Active shards when
 *   no weight is within, e.g. every weight NaN; the least weight starts
 *   from Number.MAX_VALUE as the reference's fold(f64::MAX, f64::min)
 *   does, which decides the +/-Infinity cases);
 * - selectShard over 256 spread hashes returns exactly the table's ids
 *   (NO_SHARD iff no shard is Active), and over 200 other hashes only
 *   table ids;
 * - every shard's stored weight and drain count are the model's;
 * - lastScalingMs moved (to a time within the call) exactly when a scaling
 *   action succeeded, and is untouched otherwise;
 * - ids are never reused: every id a scale-up returns is the next one from
 *   the counter and was never issued before.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  NO_SHARD,
  ShardMapper,
  type MapperResult,
  type MapperTestHooks,
  type ShardState,
} from '../../src/router/mapper.js';
import { check } from '../helpers/prop.js';
import { err } from '../helpers/errors.js';

// ------------------------------------------------------------ model

interface ModelShard {
  state: ShardState;
  /** The stored weight (record), as the selection table and scaleDown see it. */
  weight: number;
  /** Current window: events, latency samples and their sum. */
  events: number;
  samples: number;
  sum: number;
  bufferLen: number;
  drainFlag: boolean;
  /** Pushes since the drain began (since creation before any drain). */
  drainCount: number;
}

interface Config {
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  /** Explicit slot count, or undefined for the default. */
  readonly slots: number | undefined;
  readonly capacity: number;
}

interface Model {
  readonly cfg: Config;
  readonly slots: number;
  readonly shards: Map<number, ModelShard>;
  /** Every id ever issued, in order (removed ones included). */
  readonly everIds: number[];
  readonly issued: Set<number>;
  nextId: number;
  readonly created: number[];
  readonly removed: number[];
  lastScaling: number;
  /** The Active count has been within [min, max]. */
  reachedMin: boolean;
  active: number;
}

interface Real {
  readonly mapper: ShardMapper;
  readonly hooks: MapperTestHooks;
  readonly created: number[];
  readonly removed: number[];
}

function freshShard(): ModelShard {
  return { state: 'active', weight: 0, events: 0, samples: 0, sum: 0, bufferLen: 0, drainFlag: false, drainCount: 0 };
}

const byId = (a: number, b: number): number => a - b;

function idsIn(m: Model, state?: ShardState): number[] {
  const out: number[] = [];
  for (const [id, s] of m.shards) if (state === undefined || s.state === state) out.push(id);
  return out.sort(byId);
}

/** The selection table the model expects (see the file comment). */
function modelTable(m: Model): number[] {
  const active = idsIn(m, 'active');
  let least = Number.MAX_VALUE;
  for (const id of active) {
    const w = m.shards.get(id)!.weight;
    if (w < least) least = w; // NaN compares false: ignored
  }
  const picked = active.filter((id) => Math.abs(m.shards.get(id)!.weight - least) < 0.1);
  return picked.length > 0 ? picked : active;
}

/** The model's allocation: the same gates in the same order as the mapper. */
function allocate(m: Model, count: number, state: ShardState): MapperResult<number[]> {
  const fail = (error: 'at-max-shards' | 'no-free-slot'): MapperResult<number[]> => ({ ok: false, error, message: '' });
  if (m.active + count > m.cfg.max) return fail('at-max-shards');
  if (m.nextId + count - 1 >= NO_SHARD) return fail('at-max-shards');
  if (m.slots - m.shards.size < count) return fail('no-free-slot');
  const ids: number[] = [];
  for (let k = 0; k < count; k++) {
    const id = m.nextId++;
    m.shards.set(id, { ...freshShard(), state });
    m.everIds.push(id);
    m.issued.add(id);
    ids.push(id);
  }
  return { ok: true, value: ids };
}

/** Active -> Draining in the model (weight to the maximum, drain count restarted). */
function startDrain(s: ModelShard): void {
  s.state = 'draining';
  s.weight = Number.MAX_VALUE;
  s.drainFlag = true;
  s.drainCount = 0;
}

// ------------------------------------------------------------ checks

const SPREAD = Array.from({ length: 256 }, (_, j) => (j * 2 ** 24 + 0x5a5a5a) >>> 0);
const OTHER = Array.from({ length: 200 }, (_, i) => Math.imul(i + 1, 0x9e3779b9) >>> 0);

function invariants(m: Model, r: Real, what: string, activeBefore: number): void {
  const at = `after ${what}`;
  const mp = r.mapper;
  const active = idsIn(m, 'active');
  assert.is(m.active, active.length, `${at}: model bookkeeping`);
  assert.is(mp.activeShardCount(), active.length, `${at}: activeShardCount`);
  assert.equal(mp.activeShardIds(), active, `${at}: activeShardIds`);
  assert.equal(
    mp.allShardIds(),
    idsIn(m).filter((id) => m.shards.get(id)!.state !== 'stopped'),
    `${at}: allShardIds`,
  );
  assert.is(mp.totalShardCount(), m.shards.size, `${at}: totalShardCount`);
  for (const id of m.everIds) assert.is(mp.shardState(id), m.shards.get(id)?.state, `${at}: state of shard ${id}`);

  // Bounds.
  const n = active.length;
  assert.ok(n <= m.cfg.max, `${at}: ${n} Active shards, maxShards ${m.cfg.max}`);
  if (m.reachedMin) assert.ok(n >= m.cfg.min, `${at}: ${n} Active shards, minShards ${m.cfg.min}`);
  else
    assert.ok(
      n >= activeBefore,
      `${at}: the Active count dropped from ${activeBefore} to ${n} below minShards ${m.cfg.min}`,
    );
  if (n >= m.cfg.min) m.reachedMin = true;

  // Selection.
  const table = modelTable(m);
  assert.equal(
    mp.selectionTable(),
    table,
    `${at}: selectionTable (weights ${JSON.stringify(active.map((id) => [id, m.shards.get(id)!.weight]))})`,
  );
  const swept = new Set(SPREAD.map((h) => mp.selectShard(h)));
  if (n === 0) assert.equal([...swept], [NO_SHARD], `${at}: no Active shard, selectShard must say NO_SHARD`);
  else assert.equal([...swept].sort(byId), table, `${at}: spread hashes must reach exactly the table`);
  const inTable = new Set(n === 0 ? [NO_SHARD] : table);
  for (const h of OTHER) {
    const id = mp.selectShard(h);
    assert.ok(inTable.has(id), `${at}: selectShard(${h}) = ${id}, not in the table [${table.join(',')}]`);
  }

  // Per-shard figures.
  for (const [id, s] of m.shards) {
    assert.ok(
      Object.is(mp.lastMetrics(id)!.weight, s.weight),
      `${at}: weight of shard ${id} is ${mp.lastMetrics(id)!.weight}, model ${s.weight}`,
    );
    assert.is(mp.metricsCollector(id)!.pushesSinceDrainStart(), s.drainCount, `${at}: drain count of shard ${id}`);
    assert.is(mp.metricsCollector(id)!.isDraining(), s.drainFlag, `${at}: drain flag of shard ${id}`);
  }

  assert.ok(
    Object.is(r.hooks.lastScalingMs(), m.lastScaling),
    `${at}: lastScalingMs changed to ${r.hooks.lastScalingMs()} (model ${m.lastScaling})`,
  );
  assert.equal(r.created, m.created, `${at}: creation callbacks`);
  assert.equal(r.removed, m.removed, `${at}: removal callbacks`);
}

/** Compare a real result with the model's: same ok / failure kind, same value when ok. */
function same<T>(what: string, got: MapperResult<T>, want: MapperResult<T>): void {
  const show = (x: MapperResult<T>): string => (x.ok ? `ok ${JSON.stringify(x.value)}` : `fail ${x.error}`);
  assert.is(show(got), show(want), `${what}${got.ok ? '' : `: ${got.message}`}`);
}

const ok = <T>(value: T): MapperResult<T> => ({ ok: true, value });
const no = (
  error: 'at-max-shards' | 'at-min-shards' | 'unknown-shard' | 'illegal-transition',
): MapperResult<never> => ({
  ok: false,
  error,
  message: '',
});

/**
 * Run a scaling call; if the model says it succeeded, the cooldown stamp
 * must have moved to a time within the call (and the model takes it).
 */
function timed<T>(m: Model, r: Real, want: MapperResult<unknown>, stamps: boolean, call: () => T): T {
  const t0 = r.hooks.now();
  const got = call();
  const t1 = r.hooks.now();
  if (want.ok && stamps) {
    const ls = r.hooks.lastScalingMs();
    assert.ok(ls >= t0 && ls <= t1, `lastScalingMs ${ls} is not within the call [${t0}, ${t1}]`);
    m.lastScaling = ls;
  }
  return got;
}

// ------------------------------------------------------------ commands

/** A command: a label and what to do to model and mapper; the invariants run after it. */
class Cmd implements fc.Command<Model, Real> {
  constructor(
    readonly label: string,
    readonly fn: (m: Model, r: Real) => string,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const before = m.active;
    const what = this.fn(m, r);
    invariants(m, r, what, before);
  }
  toString(): string {
    return this.label;
  }
}

/**
 * Resolve a generated selector into an id at run time: mostly a shard that
 * exists (preferring `state` when given and present), sometimes one that
 * was removed, sometimes one that never existed (the next id, NO_SHARD, a
 * negative or a fractional number).
 */
function resolve(m: Model, sel: number, state?: ShardState): number {
  const k = sel % 10;
  const i = Math.floor(sel / 10);
  const live = idsIn(m);
  const preferred = state === undefined ? [] : idsIn(m, state);
  if (k < 4 && preferred.length > 0) return preferred[i % preferred.length]!;
  if (k < 8 && live.length > 0) return live[i % live.length]!;
  if (k === 8 && m.everIds.length > 0) return m.everIds[i % m.everIds.length]!;
  return [m.nextId, m.nextId + 1, NO_SHARD, -1, 2.5][i % 5]!;
}

const sel = fc.nat(10_000);
const count = fc.integer({ min: 0, max: 4 });

function scaleCmd(kind: 'scaleUp' | 'scaleUpProvisioning' | 'scaleUpProvisioningForce', n: number): Cmd {
  return new Cmd(`${kind}(${n})`, (m, r) => {
    const state: ShardState = kind === 'scaleUp' ? 'active' : 'provisioning';
    const issuedBefore = new Set(m.issued);
    const want = n === 0 ? ok<number[]>([]) : allocate(m, n, state);
    const got = timed(m, r, want, n > 0, () => r.mapper[kind](n));
    same(`${kind}(${n})`, got, want);
    if (got.ok) {
      for (const id of got.value) assert.ok(!issuedBefore.has(id), `${kind}(${n}) handed out id ${id} again`);
      if (kind === 'scaleUp') {
        m.active += n;
        m.created.push(...got.value);
      }
    }
    return `${kind}(${n}) -> ${JSON.stringify(got.ok ? got.value : got.error)}`;
  });
}

const activateCmd = sel.map(
  (s) =>
    new Cmd(`activate(pick ${s})`, (m, r) => {
      const id = resolve(m, s, 'provisioning');
      const sh = m.shards.get(id);
      let want: MapperResult<boolean>;
      if (sh === undefined) want = no('unknown-shard');
      else if (sh.state === 'active') want = ok(false);
      else if (sh.state !== 'provisioning') want = no('illegal-transition');
      else if (m.active >= m.cfg.max) want = no('at-max-shards');
      else want = ok(true);
      const got = timed(m, r, want, false, () => r.mapper.activate(id));
      same(`activate(${id})`, got, want);
      if (want.ok && want.value) {
        sh!.state = 'active';
        m.active++;
        m.created.push(id);
      }
      return `activate(${id}) -> ${got.ok ? got.value : got.error}`;
    }),
);

const drainCmd = sel.map(
  (s) =>
    new Cmd(`drainSpecific(pick ${s})`, (m, r) => {
      const id = resolve(m, s, 'active');
      const sh = m.shards.get(id);
      let want: MapperResult<undefined>;
      let moves = false;
      if (sh === undefined) want = no('unknown-shard');
      else if (sh.state === 'draining') want = ok(undefined);
      else if (sh.state !== 'active') want = no('illegal-transition');
      else if (m.active <= m.cfg.min) want = no('at-min-shards');
      else {
        want = ok(undefined);
        moves = true;
      }
      const got = timed(m, r, want, moves, () => r.mapper.drainSpecific(id));
      same(`drainSpecific(${id})`, got, want);
      if (moves) {
        startDrain(sh!);
        m.active--;
      }
      return `drainSpecific(${id}) -> ${got.ok ? 'ok' : got.error}`;
    }),
);

const scaleDownCmd = count.map(
  (n) =>
    new Cmd(`scaleDown(${n})`, (m, r) => {
      const k = Math.min(n, m.active - m.cfg.min);
      let want: MapperResult<number[]>;
      if (m.active <= m.cfg.min || k <= 0) want = no('at-min-shards');
      else {
        // Least weight first, NaN last, ties by id.
        const order = idsIn(m, 'active').sort((a, b) => {
          const wa = m.shards.get(a)!.weight;
          const wb = m.shards.get(b)!.weight;
          if (Number.isNaN(wa) || Number.isNaN(wb))
            return (Number.isNaN(wa) ? 1 : 0) - (Number.isNaN(wb) ? 1 : 0) || a - b;
          return wa < wb ? -1 : wa > wb ? 1 : a - b;
        });
        want = ok(order.slice(0, k));
      }
      const got = timed(m, r, want, true, () => r.mapper.scaleDown(n));
      same(`scaleDown(${n})`, got, want);
      if (want.ok) {
        for (const id of want.value) startDrain(m.shards.get(id)!);
        m.active -= want.value.length;
      }
      return `scaleDown(${n}) -> ${JSON.stringify(got.ok ? got.value : got.error)}`;
    }),
);

const finalizeCmd = fc.constant(
  new Cmd('finalizeDraining()', (m, r) => {
    const want = idsIn(m, 'draining').filter((id) => {
      const s = m.shards.get(id)!;
      return s.bufferLen === 0 && s.drainCount === 0;
    });
    const got = r.mapper.finalizeDraining();
    assert.equal(
      got,
      want,
      'finalizeDraining: stops exactly the drained shards with an empty ring and no push since the drain',
    );
    for (const id of want) m.shards.get(id)!.state = 'stopped';
    m.removed.push(...want);
    return `finalizeDraining() -> ${JSON.stringify(got)}`;
  }),
);

const removeAllCmd = fc.constant(
  new Cmd('removeStoppedShards()', (m, r) => {
    const want = idsIn(m, 'stopped');
    assert.equal(r.mapper.removeStoppedShards(), want, 'removeStoppedShards');
    for (const id of want) m.shards.delete(id);
    return `removeStoppedShards() -> ${JSON.stringify(want)}`;
  }),
);

const removeOneCmd = sel.map(
  (s) =>
    new Cmd(`removeSpecificStoppedShard(pick ${s})`, (m, r) => {
      const id = resolve(m, s, 'stopped');
      const want = m.shards.get(id)?.state === 'stopped';
      assert.is(r.mapper.removeSpecificStoppedShard(id), want, `removeSpecificStoppedShard(${id})`);
      if (want) m.shards.delete(id);
      return `removeSpecificStoppedShard(${id}) -> ${want}`;
    }),
);

const rearmCmd = sel.map(
  (s) =>
    new Cmd(`rearmDrain(pick ${s})`, (m, r) => {
      const id = resolve(m, s, 'draining');
      const sh = m.shards.get(id);
      const want = sh?.state === 'draining';
      assert.is(r.mapper.rearmDrain(id), want, `rearmDrain(${id})`);
      if (want) sh.drainCount = 0;
      return `rearmDrain(${id}) -> ${want}`;
    }),
);

const weight = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 0.05, 0.1, 0.15, 1, 5, 100, Number.MAX_VALUE) },
  { weight: 4, arbitrary: fc.double({ min: -2, max: 10, noNaN: true }) },
  { weight: 2, arbitrary: fc.constant(Number.NaN) },
  { weight: 1, arbitrary: fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0) },
);

const weightsCmd = fc.array(fc.tuple(sel, weight), { minLength: 1, maxLength: 5 }).map(
  (pairs) =>
    new Cmd(`setWeights(${pairs.map(([s, w]) => `pick ${s}=${w}`).join(', ')}) + rebuild`, (m, r) => {
      const hooks = r.hooks;
      const done: string[] = [];
      for (const [s, w] of pairs) {
        const id = resolve(m, s, 'active');
        const sh = m.shards.get(id);
        if (sh === undefined) continue; // setLastMetrics takes existing shards only
        hooks.setLastMetrics(id, { weight: w });
        sh.weight = w;
        done.push(`${id}=${w}`);
      }
      hooks.rebuildSelectionTable();
      return `setWeights(${done.join(', ')}) + rebuild`;
    }),
);

const collectCmd = fc.constant(
  new Cmd('collectMetrics()', (m, r) => {
    const want = idsIn(m).map((id) => {
      const s = m.shards.get(id)!;
      const avg = s.samples > 0 ? Math.floor(s.sum / s.samples) : 0;
      const fillRatio = s.bufferLen / m.cfg.capacity;
      const w = s.drainFlag ? Number.MAX_VALUE : fillRatio * 100 + avg / 10 + s.events / 1_000_000;
      return {
        shardId: id,
        fillRatio,
        eventRate: s.events,
        avgPushLatencyNs: avg,
        avgFlushLatencyUs: 0,
        draining: s.drainFlag,
        weight: w,
      };
    });
    assert.equal(r.mapper.collectMetrics(), want, 'collectMetrics');
    for (const x of want) {
      const s = m.shards.get(x.shardId)!;
      s.weight = x.weight;
      s.events = 0;
      s.samples = 0;
      s.sum = 0;
    }
    return 'collectMetrics()';
  }),
);

const recordCmd = fc
  .tuple(sel, fc.constantFrom('push' as const, 'events' as const, 'len' as const), fc.integer({ min: 0, max: 2000 }))
  .map(
    ([s, kind, v]) =>
      new Cmd(`record ${kind} ${v} (pick ${s})`, (m, r) => {
        // Mostly on draining shards, where a push holds back finalization.
        const id = resolve(m, s, 'draining');
        const sh = m.shards.get(id);
        const c = r.mapper.metricsCollector(id);
        assert.is(c === undefined, sh === undefined, `metricsCollector(${id})`);
        if (sh === undefined || c === undefined) return `record on missing shard ${id}`;
        if (kind === 'push') {
          c.recordPush(v);
          sh.events++;
          sh.drainCount++;
          sh.samples++;
          sh.sum += v;
        } else if (kind === 'events') {
          const n = 1 + (v % 3);
          c.recordEvents(n);
          sh.events += n;
          sh.drainCount += n;
        } else {
          const len = v % 3 === 0 ? 0 : v;
          c.recordBufferLen(len);
          sh.bufferLen = len;
        }
        return `record ${kind} ${v} on shard ${id}`;
      }),
  );

const badCountCmd = fc
  .tuple(
    fc.constantFrom(
      'scaleUp' as const,
      'scaleUpProvisioning' as const,
      'scaleUpProvisioningForce' as const,
      'scaleDown' as const,
    ),
    fc.constantFrom(-1, 1.5, Number.NaN, 0x10000),
  )
  .map(
    ([kind, n]) =>
      new Cmd(`${kind}(${n})`, (_m, r) => {
        const e = err(() => r.mapper[kind](n));
        assert.match(e.message, 'count', `${kind}(${n}) must name the bad count`);
        return `${kind}(${n}) throws`;
      }),
  );

/** Move the id counter (forward only) to just below the NO_SHARD sentinel, so scale-ups run out of ids. */
const idSpaceCmd = fc.integer({ min: 0, max: 6 }).map(
  (k) =>
    new Cmd(`setNextShardId(0xFFFF - ${k})`, (m, r) => {
      const next = Math.max(m.nextId, NO_SHARD - k);
      r.hooks.setNextShardId(next);
      m.nextId = next;
      return `setNextShardId(${next})`;
    }),
);

const commands = [
  count.map((n) => scaleCmd('scaleUp', n)),
  count.map((n) => scaleCmd('scaleUpProvisioning', n)),
  count.map((n) => scaleCmd('scaleUpProvisioningForce', n)),
  activateCmd,
  activateCmd,
  drainCmd,
  drainCmd,
  scaleDownCmd,
  finalizeCmd,
  removeAllCmd,
  removeOneCmd,
  rearmCmd,
  weightsCmd,
  collectCmd,
  recordCmd,
  recordCmd,
  badCountCmd,
  idSpaceCmd,
];

const config: fc.Arbitrary<Config> = fc
  .record({
    min: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 0, max: 5 }),
    below: fc.boolean(),
    initialPick: fc.nat(100),
    slotsPick: fc.option(fc.nat(100), { nil: undefined }),
    capacity: fc.constantFrom(1, 64, 1024),
  })
  .map(({ min, extra, below, initialPick, slotsPick, capacity }) => {
    const max = min + extra;
    // Usually within [min, max]; sometimes below min (0 included), to check the count never drops there.
    const initial = below && initialPick % 4 === 0 ? initialPick % min : min + (initialPick % (extra + 1));
    const lo = Math.max(1, initial);
    const hi = 2 * max + 2;
    const slots = slotsPick === undefined ? undefined : lo + (slotsPick % (hi - lo + 1));
    return { min, max, initial, slots, capacity };
  });

test('the mapper lifecycle matches a model, result for result, after every command', async () => {
  await check(
    fc.property(config, fc.commands(commands, { maxCommands: 80, size: 'max' }), (cfg, cmds) => {
      const mapper = ShardMapper.create({
        initialShards: cfg.initial,
        ringCapacity: cfg.capacity,
        policy: { minShards: cfg.min, maxShards: cfg.max, cooldownMs: 1e-6, minDrainMs: 0 },
        ...(cfg.slots === undefined ? {} : { slots: cfg.slots }),
      });
      assert.is(mapper.policy.minShards, cfg.min);
      assert.is(mapper.policy.maxShards, cfg.max);
      const slots = cfg.slots ?? Math.max(cfg.initial, 2 * cfg.max + 2);
      assert.is(mapper.slots, slots);
      const real: Real = { mapper, hooks: mapper.testHooks(), created: [], removed: [] };
      mapper.setOnShardCreated((id) => real.created.push(id));
      mapper.setOnShardRemoved((id) => real.removed.push(id));
      const shards = new Map<number, ModelShard>();
      const everIds: number[] = [];
      for (let id = 0; id < cfg.initial; id++) {
        shards.set(id, freshShard());
        everIds.push(id);
      }
      const model: Model = {
        cfg,
        slots,
        shards,
        everIds,
        issued: new Set(everIds),
        nextId: cfg.initial,
        created: [],
        removed: [],
        lastScaling: Number.NaN,
        reachedMin: cfg.initial >= cfg.min,
        active: cfg.initial,
      };
      invariants(model, real, 'create', cfg.initial);
      fc.modelRun(() => ({ model, real }), cmds);
    }),
    100,
  );
});

test.run();
