/**
 * The step-wise placement API of the parameter server, beyond moves:
 * - `registerCorrection` registers a correction without waiting; later
 *   `placementStep`s place the replacement (one of the step's K moves) and
 *   swap it in once the workers' watermark covers the version that placed
 *   it; pushes after registration carry over (`previewCorrection` shows
 *   them before the swap), readers pinned before the swap keep the old
 *   rows; refusals come in a fixed order;
 * - a replacement that finds no slot waits (deferred for capacity) and is
 *   placed once old copies drain;
 * - `setConfirmQuorum` changes how many live workers the watermark waits
 *   for; `PsClient.leave` stops a worker from holding copies back at once;
 * - a pin's `locate` reports shard -1 for a chunk its version does not place;
 * - entities registered while an earlier new chunk waits for room and a
 *   later one is placed already take indices nobody holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import { Placement } from '../../src/ps/placement.js';
import { ManualClock } from '../../src/shm/clock.js';
import { SEQ_OK } from '../../src/shm/seqlock.js';
import { KgError } from '../../src/errors.js';

const DIM = 2;

function server(clock: ManualClock, n: number, extra: Partial<PsConfig> = {}): ParameterServer {
  return ParameterServer.create(
    {
      dim: DIM,
      numShards: 2,
      activeShards: 1,
      strategy: 'range',
      mode: 'async',
      optimizer: 'sgd',
      learningRate: 1,
      chunkRows: 4,
      shardCapacityRows: 64,
      entityCapacity: n + 16,
      confirmQuorum: -1,
      graceMs: 10,
      workerTimeoutMs: 1_000,
      ...extra,
    },
    Array.from({ length: n }, (_, i) => `e${i}`),
    ['r'],
    { clock },
  );
}

function row(ps: ParameterServer, e: number): number[] {
  const { shard, row: r } = ps.locateIndex(e);
  return Array.from(ps.view(shard).subarray(r * DIM, (r + 1) * DIM));
}

function push(client: ReturnType<ParameterServer['client']>, e: number, by: number): void {
  assert.is(client.pushEntities(Int32Array.of(e), 1, new Float32Array(DIM).fill(-by), Int32Array.of(0)), SEQ_OK);
}

async function code(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return e instanceof KgError ? e.code : String(e);
  }
  return 'ok';
}

test('a registered correction is placed by one step, swapped by a later one once confirmed, keeps pushes', async () => {
  const clock = ManualClock.create(0);
  const ps = server(clock, 8);
  const writer = ps.client(0, 4);
  const lagging = ps.client(1, 4);
  const c = ps.chunkOf(5);
  const members = [4, 5, 6, 7];
  assert.equal(
    members.map((e) => ps.chunkOf(e)),
    [c, c, c, c],
  );
  const old = members.map((e) => row(ps, e));
  push(writer, 5, 1); // before registration: replaced
  const values = new Float32Array(4 * DIM).fill(10);
  const info = await ps.registerCorrection(c, values);
  assert.equal(info.at, null, 'registered, not placed');
  assert.is(info.placedVersion, 0);
  push(writer, 5, 2); // after registration: carried over
  const pinned = ps.pinPlacement();

  const s1 = await ps.placementStep(1);
  assert.equal(s1.replacements, [c], 'the step placed the replacement');
  assert.is(s1.swapped.length, 0, 'not swapped in the step that placed it');
  const [pending] = ps.pendingCorrections();
  assert.ok(pending !== undefined && pending.at !== null && pending.placedVersion === s1.version);
  const preview = new Float32Array(4 * DIM);
  assert.ok(ps.previewCorrection(c, preview));
  assert.equal(
    Array.from(preview.subarray(DIM, 2 * DIM)),
    [12, 12],
    'the replacement plus the push after registration',
  );
  assert.equal(Array.from(preview.subarray(0, DIM)), [10, 10]);
  const now5 = row(ps, 5);
  now5.forEach((x, k) => assert.ok(Math.abs(x - (old[1]![k]! + 3)) < 1e-5, 'still the old rows plus pushes'));

  // Worker 1 has not confirmed the version that placed it: no swap.
  writer.follow();
  const s2 = await ps.placementStep(1);
  assert.is(s2.swapped.length, 0, 'the watermark does not cover the placement yet');
  lagging.follow();
  push(writer, 5, 1);
  const s3 = await ps.placementStep(1);
  assert.is(s3.swapped.length, 1);
  const rec = s3.swapped[0]!;
  assert.is(rec.chunk, c);
  assert.ok(rec.registeredVersion < rec.placedVersion && rec.placedVersion < rec.swappedVersion);
  assert.equal(rec.entities, members);
  assert.equal(row(ps, 5), [13, 13]);
  assert.equal(row(ps, 4), [10, 10]);
  assert.equal(ps.pendingCorrections(), []);
  assert.is(ps.corrections.length, 1, 'audited');
  assert.not.ok(ps.previewCorrection(c, preview));
  // The reader pinned before the swap still reads the old rows.
  const at = pinned.locate(4);
  assert.equal(Array.from(ps.view(at.shard).subarray(at.row * DIM, (at.row + 1) * DIM)), old[0]);
  pinned.unpin();
});

test('step-wise corrections are refused in order: unknown, busy, shape, not finite', async () => {
  const clock = ManualClock.create(0);
  const ps = server(clock, 8);
  const c = ps.chunkOf(0);
  const good = new Float32Array(4 * DIM);
  assert.is(await code(() => ps.registerCorrection(99, good)), 'E_RESHARD_UNKNOWN_CHUNK');
  assert.is(await code(() => ps.registerCorrection(c, new Float32Array(3))), 'E_RESHARD_SHAPE');
  const nan = new Float32Array(4 * DIM).fill(NaN);
  assert.is(await code(() => ps.registerCorrection(c, nan)), 'E_INVALID_ARGUMENT');
  // A new chunk not placed yet is busy, not unknown.
  const fresh = ps.registerEntities(['n0', 'n1']).chunks[0]!;
  assert.is(await code(() => ps.registerCorrection(fresh, new Float32Array(2 * DIM))), 'E_RESHARD_CHUNK_BUSY');
  await ps.registerCorrection(c, good);
  // A chunk with a correction pending is busy, whatever the shape.
  assert.is(await code(() => ps.registerCorrection(c, new Float32Array(3))), 'E_RESHARD_CHUNK_BUSY');
  assert.is(await code(() => ps.correct(c, good)), 'E_RESHARD_CHUNK_BUSY');
  assert.is(ps.pendingCorrections().length, 1, 'refusals changed nothing');
});

test('replacements take moves from the step budget, and wait for a slot when none is free', async () => {
  const clock = ManualClock.create(0);
  // One shard of 3 slots holding 2 chunks: room for one replacement at a time.
  const ps = server(clock, 8, { numShards: 1, shardCapacityRows: 12, confirmQuorum: 0, graceMs: 0 });
  const [a, b] = [ps.chunkOf(0), ps.chunkOf(4)];
  await ps.registerCorrection(a, new Float32Array(4 * DIM).fill(1));
  await ps.registerCorrection(b, new Float32Array(4 * DIM).fill(2));
  const s1 = await ps.placementStep(1);
  assert.equal(s1.replacements, [a], 'K = 1: one replacement');
  assert.ok(!s1.atIdeal, 'the other one waits');
  const s2 = await ps.placementStep(4);
  assert.is(s2.swapped.length, 1, 'zero quorum: the placed one swaps at the next step');
  assert.equal(s2.replacements, [], 'no free slot: the old copy of a still drains');
  assert.equal(s2.deferrals, [{ chunk: b, reason: 'capacity' }]);
  const s3 = await ps.placementStep(4);
  assert.equal(s3.replacements, [b], 'placed once the drained copy was freed');
  const s4 = await ps.placementStep(4);
  assert.is(s4.swapped.length, 1);
  assert.equal(row(ps, 0), [1, 1]);
  assert.equal(row(ps, 4), [2, 2]);
});

test('setConfirmQuorum changes how many live workers the watermark waits for', () => {
  const clock = ManualClock.create(0);
  const ps = server(clock, 8);
  const p = Placement.attach(ps.handle.placement);
  const slow = ps.client(0, 4);
  ps.setTargetShards(2);
  const fast = [ps.client(1, 4), ps.client(2, 4)];
  const v = ps.placementVersion();
  assert.is(slow.placementVersion(), v - 1);
  for (const f of fast) assert.is(f.placementVersion(), v);
  assert.is(p.watermark(clock.now()), v - 1, 'every live worker');
  ps.setConfirmQuorum(2);
  assert.is(p.watermark(clock.now()), v, 'the second highest confirmation');
  ps.setConfirmQuorum(0);
  assert.is(p.watermark(clock.now()), Infinity, 'none awaited');
  ps.setConfirmQuorum(-1);
  assert.is(p.watermark(clock.now()), v - 1);
  for (const bad of [-2, 1.5, 65])
    assert.throws(() => ps.setConfirmQuorum(bad), /setConfirmQuorum: quorum must be -1 \(every live worker\)/);
});

test('a worker that leaves stops holding old copies back at once', async () => {
  const clock = ManualClock.create(0);
  const ps = server(clock, 16);
  const stays = ps.client(0, 4);
  const leaves = ps.client(1, 4);
  const r = await ps.reshard(2, { maxMovesPerStep: 8 });
  assert.ok(r.chunksMoved > 0);
  clock.advance(20);
  stays.follow();
  assert.is(ps.reclaim(), 0, 'worker 1 has not confirmed the moves and is within its timeout');
  leaves.leave();
  assert.is(ps.reclaim(), r.chunksMoved, 'it left: only worker 0 counts');
  leaves.follow();
  assert.is(Placement.attach(ps.handle.placement).confirmed(1).version, ps.placementVersion(), 'following joins again');
});

test('a pin locates a chunk its version does not place at shard -1', async () => {
  const clock = ManualClock.create(0);
  const ps = server(clock, 8, { confirmQuorum: 0 });
  const pin = ps.pinPlacement();
  const { firstEntity } = ps.registerEntities(['x0', 'x1']);
  await ps.placementStep(4);
  assert.ok(ps.locateIndex(firstEntity).shard >= 0, 'placed at the latest version');
  assert.equal(pin.locate(firstEntity), { shard: -1, row: -1 }, 'not at the pinned one');
  assert.is(pin.locate(0).shard, 0);
  pin.unpin();
});

test('entities registered after a chunk placed out of order take new indices', async () => {
  // Moved chunks keep draining (worker 0 never confirms the moves), so the
  // new chunk `a` waits for room on its shard while the later `b` is placed:
  // the published entities stop before `a`, and `b`'s entity is registered.
  const clock = ManualClock.create(0);
  const ps = server(clock, 5, { chunkRows: 1, shardCapacityRows: 3, graceMs: 0 });
  const p = Placement.attach(ps.handle.placement);
  ps.client(0, 1);
  ps.setTargetShards(2);
  await ps.placementStep(8);
  const a = ps.registerEntities(['a']);
  const b = ps.registerEntities(['b']);
  await ps.placementStep(8);
  assert.is(p.locAt(p.version(), a.chunks[0]!), -1, 'a is not placed');
  assert.ok(p.locAt(p.version(), b.chunks[0]!) >= 0, 'b is placed');
  assert.is(ps.entityCount(), 5, 'published up to a');
  const c = ps.registerEntities(['c']);
  assert.equal([a.firstEntity, b.firstEntity, c.firstEntity], [5, 6, 7]);
  assert.is(ps.chunkOf(6), b.chunks[0]!, "b's entity keeps its chunk");
  assert.is(ps.chunkOf(7), c.chunks[0]!);
});

test.run();
