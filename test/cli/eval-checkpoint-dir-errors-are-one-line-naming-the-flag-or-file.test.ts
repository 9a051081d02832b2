/**
 * `kgshard eval --checkpoint-dir` refuses, in one line naming the flag or
 * the file and the value: a store of two runs without `--fingerprint`
 * (listing both), a fingerprint the store does not hold, a missing or
 * damaged run description, a store with no entry yet, a missing store,
 * `--embeddings` beside `--checkpoint-dir`, and a `--dataset` the rows do
 * not fit. `--fingerprint` picks one of several runs.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  json,
  kgshard,
  tempDir,
  tinyDataset,
  tinyTrainArgs,
  tinyTriples,
  writeTriples,
  type Run,
} from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('eval-store-errors');
const store = join(root, 'store');

function train(seed: number): string {
  const r = kgshard(...tinyTrainArgs(data, seed), '--epochs', '2', '--checkpoint-dir', store, '--json');
  assert.is(r.code, 0, r.err);
  return (json(r)['checkpoint'] as Record<string, unknown>)['fingerprint'] as string;
}

const fpA = train(1);
const fpB = train(2);

/** Failed with `code`, nothing on stdout, one line on stderr matching every pattern. */
function fails(r: Run, code: number, ...patterns: RegExp[]): void {
  assert.is(r.code, code, r.err);
  assert.is(r.out, '');
  const lines = r.err.trimEnd().split('\n');
  assert.is(lines.length, 1, r.err);
  assert.match(lines[0]!, /^kgshard: E_[A-Z_]+: /);
  for (const p of patterns) assert.match(lines[0]!, p);
}

/** A copy of the store (the tests below damage copies). */
function copy(name: string): string {
  const dir = join(root, name);
  cpSync(store, dir, { recursive: true });
  return dir;
}

test('two runs in the store: without --fingerprint, one line listing both; with it, that run', () => {
  assert.is.not(fpA, fpB);
  fails(
    kgshard('eval', '--checkpoint-dir', store),
    2,
    /holds 2 runs/,
    new RegExp(fpA),
    new RegExp(fpB),
    /seed 1\b/,
    /seed 2\b/,
    /--fingerprint FP/,
  );
  for (const fp of [fpA, fpB]) {
    const r = kgshard('eval', '--checkpoint-dir', store, '--fingerprint', fp, '--workers', '1', '--json');
    assert.is(r.code, 0, r.err);
    const c = json(r)['checkpoint'] as Record<string, unknown>;
    assert.is(c['fingerprint'], fp);
    assert.is(c['kind'], 'final');
    assert.is(c['epochs'], 2);
  }
});

test('an unknown or malformed fingerprint is a usage error naming --fingerprint and the value', () => {
  const unknown = 'f'.repeat(64);
  fails(kgshard('eval', '--checkpoint-dir', store, '--fingerprint', unknown), 2, /--fingerprint/, new RegExp(unknown));
  fails(kgshard('eval', '--checkpoint-dir', store, '--fingerprint', 'abc123'), 2, /--fingerprint/, /"abc123"/);
  fails(kgshard('eval', '--fingerprint', fpA), 2, /--fingerprint .* needs --checkpoint-dir/);
});

test('a missing or damaged run description: one line naming the file', () => {
  const missing = copy('no-description');
  const file = join(missing, 'runs', `${fpA}.json`);
  rmSync(file);
  fails(kgshard('eval', '--checkpoint-dir', missing, '--fingerprint', fpA), 1, /E_DATASET/, new RegExp(file));
  const damaged = copy('damaged-description');
  const bad = join(damaged, 'runs', `${fpA}.json`);
  writeFileSync(bad, '{"format": "kgshard-run", "version": 1, "model": ');
  fails(kgshard('eval', '--checkpoint-dir', damaged, '--fingerprint', fpA), 1, /E_DATASET/, new RegExp(bad));
  writeFileSync(bad, JSON.stringify({ format: 'kgshard-run', version: 1, fingerprint: fpA }));
  fails(kgshard('eval', '--checkpoint-dir', damaged, '--fingerprint', fpA), 1, new RegExp(bad), /near_key/);
});

test('a store without entries yet, or no store at all, names --checkpoint-dir', () => {
  // A run that has started (its description is written) but not checkpointed yet.
  const early = join(root, 'early');
  mkdirSync(early);
  cpSync(join(store, 'runs'), join(early, 'runs'), { recursive: true });
  fails(
    kgshard('eval', '--checkpoint-dir', early, '--fingerprint', fpB),
    1,
    /--checkpoint-dir/,
    /no loadable entry of run/,
    new RegExp(fpB),
  );
  const none = join(root, 'no-such-store');
  fails(kgshard('eval', '--checkpoint-dir', none), 1, /--checkpoint-dir/, new RegExp(none));
  const empty = join(root, 'empty');
  mkdirSync(empty);
  fails(kgshard('eval', '--checkpoint-dir', empty), 1, /--checkpoint-dir/, /holds no training run/);
});

test('--embeddings and --checkpoint-dir exclude each other', () => {
  fails(
    kgshard('eval', '--embeddings', root, '--checkpoint-dir', store),
    2,
    /--embeddings/,
    /--checkpoint-dir/,
    /exclude each other/,
  );
  fails(kgshard('eval'), 2, /--embeddings DIR .* or --checkpoint-dir DIR .* is required/);
});

test('a --dataset the rows do not fit: other counts, or other ids', () => {
  const t = tinyTriples();
  const bigger = writeTriples(join(root, 'bigger'), {
    train: [...t.train, ['x1', 'next', 'x2']],
    valid: t.valid,
    test: t.test,
  });
  fails(
    kgshard('eval', '--checkpoint-dir', store, '--fingerprint', fpA, '--dataset', bigger),
    1,
    /--dataset/,
    new RegExp(bigger),
    /26 entities and 3 relations/,
  );
  // The same triples, train written in reverse: the same names under other ids.
  const reordered = writeTriples(join(root, 'reordered'), {
    train: [...t.train].reverse(),
    valid: t.valid,
    test: t.test,
  });
  fails(
    kgshard('eval', '--checkpoint-dir', store, '--fingerprint', fpA, '--dataset', reordered),
    1,
    /--dataset/,
    /would not line up/,
  );
  // The same ids, other held-out triples: evaluated, with a notice.
  const swapped = writeTriples(join(root, 'swapped'), { train: t.train, valid: t.test, test: t.valid });
  const r = kgshard('eval', '--checkpoint-dir', store, '--fingerprint', fpA, '--dataset', swapped, '--json');
  assert.is(r.code, 0, r.err);
  assert.match(String(json(r)['notices']), /triples of swapped differ/);
});

test.run();
