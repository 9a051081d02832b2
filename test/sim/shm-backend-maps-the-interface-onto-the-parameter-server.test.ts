/**
 * How `SharedMemoryReshardBackend` maps the reshard interface onto the
 * parameter server, checked directly (the walks check the oracles):
 * - replication above 1 and bonus copies are refused, at creation and by
 *   `setReplication`;
 * - pushes run in worker threads and land in the server's rows on top of
 *   the initial rows (`initRow`); reads report the increments;
 * - one step publishes one backend version however many versions the
 *   server published for its moves; workers confirm the server's version
 *   of it, and the reported watermark maps back;
 * - a quorum of half the live workers becomes a count of live workers;
 * - a correction's replacement reports the registered rows plus the
 *   pushes since registration before the swap, and holds them after it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import { initRow } from '../../src/ps/init.js';
import { ManualClock } from '../../src/shm/clock.js';
import { closeShmThreads, SharedMemoryReshardBackend } from './shm-backend.js';

const DIM = 2;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof KgError ? e.code : String(e);
  }
  return 'ok';
}

test('replication above 1 and bonus copies are refused', async () => {
  const clock = ManualClock.create(0);
  const base = { rows: 4, dim: DIM, chunkRows: 2, shards: 2 };
  assert.is(await code(SharedMemoryReshardBackend.create({ ...base, replication: 2 }, clock)), 'E_INVALID_ARGUMENT');
  assert.is(await code(SharedMemoryReshardBackend.create({ ...base, bonusReplicas: 1 }, clock)), 'E_INVALID_ARGUMENT');
  const b = await SharedMemoryReshardBackend.create(base, clock);
  try {
    assert.is(await code(b.setReplication(2, 0)), 'E_INVALID_ARGUMENT');
    assert.is(await code(b.setReplication(1, 1)), 'E_INVALID_ARGUMENT');
    assert.is(await code(b.setReplication(1, 0)), 'ok');
  } finally {
    await b.close();
  }
});

test('pushes from worker threads land over the initial rows; reads report increments', async () => {
  const clock = ManualClock.create(0);
  // Chunks of 3 rows live in slots of 4 (the server's chunk rows are powers of two).
  const b = await SharedMemoryReshardBackend.create({ rows: 7, dim: DIM, chunkRows: 3, shards: 2 }, clock);
  try {
    const s = await b.inspect();
    assert.equal(
      s.blocks.map((x) => x.rows),
      [3, 3, 1],
    );
    assert.is(s.chunks[0]!.bytes, 4 * DIM * 4, 'a chunk takes a whole slot');
    for (let i = 0; i < 4; i++) assert.equal(await b.push(5, Float32Array.of(1, -2)), { state: 'ok', copies: 1 });
    const out = new Float32Array(DIM);
    const r = await b.readLatest(5, out);
    assert.is(r.state, 'ok');
    assert.equal(Array.from(out), [4, -8]);
    // The server's row is the initial row plus the pushes.
    const ps = b.server;
    const { shard, row } = ps.locateIndex(5);
    const init = new Float32Array(DIM);
    initRow('e5', DIM, init, 0);
    const got = Array.from(ps.view(shard).subarray(row * DIM, (row + 1) * DIM));
    got.forEach((x, k) => assert.ok(Math.abs(x - (init[k]! + [4, -8][k]!)) < 1e-5));
    assert.equal(await b.push(7, Float32Array.of(1, 1)), { state: 'no-row' });
    assert.equal(await b.push(0, Float32Array.of(1)), { state: 'bad-length' });
  } finally {
    await b.close();
  }
});

test('one version per step for many server versions; confirmations and the watermark map through it', async () => {
  const clock = ManualClock.create(0);
  const b = await SharedMemoryReshardBackend.create(
    { rows: 16, dim: DIM, chunkRows: 1, shards: 1, maxMoves: 4, quorum: 1, graceMs: 0 },
    clock,
  );
  try {
    const w = await b.workerJoin();
    const ps0 = b.server.placementVersion();
    await b.reshard(4);
    const r = await b.step();
    assert.is(r.published, 2);
    assert.ok(r.moved > 1 && r.moved <= 4);
    assert.ok(b.server.placementVersion() >= ps0 + 1 + r.moved, 'the server published a version per move');
    assert.is((await b.inspect()).watermark, 1, 'the worker confirmed version 1 only');
    assert.is(await b.confirm(w, 2), 'ok');
    const s = await b.inspect();
    assert.is(s.watermark, 2);
    assert.equal(
      s.workers.map((x) => x.confirmed),
      [2],
    );
    // The next step frees the old copies: the quorum confirmed the version that dropped them.
    const r2 = await b.step();
    assert.is(r2.watermark, 2);
    assert.is(r2.freed.length, r.drops.length);
  } finally {
    await b.close();
  }
});

test('a quorum of half the live workers waits for the higher half', async () => {
  const clock = ManualClock.create(0);
  const b = await SharedMemoryReshardBackend.create(
    { rows: 8, dim: DIM, chunkRows: 1, shards: 1, maxMoves: 1, quorum: 0.5, graceMs: 0 },
    clock,
  );
  try {
    const ws = [await b.workerJoin(), await b.workerJoin(), await b.workerJoin()];
    await b.reshard(2);
    await b.step();
    await b.step();
    assert.is((await b.inspect()).latest.version, 3);
    await b.confirm(ws[0]!, 3);
    assert.is((await b.inspect()).watermark, 1, 'ceil(1.5) = 2 workers: the second highest confirmed 1');
    await b.confirm(ws[1]!, 2);
    assert.is((await b.inspect()).watermark, 2);
    await b.workerLeave(ws[2]!);
    assert.is((await b.inspect()).watermark, 3, 'two live workers: one must confirm');
  } finally {
    await b.close();
  }
});

test('a replacement holds the registered rows plus later pushes, before and after the swap', async () => {
  const clock = ManualClock.create(0);
  const b = await SharedMemoryReshardBackend.create(
    { rows: 4, dim: DIM, chunkRows: 2, shards: 1, quorum: 0, graceMs: 0 },
    clock,
  );
  try {
    await b.push(1, Float32Array.of(5, 5)); // replaced
    const rec = await b.correct(0, Float32Array.of(1, 1, 2, 2));
    await b.push(1, Float32Array.of(1, -1)); // carried over
    const placed = await b.step();
    assert.equal(placed.placed, [rec.replacement]);
    const out = new Float32Array(DIM);
    assert.ok(await b.readCopy(rec.replacement, placed.adds[0]!.shard, 1, out));
    assert.equal(Array.from(out), [3, 1]);
    await b.readLatest(1, out);
    assert.equal(Array.from(out), [6, 4], 'still the old rows');
    const swapped = await b.step();
    assert.is(swapped.swapped[0]!.replacement, rec.replacement);
    const r = await b.readLatest(1, out);
    assert.ok(r.state === 'ok' && r.chunk === rec.replacement);
    assert.equal(Array.from(out), [3, 1]);
    assert.is(await code(b.correct(0, Float32Array.of(0, 0, 0, 0))), 'E_RESHARD_CHUNK_REMOVED');
  } finally {
    await b.close();
  }
});

test('close the shared threads', async () => {
  await closeShmThreads();
});

test.run();
