import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Seqlock } from '../../src/shm/seqlock.js';
import { runWorker } from '../helpers/threads.js';

test('three writer threads incrementing under the lock lose no increment', async () => {
  const region = Seqlock.create({ rows: 1, cols: 4 });
  const control = new SharedArrayBuffer(64);
  const perWriter = 20_000;
  const results = await Promise.all(
    [0, 1, 2].map(() =>
      runWorker<{ failures: number }>('seqlock-writer', {
        handle: region.handle,
        control,
        mode: 'increment',
        count: perWriter,
      }),
    ),
  );
  assert.equal(
    results.map((r) => r.failures),
    [0, 0, 0],
  );
  assert.is(region.data[0], 3 * perWriter);
  assert.is(region.writes(), 3 * perWriter);
  assert.is(region.sequence() % 2, 0);
  assert.is(region.owner(), -1);
});

test.run();
