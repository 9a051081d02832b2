import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scenario } from '../stress/ring.js';
import { withSeed } from '../helpers/prop.js';

test('10 million 8-byte events, producer and consumer threads, random batches, many laps', () =>
  withSeed('10 million 8-byte events, producer and consumer threads, random batches, many laps', async (seed) => {
    const report = await scenario({ events: 10_000_000, capacity: 1024, slotWords: 2, maxBatch: 300, seed });
    assert.ok(report.ok, `${report.name}: ${report.failures.join('; ')}`);
    assert.ok((report.details['laps'] as number) > 9000);
  }));

test('tiny ring with 3-word slots: every wrap position and the blocking paths', () =>
  withSeed('tiny ring with 3-word slots: every wrap position and the blocking paths', async (seed) => {
    const report = await scenario({ events: 1_000_000, capacity: 8, slotWords: 3, maxBatch: 11, seed: seed + 1 });
    assert.ok(report.ok, `${report.name}: ${report.failures.join('; ')}`);
    assert.ok((report.details['fullReturns'] as number) > 0, 'the producer should have found the ring full at times');
  }));

test.run();
