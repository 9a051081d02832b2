import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier, type BarrierHandle } from '../../src/shm/barrier.js';
import { allocate, barrierLayout, cursorLayout, writeHeader } from '../../native-layout/index.js';
import { err } from '../helpers/errors.js';

test('a barrier attached from its handle shares the state word', () => {
  const b = Barrier.create({ parties: 3 });
  const cloned = structuredClone(b.handle);
  const other = Barrier.attach(cloned);
  assert.is(other.parties, 3);
  const t = b.arrive();
  assert.equal(t, { generation: 0, arrived: 1, released: false });
  assert.is(other.arrived(), 1);
  other.arrive();
  const last = other.arrive();
  assert.ok(last.released);
  assert.is(b.generation(), 1);
  assert.equal(b.poll(t), { state: 'passed', generation: 0, last: false });
});

test('attach refuses another kind of region with E_LAYOUT_MAGIC', () => {
  const e = err(() => Barrier.attach({ kind: 'barrier', sab: allocate(cursorLayout()), parties: 3 }));
  assert.is(e.code, 'E_LAYOUT_MAGIC');
  assert.match(e.message, /not a barrier region/);
});

test('attach refuses bad handles, a changed version and mismatched parties', () => {
  const b = Barrier.create({ parties: 3 });
  assert.is(err(() => Barrier.attach(null as unknown as BarrierHandle)).code, 'E_BAD_HANDLE');
  assert.is(
    err(() => Barrier.attach({ ...b.handle, kind: 'cursor' } as unknown as BarrierHandle)).code,
    'E_BAD_HANDLE',
  );
  const notShared = err(() =>
    Barrier.attach({ ...b.handle, sab: new ArrayBuffer(64) as unknown as SharedArrayBuffer }),
  );
  assert.is(notShared.code, 'E_BAD_HANDLE');
  assert.match(notShared.message, /SharedArrayBuffer/);
  const mismatch = err(() => Barrier.attach({ ...b.handle, parties: 4 }));
  assert.is(mismatch.code, 'E_LAYOUT_SIZE');
  assert.match(mismatch.message, /parties mismatch, expected 4, found 3/);
  const bad = err(() => Barrier.attach({ ...b.handle, parties: 0 }));
  assert.is(bad.code, 'E_OUT_OF_RANGE');
  assert.match(bad.message, /Barrier\.attach: parties must be in \[1, 32767\], got 0/);

  const sab = allocate(barrierLayout());
  writeHeader(sab, { ...barrierLayout(), version: 99 });
  assert.is(err(() => Barrier.attach({ kind: 'barrier', sab, parties: 3 })).code, 'E_LAYOUT_VERSION');
  assert.is(b.arrived(), 0, 'failed attaches changed nothing');
});

test.run();
