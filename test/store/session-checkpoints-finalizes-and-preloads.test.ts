/**
 * Sessions (one counterpart per scenario of the reference session tests):
 * checkpoint then load; an improving objective bypasses the rate limit; a
 * non-improving one inside the window is held back; finalize promotes the
 * slot to final; a preloaded near-match seed beats the store and is
 * consumed by the first tryLoad only (peekLoad leaves it); a second
 * process reads the first one's checkpoint. Plus: one slot per run, the
 * window reopening, failed writes reported and the previous entry intact,
 * and retried once the store's write breaker has cooled down.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../src/shm/clock.js';
import { CheckpointStore, type StoreEntry } from '../../src/store/checkpoint-store.js';
import { Fingerprinter } from '../../src/store/fingerprint.js';
import { Session } from '../../src/store/session.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-session-'));
let n = 0;
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

function tempSession(
  label: string,
  clock?: () => number,
  breakerClock?: ManualClock,
): { dir: string; s: Session; warnings: string[] } {
  const dir = join(root, `s${n++}`);
  const warnings: string[] = [];
  const store = CheckpointStore.open(dir, {
    sizeBudgetBytes: 1 << 20,
    ttlMs: 60_000,
    onWarning: (m) => warnings.push(m),
    ...(breakerClock ? { breaker: { clock: breakerClock } } : {}),
  });
  const key = new Fingerprinter().absorb('label', label).digest();
  return { dir, s: Session.open(store, key, clock ? { clock } : {}), warnings };
}

function seedEntry(payload: string, objective: number, iteration: number, kind: 'checkpoint' | 'final'): StoreEntry {
  return {
    fingerprint: 'cd'.repeat(32),
    nearKey: '',
    runId: 'other-run',
    payload: bytes(payload),
    objective,
    iteration,
    kind,
    writtenAt: 0,
  };
}

test('a checkpoint can be loaded back', () => {
  const { s } = tempSession('ckpt');
  assert.ok(s.checkpoint(bytes('iter-1'), 2, 1));
  const got = s.tryLoad();
  assert.ok(got);
  assert.is(text(got.payload), 'iter-1');
  assert.is(got.objective, 2);
  assert.is(got.iteration, 1);
  assert.is(got.kind, 'checkpoint');
  assert.is(s.tryLoadWithSource()!.source, 'exact');
});

test('a better objective is written even inside the rate window', () => {
  const { s } = tempSession('improve');
  assert.ok(s.checkpoint(bytes('a'), 5, 1));
  assert.ok(s.checkpoint(bytes('b'), 3, 2), 'improvement bypasses the limit');
  const got = s.tryLoad()!;
  assert.is(text(got.payload), 'b');
  assert.is(got.objective, 3);
});

test('a worse objective inside the window is held back', () => {
  const { s } = tempSession('throttle');
  assert.ok(s.checkpoint(bytes('a'), 2, 1));
  assert.not.ok(s.checkpoint(bytes('b'), 5, 2));
  assert.not.ok(s.checkpoint(bytes('c'), 2, 3), 'equal is not an improvement');
  assert.not.ok(s.checkpoint(bytes('d'), null, 4), 'no objective is not an improvement');
  assert.is(text(s.tryLoad()!.payload), 'a');
});

test('the window reopens after minIntervalMs', () => {
  let t = 0;
  const { s } = tempSession('window', () => t);
  assert.ok(s.checkpoint(bytes('a'), 2, 1));
  t = 1999;
  assert.not.ok(s.checkpoint(bytes('b'), 5, 2));
  t = 2000;
  assert.ok(s.checkpoint(bytes('c'), 5, 3), 'a worse checkpoint is written once the window has passed');
  assert.is(text(s.tryLoad()!.payload), 'c', 'the run overwrote its own slot');
});

test('finalize writes a final entry, bypassing the limit', () => {
  const { s } = tempSession('final');
  assert.ok(s.checkpoint(bytes('ckpt'), 2, 1));
  assert.ok(s.finalize(bytes('done'), 1, 5));
  const got = s.tryLoad()!;
  assert.is(text(got.payload), 'done');
  assert.is(got.kind, 'final');
  assert.is(got.iteration, 5);
});

test('one run keeps one slot however often it writes', () => {
  const { dir, s } = tempSession('slot');
  for (let i = 0; i < 20; i++) s.checkpoint(bytes(`x${i}`), 100 - i, i);
  s.finalize(bytes('end'), 0, 20);
  assert.equal(readdirSync(dir).length, 1);
  assert.equal(s.store.entries().length, 1);
});

test('a preloaded seed is returned before the store', () => {
  const { s } = tempSession('preload-empty');
  assert.is(s.tryLoad(), null, 'a fresh key has no entry');
  s.preload(seedEntry('from-prefix', 7, 42, 'final'));
  const got = s.tryLoadWithSource()!;
  assert.is(got.source, 'preloaded');
  assert.is(text(got.entry.payload), 'from-prefix');
  assert.is(got.entry.objective, 7);
});

test('the first tryLoad consumes the seed, the second reads the store', () => {
  const { s } = tempSession('preload-consume');
  assert.ok(s.checkpoint(bytes('exact'), 2, 5));
  s.preload(seedEntry('seed', 99, 1, 'checkpoint'));
  const first = s.tryLoadWithSource()!;
  assert.is(text(first.entry.payload), 'seed', 'the seed wins even over a better exact entry');
  assert.is(first.source, 'preloaded');
  const second = s.tryLoadWithSource()!;
  assert.is(text(second.entry.payload), 'exact');
  assert.is(second.source, 'exact');
});

test('peekLoad does not consume the seed', () => {
  const { s } = tempSession('preload-peek');
  s.preload(seedEntry('seed', 3, 9, 'final'));
  const peeked = s.peekLoadWithSource()!;
  assert.is(text(peeked.entry.payload), 'seed');
  assert.is(peeked.source, 'preloaded');
  assert.is(text(s.peekLoad()!.payload), 'seed', 'peeking twice still sees it');
  assert.is(text(s.tryLoad()!.payload), 'seed');
  assert.is(s.tryLoad(), null, 'consumed only by tryLoad');
  assert.is(s.peekLoad(), null);
});

test('a near-match seed found in the store warm-starts another problem', () => {
  const dir = join(root, `near${n++}`);
  const store = CheckpointStore.open(dir, { onWarning: () => {} });
  const near = new Fingerprinter().absorb('entities', ['a']).digest();
  const fpA = new Fingerprinter().absorb('lr', 0.1).digest();
  const fpB = new Fingerprinter().absorb('lr', 0.2).digest();
  Session.open(store, fpA, { nearKey: near }).finalize(bytes('A'), 1, 10);
  const b = Session.open(store, fpB, { nearKey: near });
  assert.is(b.peekLoad(), null);
  const seed = store.lookupNear(near, fpB);
  assert.ok(seed);
  b.preload(seed);
  assert.is(b.tryLoadWithSource()!.source, 'preloaded');
  b.checkpoint(bytes('B'), 5, 1);
  assert.is(text(store.lookup(fpB)!.payload), 'B', 'writes go to the own key');
  assert.is(text(store.lookup(fpA)!.payload), 'A');
});

test("a second process reads the first one's checkpoint", () => {
  const dir = join(root, `shared${n++}`);
  const key = new Fingerprinter().absorb('k', 'shared').digest();
  const a = Session.open(CheckpointStore.open(dir), key);
  assert.ok(a.checkpoint(bytes('from-a'), 1, 3));
  const reader = fileURLToPath(new URL('../fixtures/store-reader.js', import.meta.url));
  const r = spawnSync(process.execPath, [reader, dir, key], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as {
    found: boolean;
    payload: string;
    objective: number;
    iteration: number;
    kind: string;
    source: string;
    runId: string;
    pid: number;
  };
  assert.ok(got.found);
  assert.is(got.payload, 'from-a');
  assert.is(got.objective, 1);
  assert.is(got.iteration, 3);
  assert.is(got.kind, 'checkpoint');
  assert.is(got.source, 'exact');
  assert.is(got.runId, a.runId);
  assert.is.not(got.pid, process.pid);
});

test('a failed write returns false, is reported, and leaves the previous entry', () => {
  const breakerClock = ManualClock.create(0);
  const { dir, s, warnings } = tempSession('fail', undefined, breakerClock);
  assert.ok(s.checkpoint(bytes('good'), 2, 1));
  let undo: () => void;
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    undo = () => chmodSync(dir, 0o755);
  } else {
    // root ignores permissions: make the slot's temp file impossible by making the target a directory
    const slot = s.store.slotPath(s.fingerprint, s.runId);
    rmSync(slot);
    mkdirSync(slot);
    mkdirSync(join(slot, 'x'));
    undo = () => {
      rmSync(slot, { recursive: true });
    };
  }
  try {
    assert.not.ok(s.checkpoint(bytes('better'), 1, 2));
    assert.is(s.lastError?.code, 'E_STORE_WRITE');
    assert.ok(
      warnings.some((w) => w.includes('not saved') && w.includes(dir)),
      warnings.join('\n'),
    );
    assert.not.ok(s.finalize(bytes('end'), 0, 3));
  } finally {
    undo();
  }
  if (process.getuid?.() !== 0) {
    assert.is(text(s.tryLoad()!.payload), 'good', 'the previous entry is intact');
  }
  assert.not.ok(s.checkpoint(bytes('better'), 1, 2), "skipped while the store's write breaker is open (30 s)");
  breakerClock.advance(30_000);
  assert.ok(s.checkpoint(bytes('better'), 1, 2), 'an improvement is retried once the cool-down has passed');
});

test('bad arguments are E_INVALID_ARGUMENT', () => {
  const store = CheckpointStore.open(join(root, `bad${n++}`));
  assert.is(err(() => Session.open(store, 'not-hex')).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => Session.open(store, 'ab'.repeat(32), { runId: '../x' })).code, 'E_INVALID_ARGUMENT');
  const s = Session.open(store, 'ab'.repeat(32));
  assert.is(err(() => s.checkpoint(bytes('x'), Number.NaN, 1)).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => s.checkpoint(bytes('x'), 1, -1)).code, 'E_INVALID_ARGUMENT');
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
