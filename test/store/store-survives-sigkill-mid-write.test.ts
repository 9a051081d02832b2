/**
 * Durability under SIGKILL: a child process writing 256 KiB checkpoints in
 * a loop is killed at a random 0..30 ms after it starts, 60 times; after
 * every kill a fresh store loads an entry whose payload verifies and whose
 * iteration never goes back, no file is reported damaged, and prune then
 * removes every temp file the killed writers left (test/stress/store-kill.ts
 * with small options).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SEED } from '../helpers/prop.js';
import { scenario } from '../stress/store-kill.js';

test('60 SIGKILLs at random points of a checkpoint write leave a good entry', async () => {
  const t0 = Date.now();
  // `duration` is only a safety bound, far above what 60 kills take on a
  // loaded machine: the outcome must not depend on how fast they run.
  const r = await scenario({ kills: 60, kb: 256, maxDelayMs: 30, seed: SEED >>> 0, duration: 300 });
  console.log(`  ${r.name}: ${JSON.stringify(r.details)} in ${Date.now() - t0} ms`);
  assert.ok(r.ok, r.failures.join('\n'));
  assert.is(r.details['kills'], 60);
});

test.run();
