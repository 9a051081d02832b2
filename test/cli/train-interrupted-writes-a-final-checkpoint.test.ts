/**
 * Ctrl-C (SIGINT) during `kgshard train --checkpoint-dir` stops after the
 * epoch in progress and writes a final entry holding that epoch's state,
 * which `--resume` then continues from.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bin, json, kgshard, tempDir, tinyDataset, tinyTrainArgs } from './kgshard-cli.js';

const data = tinyDataset();
const store = join(tempDir('sigint'), 'store');
const ARGS = [...tinyTrainArgs(data, 9), '--json', '--checkpoint-dir', store];

test('SIGINT mid-training: a final checkpoint at the epoch reached, and resume continues it', async () => {
  const child = spawn(process.execPath, [bin, ...ARGS, '--epochs', '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.is(code, 0, err);
  const j = JSON.parse(out.trim()) as Record<string, unknown>;
  assert.is(j['stopped_by'], 'interrupt');
  const epochs = j['epochs'] as number;
  assert.ok(epochs >= 1 && epochs < 100000);
  assert.is(
    (j['checkpoint'] as Record<string, unknown>)['last_epoch'],
    epochs,
    'the final entry holds the epoch reached',
  );
  const resumed = json(kgshard(...ARGS, '--epochs', String(epochs + 2), '--resume'));
  assert.is((resumed['checkpoint'] as Record<string, unknown>)['resumed_from'], epochs);
  assert.is(resumed['epochs'], epochs + 2);
});

test.run();
