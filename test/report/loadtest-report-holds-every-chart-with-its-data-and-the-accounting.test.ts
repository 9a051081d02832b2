/**
 * The load-test report from a summary with a timeline: events/s, push
 * latency (p50, p99, p999), shards over time with the scale events and
 * breaker transitions marked, ring fill per shard and per producer, each
 * drawing its data; the final accounting and the configuration in tables;
 * long timelines merged into at most MAX_POINTS samples; nothing outside
 * the page.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LoadSample, LoadTestSummary } from '../../src/router/loadtest.js';
import { MAX_POINTS, downsample, loadTestCharts, loadTestReportHtml } from '../../src/report/loadtest.js';
import { drawn, externalRefs, figures, vertices } from '../helpers/report-html.js';
import { LOADTEST_OPTIONS } from '../helpers/report-runs.js';

function sample(k: number): LoadSample {
  const shards = k < 4 ? [0] : k < 8 ? [0, 1] : [1];
  return {
    t_ms: 250 * (k + 1),
    events_per_s: 1_000_000 + 10_000 * k,
    push_latency_ns: { p50: 800 + k, p99: 9000 + k, p999: k === 0 ? 0 : 400_000 + k },
    active_shards: shards.length,
    shards: shards.map((id) => ({
      id,
      state: id === 0 && k === 6 ? 'open' : 'active',
      fill: id === 0 && k >= 5 ? 1 : 0.1,
    })),
    active_producers: 2,
    waiting_producers: 0,
  };
}

const timeline = Array.from({ length: 12 }, (_, k) => sample(k));

const unpaced = { rate_requested: null, rate_achieved: null, behind_schedule_events: null };

const summary: LoadTestSummary = {
  events_per_s: 1_050_000,
  produced: 3_150_000,
  consumed: 3_150_000,
  lost: 0,
  duplicated: 0,
  reordered: 0,
  push_latency_ns: { p50: 805, p90: 5000, p99: 9006, p999: 400_006, max: 2_000_000, samples: 12_345 },
  push_latency_corrected_ns: null,
  rate_requested: null,
  rate_achieved: null,
  behind_schedule_events: null,
  push_calls: 50_000,
  full_push_calls: 0,
  unbound_push_calls: 0,
  generator_bound: false,
  warnings: [],
  scale_events: [
    { t_ms: 1000, kind: 'provision', shard: 1, reason: 'waiting-producers' },
    { t_ms: 1001, kind: 'activate', shard: 1, reason: 'waiting-producers' },
    { t_ms: 2100, kind: 'drain', shard: 0, reason: 'metrics' },
    { t_ms: 2300, kind: 'stop', shard: 0, reason: 'drain-finished' },
    { t_ms: 2301, kind: 'remove', shard: 0, reason: 'drain-finished' },
  ],
  breaker_events: [
    { t_ms: 1600, shard: 0, from: 'closed', to: 'open' },
    { t_ms: 1800, shard: 0, from: 'open', to: 'half-open' },
    { t_ms: 1900, shard: 0, from: 'half-open', to: 'closed' },
  ],
  stall_consumer: { shard: 0, at_ms: 1200, t_ms: 1250 },
  shards_final: [1],
  shards_max: 2,
  duration_ms: 3000,
  producers: 2,
  threads: 1,
  batch: 64,
  rate: 'max',
  profile: 'flat',
  profile_points: [
    { t_ms: 0, rate: 'max', producers: 2 },
    { t_ms: 3000, rate: 'max', producers: 2 },
  ],
  auto_scale: true,
  per_producer: {
    0: { produced: 1_500_000, consumed: 1_500_000, lost: 0, duplicated: 0, reordered: 0, ...unpaced },
    1: { produced: 1_650_000, consumed: 1_650_000, lost: 0, duplicated: 0, reordered: 0, ...unpaced },
  },
  timeline,
};

test('every chart is in the page and draws its data', async () => {
  const html = await loadTestReportHtml(summary, { options: LOADTEST_OPTIONS, command: 'kgshard loadtest' });
  const figs = figures(html);
  assert.equal(
    figs.map((f) => f.id),
    ['events', 'latency', 'shards', 'ring-fill', 'accounting'],
  );
  const f = new Map(figs.map((x) => [x.id, x]));
  // events/s: one vertex per sample on the area's top line (and its bottom line).
  assert.is(f.get('events')!.rows, 12);
  assert.is(vertices(f.get('events')!.svg, 'area mark'), 24);
  // Latency: three percentiles per sample, less the first sample's p999 (0: none timed, off a log scale).
  assert.is(f.get('latency')!.rows, 3 * 12 - 1);
  assert.is(drawn(f.get('latency')!.svg).get('point'), 3 * 12 - 1);
  assert.is(drawn(f.get('latency')!.svg).get('line mark'), 3);
  // Shards: the step line through every sample, a rule per activate/drain and per breaker transition.
  const shards = f.get('shards')!;
  assert.is(shards.rows, 12 + 2 + 3);
  assert.is(vertices(shards.svg, 'line mark'), 12 + 11, 'a step line has two vertices per step');
  assert.is(drawn(shards.svg).get('rule mark'), 5);
  for (const label of ['activate', 'drain', 'breaker open', 'breaker half-open', 'breaker closed'])
    assert.ok(shards.svg.includes(`>${label}</text>`), `legend: ${label}`);
  // Ring fill: a cell per shard per sample.
  const cells = timeline.reduce((n, s) => n + s.shards.length, 0);
  assert.is(f.get('ring-fill')!.rows, cells);
  assert.is(drawn(f.get('ring-fill')!.svg).get('rect mark'), cells);
  // Per producer: produced and consumed bars.
  assert.is(drawn(f.get('accounting')!.svg).get('bar'), 4);
});

test('the final accounting, the events and the configuration are in tables', async () => {
  const html = await loadTestReportHtml(summary, { options: LOADTEST_OPTIONS });
  assert.ok(html.includes('class="verdict ok">ok: all 3,150,000 events arrived exactly once and in order'));
  for (const [k, v] of [
    ['produced', '3,150,000'],
    ['consumed', '3,150,000'],
    ['lost', '0'],
    ['duplicated', '0'],
    ['reordered', '0'],
    ['stalled consumer', 'shard 0 at 1.25 s'],
    ['final shards', '1'],
  ])
    assert.ok(html.includes(`<td>${k}</td><td>${v}</td>`), k);
  assert.ok(html.includes('<td>breaker shard 0</td><td>closed → open</td>'));
  assert.ok(html.includes('<td>remove shard 0</td><td>drain-finished</td>'));
  for (const flag of ['--producers', '--max-shards', '--ring-capacity', '--breaker-cooldown', '--stall-consumer'])
    assert.ok(html.includes(`<td>${flag}</td>`), flag);
  const failed = await loadTestReportHtml({ ...summary, lost: 3, reordered: 1 });
  assert.ok(failed.includes('class="verdict bad">FAILED: 3 lost, 0 duplicated, 1 reordered'));
});

test('self-contained: no script, no link, no URL', async () => {
  assert.equal(externalRefs(await loadTestReportHtml(summary)), []);
});

test('without a timeline only the accounting is drawn, and the page says why', async () => {
  const rest: LoadTestSummary = { ...summary };
  delete rest.timeline;
  const html = await loadTestReportHtml(rest);
  assert.equal(
    figures(html).map((f) => f.id),
    ['accounting'],
  );
  assert.ok(html.includes('No timeline was recorded'));
});

test(`a long timeline is merged into at most ${MAX_POINTS} samples that keep the peaks`, () => {
  const long = Array.from({ length: 1000 }, (_, k) => sample(k % 12));
  long[501] = { ...long[501]!, push_latency_ns: { p50: 1, p99: 2, p999: 99_000_000 } };
  const merged = downsample(long);
  assert.ok(merged.length <= MAX_POINTS && merged.length >= MAX_POINTS / 2, String(merged.length));
  assert.is(Math.max(...merged.map((s) => s.push_latency_ns.p999)), 99_000_000);
  assert.is(merged[merged.length - 1]!.t_ms, long[long.length - 1]!.t_ms);
  const events = loadTestCharts({ ...summary, timeline: long }).find((c) => c.id === 'events')!;
  assert.is(events.rows, merged.length);
});

test.run();
