/**
 * `kgshard loadtest --compare A.json B.json`: each figure of two saved
 * `--json` results with the ratio B/A; lower throughput, higher latency
 * (either kind) and any loss where A had none are marked as regressions
 * (exit 1); none, exit 0. Missing or invalid files fail in one line (exit 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareLoadTests } from '../../src/router/loadtest-compare.js';
import { kgshard } from './kgshard-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-compare-'));

function result(over: Record<string, unknown> = {}): Record<string, unknown> {
  const lat = { p50: 500, p90: 900, p99: 2000, p999: 9000, max: 50_000, samples: 1000 };
  return {
    events_per_s: 1_000_000,
    produced: 5_000_000,
    consumed: 5_000_000,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    push_latency_ns: lat,
    push_latency_corrected_ns: { ...lat, p99: 100_000 },
    rate_requested: 1_000_000,
    rate_achieved: 1_000_000,
    behind_schedule_events: 0,
    scale_events: [],
    breaker_events: [],
    shards_max: 2,
    ...over,
  };
}

function save(name: string, r: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof r === 'string' ? r : JSON.stringify(r));
  return f;
}

test('the same result twice: every ratio 1, no regression', () => {
  const rows = compareLoadTests(result(), result());
  assert.ok(rows.every((r) => r.regression === false));
  assert.ok(rows.filter((r) => r.ratio !== null).every((r) => r.ratio === 1));
  const a = save('a.json', result());
  const r = kgshard('loadtest', '--compare', a, a);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /no regression/);
});

test('slower, later and lossy: each marked, with its ratio', () => {
  const b = result({
    events_per_s: 800_000,
    push_latency_corrected_ns: { p50: 500, p90: 900, p99: 300_000, p999: 9000, max: 50_000, samples: 1000 },
    lost: 3,
    scale_events: [{}, {}],
  });
  const rows = new Map(compareLoadTests(result(), b).map((r) => [r.key, r]));
  assert.is(rows.get('events_per_s')!.ratio, 0.8);
  assert.ok(rows.get('events_per_s')!.regression);
  assert.is(rows.get('push_latency_corrected_ns.p99')!.ratio, 3);
  assert.ok(rows.get('push_latency_corrected_ns.p99')!.regression);
  assert.not.ok(rows.get('push_latency_ns.p99')!.regression);
  assert.ok(rows.get('lost')!.regression);
  assert.is(rows.get('scale_events')!.b, 2);
  assert.not.ok(rows.get('scale_events')!.regression, 'scale events are information');
  const r = kgshard('loadtest', '--compare', save('a.json', result()), save('b.json', b));
  assert.is(r.code, 1, r.err);
  assert.match(r.out, /events_per_s\s+1,000,000\s+800,000\s+0\.800\s+REGRESSION/);
  assert.match(r.out, /push_latency_corrected_ns\.p99\s+100,000\s+300,000\s+3\.000\s+REGRESSION/);
  assert.match(r.out, /3 regressions/);
});

test('missing, unparsable and foreign files: one line each, exit 2', () => {
  const a = save('a.json', result());
  const cases: [string[], RegExp][] = [
    [[a, join(dir, 'nope.json')], /nope\.json: no such file$/],
    [[a, save('broken.json', '{')], /broken\.json: not JSON/],
    [[a, save('other.json', { x: 1 })], /other\.json: not a load-test result: events_per_s must be a number/],
    [[a], /--compare needs two files: --compare A\.json B\.json$/],
  ];
  for (const [files, message] of cases) {
    const r = kgshard('loadtest', '--compare', ...files);
    assert.is(r.code, 2, r.err);
    assert.is(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err.trim(), message);
  }
});

test.run();
