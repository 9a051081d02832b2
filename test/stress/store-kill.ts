/**
 * SIGKILL a checkpoint writer at random moments: one child process writes
 * checkpoints of `kb` KiB in a loop into one slot; after it says it has
 * started, the parent waits a random 0..`maxDelayMs` ms and kills it
 * (SIGKILL), then opens the store afresh and checks that it still loads an
 * entry whose payload verifies (its own iteration and pattern), that the
 * loaded iteration never goes back, and that no damaged file was reported.
 * A kill that leaves a new temp file behind landed mid-write (counted as
 * killedMidWrite). The next child continues from the loaded iteration. At the end prune must
 * remove every temporary file the killed writers left.
 * Options: kills (default 500), kb (default 256), maxDelayMs (default 30),
 * seed, duration (seconds, a bound on the whole run; default 300).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { KILL_FINGERPRINT, KILL_RUN, patterned, verifyPatterned } from '../fixtures/store-shared.js';
import { opt, type StressReport, type StressScenario } from './report.js';
import { mulberry32 } from '../../src/prng.js';

const WRITER = fileURLToPath(new URL('../fixtures/store-kill-writer.js', import.meta.url));

function killOne(dir: string, first: number, bytes: number, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(WRITER, [dir, String(first), String(bytes)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
    });
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('writer did not start within 10 s'));
    }, 10_000);
    child.once('message', () => {
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited on its own (code ${code}, signal ${signal})`));
    });
  });
}

export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const kills = opt(opts, 'kills', 500);
  const bytes = opt(opts, 'kb', 256) * 1024;
  const maxDelayMs = opt(opts, 'maxDelayMs', 30);
  const seed = opt(opts, 'seed', (Date.now() & 0x7fffffff) >>> 0);
  const deadline = Date.now() + opt(opts, 'duration', 300) * 1000;
  const rand = mulberry32(seed);
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-store-kill-'));
  const failures: string[] = [];
  const warnings: string[] = [];
  let done = 0;
  let midWrite = 0;
  let tempsSeen = 0;
  let lastIteration = 0;
  let writtenByChildren = 0;
  try {
    const seedStore = CheckpointStore.open(dir, { onWarning: (m) => warnings.push(m) });
    seedStore.save(KILL_FINGERPRINT, KILL_RUN, patterned(0, bytes), { objective: 1e9, iteration: 0 });
    while (done < kills && Date.now() < deadline && failures.length < 5) {
      await killOne(dir, lastIteration + 1, bytes, Math.floor(rand() * (maxDelayMs + 1)));
      done++;
      const temps = readdirSync(dir).filter((n) => n.includes('.tmp-')).length;
      if (temps > tempsSeen) midWrite++;
      tempsSeen = temps;
      const store = CheckpointStore.open(dir, { onWarning: (m) => warnings.push(m) });
      const e = store.lookup(KILL_FINGERPRINT);
      if (e === null) {
        failures.push(`kill ${done}: no entry loadable`);
        continue;
      }
      const bad = verifyPatterned(e.payload, e.iteration);
      if (bad !== null) failures.push(`kill ${done}: loaded entry does not verify: ${bad}`);
      const it = e.iteration ?? -1;
      if (it < lastIteration) failures.push(`kill ${done}: loaded iteration ${it} is older than ${lastIteration}`);
      writtenByChildren += Math.max(0, it - lastIteration);
      lastIteration = Math.max(lastIteration, it);
    }
    if (done < kills) failures.push(`only ${done} of ${kills} kills before the deadline`);
    const store = CheckpointStore.open(dir, { onWarning: (m) => warnings.push(m) });
    const pruned = store.prune();
    const left = readdirSync(dir).filter((n) => n.includes('.tmp-'));
    if (left.length > 0) failures.push(`prune left ${left.length} temporary files: ${left.slice(0, 3).join(', ')}`);
    if (warnings.length > 0) failures.push(`damaged files reported: ${warnings.slice(0, 3).join('; ')}`);
    return {
      name: `store-kill (${done} kills, ${bytes / 1024} KiB checkpoints, 0..${maxDelayMs} ms, seed ${seed})`,
      ok: failures.length === 0,
      details: {
        kills: done,
        killedMidWrite: midWrite,
        tempsPruned: pruned.tempsRemoved,
        lastIteration,
        writtenByChildren,
        seed,
      },
      failures,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
