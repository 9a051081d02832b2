/**
 * A correction replaces a chunk's rows atomically: the replacement is
 * registered, placed (not visible), and once the quorum has confirmed the
 * version that placed it, one version makes it visible and drops the old
 * chunk's copies, which drain and go. Readers pinned before the swap read
 * the old chunk, readers after it the new one; pushes made after the
 * registration are in the new rows. The audit record keeps the versions.
 * Mismatched corrections are refused with typed, one-line errors and
 * change nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InMemoryReshardBackend } from '../../src/ps/reshard/memory-backend.js';
import { ManualClock } from '../../src/shm/clock.js';
import { rejection } from '../helpers/errors.js';

async function backend(): Promise<{ b: InMemoryReshardBackend; clock: ManualClock; w: number }> {
  const clock = ManualClock.create(0);
  const b = await InMemoryReshardBackend.create(
    { rows: 6, dim: 2, chunkRows: 3, shards: 2, replication: 2, graceMs: 5, quorum: 1 },
    clock,
  );
  const w = await b.workerJoin();
  return { b, clock, w };
}

test('a correction is placed, confirmed, then swapped in one version; the old chunk drains out', async () => {
  const { b, clock, w } = await backend();
  const out = new Float32Array(2);
  await b.push(4, Float32Array.of(100, 100)); // before the registration: replaced
  const before = await b.pin();
  const rec = await b.correct(1, Float32Array.of(1, 2, 3, 4, 5, 6));
  assert.equal([rec.old, rec.block, rec.placedAtVersion, rec.swappedAtVersion], [1, 1, 0, 0]);
  await b.push(4, Float32Array.of(10, 20)); // after: kept
  const placed = await b.step();
  assert.equal(placed.placed, [rec.replacement]);
  assert.equal(((await b.readLatest(4, out)) as { chunk: number }).chunk, 1, 'placed, not visible');
  assert.equal([...out], [110, 120]);
  await b.push(4, Float32Array.of(1, 1)); // after placement: kept too
  assert.equal((await b.step()).swapped, [], 'not confirmed yet');
  await b.confirm(w, placed.published);
  const swap = await b.step();
  assert.is(swap.swapped.length, 1);
  assert.is(swap.swapped[0]!.placedAtVersion, placed.published);
  assert.is(swap.swapped[0]!.swappedAtVersion, swap.published);
  assert.equal(
    swap.drops.filter((d) => d.chunk === 1).map((d) => d.shard),
    [0, 1],
  );
  const got = await b.readLatest(4, out);
  assert.is((got as { chunk: number }).chunk, rec.replacement);
  assert.equal([...out], [3 + 11, 4 + 21]);
  assert.equal(((await b.read(before.pin, 4, out)) as { chunk: number }).chunk, 1, 'the old pin reads the old chunk');
  const after = await b.pin();
  for (const row of [3, 4, 5]) {
    assert.equal(((await b.read(after.pin, row, out)) as { chunk: number }).chunk, rec.replacement, `row ${row}`);
  }
  await b.unpin(before.pin);
  await b.confirm(w, swap.published);
  clock.advance(5);
  const gone = await b.step();
  assert.equal(gone.freed.filter((f) => f.chunk === 1).length, 2);
  await b.step();
  const state = await b.inspect();
  assert.is(state.chunks.find((c) => c.id === 1)!.phase, 'gone');
  assert.equal(state.corrections, [swap.swapped[0]]);
});

test('mismatched corrections are refused with typed errors naming the chunk', async () => {
  const { b, w } = await backend();
  const six = new Float32Array(6);
  const cases: [Promise<unknown>, string, string][] = [
    [b.correct(9, six), 'E_RESHARD_UNKNOWN_CHUNK', 'correct: unknown chunk 9'],
    [
      b.correct(0, new Float32Array(4)),
      'E_RESHARD_SHAPE',
      'correct: replacement for chunk 0 has 4 values, expected 6 (rows x dim 2)',
    ],
  ];
  for (const [p, code, message] of cases) {
    const e = await rejection(p);
    assert.is(e.code, code);
    assert.is(e.message, message);
  }
  const rec = await b.correct(0, six);
  let e = await rejection(b.correct(0, six));
  assert.is(e.code, 'E_RESHARD_CHUNK_BUSY');
  assert.is(e.message, `correct: chunk 0 already has a pending replacement, chunk ${rec.replacement}`);
  e = await rejection(b.correct(rec.replacement, six));
  assert.is(e.message, `correct: chunk ${rec.replacement} is a replacement`);
  const placed = await b.step();
  e = await rejection(b.correct(rec.replacement, six));
  assert.is(e.message, `correct: chunk ${rec.replacement} is the pending replacement of 0`);
  await b.confirm(w, placed.published);
  await b.step();
  e = await rejection(b.correct(0, six));
  assert.is(e.code, 'E_RESHARD_CHUNK_REMOVED');
  assert.is(e.message, `correct: chunk 0 was replaced by chunk ${rec.replacement} and is being removed`);
  const [fresh] = await b.addEntities(2);
  e = await rejection(b.correct(fresh!, new Float32Array(4)));
  assert.is(e.message, `correct: chunk ${fresh} is new and not placed yet`);
  assert.is((await b.inspect()).corrections.length, 1, 'refusals changed nothing');
});

test.run();
