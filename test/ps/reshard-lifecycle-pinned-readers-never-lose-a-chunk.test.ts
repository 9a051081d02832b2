/**
 * A reader pins a version and reads each row from a shard that held its
 * chunk at that version. While the pin's lease lasts, those copies are
 * kept even after quorum and grace; once it is over, reads report
 * `expired` and the copies go. The values read at a pin are the old
 * copy's; the latest version reads the moved copy, with every push.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InMemoryReshardBackend } from '../../src/ps/reshard/memory-backend.js';
import { ManualClock } from '../../src/shm/clock.js';
import { err, rejection } from '../helpers/errors.js';

test('a pinned version keeps its copies for the lease, then expires', async () => {
  const clock = ManualClock.create(0);
  const b = await InMemoryReshardBackend.create(
    { rows: 8, dim: 2, chunkRows: 2, shards: 1, graceMs: 10, quorum: 0, pinLeaseMs: 1000 },
    clock,
  );
  for (let row = 0; row < 8; row++)
    assert.equal(await b.push(row, Float32Array.of(row, 1)), { state: 'ok', copies: 1 });
  const { pin, version } = await b.pin();
  await b.reshard(4);
  const r = await b.step();
  assert.ok(r.drops.length > 0);
  clock.advance(500);
  await b.step();
  const out = new Float32Array(2);
  for (let row = 0; row < 8; row++) {
    const got = await b.read(pin, row, out);
    assert.is(got.state, 'ok');
    if (got.state !== 'ok') continue;
    assert.is(got.version, version);
    assert.is(got.shard, 0, 'version 1 had every chunk on shard 0');
    assert.equal([...out], [row, 1]);
    assert.ok(
      (await b.inspect()).copies.some((c) => c.chunk === got.chunk && c.shard === 0),
      'the shard still holds it',
    );
  }
  for (let row = 0; row < 8; row++) await b.push(row, Float32Array.of(1, 1));
  const latest = await b.readLatest(5, out);
  assert.is(latest.state, 'ok');
  assert.equal([...out], [6, 2]);
  clock.advance(501);
  assert.equal(await b.read(pin, 0, out), { state: 'expired' });
  const freed = await b.step();
  assert.is(freed.freed.length, r.drops.length, 'the lease is over: the drained copies go');
  await b.unpin(pin);
  const e = await rejection(b.unpin(pin));
  assert.is(e.code, 'E_RESHARD_UNKNOWN_PIN');
  assert.equal(await b.read(pin, 0, out), { state: 'unknown-pin' });
  assert.is(err(() => b.lifecycle.unpin(42)).message, 'unpin: no reader pin 42 (never issued or already unpinned)');
});

test.run();
