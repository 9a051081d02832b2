/**
 * `kgshard train --checkpoint-dir`: a run stopped after 3 of 6 epochs and
 * resumed with `--resume` ends with the same tables and losses as a run of
 * 6 epochs straight (one worker, so training is deterministic); a
 * warm start from another run's store starts from its tables; bad
 * combinations are one-line usage errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, kgshard, tempDir, tinyDataset, tinyTrainArgs } from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('ckpt');
const BASE = [...tinyTrainArgs(data, 5), '--optimizer', 'adagrad', '--json'];

test('stop after 3 epochs, resume to 6: same losses and tables as 6 straight', () => {
  const straightOut = join(root, 'straight-emb');
  const straight = json(kgshard(...BASE, '--epochs', '6', '--out', straightOut));
  const store = join(root, 'store');
  const first = json(kgshard(...BASE, '--epochs', '3', '--checkpoint-dir', store));
  const c1 = first['checkpoint'] as Record<string, unknown>;
  // Per-relation loss statistics: one sample per positive per epoch, merged over the workers,
  // persisted beside the store.
  const stats = first['relation_stats'] as { relation: string; count: number; mean: number; variance: number }[];
  assert.is(stats.length, first['relations']);
  assert.is(
    stats.reduce((a, x) => a + x.count, 0),
    3 * (first['train_triples'] as number),
  );
  assert.ok(stats.every((x) => x.count === 0 || (x.mean > 0 && x.variance >= 0)));
  assert.is(first['relation_stats_file'], join(store, 'relation-stats.kgs'));
  assert.is(c1['last_epoch'], 3, 'the final entry of the first part');
  const resumedOut = join(root, 'resumed-emb');
  const r = kgshard(...BASE, '--epochs', '6', '--checkpoint-dir', store, '--resume', '--out', resumedOut);
  assert.is(r.code, 0, r.err);
  const resumed = json(r);
  const c2 = resumed['checkpoint'] as Record<string, unknown>;
  assert.is(c2['resumed_from'], 3);
  assert.is(c2['fingerprint'], c1['fingerprint'], 'the same problem (the epoch count is not part of it)');
  assert.is(c2['last_epoch'], 6);
  assert.is(resumed['epochs'], 6);
  const total = (resumed['relation_stats'] as { count: number }[]).reduce((a, x) => a + x.count, 0);
  assert.is(total, 6 * (resumed['train_triples'] as number), 'the statistics continue from the persisted file');
  assert.is(resumed['final_loss'], straight['final_loss']);
  assert.is(resumed['mrr'], straight['mrr']);
  assert.equal(readFileSync(join(resumedOut, 'entities.f32')), readFileSync(join(straightOut, 'entities.f32')));
  assert.equal(readFileSync(join(resumedOut, 'relations.f32')), readFileSync(join(straightOut, 'relations.f32')));
});

test('warm start from a near-match in another store; resume with nothing to resume starts fresh', () => {
  const src = join(root, 'src-store');
  json(kgshard(...BASE, '--epochs', '4', '--checkpoint-dir', src));
  const r = kgshard(...BASE, '--epochs', '1', '--lr', '0.05', '--warm-start', src);
  assert.is(r.code, 0, r.err);
  const j = json(r);
  const c = j['checkpoint'] as Record<string, unknown>;
  assert.type(c['warm_started_from'], 'string');
  assert.is(c['dir'], null, 'a warm start alone writes no checkpoints');
  const fresh = json(kgshard(...BASE, '--epochs', '1', '--checkpoint-dir', join(root, 'empty'), '--resume'));
  assert.is((fresh['checkpoint'] as Record<string, unknown>)['resumed_from'], null);
});

test('bad combinations are usage errors naming the flag', () => {
  const a = kgshard(...BASE, '--epochs', '1', '--resume');
  assert.is(a.code, 2);
  assert.match(a.err, /--resume needs --checkpoint-dir/);
  const b = kgshard(...BASE, '--epochs', '1', '--warm-start', 'a'.repeat(64));
  assert.is(b.code, 2);
  assert.match(b.err, /--warm-start FINGERPRINT needs --checkpoint-dir/);
  const c = kgshard(...BASE, '--epochs', '1', '--warm-start', join(root, 'no-such-dir'));
  assert.is(c.code, 2, c.err);
});

test.run();
