/**
 * Train and loadtest show a progress line on a terminal; `--quiet` turns it
 * off; with stderr a pipe nothing but the result is written, and stdout
 * holds no control character. The terminal is a fixture that marks the
 * child's stderr as a TTY (`test/fixtures/tty-kgshard.ts`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bin, FAST, tinyDataset, type Run } from './kgshard-cli.js';

const tty = fileURLToPath(new URL('../fixtures/tty-kgshard.js', import.meta.url));

function run(entry: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

const CONTROL = /[\r\x1b]/;
const dataset = tinyDataset();
const TRAIN = ['train', '--dataset', dataset, ...FAST, '--epochs', '4'];
const LOAD = ['loadtest', '--duration', '300ms', '--producers', '1', '--shards', '1', '--rate', '100k'];

test('on a terminal: the progress line is drawn; --quiet draws none, and the result is the same', async () => {
  const [train, trainQuiet, load, loadQuiet] = await Promise.all([
    run(tty, TRAIN),
    run(tty, [...TRAIN, '--quiet']),
    run(tty, LOAD),
    run(tty, [...LOAD, '--quiet']),
  ]);
  for (const r of [train, trainQuiet, load, loadQuiet]) assert.is(r.code, 0, r.err);
  assert.match(train.err, /\repoch \d+\/4 loss /);
  assert.match(load.err, /\r\d+\.\ds\/300ms .* ev\/s /);
  assert.is(trainQuiet.err, '');
  assert.is(loadQuiet.err, '');
  for (const r of [train, trainQuiet, load, loadQuiet]) assert.not.match(r.out, CONTROL);
  assert.is(trainQuiet.out.split('\n')[0], train.out.split('\n')[0]);
});

test('piped: stderr stays empty and stdout is the result alone', async () => {
  const [train, load] = await Promise.all([run(bin, TRAIN), run(bin, LOAD)]);
  for (const r of [train, load]) {
    assert.is(r.code, 0, r.err);
    assert.is(r.err, '');
    assert.not.match(r.out, CONTROL);
  }
  assert.match(train.out, /^complex dim 8 on tiny: /);
  assert.match(load.out, /^loadtest: 1 producer on 1 thread, /);
});

test.run();
