/**
 * Online growth and corrections of the parameter server's entity table:
 * - `addEntities` appends entities as new chunks, their rows initialised as
 *   the server initialises rows, placed all-or-nothing, published only once
 *   placed; the new rows take pushes and appear in snapshots; bad ids and a
 *   full table are refused before anything changes;
 * - `correct` swaps a chunk's rows in one visibility cycle: a reader
 *   pinned before the swap still reads the old rows, the latest placement
 *   reads the new ones plus what was pushed meanwhile; the swap is audited;
 *   mismatched replacements are refused with typed errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer } from '../../src/ps/server.js';
import { initRow } from '../../src/ps/init.js';
import { SEQ_OK } from '../../src/shm/seqlock.js';
import { errorText } from '../helpers/errors.js';

const DIM = 4;

function server(n: number, confirmQuorum = 0): ParameterServer {
  const ids = Array.from({ length: n }, (_, i) => `e${i}`);
  return ParameterServer.create(
    {
      dim: DIM,
      numShards: 3,
      activeShards: 2,
      strategy: 'range',
      mode: 'async',
      optimizer: 'sgd',
      learningRate: 1,
      chunkRows: 8,
      shardCapacityRows: 64,
      entityCapacity: n + 40,
      confirmQuorum,
      graceMs: 0,
    },
    ids,
    ['r'],
  );
}

function row(ps: ParameterServer, e: number): number[] {
  const { shard, row: r } = ps.locateIndex(e);
  return Array.from(ps.view(shard).subarray(r * DIM, (r + 1) * DIM));
}

test('addEntities places new chunks whole, with rows initialised from their ids, then publishes them', async () => {
  const ps = server(40);
  const client = ps.client(0, 64);
  const ids = Array.from({ length: 20 }, (_, i) => `new${i}`);
  const r = await ps.addEntities(ids);
  assert.is(r.firstEntity, 40);
  assert.is(r.entities, 20);
  assert.is(r.chunks, 3, '20 rows in chunks of 8: 8, 8, 4');
  assert.is(ps.entityCount(), 60);
  for (let i = 0; i < 20; i++) {
    const want = new Float32Array(DIM);
    initRow(ids[i]!, DIM, want, 0);
    assert.equal(row(ps, 40 + i), Array.from(want), `row of ${ids[i]}`);
    assert.equal(ps.locate(ids[i]!), ps.locateIndex(40 + i));
  }
  // The new rows take pushes through a training client, and snapshots hold them.
  const before = row(ps, 45);
  client.pushEntities(Int32Array.of(45), 1, new Float32Array(DIM).fill(-1), Int32Array.of(0));
  assert.equal(
    row(ps, 45),
    before.map((x) => Math.fround(x + 1)),
  );
  const out = { entities: new Float32Array(60 * DIM), relations: new Float32Array(DIM) };
  ps.copyInto(out);
  assert.equal(Array.from(out.entities.subarray(45 * DIM, 46 * DIM)), row(ps, 45));
});

test('addEntities refuses bad ids and a full table before changing anything', async () => {
  const ps = server(40);
  const cases: Array<[string[], RegExp]> = [
    [['e3'], /ParameterServer\.addEntities: ids\[0\] must be an entity id the server does not hold yet, got "e3"/],
    [['x', 'x'], /ids\[1\] must be an entity id the server does not hold yet, got "x"/],
    [[''], /ids\[0\] must be a non-empty string/],
    [Array.from({ length: 41 }, (_, i) => `m${i}`), /entities must be at most entityCapacity \(80\), got 81/],
  ];
  for (const [ids, pattern] of cases) {
    let msg = '';
    try {
      await ps.addEntities(ids);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert.match(msg, pattern);
    assert.is(ps.entityCount(), 40, 'nothing was added');
  }
  assert.match(
    errorText(() => ps.locate('m0')),
    /unknown entity id "m0"/,
  );
});

test('a correction swaps a chunk in one cycle; pinned readers keep the old rows; pushes carry over', async () => {
  // Every live worker must confirm the placed replacement before the swap.
  const ps = server(40, -1);
  const client = ps.client(0, 8);
  const c = ps.chunkOf(10);
  const members = Array.from({ length: 40 }, (_, e) => e).filter((e) => ps.chunkOf(e) === c);
  const old = members.map((e) => row(ps, e));
  const pin = ps.pinPlacement();
  const values = new Float32Array(members.length * DIM).fill(100);
  const v0 = ps.placementVersion();
  const done = ps.correct(c, values);
  // Registered (a version published), now waiting for the worker's confirmation.
  while (ps.placementVersion() === v0) await new Promise((r) => setTimeout(r, 1));
  // A push while the correction waits for the worker's confirmation: it carries over.
  assert.is(client.pushEntities(Int32Array.of(10), 1, new Float32Array(DIM).fill(-2), Int32Array.of(0)), SEQ_OK);
  const rec = await done;
  assert.ok(rec.swappedVersion > rec.registeredVersion);
  assert.equal(rec.entities, members);
  assert.is(ps.corrections.length, 1);
  for (const e of members) assert.equal(row(ps, e), e === 10 ? [102, 102, 102, 102] : [100, 100, 100, 100]);
  // The pinned reader still reads the rows as they were at its version.
  members.forEach((e, k) => {
    const at = pin.locate(e);
    const got = Array.from(ps.view(at.shard).subarray(at.row * DIM, (at.row + 1) * DIM));
    const want = e === 10 ? old[k]!.map((x) => Math.fround(x + 2)) : old[k]!;
    assert.equal(got, want, `entity ${e} at the pinned version`);
  });
  pin.unpin();
});

test('mismatched corrections are refused with typed errors', async () => {
  const ps = server(40);
  const c = ps.chunkOf(0);
  const texts: Array<[() => Promise<unknown>, RegExp]> = [
    [
      () => ps.correct(99, new Float32Array(8 * DIM)),
      /^E_RESHARD_UNKNOWN_CHUNK: ParameterServer\.correct: unknown chunk 99$/,
    ],
    [
      () => ps.correct(c, new Float32Array(3)),
      /^E_RESHARD_SHAPE: ParameterServer\.correct: replacement for chunk \d+ has 3 values, expected 32/,
    ],
    [
      () => ps.correct(c, new Float32Array(8 * DIM).fill(Number.NaN)),
      /^E_INVALID_ARGUMENT: ParameterServer\.correct: values\[0\] must be a finite number, got NaN$/,
    ],
  ];
  for (const [fn, pattern] of texts) {
    let msg = '';
    try {
      await fn();
    } catch (e) {
      msg = `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
    assert.match(msg, pattern);
  }
  // A second correction of the same chunk while the first runs.
  const first = ps.correct(c, new Float32Array(8 * DIM));
  let busy = '';
  try {
    await ps.correct(c, new Float32Array(8 * DIM));
  } catch (e) {
    busy = `${(e as { code?: string }).code}`;
  }
  assert.is(busy, 'E_RESHARD_CHUNK_BUSY');
  await first;
});

test.run();
