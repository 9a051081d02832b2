/**
 * `kgshard eval --checkpoint-dir` on a live run: `kgshard train
 * --checkpoint-every-s` runs in a child process and keeps writing entries
 * (inside epochs and at their ends) while `kgshard eval`, in other child
 * processes, reads the store and evaluates its latest entry. After Ctrl-C
 * the run's final entry is read, with the metrics of the run's own final
 * evaluation. An entry written inside an epoch is reported as "in epoch N,
 * K of M positives trained".
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTsvDir } from '../../src/data/tsv.js';
import { runTraining } from '../../src/kge/training/run.js';
import { bin, json, kgshard, kgshardAsync, tempDir } from './kgshard-cli.js';

/**
 * 2,000 entities, 6 relations, 40,000 training triples (tails near a
 * function of head and relation): an epoch long enough that entries are
 * written inside it. Deterministic.
 */
function syntheticDataset(dir: string): string {
  let s = 4242;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const n = 2000;
  const rows = new Set<string>();
  while (rows.size < 40_300) {
    const h = Math.floor(rand() * n);
    const r = Math.floor(rand() * 6);
    const t = (h * (r + 2) + 7 + Math.floor(rand() * 16)) % n;
    rows.add(`e${h}\tr${r}\te${t}\n`);
  }
  const all = [...rows];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.tsv'), all.slice(300).join(''));
  writeFileSync(join(dir, 'valid.tsv'), all.slice(0, 100).join(''));
  writeFileSync(join(dir, 'test.tsv'), all.slice(100, 300).join(''));
  return dir;
}

const root = tempDir('eval-live');
const data = syntheticDataset(join(root, 'synthetic'));
const TRAIN = ['--model', 'distmult', '--dim', '16', '--neg', '16', '--chunk', '16', '--batch', '512'];
const METRICS = ['mrr', 'mr', 'hits1', 'hits3', 'hits10'];

const entries = (store: string): string[] => {
  try {
    return readdirSync(store).filter((f) => f.endsWith('.kgck'));
  } catch {
    return [];
  }
};

/** Wait (polling) until `ready()` or the child exits; bounded by a generous timeout for a loaded machine. */
async function until(ready: () => boolean, child: { exitCode: number | null }, what: string): Promise<void> {
  const limit = Date.now() + 180_000;
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`the training run exited (${child.exitCode}) before ${what}`);
    if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function checkMetrics(j: Record<string, unknown>): void {
  for (const k of ['mrr', 'hits1', 'hits3', 'hits10']) {
    const v = j[k] as number;
    assert.ok(v >= 0 && v <= 1, `${k} ${v}`);
  }
  assert.ok((j['mr'] as number) >= 1);
}

test('eval reads the latest entry while the run trains, then its final entry', async () => {
  const store = join(root, 'store');
  const child = spawn(
    process.execPath,
    [bin, 'train', '--dataset', data, ...TRAIN, '--workers', '1', '--epochs', '100000', '--json'].concat([
      '--checkpoint-dir',
      store,
      '--checkpoint-every-s',
      '0.2',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  try {
    await until(() => entries(store).length > 0, child, 'the first checkpoint entry');

    // Two evaluations while the run goes on writing: one as JSON, one as the table.
    const [live, table] = await Promise.all([
      kgshardAsync('eval', '--checkpoint-dir', store, '--workers', '1', '--json'),
      kgshardAsync('eval', '--checkpoint-dir', store, '--workers', '1'),
    ]);
    assert.is(child.exitCode, null, 'the run was still training');
    assert.is(live.code, 0, live.err);
    const j = json(live);
    checkMetrics(j);
    assert.is(j['eval_triples'], 200);
    const c = j['checkpoint'] as Record<string, unknown>;
    assert.match(c['fingerprint'] as string, /^[0-9a-f]{64}$/);
    assert.is(c['kind'], 'checkpoint', 'a running run has written no final entry');
    const epochs = c['epochs'] as number;
    const partial = c['partial'] as { epoch: number; positives: number; of: number } | null;
    if (partial !== null) {
      assert.is(partial.epoch, epochs + 1, 'the epoch in progress follows the whole ones');
      assert.is(partial.of, 40_000);
      assert.ok(partial.positives >= 0 && partial.positives <= partial.of, `${partial.positives}`);
    } else {
      assert.ok(epochs >= 1, 'an entry written between epochs holds one at least');
    }
    assert.is(table.code, 0, table.err);
    assert.match(
      table.out,
      /^checkpoint (in epoch \d+, [\d,]+ of 40,000 positives trained|after epoch \d+), written \d{4}-[\d-]+T[\d:.]+Z$/m,
    );
  } finally {
    child.kill('SIGINT');
  }
  assert.is(await exited, 0, err);
  const t = JSON.parse(out.trim()) as Record<string, unknown>;
  assert.is(t['stopped_by'], 'interrupt');

  // The run has ended: its final entry holds the tables it evaluated.
  const after = kgshard('eval', '--checkpoint-dir', store, '--workers', '1', '--json');
  assert.is(after.code, 0, after.err);
  const f = json(after);
  const fc = f['checkpoint'] as Record<string, unknown>;
  assert.is(fc['kind'], 'final');
  assert.is(fc['epochs'], t['epochs']);
  assert.is(fc['partial'], null);
  assert.is(fc['fingerprint'], (t['checkpoint'] as Record<string, unknown>)['fingerprint']);
  for (const k of METRICS) assert.is(f[k], t[k], k);
});

test('an entry written inside an epoch reports the epoch and the positives trained', async () => {
  const store = join(root, 'mid-store');
  const copy = join(root, 'mid-copy');
  let copied = false;
  // At the end of the only epoch (before the final entry) the store's entry is the last one written inside it:
  // keep a copy, as a run killed then would have left it.
  await runTraining(
    loadTsvDir(data),
    {
      model: 'distmult',
      dim: 16,
      neg: 16,
      chunk: 16,
      batch: 512,
      epochs: 1,
      workers: 2,
      checkpointDir: store,
      checkpointEverySeconds: 0.005,
      datasetRef: { name: 'synthetic', path: data },
    },
    {
      onEpoch: () => {
        cpSync(store, copy, { recursive: true });
        copied = true;
      },
    },
  );
  assert.ok(copied);
  const r = kgshard('eval', '--checkpoint-dir', copy, '--workers', '1', '--json');
  assert.is(r.code, 0, r.err);
  const c = json(r)['checkpoint'] as Record<string, unknown>;
  const partial = c['partial'] as { epoch: number; positives: number; of: number } | null;
  assert.ok(partial !== null, 'written inside the epoch');
  assert.is(c['epochs'], 0);
  assert.is(partial.epoch, 1);
  assert.is(partial.of, 40_000);
  assert.ok(partial.positives >= 0 && partial.positives <= 40_000, `${partial.positives}`);
  const table = kgshard('eval', '--checkpoint-dir', copy, '--workers', '1');
  assert.is(table.code, 0, table.err);
  const k = partial.positives.toLocaleString('en-US');
  assert.match(table.out, new RegExp(`^checkpoint in epoch 1, ${k} of 40,000 positives trained, written `, 'm'));
});

test.run();
