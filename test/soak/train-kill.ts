/**
 * Kill campaign for training: `kgshard train --checkpoint-dir D --resume`
 * on a small generated graph (a checkpoint offered every epoch) is started
 * again and again, and each time its whole process group is SIGKILLed a
 * random 0..W ms after the spawn (startup, dataset load, resume, mid-epoch,
 * mid-write of a checkpoint, final evaluation: wherever it is). After
 * `kills` kills one last `--resume` runs to the end and must report every
 * planned epoch with metrics (`--json`).
 *
 * The window W starts at `maxDelayMs` and adapts to the machine's speed
 * (which on a shared machine varies tenfold): after a run that trained more
 * than its share of the epochs left (epochs left / kills left) W shrinks,
 * after one that trained less it grows (within 250 ms .. 2 x maxDelayMs), so
 * the kills spread over the whole run instead of the first few training it
 * all.
 *
 * Checked after every kill, with a fresh store opened on D:
 * - no store file is reported damaged, and every entry decodes to a
 *   training state holding as many epochs as its iteration says, with
 *   finite losses and finite tables (so whatever a resume loads is whole);
 * - the epoch the next resume starts from (the latest entry's iteration)
 *   never goes backwards;
 * - the relation statistics file, when present, is whole and counts whole
 *   epochs only (they are merged and persisted at epoch ends).
 * A run that finishes before its kill must exit 0 with the planned epochs;
 * every run that finishes reports in `checkpoint.resumed_from` the epoch the
 * store held when it started.
 *
 * Kill moments come from mulberry32 seeded by `seed` (default KGSHARD_SEED),
 * printed with every failure. Options: kills (default 30), epochs (default
 * 1000), entities (default 3000), maxDelayMs (default 2500), seed, duration
 * (seconds, a bound on the whole campaign; default 900).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/prng.js';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { readDurable } from '../../src/store/durable.js';
import { RelationStats, STATS_KIND } from '../../src/store/running-stats.js';
import { decodeTrainerSnapshot } from '../../src/store/train-state.js';
import { SEED } from '../helpers/prop.js';
import type { SoakReport, SoakScenario } from './report.js';
import { opt } from '../stress/report.js';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * `n` entities on a ring with three relations (i → i+1, i → i+7, i ↔ i^1);
 * one triple in 40 goes to valid or test. Returns the train triple count.
 */
function writeGraph(dir: string, n: number): number {
  mkdirSync(dir, { recursive: true });
  const splits: Record<'train' | 'valid' | 'test', string[]> = { train: [], valid: [], test: [] };
  const e = (i: number): string => `e${((i % n) + n) % n}`;
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (const [r, t] of [
      ['next', i + 1],
      ['skip', i + 7],
      ['pair', i ^ 1],
    ] as const) {
      const line = `${e(i)}\t${r}\t${e(t)}\n`;
      // Valid/test only from the middle of the ring (every name also occurs in train).
      if (k++ % 40 === 39 && i > 8 && i < n - 8)
        (splits.valid.length <= splits.test.length ? splits.valid : splits.test).push(line);
      else splits.train.push(line);
    }
  }
  for (const s of ['train', 'valid', 'test'] as const) writeFileSync(join(dir, `${s}.tsv`), splits[s].join(''));
  return splits.train.length;
}

interface Outcome {
  /** Killed by us (SIGKILL), or how it ended by itself. */
  readonly killed: boolean;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

/** Spawn one run in its own process group; SIGKILL the group after `delayMs` (never when null). */
function runOnce(args: readonly string[], delayMs: number | null, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
        killed = true;
      } catch {
        // Already gone.
      }
    };
    const timer = delayMs === null ? null : setTimeout(killGroup, delayMs);
    const guard = setTimeout(() => {
      killGroup();
      err += `\n(no exit within ${timeoutMs} ms: killed)`;
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(guard);
      resolve({ killed: killed && signal === 'SIGKILL', code, signal, out, err });
    });
  });
}

interface StoreState {
  /** The epoch a resume starts from: the latest entry's iteration (0: nothing to resume). */
  readonly latest: number;
  readonly entries: number;
  readonly problems: string[];
}

/** Open the store afresh and check every entry and the statistics file (see the module comment). */
function inspect(dir: string, trainTriples: number): StoreState {
  const problems: string[] = [];
  const store = CheckpointStore.open(dir, { onWarning: (m) => problems.push(`store warning: ${m}`) });
  let latest = 0;
  const entries = store.entries();
  for (const e of entries) {
    const where = `${e.runId} (iteration ${e.iteration})`;
    let epochs: number;
    try {
      const s = decodeTrainerSnapshot(e.payload, where);
      epochs = s.epochs.length;
      if (e.iteration !== epochs) problems.push(`${where}: holds ${epochs} epochs`);
      for (const [name, t] of [
        ['entities', s.entities],
        ['relations', s.relations],
        ['optimizer', s.optimizer],
      ] as const) {
        const bad = t.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) problems.push(`${where}: ${name}[${bad}] is ${t[bad]}`);
      }
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      continue;
    }
    latest = Math.max(latest, epochs);
  }
  const stats = readDurable(join(dir, 'relation-stats.kgs'), STATS_KIND);
  if (stats.ok) {
    const total = RelationStats.deserialize(stats.payload).total();
    if (total % trainTriples !== 0)
      problems.push(`relation statistics count ${total} samples: not whole epochs of ${trainTriples}`);
  } else if (stats.problem !== 'missing') problems.push(`relation statistics: ${stats.problem}: ${stats.message}`);
  return { latest, entries: entries.length, problems };
}

export const soak: SoakScenario = async (opts): Promise<SoakReport> => {
  const kills = opt(opts, 'kills', 30);
  const epochs = opt(opts, 'epochs', 1000);
  const entities = opt(opts, 'entities', 3000);
  const maxDelayMs = opt(opts, 'maxDelayMs', 2500);
  const seed = opt(opts, 'seed', SEED) >>> 0;
  const deadline = Date.now() + opt(opts, 'duration', 900) * 1000;
  const rand = mulberry32(seed);
  let window = maxDelayMs;
  const windows: number[] = [];
  const root = mkdtempSync(join(tmpdir(), 'kgshard-train-kill-'));
  const failures: string[] = [];
  const fail = (m: string): void => {
    failures.push(`${m} (seed ${seed}; replay with KGSHARD_SEED=${seed})`);
  };
  /** The epoch each run started from (the store's latest entry when it was spawned). */
  const starts: number[] = [];
  let done = 0;
  let finishedBeforeKill = 0;
  let nothingLeft = 0;
  let last = 0;
  let entriesSeen = 0;
  let midWrite = 0;
  let tempsSeen = 0;
  let final: Record<string, unknown> | null = null;
  try {
    const data = join(root, 'graph');
    const trainTriples = writeGraph(data, entities);
    const store = join(root, 'store');
    const args = [
      'train',
      '--dataset',
      data,
      '--model',
      'distmult',
      '--dim',
      '16',
      '--batch',
      '256',
      '--neg',
      '8',
      '--chunk',
      '8',
      '--workers',
      '2',
      '--seed',
      '7',
      '--epochs',
      String(epochs),
      '--checkpoint-dir',
      store,
      '--resume',
      '--json',
    ];
    /** Check a run that ended by itself: exit 0, one JSON object, every epoch, resumed from `from`. */
    const finished = (r: Outcome, from: number, what: string): Record<string, unknown> | null => {
      if (r.code !== 0) {
        fail(
          `${what}: exited with code ${r.code} (signal ${r.signal}): ${r.err.trim().split('\n').slice(-2).join(' | ')}`,
        );
        return null;
      }
      let j: Record<string, unknown>;
      try {
        const lines = r.out.trim().split('\n');
        if (lines.length !== 1) throw new Error(`${lines.length} lines on stdout`);
        j = JSON.parse(lines[0]!) as Record<string, unknown>;
      } catch (e) {
        fail(`${what}: --json output is not one object (${(e as Error).message})`);
        return null;
      }
      if (j['epochs'] !== epochs) fail(`${what}: reports ${String(j['epochs'])} epochs, planned ${epochs}`);
      const resumedFrom = (j['checkpoint'] as Record<string, unknown> | undefined)?.['resumed_from'] ?? null;
      if (resumedFrom !== (from === 0 ? null : from))
        fail(`${what}: resumed from ${JSON.stringify(resumedFrom)}, the store held epoch ${from}`);
      if (!(typeof j['mrr'] === 'number' && j['mrr'] > 0 && j['mrr'] <= 1)) fail(`${what}: mrr ${String(j['mrr'])}`);
      if (from === epochs && !/^nothing left to train: checkpoint holds epoch \d+ of \d+$/m.test(r.err))
        fail(`${what}: no "nothing left to train" line on stderr`);
      return j;
    };

    // Kills of a run that still had epochs to train (the others land in the
    // evaluation of a finished run, which a resume must survive too).
    let killedWithEpochsLeft = 0;
    while (done < kills && Date.now() < deadline && failures.length < 5) {
      const from = last;
      starts.push(from);
      const delay = Math.floor(rand() * (window + 1));
      const r = await runOnce(args, delay, 120_000);
      if (r.killed) {
        done++;
        if (from < epochs) killedWithEpochsLeft++;
      } else {
        finishedBeforeKill++;
        if (from === epochs) nothingLeft++;
        finished(r, from, `run ${starts.length} (not killed, ${delay} ms)`);
      }
      const s = inspect(store, trainTriples); // opens (creates) the store directory
      // A kill that leaves a new temporary file behind landed in the middle of a durable write.
      const temps = readdirSync(store).filter((n) => n.includes('.tmp-')).length;
      if (r.killed && temps > tempsSeen) midWrite++;
      tempsSeen = temps;
      for (const p of s.problems) fail(`after run ${starts.length} (kill ${done}, ${delay} ms): ${p}`);
      if (s.latest < last)
        fail(`after run ${starts.length} (kill ${done}, ${delay} ms): latest epoch ${s.latest} went back from ${last}`);
      const share = (epochs - last) / Math.max(1, kills - done + 1);
      const progress = s.latest - from;
      window = Math.min(
        2 * maxDelayMs,
        Math.max(250, window * Math.min(1.3, Math.max(0.7, share / Math.max(0.5, progress)))),
      );
      windows.push(Math.round(window));
      last = Math.max(last, s.latest);
      entriesSeen = s.entries;
    }
    if (done < kills) fail(`only ${done} of ${kills} kills before the deadline or the failure limit`);
    if (failures.length === 0) {
      const from = last;
      starts.push(from);
      const r = await runOnce(args, null, 600_000);
      if (from === epochs) nothingLeft++;
      final = finished(r, from, 'the last run');
      const s = inspect(store, trainTriples);
      for (const p of s.problems) fail(`after the last run: ${p}`);
      if (s.latest !== epochs) fail(`after the last run the latest entry holds epoch ${s.latest}, not ${epochs}`);
      last = s.latest;
      entriesSeen = s.entries;
    }
    return {
      name: `train-kill (${done} kills, ${epochs} epochs, ${trainTriples} train triples, seed ${seed})`,
      ok: failures.length === 0,
      details: {
        kills: done,
        killedWithEpochsLeft,
        runs: starts.length,
        finishedBeforeKill,
        nothingLeftToTrain: nothingLeft,
        startEpochs: starts,
        lastEpoch: last,
        entries: entriesSeen,
        killedMidWrite: midWrite,
        windowMs: { min: Math.min(maxDelayMs, ...windows), max: Math.max(maxDelayMs, ...windows) },
        mrr: final?.['mrr'] ?? null,
        seed,
      },
      failures,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};
