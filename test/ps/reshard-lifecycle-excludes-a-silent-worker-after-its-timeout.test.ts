/**
 * A worker that stops confirming cannot hold the watermark back forever:
 * once silent for longer than workerTimeoutMs it no longer counts, the
 * next step reports it excluded and frees what the others confirmed, and
 * its late confirmation returns `excluded` (it must join again, from the
 * latest version). Unknown workers are refused with a typed error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssignmentLifecycle } from '../../src/ps/reshard/lifecycle.js';
import { err } from '../helpers/errors.js';

test('a silent worker is excluded after its timeout and the drain completes', () => {
  const clock = { t: 0 };
  const life = new AssignmentLifecycle(
    { rows: 12, dim: 1, chunkRows: 3, shards: 1, graceMs: 10, workerTimeoutMs: 1000, quorum: 1 },
    () => clock.t,
  );
  const alive = life.workerJoin();
  const silent = life.workerJoin();
  life.reshard(3);
  const v = life.step().published;
  assert.ok(v > 1);
  clock.t += 1000;
  assert.is(life.confirm(alive, v), 'ok');
  let r = life.step();
  assert.equal(r.excluded, []);
  assert.equal(r.freed, [], 'the silent worker still counts at exactly its timeout');
  clock.t += 1;
  r = life.step();
  assert.equal(r.excluded, [silent]);
  assert.ok(r.freed.length > 0);
  assert.equal(
    life.liveWorkers().map((w) => w.id),
    [alive],
  );
  assert.is(err(() => life.confirm(silent, v)).code, 'E_RESHARD_UNKNOWN_WORKER');
  const again = life.workerJoin();
  assert.is(life.liveWorkers().find((w) => w.id === again)!.confirmed, life.latest.version);
});

test('a worker silent past its timeout that confirms before the next step is told it is excluded', () => {
  const clock = { t: 0 };
  const life = new AssignmentLifecycle({ rows: 4, dim: 1, chunkRows: 2, workerTimeoutMs: 50 }, () => clock.t);
  const w = life.workerJoin();
  clock.t = 51;
  assert.is(life.confirm(w, life.latest.version), 'excluded');
  assert.equal(life.liveWorkers(), []);
});

test('unknown workers and versions are refused, naming them', () => {
  const life = new AssignmentLifecycle({ rows: 4, dim: 1, chunkRows: 2 }, () => 0);
  const e = err(() => life.confirm(7, 1));
  assert.is(e.code, 'E_RESHARD_UNKNOWN_WORKER');
  assert.is(e.message, 'confirm: no worker 7 (never joined or already left)');
  assert.is(err(() => life.workerLeave(7)).code, 'E_RESHARD_UNKNOWN_WORKER');
  const w = life.workerJoin();
  assert.match(err(() => life.confirm(w, 99)).message, /confirm: version must be a published version in \[0, 1\]/);
});

test.run();
