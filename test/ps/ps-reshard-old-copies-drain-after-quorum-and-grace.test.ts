/**
 * The old copy a move leaves behind drains instead of vanishing: on the
 * server's (manual) clock it is freed only once the quorum of live workers
 * has confirmed a placement past the move and the grace window has passed;
 * a worker that falls silent past its timeout stops holding it back; a
 * reader pinned within the grace window keeps the copies of its version;
 * zero-quorum mode waits for the grace window only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer } from '../../src/ps/server.js';
import type { PsConfig } from '../../src/ps/config.js';
import { Placement } from '../../src/ps/placement.js';
import { ManualClock } from '../../src/shm/clock.js';

const ENTITIES = 64;

function server(clock: ManualClock, extra: Partial<PsConfig> = {}): ParameterServer {
  const ids = Array.from({ length: ENTITIES }, (_, i) => `e${i}`);
  return ParameterServer.create(
    {
      dim: 4,
      numShards: 2,
      activeShards: 1,
      strategy: 'range',
      mode: 'async',
      chunkRows: 8,
      shardCapacityRows: ENTITIES,
      graceMs: 100,
      workerTimeoutMs: 1_000,
      ...extra,
    },
    ids,
    ['r'],
    { clock },
  );
}

test('a moved chunk drains until every live worker confirmed and the grace window passed', async () => {
  const clock = ManualClock.create(1_000);
  const ps = server(clock);
  const p = Placement.attach(ps.handle.placement);
  const a = ps.client(0, 8);
  const b = ps.client(1, 8);
  const r = await ps.reshard(2, { maxMovesPerStep: 8 });
  assert.ok(r.chunksMoved > 0);
  const draining = p.draining();
  assert.is(draining, r.chunksMoved, 'every move left its old copy draining');
  clock.advance(500);
  // Worker 0 confirms the new placement; worker 1 has not pushed since the moves.
  a.follow();
  assert.is(ps.reclaim(), 0, 'worker 1 confirmed only the placement before the moves');
  b.follow();
  assert.is(ps.reclaim(), draining, 'every live worker confirmed and the grace window passed');
  assert.is(p.draining(), 0);
});

test('the grace window holds old copies even when every worker confirmed', async () => {
  const clock = ManualClock.create(1_000);
  const ps = server(clock);
  const c = ps.client(0, 8);
  await ps.reshard(2);
  c.follow();
  assert.is(ps.reclaim(), 0, 'within the grace window');
  clock.advance(100);
  c.follow();
  assert.ok(ps.reclaim() > 0, 'after it');
});

test('a worker silent past its timeout no longer holds old copies back', async () => {
  const clock = ManualClock.create(1_000);
  const ps = server(clock);
  const live = ps.client(0, 8);
  ps.client(1, 8); // confirms the first placement, then falls silent
  await ps.reshard(2);
  clock.advance(200);
  live.follow();
  assert.is(ps.reclaim(), 0, 'the silent worker is still within its timeout');
  clock.advance(1_000);
  live.follow();
  assert.ok(ps.reclaim() > 0, 'past its timeout it is not live');
});

test('a reader pinned before the move keeps the old copies for its lease', async () => {
  const clock = ManualClock.create(1_000);
  const ps = server(clock, { confirmQuorum: 0, pinLeaseMs: 500 });
  const p = Placement.attach(ps.handle.placement);
  const pin = ps.pinPlacement();
  const r = await ps.reshard(2);
  clock.advance(50);
  assert.is(ps.reclaim(), 0, 'zero quorum, but within the grace window');
  clock.advance(100);
  assert.is(ps.reclaim(), 0, 'past the grace window, but the pin holds them');
  assert.is(p.draining(), r.chunksMoved);
  pin.unpin();
  assert.is(ps.reclaim(), r.chunksMoved, 'released by the unpin');
  // A pin that is never released holds copies for its lease only.
  const stuck = ps.pinPlacement();
  const back = await ps.reshard(1);
  clock.advance(200);
  assert.is(ps.reclaim(), 0, 'within the lease');
  clock.advance(400);
  assert.is(ps.reclaim(), back.chunksMoved, 'past the lease');
  stuck.unpin();
});

test('a sync-mode server moves chunks only when the caller says no step is in flight', async () => {
  const clock = ManualClock.create(1_000);
  const ps = server(clock, { mode: 'sync', expectedWorkers: 1 });
  let msg = '';
  try {
    await ps.reshard(2);
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.match(msg, /^ParameterServer\.reshard: quiescent must be true in sync mode \(move chunks between epochs/);
  assert.is(ps.activeShards(), 1, 'nothing moved');
  const r = await ps.reshard(2, { quiescent: true });
  assert.ok(r.chunksMoved > 0);
});

test.run();
