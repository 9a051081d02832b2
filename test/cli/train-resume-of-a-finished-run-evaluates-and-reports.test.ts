/**
 * `kgshard train --resume` when the latest entry of the problem already
 * holds every epoch (the run finished, or was killed after its final
 * entry): one line on stderr says there is nothing left to train, the
 * restored tables are evaluated and the usual table or JSON is printed, and
 * nothing new is written to the store. A larger --epochs trains the extra
 * epochs from the restored state; a smaller one is refused naming the flag.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, kgshard, tempDir, TRAIN_JSON_KEYS } from './kgshard-cli.js';

const data = fileURLToPath(new URL('../../../test/fixtures/data/tsv/duplicates/', import.meta.url));
const root = tempDir('finished');
const BASE = [
  'train',
  '--dataset',
  data,
  '--model',
  'distmult',
  '--dim',
  '8',
  '--batch',
  '4',
  '--neg',
  '4',
  '--chunk',
  '2',
  '--workers',
  '1',
  '--seed',
  '3',
];
const entryFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.kgck'))
    .sort();

test('a finished run resumed with the same --epochs: nothing left to train, the restored tables are evaluated', () => {
  const store = join(root, 'same');
  const first = kgshard(...BASE, '--epochs', '3', '--checkpoint-dir', store, '--json');
  assert.is(first.code, 0, first.err);
  const done = json(first);
  const files = entryFiles(store);

  const r = kgshard(...BASE, '--epochs', '3', '--checkpoint-dir', store, '--resume', '--json');
  assert.is(r.code, 0, r.err);
  assert.is(r.err, 'nothing left to train: checkpoint holds epoch 3 of 3\n');
  const s = json(r);
  for (const key of TRAIN_JSON_KEYS) {
    assert.ok(key in s, `missing ${key}`);
  }
  assert.is(s['epochs'], 3);
  assert.is(s['epochs_planned'], 3);
  assert.is(s['stopped_by'], 'epochs');
  const c = s['checkpoint'] as Record<string, unknown>;
  assert.is(c['resumed_from'], 3);
  assert.is(c['last_epoch'], 3, 'the entry resumed from holds epoch 3');
  assert.is(s['mrr'], done['mrr'], 'the same tables evaluated');
  assert.is(s['hits10'], done['hits10']);
  assert.is(s['final_loss'], done['final_loss']);
  assert.is(s['train_s'], done['train_s'], 'the training time of the restored run');
  for (const k of ['train_s', 'triples_per_s', 'final_loss', 'mrr', 'mr'])
    assert.ok(Number.isFinite(s[k]), `${k} is finite: ${String(s[k])}`);
  assert.equal(entryFiles(store), files, 'nothing new in the store');

  // The table output too, and again (a second resume of the same finished run).
  const t = kgshard(...BASE, '--epochs', '3', '--checkpoint-dir', store, '--resume');
  assert.is(t.code, 0, t.err);
  assert.is(t.err, 'nothing left to train: checkpoint holds epoch 3 of 3\n');
  assert.match(t.out, /trained 3\/3 epochs/);
  assert.match(t.out, /^both /m);
  assert.equal(entryFiles(store), files);
});

test('a larger --epochs trains the extra epochs from the restored state', () => {
  const store = join(root, 'more');
  assert.is(kgshard(...BASE, '--epochs', '2', '--checkpoint-dir', store, '--json').code, 0);
  const straight = json(kgshard(...BASE, '--epochs', '5', '--json'));
  const r = kgshard(...BASE, '--epochs', '5', '--checkpoint-dir', store, '--resume', '--json');
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  const s = json(r);
  assert.is(s['epochs'], 5);
  const c = s['checkpoint'] as Record<string, unknown>;
  assert.is(c['resumed_from'], 2);
  assert.is(c['last_epoch'], 5);
  assert.is(s['final_loss'], straight['final_loss'], 'one worker: the same as 5 epochs straight');
  assert.is(s['mrr'], straight['mrr']);
  // Now finished at 5: resuming with 5 has nothing left.
  const again = kgshard(...BASE, '--epochs', '5', '--checkpoint-dir', store, '--resume', '--json');
  assert.is(again.code, 0, again.err);
  assert.is(again.err, 'nothing left to train: checkpoint holds epoch 5 of 5\n');
  assert.is(json(again)['mrr'], s['mrr']);
});

test('a smaller --epochs than the checkpoint holds is refused, naming the flag and both counts', () => {
  const store = join(root, 'fewer');
  assert.is(kgshard(...BASE, '--epochs', '4', '--checkpoint-dir', store).code, 0);
  const r = kgshard(...BASE, '--epochs', '2', '--checkpoint-dir', store, '--resume', '--json');
  assert.is(r.code, 2, r.err);
  assert.is(r.out, '');
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /--epochs 2/);
  assert.match(r.err, /epoch 4/);
});

test.run();
