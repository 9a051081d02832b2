import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  allocate,
  BREAKER_BLOCK,
  breakerTableLayout,
  cursorLayout,
  indexOf,
  writeHeader,
} from '../../native-layout/index.js';
import {
  Breaker,
  BREAKER_ALLOWED,
  BREAKER_CLOSED,
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_OPEN,
  BREAKER_PROBE,
  BREAKER_REFUSED,
  BreakerTable,
  DEFAULT_BREAKER_COOL_DOWN_MS,
  DEFAULT_BREAKER_FAILURE_THRESHOLD,
  type BreakerHandle,
  type BreakerTableHandle,
} from '../../src/shm/breaker.js';
import { ManualClock, realClock } from '../../src/shm/clock.js';
import { err } from '../helpers/errors.js';

test('slots start uninitialised and the first get of each initialises it once', () => {
  const table = BreakerTable.create({ slots: 8, failureThreshold: 2, coolDownMs: 50 });
  const other = BreakerTable.attach(structuredClone(table.handle));
  assert.is(table.initialisedSlots(), 0);
  assert.not.ok(table.initialised(3));
  const a = table.get(3);
  assert.is(table.get(3), a, 'the same view every time');
  assert.is(table.initialisedSlots(), 1);
  assert.ok(other.initialised(3), 'another attachment sees the slot initialised');
  a.recordFailure();
  const b = other.get(3); // finds it initialised: no second initialisation, the failure stays
  assert.is(table.initialisedSlots(), 1);
  assert.is(b.failures(), 1);
  assert.is(b.state(), BREAKER_CLOSED);
  assert.is(b.generation(), 0);
  assert.not.ok(table.initialised(4));
  other.get(7);
  assert.is(table.initialisedSlots(), 2);
  assert.ok(table.initialised(7));
});

test('breakers of one table are independent and share its options and clock', () => {
  const clock = ManualClock.create(0);
  const table = BreakerTable.create({ slots: 3, failureThreshold: 1, coolDownMs: 10, clock });
  assert.is(table.clock, clock);
  const x = table.get(0);
  const y = table.get(2);
  assert.is(x.recordFailure(), BREAKER_CLOSED_TO_OPEN);
  assert.is(x.allow(), BREAKER_REFUSED);
  assert.is(y.allow(), BREAKER_ALLOWED, 'another slot is untouched');
  assert.is(y.failureThreshold, 1);
  assert.is(y.coolDownMs, 10);
  const attached = BreakerTable.attach(structuredClone(table.handle));
  assert.instance(attached.clock, ManualClock);
  clock.advance(10); // moves the attached table's clock too: the same shared word
  assert.is(attached.get(0).allow(), BREAKER_PROBE);
  assert.is(x.allow(), BREAKER_REFUSED, 'one probe across attachments');
});

test('a single breaker travels by its handle and keeps its slot', () => {
  const clock = ManualClock.create(5);
  const table = BreakerTable.create({ slots: 4, failureThreshold: 1, coolDownMs: 1, clock });
  const b = table.get(2);
  const copy = Breaker.attach(structuredClone(b.handle));
  assert.is(copy.slot, 2);
  b.recordFailure();
  assert.is(copy.state(), BREAKER_OPEN);
  assert.is(copy.opens(), 1);
  const solo = Breaker.create();
  assert.is(solo.failureThreshold, DEFAULT_BREAKER_FAILURE_THRESHOLD);
  assert.is(solo.coolDownMs, DEFAULT_BREAKER_COOL_DOWN_MS);
  assert.is(solo.clock, realClock);
  assert.is(solo.table.slots, 1);
  assert.is(Breaker.attach(structuredClone(solo.handle)).clock, realClock);
});

test('attach refuses another kind of region, a changed version, a wrong size and bad handles', () => {
  const t = BreakerTable.create({ slots: 2 });
  const e = err(() => BreakerTable.attach({ kind: 'breaker-table', sab: allocate(cursorLayout()), slots: 2 }));
  assert.is(e.code, 'E_LAYOUT_MAGIC');
  assert.match(e.message, /not a breaker-table region/);
  const old = allocate(breakerTableLayout(2));
  writeHeader(old, { ...breakerTableLayout(2), version: 0 });
  assert.is(err(() => BreakerTable.attach({ kind: 'breaker-table', sab: old, slots: 2 })).code, 'E_LAYOUT_VERSION');
  assert.is(err(() => BreakerTable.attach({ ...t.handle, slots: 3 })).code, 'E_LAYOUT_SIZE');
  assert.is(err(() => BreakerTable.attach(null as unknown as BreakerTableHandle)).code, 'E_BAD_HANDLE');
  const kind = err(() => BreakerTable.attach({ ...t.handle, kind: 'cursor' } as unknown as BreakerTableHandle));
  assert.is(kind.code, 'E_BAD_HANDLE');
  assert.match(kind.message, /handle\.kind must be 'breaker-table', got "cursor"/);
  const badClock = { ...t.handle, clock: { kind: 'clock' } } as unknown as BreakerTableHandle;
  const clock = err(() => BreakerTable.attach(badClock));
  assert.is(clock.code, 'E_BAD_HANDLE');
  const b = t.get(1);
  assert.is(err(() => Breaker.attach({ ...b.handle, kind: 'x' } as unknown as BreakerHandle)).code, 'E_BAD_HANDLE');
  const slot = err(() => Breaker.attach({ ...b.handle, slot: 2 }));
  assert.is(slot.code, 'E_OUT_OF_RANGE');
  assert.match(slot.message, /^Breaker\.attach: slot must be in \[0, 1\], got 2$/);
});

test('attach refuses a region whose stored threshold or cool-down is out of range', () => {
  const t = BreakerTable.create({ slots: 1 });
  const L = breakerTableLayout(1);
  const u32 = new Uint32Array(t.handle.sab);
  u32[indexOf(L, 'failureThreshold')] = 0;
  const e = err(() => BreakerTable.attach(t.handle));
  assert.is(e.code, 'E_BAD_HANDLE');
  assert.match(e.message, /failureThreshold 0/);
  u32[indexOf(L, 'failureThreshold')] = 1;
  u32[indexOf(L, 'coolDownMs')] = 2 ** 31;
  assert.match(err(() => BreakerTable.attach(t.handle)).message, /coolDownMs 2147483648/);
});

test('each breaker owns a whole cache line of the table', () => {
  const L = breakerTableLayout(3);
  const at = indexOf(L, 'breakers') * 4;
  assert.is(at % 64, 0);
  assert.is(BREAKER_BLOCK.words * 4, 64);
  assert.is(L.byteLength, at + 3 * 64);
});

test.run();
