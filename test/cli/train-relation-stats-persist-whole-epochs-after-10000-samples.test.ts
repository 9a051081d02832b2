/**
 * The per-relation loss statistics of `kgshard train --checkpoint-dir` are
 * merged from the workers at each epoch end and written to
 * relation-stats.kgs at the first epoch end that brings 10,000 or more new
 * samples (and at the end of the run): a run SIGKILLed after the file
 * appears leaves whole epochs in it. Here an epoch has T (about 7,000)
 * samples split over 2 workers, so the file is written every 2 epochs and
 * always holds a multiple of 2T samples (a write after one worker's part
 * would leave 1.5 epochs).
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDurable } from '../../src/store/durable.js';
import { RelationStats, STATS_KIND } from '../../src/store/running-stats.js';
import { bin, tempDir } from './kgshard-cli.js';

/** `n` entities on a ring, three relations; a few triples for valid and test. Returns the train count. */
function ring(dir: string, n: number): number {
  const e = (i: number): string => `e${((i % n) + n) % n}`;
  const train: string[] = [];
  for (let i = 0; i < n; i++)
    for (const [r, t] of [
      ['next', i + 1],
      ['skip', i + 7],
      ['pair', i ^ 1],
    ] as const)
      train.push(`${e(i)}\t${r}\t${e(t)}\n`);
  const held = train.splice(100, 2);
  writeFileSync(join(dir, 'train.tsv'), train.join(''));
  writeFileSync(join(dir, 'valid.tsv'), held[0]!);
  writeFileSync(join(dir, 'test.tsv'), held[1]!);
  return train.length;
}

const KILLED =
  'killed after the statistics file appears: it holds whole epochs, written every 10,000 samples at epoch ends';
test(KILLED, async () => {
  const root = tempDir('stats');
  const T = ring(root, 2340);
  assert.ok(T < 10_000 && 1.5 * T >= 10_000, `T = ${T}`);
  const store = join(root, 'store');
  const file = join(store, 'relation-stats.kgs');
  const child = spawn(
    process.execPath,
    [
      bin,
      'train',
      '--dataset',
      root,
      '--model',
      'distmult',
      '--dim',
      '4',
      '--batch',
      '512',
      '--neg',
      '2',
      '--chunk',
      '8',
      '--workers',
      '2',
      '--epochs',
      '100000',
      '--checkpoint-dir',
      store,
      '--json',
    ],
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
  const r = readDurable(file, STATS_KIND);
  assert.ok(r.ok, 'the file is whole');
  if (!r.ok) return;
  const total = RelationStats.deserialize(r.payload).total();
  assert.ok(total > 0);
  assert.is(total % (2 * T), 0, `${total} samples = ${total / T} epochs of ${T}: expected a multiple of 2 epochs`);
});

test.run();
