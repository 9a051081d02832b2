/**
 * Shared by the CLI tests: run the built `kgshard` in a child process, and
 * write a tiny learnable TSV dataset into a temporary directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** The signal that ended the process (a timeout's SIGTERM), or null. */
  readonly signal?: string | null;
}

export function kgshard(...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
}

/** As `kgshard`, without blocking the event loop (for tests that run something else meanwhile). */
export function kgshardAsync(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

/** `--json` output: exactly one line, one object. */
export function json(r: Run): Record<string, unknown> {
  const lines = r.out.trim().split('\n');
  const why = (what: string): Error =>
    new Error(`${what} (exit ${r.code}, signal ${r.signal ?? 'none'}):\n${r.out}\nstderr: ${r.err}`);
  if (lines.length !== 1 || lines[0] === '') throw why(`expected one JSON line on stdout, got ${lines.length}`);
  try {
    return JSON.parse(lines[0]!) as Record<string, unknown>;
  } catch {
    throw why('stdout is not JSON');
  }
}

const temps: string[] = [];
process.on('exit', () => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kgshard-${prefix}-`));
  temps.push(dir);
  return dir;
}

type Triple = [string, string, string];

/**
 * 24 entities on a ring with three rules: `next` (i → i+1), `skip`
 * (i → i+5) and `pair` (i ↔ i^1, both directions). Every 8th triple of the
 * shuffled list goes to valid or test (alternately) while train keeps every
 * entity and relation. Deterministic.
 */
export function tinyTriples(): { train: Triple[]; valid: Triple[]; test: Triple[] } {
  const n = 24;
  const e = (i: number): string => `e${((i % n) + n) % n}`;
  const all: Triple[] = [];
  for (let i = 0; i < n; i++) {
    all.push([e(i), 'next', e(i + 1)]);
    all.push([e(i), 'skip', e(i + 5)]);
    all.push([e(i), 'pair', e(i ^ 1)]);
  }
  // Deterministic shuffle (LCG).
  let s = 12345;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const train: Triple[] = [];
  const valid: Triple[] = [];
  const test: Triple[] = [];
  all.forEach((t, i) => {
    if (i % 8 === 0) (valid.length <= test.length ? valid : test).push(t);
    else train.push(t);
  });
  return { train, valid, test };
}

export function writeTriples(dir: string, splits: { train: Triple[]; valid: Triple[]; test: Triple[] }): string {
  mkdirSync(dir, { recursive: true });
  for (const name of ['train', 'valid', 'test'] as const) {
    writeFileSync(join(dir, `${name}.tsv`), splits[name].map((t) => `${t.join('\t')}\n`).join(''));
  }
  return dir;
}

/** A temporary directory holding the tiny dataset as train/valid/test.tsv. */
export function tinyDataset(): string {
  return writeTriples(join(tempDir('data'), 'tiny'), tinyTriples());
}

/** Fast training flags for the tiny dataset. */
export const FAST = ['--dim', '8', '--epochs', '30', '--batch', '16', '--neg', '8', '--chunk', '8', '--workers', '2'];

/** Keys every `kgshard train --json` object has. */
export const TRAIN_JSON_KEYS: readonly string[] = [
  'per_relation',
  'rank_histogram',
  'reshards',
  'growth',
  'model',
  'dim',
  'epochs',
  'workers',
  'train_s',
  'triples_per_s',
  'eval_s',
  'mrr',
  'hits1',
  'hits3',
  'hits10',
  'mr',
];

/** The start of several tests' `kgshard train` flags: a small DistMult on `dataset`, one worker, `seed`. */
export function tinyTrainArgs(dataset: string, seed: number): string[] {
  const flags = '--model distmult --dim 8 --batch 16 --neg 8 --chunk 8 --workers 1 --seed';
  return ['train', '--dataset', dataset, ...flags.split(' '), String(seed)];
}
