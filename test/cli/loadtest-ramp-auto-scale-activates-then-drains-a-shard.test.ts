import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, kgshard } from './kgshard-cli.js';

test('loadtest --profile ramp --auto-scale: the mapper scales up and back down in one run, losing nothing', () => {
  const r = kgshard(
    'loadtest',
    '--profile',
    'ramp',
    '--auto-scale',
    '--producers',
    '3',
    '--shards',
    '1',
    '--min-shards',
    '1',
    '--max-shards',
    '3',
    '--rate',
    '1M',
    '--cooldown',
    '200ms',
    '--tick',
    '50ms',
    '--duration',
    '4s',
    '--json',
  );
  assert.is(r.code, 0, r.err);
  const s = json(r);
  const events = s['scale_events'] as { t_ms: number; kind: string; shard: number }[];
  const what = JSON.stringify(events);
  const up = events.findIndex((e) => e.kind === 'activate');
  assert.ok(up >= 0, `an activate event: ${what}`);
  const down = events.findIndex((e, i) => i > up && e.kind === 'drain');
  assert.ok(down > up, `a drain after the first activate: ${what}`);
  assert.ok(events[down]!.t_ms >= events[up]!.t_ms, what);
  // Scaling stayed within the bounds and ended below its peak.
  const peak = s['shards_max'] as number;
  const final = s['shards_final'] as number[];
  assert.ok(peak >= 2 && peak <= 3, `shards_max ${peak}`);
  assert.ok(final.length >= 1 && final.length < peak, `shards_final ${JSON.stringify(final)} below the peak ${peak}`);
  // The rate flag reached the library as 1e6 events/s per producer.
  assert.is(s['rate'], 1_000_000);
  // Nothing lost, duplicated or reordered across the moves between shards.
  assert.ok((s['produced'] as number) > 0);
  assert.is(s['consumed'], s['produced']);
  assert.is(s['lost'], 0);
  assert.is(s['duplicated'], 0);
  assert.is(s['reordered'], 0);
});

test.run();
