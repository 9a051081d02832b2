/**
 * `kgshard train --reshard-at EPOCH:SHARDS` (repeatable) reshards the
 * parameter server while those epochs train, and `--json` reports each
 * reshard (`reshards`: epoch, from, to, steps, chunks_moved,
 * max_writer_pause_us, converge_ms); the run's shard count is the last
 * one. A reshard past the run's epochs is refused in one line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();

test('--reshard-at 2:4 --reshard-at 3:2 reports both reshards in --json', () => {
  const r = kgshard(
    'train',
    '--dataset',
    data,
    ...FAST,
    '--epochs',
    '4',
    '--shards',
    '2',
    '--reshard-at',
    '2:4',
    '--reshard-at',
    '3:2',
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const j = json(r);
  const reshards = j.reshards as Array<Record<string, number>>;
  assert.is(reshards.length, 2);
  assert.equal(
    reshards.map((x) => [x.epoch, x.from, x.to]),
    [
      [2, 2, 4],
      [3, 4, 2],
    ],
  );
  for (const x of reshards) {
    assert.ok(x.chunks_moved! > 0, `chunks moved ${x.chunks_moved}`);
    assert.ok(x.steps! >= 1);
    assert.ok(x.max_writer_pause_us! >= 0);
    assert.ok(x.total_writer_pause_us! >= x.max_writer_pause_us!);
    assert.ok(x.draining! >= 0);
    assert.ok(x.converge_ms! >= 0);
  }
  assert.is((j.ps as Record<string, unknown>).shards, 2);
  assert.equal(j.reshard_at, [
    { epoch: 2, shards: 4 },
    { epoch: 3, shards: 2 },
  ]);
  assert.ok(typeof j.mrr === 'number' && Number.isFinite(j.mrr));
});

test('a run without --reshard-at reports no reshard', () => {
  const j = json(kgshard('train', '--dataset', data, ...FAST, '--epochs', '2', '--json'));
  assert.equal(j.reshards, []);
});

test('a reshard after the last epoch is refused in one line naming the field', () => {
  const r = kgshard('train', '--dataset', data, ...FAST, '--epochs', '2', '--reshard-at', '5:2');
  assert.is(r.code, 2, r.err);
  assert.match(r.err.trim(), /--reshard-at must be an epoch at most the run's epochs \(2\), got "5:2"$/);
  assert.is(r.err.trim().split('\n').length, 1);
});

test.run();
