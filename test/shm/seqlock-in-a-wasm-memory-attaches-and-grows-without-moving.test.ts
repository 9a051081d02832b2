/**
 * A Seqlock region allocated at the start of a shared WebAssembly.Memory
 * (`wasmMemory: true`): the handle carries the memory, `attach` checks the
 * region as the prefix of the memory's buffer (and refuses a memory that is
 * not shared wasm memory, or a plain buffer shorter than the region), and
 * claiming scratch pages past the region leaves the rows where they were,
 * visible through views made before the growth.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Seqlock } from '../../src/shm/seqlock.js';
import { claimPages, WASM_PAGE_BYTES } from '../../src/shm/wasm-memory.js';
import { errorText } from '../helpers/errors.js';

test('the region sits at the start of the memory; attach sees the same rows', () => {
  const a = Seqlock.create({ rows: 3, cols: 5, wasmMemory: true });
  const memory = a.handle.memory!;
  assert.ok(memory !== undefined, 'the handle carries the memory');
  assert.is(a.handle.sab, memory.buffer);
  assert.is(a.handle.sab.byteLength % WASM_PAGE_BYTES, 0);
  a.data.set([1, 2, 3]);
  const b = Seqlock.attach(a.handle);
  assert.equal(Array.from(b.data.subarray(0, 3)), [1, 2, 3]);
  assert.is(b.data.byteOffset, a.data.byteOffset);
});

test('claimed pages lie past the region, and views made before the growth stay valid', () => {
  const a = Seqlock.create({ rows: 4, cols: 4, wasmMemory: true });
  const memory = a.handle.memory!;
  const before = memory.buffer.byteLength;
  const p = claimPages(memory, 2);
  const q = claimPages(memory, 1);
  assert.is(p, before, 'the first claim starts where the memory ended');
  assert.is(q, before + 2 * WASM_PAGE_BYTES, 'claims never overlap');
  a.data[15] = 7;
  assert.is(Seqlock.attach({ ...a.handle, sab: memory.buffer }).data[15], 7);
  assert.is(claimPages(memory, 1 << 20), -1, 'a claim past the maximum fails without throwing');
});

test('attach refuses a memory that is not shared wasm memory, and a short plain buffer', () => {
  const a = Seqlock.create({ rows: 2, cols: 2, wasmMemory: true });
  assert.match(
    errorText(() => Seqlock.attach({ ...a.handle, memory: new SharedArrayBuffer(64) as never })),
    /^E_BAD_HANDLE: Seqlock\.attach: handle\.memory must be a shared WebAssembly\.Memory/,
  );
  const plain = Seqlock.create({ rows: 2, cols: 2 });
  assert.is(plain.handle.memory, undefined);
  const longer = new SharedArrayBuffer(plain.handle.sab.byteLength + 64);
  new Uint8Array(longer).set(new Uint8Array(plain.handle.sab));
  assert.match(
    errorText(() => Seqlock.attach({ ...plain.handle, sab: longer })),
    /E_LAYOUT_SIZE/,
  );
});

test.run();
