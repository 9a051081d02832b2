/**
 * `--series FILE`: the run's figures over time as JSON lines, one object per
 * sample (about every 250 ms), in time order, with events/s per producer and
 * per shard, both latency percentiles in a paced run, ring fill, the shard
 * count and the scale events since the previous line. The summary on stdout
 * is unchanged; a bad path fails before the run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, kgshard } from './kgshard-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-series-'));

test('every line parses and holds every field; time only moves forward', () => {
  const file = join(dir, 'run.jsonl');
  const r = kgshard(
    'loadtest',
    ...['--producers', '2', '--shards', '2', '--duration', '1200ms', '--rate', '200k', '--batch', '64'],
    ...['--series', file, '--json'],
  );
  assert.is(r.code, 0, r.err);
  const summary = json(r);
  assert.is(summary['lost'], 0);
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.is(lines.pop(), '', 'the file ends with a newline');
  assert.ok(lines.length >= 3 && lines.length <= 7, `lines: ${lines.length}`);
  let lastT = -Infinity;
  const num = (v: unknown, what: string): number => {
    assert.type(v, 'number', what);
    assert.ok(Number.isFinite(v) && (v as number) >= 0, what);
    return v as number;
  };
  for (const line of lines) {
    const x = JSON.parse(line) as Record<string, unknown>;
    const t = num(x['t_ms'], 't_ms');
    assert.ok(t > lastT, `t_ms ${t} after ${lastT}`);
    lastT = t;
    num(x['events_per_s'], 'events_per_s');
    const perProducer = x['producer_events_per_s'] as Record<string, unknown>;
    assert.equal(Object.keys(perProducer).sort(), ['0', '1']);
    for (const v of Object.values(perProducer)) num(v, 'producer_events_per_s');
    const perShard = x['shard_events_per_s'] as Record<string, unknown>;
    assert.equal(Object.keys(perShard).sort(), ['0', '1']);
    for (const k of ['push_latency_ns', 'push_latency_corrected_ns']) {
      const l = x[k] as Record<string, unknown>;
      for (const p of ['p50', 'p90', 'p99', 'p999']) num(l[p], `${k}.${p}`);
    }
    num(x['scale_events'], 'scale_events');
    assert.is(x['active_shards'], 2);
    const shards = x['shards'] as { id: number; state: string; fill: number }[];
    for (const s of shards) assert.ok(s.fill >= 0 && s.fill <= 1, 'ring fill in [0, 1]');
    num(x['active_producers'], 'active_producers');
  }
  const flowing = lines.map((l) => JSON.parse(l) as { producer_events_per_s: Record<string, number> });
  assert.ok(
    flowing.some((x) => x.producer_events_per_s['0']! > 0 && x.producer_events_per_s['1']! > 0),
    'both producers show',
  );
});

test('a path in a missing directory fails before the run, naming --series', () => {
  const r = kgshard('loadtest', '--duration', '5s', '--series', join(dir, 'no', 'such', 'run.jsonl'));
  assert.is(r.code, 2);
  assert.match(r.err, /--series/);
  assert.is(r.err.trim().split('\n').length, 1);
});

test.run();
