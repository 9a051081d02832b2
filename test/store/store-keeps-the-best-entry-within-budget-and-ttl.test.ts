/**
 * The checkpoint store: entry files use the durable envelope with the
 * documented layout; lookup returns the best entry over every run; the
 * budget evicts old and bad entries first but never a run's only final
 * entry nor the entry just written; expired entries go on lookup and prune;
 * damaged and foreign files are reported once with their path and skipped;
 * temp files of killed writers are ignored and pruned; a write into a
 * read-only directory fails with E_STORE_WRITE and keeps the old entry.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { CheckpointStore, decodeEntry, encodeEntry, type StoreEntry } from '../../src/store/checkpoint-store.js';
import { readDurable, writeDurable } from '../../src/store/durable.js';
import { check } from '../helpers/prop.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-store-'));
let n = 0;
const FP = '12'.repeat(32);
const FP2 = '34'.repeat(32);
const NEAR = '56'.repeat(32);
const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (u: Uint8Array): string => Buffer.from(u).toString('utf8');

function open(extra: { sizeBudgetBytes?: number; ttlMs?: number; now?: () => number; staleTempMs?: number } = {}): {
  store: CheckpointStore;
  dir: string;
  warnings: string[];
} {
  const dir = join(root, `d${n++}`);
  const warnings: string[] = [];
  return {
    store: CheckpointStore.open(dir, {
      sizeBudgetBytes: 1 << 20,
      ttlMs: 60_000,
      onWarning: (m) => warnings.push(m),
      ...extra,
    }),
    dir,
    warnings,
  };
}

test('entry layout: u32 header length, JSON header, payload, in a durable "checkpoint" file', () => {
  const { store } = open();
  store.save(FP, 'run-1', b('hello'), { objective: 1.5, iteration: 7, kind: 'final', nearKey: NEAR });
  const r = readDurable(store.slotPath(FP, 'run-1'), 'checkpoint');
  assert.ok(r.ok);
  if (!r.ok) return;
  const h = new DataView(r.payload.buffer, r.payload.byteOffset).getUint32(0, true);
  const header = JSON.parse(Buffer.from(r.payload.subarray(4, 4 + h)).toString('utf8')) as Record<string, unknown>;
  assert.equal(Object.keys(header).sort(), [
    'fingerprint',
    'iteration',
    'kind',
    'nearKey',
    'objective',
    'payloadLength',
    'runId',
    'writtenAt',
  ]);
  assert.is(header['payloadLength'], 5);
  assert.is(text(r.payload.subarray(4 + h)), 'hello');
});

test('encode/decode round-trips any entry', async () => {
  await check(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
      fc.option(fc.nat()),
      fc.constantFrom('checkpoint' as const, 'final' as const),
      (payload, objective, iteration, kind) => {
        const e: StoreEntry = {
          fingerprint: FP,
          nearKey: '',
          runId: 'r',
          payload,
          objective: Object.is(objective, -0) ? 0 : objective,
          iteration,
          kind,
          writtenAt: 123,
        };
        const d = decodeEntry(encodeEntry(e));
        assert.type(d, 'object');
        assert.equal(
          { ...(d as StoreEntry), payload: [...(d as StoreEntry).payload] },
          { ...e, payload: [...payload] },
        );
      },
    ),
  );
});

test('lookup returns the best entry over every run', () => {
  const { store } = open();
  assert.is(store.lookup(FP), null);
  store.save(FP, 'run-a', b('a'), { objective: 3, iteration: 1 });
  store.save(FP, 'run-b', b('b'), { objective: 1, iteration: 1 });
  store.save(FP, 'run-c', b('c'), { objective: 2, iteration: 9, kind: 'final' });
  store.save(FP, 'run-d', b('d'), { iteration: 9 });
  store.save(FP2, 'run-e', b('e'), { objective: 0 });
  assert.is(text(store.lookup(FP)!.payload), 'b');
  store.save(FP, 'run-c', b('c2'), { objective: 1, kind: 'final' });
  assert.is(text(store.lookup(FP)!.payload), 'c2', 'on a tie a final entry wins');
  assert.is(text(store.lookup(FP2)!.payload), 'e');
  store.save(FP2, 'run-f', b('f'), { objective: 5, nearKey: NEAR });
  assert.is(text(store.lookupNear(NEAR)!.payload), 'f');
  assert.is(store.lookupNear(NEAR, FP2), null);
});

test('over budget: oldest and worst checkpoints go first, never the only final of a run, never the new entry', () => {
  let t = 1000;
  const kb = new Uint8Array(400);
  const one = encodeEntry({
    fingerprint: FP,
    nearKey: '',
    runId: 'abc',
    payload: kb,
    objective: 9,
    iteration: null,
    kind: 'final',
    writtenAt: t,
  }).length;
  const { store } = open({ sizeBudgetBytes: Math.floor(one * 4.5), now: () => t });
  store.save(FP, 'fin', kb, { objective: 9, kind: 'final' }); // oldest, worst, but the run's only final
  t++;
  store.save(FP, 'old', kb, { objective: 1 });
  t++;
  store.save(FP, 'mid', kb, { objective: 2 });
  t++;
  store.save(FP, 'new', kb, { objective: 3 });
  assert.equal(
    store
      .entries()
      .map((e) => e.runId)
      .sort(),
    ['fin', 'mid', 'new', 'old'],
  );
  t++;
  store.save(FP, 'newest', kb, { objective: 4 });
  const left = store
    .entries()
    .map((e) => e.runId)
    .sort();
  assert.equal(left, ['fin', 'mid', 'new', 'newest'], 'the oldest checkpoint went');
  t++;
  store.save(FP, 'big', new Uint8Array(5000), { objective: 5 });
  const after = store
    .entries()
    .map((e) => e.runId)
    .sort();
  assert.equal(after, ['big', 'fin'], 'the new entry and the only final stay even over budget');
  // a run with two finals (under two fingerprints) may lose the older one
  const two = open({ sizeBudgetBytes: Math.floor(one * 1.5), now: () => t });
  t++;
  two.store.save(FP, 'fin', kb, { objective: 0, kind: 'final' });
  t++;
  two.store.save(FP2, 'fin', kb, { objective: 0, kind: 'final' });
  assert.equal(
    two.store.entries().map((e) => e.fingerprint),
    [FP2],
    "the older of the run's two finals was evicted",
  );
  t++;
  two.store.save(FP, 'other', kb, { objective: 0, kind: 'final' });
  assert.equal(
    two.store
      .entries()
      .map((e) => e.runId)
      .sort(),
    ['fin', 'other'],
    'each run keeps its only final, over budget or not',
  );
  assert.is(two.store.prune().evicted, 0);
});

test('expired entries are dropped on lookup and prune', () => {
  let t = 0;
  const { store, dir } = open({ ttlMs: 100, now: () => t });
  store.save(FP, 'a', b('a'), { objective: 1 });
  t = 50;
  store.save(FP, 'b', b('b'), { objective: 2 });
  t = 120;
  assert.is(text(store.lookup(FP)!.payload), 'b', 'the better but expired entry is gone');
  assert.is(readdirSync(dir).length, 1);
  t = 1000;
  assert.is(store.prune().expired, 1);
  assert.is(readdirSync(dir).length, 0);
  assert.is(store.lookup(FP), null);
});

test('truncated, corrupt, foreign and misnamed files are reported once and skipped', () => {
  const { store, dir, warnings } = open();
  store.save(FP, 'good', b('good'), { objective: 5 });
  store.save(FP, 'trunc', b('x'.repeat(100)), { objective: 1 });
  store.save(FP, 'flip', b('y'.repeat(100)), { objective: 1 });
  const tp = store.slotPath(FP, 'trunc');
  writeFileSync(tp, readFileSync(tp).subarray(0, 80));
  const fp = store.slotPath(FP, 'flip');
  const flipped = Buffer.from(readFileSync(fp));
  flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0xff;
  writeFileSync(fp, flipped);
  writeFileSync(store.slotPath(FP, 'foreign'), '{"hello": "world"}');
  writeDurable(store.slotPath(FP, 'stats'), 'relation-stats', b('zz'));
  writeDurable(store.slotPath(FP, 'badheader'), 'checkpoint', b('\x05\x00\x00\x00{nope'));
  // a valid entry copied under another slot's name
  writeFileSync(store.slotPath(FP, 'moved'), readFileSync(store.slotPath(FP, 'good')));
  writeFileSync(join(dir, 'README.txt'), 'not an entry');
  for (let i = 0; i < 3; i++) assert.is(text(store.lookup(FP)!.payload), 'good');
  assert.is(warnings.length, 6, warnings.join('\n'));
  for (const slot of ['trunc', 'flip', 'foreign', 'stats', 'badheader', 'moved']) {
    const path = store.slotPath(FP, slot);
    assert.is(warnings.filter((w) => w.includes(path)).length, 1, `${slot} reported once with its path`);
  }
  assert.ok(warnings.some((w) => w.includes('truncated')));
  assert.ok(warnings.some((w) => w.includes('foreign')));
  assert.ok(warnings.some((w) => w.includes('corrupt')));
  assert.is(store.prune().damaged, 6);
  assert.is(warnings.length, 6, 'prune does not repeat a warning');
});

test('the default warning channel is process.emitWarning', async () => {
  const dir = join(root, `w${n++}`);
  const store = CheckpointStore.open(dir);
  writeFileSync(join(dir, `${FP}--x.kgck`), 'junk');
  const seen: string[] = [];
  const onWarn = (w: Error): void => {
    seen.push(w.message);
  };
  process.on('warning', onWarn);
  store.lookup(FP);
  store.lookup(FP);
  await new Promise((r) => setTimeout(r, 20));
  process.off('warning', onWarn);
  assert.is(seen.filter((m) => m.includes(join(dir, `${FP}--x.kgck`))).length, 1);
});

test('temp files of dead writers are ignored by lookup and removed by prune', () => {
  const { store, dir, warnings } = open();
  store.save(FP, 'run', b('ok'), { objective: 1 });
  const slot = store.slotPath(FP, 'run');
  const deadPid = 2 ** 22 + 12345; // above pid_max defaults: not a live process
  writeFileSync(`${slot}.tmp-${deadPid}-abc`, readFileSync(slot).subarray(0, 20));
  const mine = `${slot}.tmp-${process.pid}-young`;
  writeFileSync(mine, 'partial');
  const old = `${slot}.tmp-${process.pid}-old`;
  writeFileSync(old, 'partial');
  const past = (Date.now() - 3600_000) / 1000;
  utimesSync(old, past, past);
  assert.is(text(store.lookup(FP)!.payload), 'ok');
  assert.is(warnings.length, 0, 'temp files are not damaged entries');
  const r = store.prune();
  assert.is(r.tempsRemoved, 2);
  assert.equal(
    readdirSync(dir).sort(),
    [`${FP}--run.kgck`, `${FP}--run.kgck.tmp-${process.pid}-young`].sort(),
    'a young temp file of a live writer stays',
  );
});

test('a write that cannot happen throws E_STORE_WRITE naming the path and keeps the old entry', () => {
  const { store, dir } = open();
  store.save(FP, 'run', b('old'), { objective: 2 });
  const slot = store.slotPath(FP, 'run');
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    try {
      const e = err(() => store.save(FP, 'run', b('new'), { objective: 1 }));
      assert.is(e.code, 'E_STORE_WRITE');
      assert.ok(e.message.includes(slot), e.message);
      assert.match(e.message, /EACCES|EPERM|EROFS/);
    } finally {
      chmodSync(dir, 0o755);
    }
    assert.is(text(store.lookup(FP)!.payload), 'old');
  } else {
    const blocked = store.slotPath(FP, 'blocked');
    mkdirSync(join(blocked, 'inner'), { recursive: true });
    const e = err(() => store.save(FP, 'blocked', b('new'), { objective: 1 }));
    assert.is(e.code, 'E_STORE_WRITE');
    assert.ok(e.message.includes(blocked), e.message);
    assert.is(text(store.lookup(FP)!.payload), 'old');
  }
  assert.not.ok(
    readdirSync(dir).some((x) => x.includes('.tmp-')),
    'no temp file left behind',
  );
});

test('bad arguments are E_INVALID_ARGUMENT', () => {
  const { store } = open();
  assert.is(err(() => CheckpointStore.open('')).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => CheckpointStore.open(join(root, 'x'), { ttlMs: -1 })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.save('XYZ', 'r', b(''))).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.save(FP, 'a/b', b(''))).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.save(FP, 'r', 'str' as unknown as Uint8Array)).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.save(FP, 'r', b(''), { objective: Infinity })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.save(FP, 'r', b(''), { kind: 'x' as 'final' })).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => store.lookup('nope')).code, 'E_INVALID_ARGUMENT');
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
