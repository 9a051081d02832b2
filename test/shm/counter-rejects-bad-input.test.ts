import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocate, seqlockLayout } from '../../native-layout/index.js';
import { LatencyCounter, MAX_COUNTERS, newCounterWindow, type CounterHandle } from '../../src/shm/counter.js';
import { errorText } from '../helpers/errors.js';

const create = (opts: unknown) => (): unknown => LatencyCounter.create(opts as { counters?: number });
const attach = (handle: unknown) => (): unknown => LatencyCounter.attach(handle as CounterHandle);

test('create rejects counters that are not an integer in [1, MAX_COUNTERS], naming field and value', () => {
  assert.match(
    errorText(create({ counters: 0 })),
    /^E_OUT_OF_RANGE: LatencyCounter\.create: counters must be in \[1, 65536\], got 0$/,
  );
  assert.match(errorText(create({ counters: -3 })), /^E_OUT_OF_RANGE: .*counters.*got -3$/);
  assert.match(errorText(create({ counters: MAX_COUNTERS + 1 })), /^E_OUT_OF_RANGE: .*counters.*got 65537$/);
  assert.match(
    errorText(create({ counters: 1.5 })),
    /^E_INVALID_ARGUMENT: LatencyCounter\.create: counters must be an integer, got 1\.5$/,
  );
  assert.match(errorText(create({ counters: Number.NaN })), /^E_INVALID_ARGUMENT: .*counters.*got NaN$/);
  assert.match(errorText(create({ counters: '2' })), /^E_INVALID_ARGUMENT: .*counters.*got "2"$/);
  assert.match(errorText(create(null)), /^E_INVALID_ARGUMENT: .*opts must be an object/);
});

test('attach rejects a handle of the wrong shape or kind', () => {
  const good = LatencyCounter.create({ counters: 2 }).handle;
  assert.match(errorText(attach(null)), /^E_BAD_HANDLE: LatencyCounter\.attach: handle must be an object/);
  assert.match(
    errorText(attach({ ...good, kind: 'ring' })),
    /^E_BAD_HANDLE: .*handle\.kind must be "counter", got "ring"$/,
  );
  assert.match(errorText(attach({ ...good, counters: 0 })), /^E_OUT_OF_RANGE: .*handle\.counters.*got 0$/);
  assert.match(
    errorText(attach({ ...good, counters: undefined })),
    /^E_INVALID_ARGUMENT: .*handle\.counters must be an integer, got undefined$/,
  );
  assert.match(errorText(attach({ ...good, sab: new ArrayBuffer(192) })), /^E_BAD_HANDLE: .*SharedArrayBuffer/);
});

test('attach rejects another region kind with E_LAYOUT_MAGIC', () => {
  const sab = allocate(seqlockLayout(1, 1));
  assert.match(
    errorText(attach({ kind: 'counter', sab, counters: 1 })),
    /^E_LAYOUT_MAGIC: attach counter: magic mismatch/,
  );
  assert.match(errorText(attach({ kind: 'counter', sab: new SharedArrayBuffer(128), counters: 1 })), /^E_LAYOUT_MAGIC/);
});

test('attach rejects a handle whose counters disagree with the region, naming both', () => {
  const good = LatencyCounter.create({ counters: 4 }).handle;
  assert.match(
    errorText(attach({ ...good, counters: 2 })),
    /^E_BAD_HANDLE: LatencyCounter\.attach: handle\.counters is 2 but the region was created with counters = 4$/,
  );
});

test('attach rejects a wrong layout version and a truncated buffer', () => {
  const good = LatencyCounter.create({ counters: 2 }).handle;
  const copy = new SharedArrayBuffer(good.sab.byteLength);
  new Uint8Array(copy).set(new Uint8Array(good.sab));
  new Uint32Array(copy)[1] = 99; // the header's version word
  assert.match(errorText(attach({ ...good, sab: copy })), /^E_LAYOUT_VERSION: .*expected 1, found 99$/);

  const short = new SharedArrayBuffer(good.sab.byteLength - 64);
  new Uint8Array(short).set(new Uint8Array(good.sab, 0, short.byteLength));
  assert.match(errorText(attach({ ...good, sab: short })), /^E_LAYOUT_SIZE: .*buffer byteLength mismatch/);
});

test('recording with a bad index is dropped silently and touches nothing', () => {
  const c = LatencyCounter.create({ counters: 2 });
  for (const i of [-1, 2, 2.5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, -(2 ** 32)]) {
    c.recordEvent(i);
    c.recordSample(i, 10);
    c.record(i, 10);
  }
  assert.equal(c.collect(0, newCounterWindow()), { events: 0, count: 0, sum: 0, saturated: false });
  assert.equal(c.collect(1, newCounterWindow()), { events: 0, count: 0, sum: 0, saturated: false });
  LatencyCounter.attach(c.handle); // header intact
});

test('collect and peek throw E_OUT_OF_RANGE for a bad index', () => {
  const c = LatencyCounter.create({ counters: 2 });
  assert.match(
    errorText(() => c.collect(2, newCounterWindow())),
    /^E_OUT_OF_RANGE: LatencyCounter\.collect: i must be in \[0, 1\], got 2$/,
  );
  assert.match(
    errorText(() => c.peek(-1, newCounterWindow())),
    /^E_OUT_OF_RANGE: LatencyCounter\.peek: i must be in \[0, 1\], got -1$/,
  );
  assert.match(
    errorText(() => c.collect(0.5, newCounterWindow())),
    /^E_OUT_OF_RANGE/,
  );
});

test.run();
