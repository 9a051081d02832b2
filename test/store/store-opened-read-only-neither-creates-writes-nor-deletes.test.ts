/**
 * A checkpoint store opened read-only (what `kgshard eval --checkpoint-dir`
 * does to a store a run may be writing to) reads the entries another
 * handle writes, but never changes the directory: a missing directory is
 * an error naming it (and is not created), an expired entry is skipped but
 * left in place, and `save` and `prune` are refused.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-store-ro-'));
const FP = 'ab'.repeat(32);
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

test('a missing directory, or a file in its place, is an error naming it; nothing is created', () => {
  const missing = join(root, 'missing');
  const e = err(() => CheckpointStore.open(missing, { readOnly: true }));
  assert.is(e.code, 'E_DATASET');
  assert.ok(e.message.startsWith(`${missing}: `), e.message);
  assert.not.ok(existsSync(missing));
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  assert.match(err(() => CheckpointStore.open(file, { readOnly: true })).message, /not a directory/);
});

test('it reads what a writer saves, skips expired entries without deleting them, and refuses writes', () => {
  const dir = join(root, 'store');
  let now = 1_000_000;
  const writer = CheckpointStore.open(dir, { ttlMs: 1000, now: () => now });
  writer.save(FP, 'run-a', bytes('old'), { iteration: 1 });
  now += 500;
  writer.save(FP, 'run-b', bytes('new'), { iteration: 2 });
  // The reader's clock is later: run-a has expired for it, run-b has not.
  const reader = CheckpointStore.open(dir, { readOnly: true, ttlMs: 1000, now: () => now + 700 });
  assert.ok(reader.readOnly);
  const seen = reader.entries().map((e) => `${e.runId}:${Buffer.from(e.payload).toString()}`);
  assert.equal(seen, ['run-b:new'], 'the expired entry is skipped');
  assert.is(readdirSync(dir).filter((f) => f.endsWith('.kgck')).length, 2, 'and left in place');
  assert.match(err(() => reader.save(FP, 'run-c', bytes('x'))).message, /read-only/);
  assert.match(err(() => reader.prune()).message, /read-only/);
  assert.is(readdirSync(dir).filter((f) => f.endsWith('.kgck')).length, 2);
  // A writer's next entry is seen by the same reader.
  writer.save(FP, 'run-b', bytes('newer'), { iteration: 3 });
  assert.equal(
    reader.entries().map((e) => Buffer.from(e.payload).toString()),
    ['newer'],
  );
});

test.run();
