/**
 * The shared Cursor as "last checkpointed step": several trainer threads
 * each write a checkpoint and then advance the cursor to its step, in random
 * order (and sometimes to a step older than the cursor already holds). A
 * sampler thread sees a non-decreasing sequence, every value it sees names a
 * checkpoint already complete on disk, and the final value is the highest
 * step checkpointed. (The generic racing test is test/shm/cursor-never-goes-backwards-across-threads.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cursor } from '../../src/shm/cursor.js';
import { SEED } from '../helpers/prop.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import {
  CONTROL_DONE,
  type SamplerInput,
  type SamplerReport,
  type TrainerInput,
  type TrainerReport,
} from '../fixtures/stats-checkpoint-shared.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-ckpt-cursor-'));

test('4 trainers checkpoint in random order; the sampler never sees the step go back', async () => {
  let s = SEED >>> 0 || 7;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
  const trainers = 4;
  const total = 400;
  // Deal steps 1..total to trainers at random; each trainer meets its steps mostly in order, with some swaps.
  const steps: number[][] = Array.from({ length: trainers }, () => []);
  for (let step = 1; step <= total; step++) steps[Math.floor(rand() * trainers)]!.push(step);
  for (const list of steps) {
    for (let i = 0; i + 1 < list.length; i++) {
      if (rand() < 0.2) [list[i], list[i + 1]] = [list[i + 1]!, list[i]!];
    }
  }
  const cursor = Cursor.create();
  const control = new SharedArrayBuffer(8);
  const sampler = startWorker('stats-checkpoint-sampler', {
    handle: cursor.handle,
    control,
    dir,
  } satisfies SamplerInput);
  const samplerDone = firstMessage<SamplerReport>(sampler);
  try {
    const reports = await Promise.all(
      steps.map(async (list, trainer) => {
        const input: TrainerInput = {
          handle: cursor.handle,
          control,
          dir,
          trainer,
          steps: list,
          seed: (SEED ^ (trainer * 0x9e3779b9)) >>> 0,
        };
        const w = startWorker('stats-checkpoint-trainer', input);
        try {
          return await firstMessage<TrainerReport>(w);
        } finally {
          await w.terminate();
        }
      }),
    );
    Atomics.store(new Int32Array(control), CONTROL_DONE, 1);
    const seen = await samplerDone;
    const failures = [...reports.flatMap((r) => r.failures), ...seen.failures];
    assert.equal(failures, [], `${failures.join('\n')}\n(replay with KGSHARD_SEED=${SEED})`);
    assert.is(cursor.get(), total);
    assert.is(seen.last, total);
    assert.ok(seen.distinct >= 1);
    const advanced = reports.reduce((a, r) => a + r.advanced, 0);
    assert.ok(advanced >= 1 && advanced <= total, `advanced ${advanced}`);
  } finally {
    await sampler.terminate();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
