/**
 * The checkpoint store's write breaker, on a real failing file system: the
 * store's directory is moved aside and a regular file put in its place, so
 * every write fails with ENOTDIR until the directory is moved back. Time is
 * a ManualClock that the tests move. A failed write opens the breaker (one
 * warning naming the directory and the cool-down); checkpoints are then
 * skipped without touching the disk; after the cool-down one is tried (the
 * probe): its failure opens the breaker again (one more warning), its
 * success closes it. The previous good entry stays loadable throughout.
 */
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Breaker,
  BREAKER_CLOSED,
  BREAKER_HALF_OPEN,
  BREAKER_OPEN,
  BREAKER_STATE_NAMES,
} from '../../src/shm/breaker.js';
import { ManualClock } from '../../src/shm/clock.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { Fingerprinter } from '../../src/store/fingerprint.js';
import { Session } from '../../src/store/session.js';
import { TrainingCheckpointer } from '../../src/store/training-checkpoints.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-store-breaker-'));
let n = 0;
const key = new Fingerprinter().absorb('problem', 'breaker').digest();
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Make every write into `dir` fail with ENOTDIR; returns the undo and where the directory went meanwhile. */
function breakDir(dir: string): { aside: string; restore: () => void } {
  const aside = `${dir}.aside`;
  renameSync(dir, aside);
  writeFileSync(dir, 'a regular file where the store directory was\n');
  return {
    aside,
    restore: () => {
      rmSync(dir);
      renameSync(aside, dir);
    },
  };
}

/** The payload of the store's entry for `key` in `dir`, read by a store opened afresh. */
function stored(dir: string): string | null {
  const e = CheckpointStore.open(dir, { onWarning: () => {} }).lookup(key);
  return e === null ? null : text(e.payload);
}

function open(threshold = 1, coolDownMs = 10_000) {
  const dir = join(root, `s${n++}`);
  const clock = ManualClock.create(0);
  const warnings: string[] = [];
  const store = CheckpointStore.open(dir, {
    onWarning: (m) => warnings.push(m),
    breaker: { failureThreshold: threshold, coolDownMs, clock },
  });
  const s = Session.open(store, key, { minIntervalMs: 0 });
  return { dir, clock, warnings, store, s };
}

const state = (b: Breaker): string => BREAKER_STATE_NAMES[b.state()];

test('a failed write skips checkpoints for the cool-down with one warning, then the probe decides', () => {
  const { dir, clock, warnings, store, s } = open();
  assert.ok(s.checkpoint(bytes('good'), 5, 1));
  assert.is(state(store.writeBreaker()), 'closed');
  const broken = breakDir(dir);
  try {
    assert.not.ok(s.checkpoint(bytes('x'), 4, 2), 'the write fails');
    const failure = s.lastError;
    assert.is(failure?.code, 'E_STORE_WRITE');
    assert.match(failure!.message, /ENOTDIR/);
    assert.is(state(store.writeBreaker()), 'open');
    assert.is(warnings.length, 1);
    assert.ok(warnings[0]!.includes('not saved') && warnings[0]!.includes('ENOTDIR'), warnings[0]);
    assert.ok(warnings[0]!.includes(`skipping checkpoints to ${dir} for 10 s`), warnings[0]);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      assert.not.ok(s.checkpoint(bytes(`skip${i}`), 3 - i / 10, 3 + i), `skipped at ${clock.now()} ms`);
    }
    assert.is(s.skippedByBreaker, 5);
    assert.is(s.lastError, failure, 'no write was attempted: no new error');
    assert.is(warnings.length, 1, 'one warning per open period');
    assert.is(stored(broken.aside), 'good', 'the previous good entry stays loadable');
    assert.equal(readdirSync(broken.aside).length, 1, 'nothing else was written beside it');
    clock.advance(5000); // 10 s after the failure: the probe, which fails
    assert.not.ok(s.checkpoint(bytes('probe'), 2, 8));
    assert.is.not(s.lastError, failure, 'the probe did write, and failed');
    assert.is(state(store.writeBreaker()), 'open');
    assert.is(store.writeBreaker().opens(), 2);
    assert.is(warnings.length, 2, 'a new open period, a new warning');
    assert.ok(warnings[1]!.includes(`skipping checkpoints to ${dir} for 10 s`), warnings[1]);
  } finally {
    broken.restore();
  }
  clock.advance(9999);
  assert.not.ok(s.checkpoint(bytes('early'), 1.5, 9), 'skipped although the disk works again');
  assert.is(stored(dir), 'good', 'a skipped checkpoint touches nothing');
  clock.advance(1);
  assert.ok(s.checkpoint(bytes('back'), 1, 10), 'the probe succeeds');
  assert.is(state(store.writeBreaker()), 'closed');
  assert.is(s.lastError, null);
  assert.is(stored(dir), 'back');
  assert.ok(s.checkpoint(bytes('more'), 0.5, 11), 'closed: written at once');
  assert.is(stored(dir), 'more');
  assert.is(s.skippedByBreaker, 6);
  assert.is(warnings.length, 2);
});

test('a threshold of 2 needs two failures in a row; finalize writes even while the breaker is open', () => {
  const { dir, clock, warnings, store, s } = open(2, 500);
  const b = store.writeBreaker();
  assert.ok(s.checkpoint(bytes('good'), 5, 1));
  let broken = breakDir(dir);
  assert.not.ok(s.checkpoint(bytes('f1'), 4, 2));
  assert.is(b.state(), BREAKER_CLOSED, 'one failure of two');
  assert.is(warnings.length, 1);
  assert.not.ok(warnings[0]!.includes('skipping'), 'a failure that opens nothing only reports itself');
  broken.restore();
  assert.ok(s.checkpoint(bytes('ok'), 3, 3), 'a success resets the count');
  broken = breakDir(dir);
  assert.not.ok(s.checkpoint(bytes('f2'), 2, 4));
  assert.is(b.state(), BREAKER_CLOSED);
  assert.not.ok(s.checkpoint(bytes('f3'), 1, 5));
  assert.is(b.state(), BREAKER_OPEN, 'two failures in a row');
  assert.is(warnings.length, 3);
  assert.match(warnings[2]!, /skipping checkpoints to .* for 0\.5 s/);
  assert.not.ok(s.finalize(bytes('final-broken'), 1, 6), 'finalize tries, and fails');
  assert.is(warnings.length, 4, 'its failure is reported');
  assert.not.ok(warnings[3]!.includes('skipping'), 'but opens no new period');
  broken.restore();
  assert.ok(s.finalize(bytes('final'), 1, 6), 'finalize writes while the breaker is open');
  assert.is(b.state(), BREAKER_OPEN, 'only a probe closes it');
  assert.is(stored(dir), 'final');
  clock.advance(500);
  assert.ok(s.checkpoint(bytes('after'), 0.5, 7), 'the probe');
  assert.is(b.state(), BREAKER_CLOSED);
});

test('finalize serves as the probe when one is due, and a probe never reported is taken again', () => {
  const { dir, clock, store, s } = open(1, 100);
  const b = store.writeBreaker();
  const broken = breakDir(dir);
  assert.not.ok(s.checkpoint(bytes('x'), 1, 1));
  broken.restore();
  clock.advance(100);
  assert.ok(s.finalize(bytes('end'), 1, 2));
  assert.is(b.state(), BREAKER_CLOSED, 'the final write was the probe, and closed the breaker');
  b.recordFailure();
  clock.advance(100);
  assert.ok(b.allow(), 'someone takes the probe and never reports');
  assert.is(b.state(), BREAKER_HALF_OPEN);
  assert.not.ok(s.checkpoint(bytes('y'), 0.5, 3), 'refused while that probe is out');
  clock.advance(100);
  assert.ok(s.checkpoint(bytes('z'), 0.25, 4), 'a cool-down later the session takes a new probe');
  assert.is(b.state(), BREAKER_CLOSED);
});

test('stores sharing one breaker through its handle pause together, each warning once', () => {
  const a = open(1, 100);
  const dirB = join(root, `s${n++}`);
  const warningsB: string[] = [];
  const shared = Breaker.attach(structuredClone(a.store.writeBreaker().handle));
  const storeB = CheckpointStore.open(dirB, { onWarning: (m) => warningsB.push(m), breaker: shared });
  assert.is(storeB.writeBreaker(), shared);
  const sB = Session.open(storeB, key, { minIntervalMs: 0 });
  const broken = breakDir(a.dir);
  assert.not.ok(a.s.checkpoint(bytes('x'), 1, 1));
  broken.restore();
  assert.not.ok(sB.checkpoint(bytes('b1'), 1, 1), "B's disk is fine, but the shared breaker is open");
  assert.not.ok(sB.checkpoint(bytes('b2'), 0.5, 2));
  assert.is(warningsB.length, 1);
  assert.ok(warningsB[0]!.includes(`skipping checkpoints to ${dirB} for up to 0.1 s`), warningsB[0]);
  assert.is(stored(dirB), null);
  a.clock.advance(100);
  assert.ok(sB.checkpoint(bytes('b3'), 0.25, 3), "B's write is the probe");
  assert.ok(a.s.checkpoint(bytes('a2'), 0.5, 2), 'and it closed the breaker for A too');
});

test('bad breaker options are refused when the store opens, naming the field', () => {
  const dir = join(root, `bad${n++}`);
  const e = err(() => CheckpointStore.open(dir, { breaker: { coolDownMs: 0 } }));
  assert.is(e.code, 'E_OUT_OF_RANGE');
  assert.is(e.message, 'CheckpointStore.open: breaker.coolDownMs must be in [1, 2147483647], got 0');
  assert.is(err(() => CheckpointStore.open(dir, { breaker: 5 as unknown as Breaker })).details['field'], 'breaker');
  const problem = {
    dataset: 'd',
    entities: ['a'],
    relations: ['r'],
    model: 'distmult',
    shapes: { entity: [1, 2], relation: [1, 2] },
    hyperParameters: {},
  };
  const t = err(() => TrainingCheckpointer.open({ dir, problem, writes: { failureThreshold: 1024 } }));
  assert.is(t.message, 'TrainingCheckpointer.open: writes.failureThreshold must be in [1, 1023], got 1024');
  const c = err(() => TrainingCheckpointer.open({ dir, problem, writes: { clock: Date } as never }));
  assert.match(c.message, /^TrainingCheckpointer\.open: writes\.clock must be a Clock/);
  const ok = TrainingCheckpointer.open({ dir, problem });
  assert.is(ok.store.writeBreaker().failureThreshold, 1, 'default: one failure opens it');
  assert.is(ok.store.writeBreaker().coolDownMs, 30_000, 'for 30 s');
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
