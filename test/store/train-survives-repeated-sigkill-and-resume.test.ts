/**
 * `kgshard train --checkpoint-dir D --resume`, its process group SIGKILLed
 * 5 times at random moments (seeded by KGSHARD_SEED) and resumed each
 * time, then run to the end: it reports every planned epoch with metrics,
 * no store file is ever damaged or undecodable, the epoch each resume
 * starts from never goes back (test/soak/train-kill.ts with small options;
 * `npm run soak -- train-kill` runs 30 kills).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SEED } from '../helpers/prop.js';
import { soak } from '../soak/train-kill.js';

test('5 SIGKILLs of a training run, each resumed, then it completes with metrics', async () => {
  const r = await soak({ kills: 5, epochs: 40, entities: 1000, maxDelayMs: 1500, seed: SEED >>> 0, duration: 120 });
  console.log(`  ${r.name}: ${JSON.stringify(r.details)}`);
  assert.ok(r.ok, `${r.failures.join('\n')}\nreplay with KGSHARD_SEED=${SEED}`);
  assert.is(r.details['kills'], 5);
  assert.is(r.details['lastEpoch'], 40);
  const starts = r.details['startEpochs'] as number[];
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! >= starts[i - 1]!, `start epochs ${starts.join(', ')}`);
  assert.type(r.details['mrr'], 'number');
});

test.run();
