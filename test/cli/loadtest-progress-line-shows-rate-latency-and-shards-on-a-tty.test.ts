import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoadTestProgress } from '../../src/cli/loadtest.js';
import { StatusLine } from '../../src/cli/progress.js';
import type { LoadProgress } from '../../src/router/loadtest.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const stream = { isTTY, columns: 300, write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => buf };
}

const report: LoadProgress = {
  elapsedMs: 1234,
  produced: 1_000_000,
  consumed: 990_000,
  eventsPerS: 31_200_000,
  pushLatencyNs: { p50: 851, p99: 3015, p999: 436_991 },
  shards: [
    { id: 0, state: 'active', fill: 0.45 },
    { id: 1, state: 'active', fill: 0.12 },
    { id: 3, state: 'draining', fill: 0.5 },
  ],
  activeProducers: 2,
  waitingProducers: 1,
};

test(
  'on a TTY: one line rewritten in place with elapsed/duration, events/s, push p50/p99/p999, ' +
    'shard fills and producers; scale events on lines of their own',
  () => {
    const f = fakeStream(true);
    const p = new LoadTestProgress(new StatusLine(f.stream), 5000);
    p.start();
    p.progress(report);
    const last = f.text().split('\r').pop()!;
    assert.is(
      last,
      '1.2s/5s 31.2M ev/s push p50 851ns p99 3.0us p999 437us ' +
        'shards 0:45% 1:12% 3:draining producers 2 active 1 waiting\x1b[K',
    );
    p.scaleEvent({ tMs: 1234, kind: 'activate', shard: 3, reason: 'waiting-producers' });
    assert.ok(f.text().includes('\r\x1b[K+ 1.234s activate shard 3 (waiting-producers)\n'), JSON.stringify(f.text()));
    // The status line comes back under the event line.
    assert.ok(f.text().endsWith('producers 2 active 1 waiting\x1b[K'));
    p.stop();
    assert.ok(f.text().endsWith('\r\x1b[K'));
  },
);

test('not a TTY: nothing is written', () => {
  const f = fakeStream(false);
  const p = new LoadTestProgress(new StatusLine(f.stream), 5000);
  p.start();
  p.progress(report);
  p.scaleEvent({ tMs: 10, kind: 'drain', shard: 1, reason: 'metrics' });
  p.stop();
  assert.is(f.text(), '');
});

test.run();
