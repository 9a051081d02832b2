import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scenario } from '../stress/ring.js';
import { SEED } from '../helpers/prop.js';

test('10 million 8-byte events, producer and consumer threads, random batches, many laps', async () => {
  const report = await scenario({ events: 10_000_000, capacity: 1024, slotWords: 2, maxBatch: 300, seed: SEED });
  assert.ok(report.ok, `${report.name}: ${report.failures.join('; ')}`);
  assert.ok((report.details['laps'] as number) > 9000);
});

test('tiny ring with 3-word slots: every wrap position and the blocking paths', async () => {
  const report = await scenario({ events: 1_000_000, capacity: 8, slotWords: 3, maxBatch: 11, seed: SEED + 1 });
  assert.ok(report.ok, `${report.name}: ${report.failures.join('; ')}`);
  assert.ok((report.details['fullReturns'] as number) > 0, 'the producer should have found the ring full at times');
});

test.run();
