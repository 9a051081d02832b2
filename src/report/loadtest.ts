/**
 * The report of a router load test (`kgshard loadtest --report FILE.html`,
 * or `loadTestReportHtml` on a `LoadTestSummary` recorded with
 * `timeline: true`): events/s over time, push latency p50/p99/p999 over
 * time, the number of shards over time with the scale and breaker events
 * marked, the ring fill of each shard over time, and the final accounting
 * (every event exactly once and in order, per producer).
 */
import type { LoadSample, LoadTestOptions, LoadTestSummary } from '../router/loadtest.js';
import { num, pageHtml, type Block, type Table } from './page.js';
import { HEIGHT, PALETTE, WIDTH, type Chart } from './render.js';

export interface LoadTestReportOptions {
  /** The options the test ran with (the configuration table shows them; else the summary's fields). */
  readonly options?: Omit<LoadTestOptions, 'onProgress' | 'onScaleEvent' | 'onBreakerEvent'>;
  /** The command line that ran (shown under the title). */
  readonly command?: string;
  /** The time shown as the report's (default: now). */
  readonly generatedAt?: Date;
}

/** Time points drawn at most: longer timelines are merged into this many buckets. */
export const MAX_POINTS = 300;

/**
 * At most `max` samples: runs of consecutive samples merged into one (the
 * last one's time, the mean rate, the largest latencies, the largest shard
 * count, each shard's largest fill). Shorter timelines come back as they are.
 */
export function downsample(timeline: readonly LoadSample[], max = MAX_POINTS): LoadSample[] {
  if (timeline.length <= max) return [...timeline];
  const per = Math.ceil(timeline.length / max);
  const out: LoadSample[] = [];
  for (let i = 0; i < timeline.length; i += per) {
    const run = timeline.slice(i, i + per);
    const last = run[run.length - 1]!;
    const shards = new Map<number, { id: number; state: string; fill: number }>();
    for (const s of run) {
      for (const x of s.shards) {
        const had = shards.get(x.id);
        shards.set(x.id, { id: x.id, state: x.state, fill: Math.max(had?.fill ?? 0, x.fill) });
      }
    }
    const top = (k: 'p50' | 'p99' | 'p999'): number => Math.max(...run.map((s) => s.push_latency_ns[k]));
    out.push({
      t_ms: last.t_ms,
      events_per_s: Math.round(run.reduce((a, s) => a + s.events_per_s, 0) / run.length),
      push_latency_ns: { p50: top('p50'), p99: top('p99'), p999: top('p999') },
      active_shards: Math.max(...run.map((s) => s.active_shards)),
      shards: [...shards.values()].sort((a, b) => a.id - b.id),
      active_producers: last.active_producers,
      waiting_producers: last.waiting_producers,
    });
  }
  return out;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

/** The report's charts, each with its data inline (none without a timeline, but the accounting's). */
export function loadTestCharts(s: LoadTestSummary): Chart[] {
  const timeline = downsample(s.timeline ?? []);
  const charts: Chart[] = [];
  // One time axis for every chart: from the first sample's window to the last sample or event.
  const first = timeline.length > 0 ? Math.max(0, timeline[0]!.t_ms - 250) : 0;
  const last = Math.max(
    timeline.length > 0 ? timeline[timeline.length - 1]!.t_ms : 0,
    ...s.scale_events.map((e) => e.t_ms),
    ...s.breaker_events.map((e) => e.t_ms),
  );
  const domain = [seconds(first), seconds(last)];
  const time = { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain, nice: false } } as const;
  const span = `${(s.duration_ms / 1000).toFixed(1)} s`;
  if (timeline.length > 0) {
    const values = timeline.map((x) => ({ t: seconds(x.t_ms), rate: x.events_per_s }));
    charts.push({
      id: 'events',
      title: 'Events per second',
      caption:
        `Events consumed per second between samples over the ${span} run (${timeline.length} samples); ` +
        `${num(s.events_per_s)} events/s overall.`,
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'area', line: { color: PALETTE[0] }, color: PALETTE[0], opacity: 0.25, clip: true },
        encoding: { x: time, y: { field: 'rate', type: 'quantitative', title: 'events/s', axis: { format: '~s' } } },
      },
    });
    const latency = timeline.flatMap((x) =>
      (['p50', 'p99', 'p999'] as const)
        .filter((k) => x.push_latency_ns[k] > 0)
        .map((k) => ({ t: seconds(x.t_ms), percentile: k, us: x.push_latency_ns[k] / 1000 })),
    );
    if (latency.length > 0) {
      const l = s.push_latency_ns;
      charts.push({
        id: 'latency',
        title: 'Push latency',
        caption:
          `Latency of one push call (a batch of ${s.batch} events) over the pushes timed between samples, log scale; ` +
          `over the whole run p50 ${num(l.p50 / 1000, 3)} µs, p99 ${num(l.p99 / 1000, 3)} µs, ` +
          `p999 ${num(l.p999 / 1000, 3)} µs.`,
        rows: latency.length,
        spec: {
          width: WIDTH,
          height: HEIGHT,
          data: { values: latency },
          mark: { type: 'line', point: timeline.length <= 40, clip: true },
          encoding: {
            x: time,
            y: {
              field: 'us',
              type: 'quantitative',
              title: 'push latency (µs)',
              scale: { type: 'log' },
              axis: { format: ',~g', tickCount: 6 },
            },
            color: { field: 'percentile', type: 'nominal', title: null, sort: ['p50', 'p99', 'p999'] },
          },
        },
      });
    }
    charts.push(shardsChart(s, timeline, time));
    const fill = timeline.flatMap((x, i) =>
      x.shards.map((sh) => ({
        t0: seconds(i > 0 ? timeline[i - 1]!.t_ms : Math.max(0, x.t_ms - 250)),
        t1: seconds(x.t_ms),
        shard: sh.id,
        fill: sh.fill,
      })),
    );
    if (fill.length > 0) {
      charts.push({
        id: 'ring-fill',
        title: 'Ring fill per shard',
        caption:
          'How full each shard’s ring was at each sample (0 to 100% of its capacity): a stalled consumer ' +
          'shows as a ring that fills.',
        rows: fill.length,
        spec: {
          width: WIDTH,
          height: { step: 28 },
          data: { values: fill },
          mark: { type: 'rect', clip: true },
          encoding: {
            x: { ...time, field: 't0' },
            x2: { field: 't1' },
            y: { field: 'shard', type: 'ordinal', title: 'shard' },
            color: {
              field: 'fill',
              type: 'quantitative',
              title: 'ring fill',
              scale: { domain: [0, 0.5, 1], range: ['#eef2f7', '#fdae61', '#c0392b'], interpolate: 'rgb' },
              legend: { format: '.0%', orient: 'right', gradientLength: 80 },
            },
          },
        },
      });
    }
  }
  const producers = Object.entries(s.per_producer);
  if (producers.length > 0) {
    const values = producers.flatMap(([p, v]) => [
      { producer: `producer ${p}`, what: 'produced', events: v.produced },
      { producer: `producer ${p}`, what: 'consumed', events: v.consumed },
    ]);
    charts.push({
      id: 'accounting',
      title: 'Events per producer',
      caption:
        `Events each producer pushed and the consumers took; lost ${num(s.lost)}, duplicated ` +
        `${num(s.duplicated)}, reordered ${num(s.reordered)}.`,
      rows: values.length,
      spec: {
        width: WIDTH - 100,
        height: { step: 12 },
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'producer', type: 'nominal', title: null, sort: null },
          yOffset: { field: 'what', type: 'nominal', sort: ['produced', 'consumed'] },
          x: { field: 'events', type: 'quantitative', title: 'events', axis: { format: '~s' } },
          color: {
            field: 'what',
            type: 'nominal',
            title: null,
            sort: ['produced', 'consumed'],
            scale: { range: [PALETTE[0], PALETTE[2]] },
          },
        },
      },
    });
  }
  return charts;
}

/** The colour of each event marked on the shards chart, in the legend's order. */
const EVENT_COLORS: ReadonlyMap<string, string> = new Map([
  ['activate', PALETTE[2]],
  ['drain', '#7f7f7f'],
  ['rearm', PALETTE[5]],
  ['breaker open', PALETTE[4]],
  ['breaker half-open', PALETTE[3]],
  ['breaker closed', PALETTE[0]],
]);

/** Shards taking events over time (a step line), with a rule at each scale event and breaker transition. */
function shardsChart(
  s: LoadTestSummary,
  timeline: readonly LoadSample[],
  time: { field: 't'; type: 'quantitative'; title: string; scale: { domain: number[]; nice: boolean } },
): Chart {
  const line = timeline.map((x) => ({ t: seconds(x.t_ms), shards: x.active_shards }));
  // Scale events that change the shards taking events (provision, stop and remove are in the events table).
  const events = [
    ...s.scale_events
      .filter((e) => EVENT_COLORS.has(e.kind))
      .map((e) => ({ t: seconds(e.t_ms), event: e.kind, shard: e.shard })),
    ...s.breaker_events.map((e) => ({ t: seconds(e.t_ms), event: `breaker ${e.to}`, shard: e.shard })),
  ];
  const kinds = [...EVENT_COLORS.keys()].filter((k) => events.some((e) => e.event === k));
  const top = Math.max(1, s.shards_max, ...line.map((x) => x.shards));
  const byKind = new Map<string, number>();
  for (const e of events) byKind.set(e.event, (byKind.get(e.event) ?? 0) + 1);
  return {
    id: 'shards',
    title: 'Shards over time',
    caption:
      `Active shards (at most ${s.shards_max} at once)` +
      (events.length > 0
        ? `, with the scale events and breaker transitions marked (dashed): ` +
          `${[...byKind].map(([k, c]) => `${c} ${k}`).join(', ')}.`
        : '; no scale event or breaker transition.'),
    rows: line.length + events.length,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      layer: [
        {
          data: { values: line },
          mark: { type: 'line', interpolate: 'step-after', color: '#333', clip: true },
          encoding: {
            x: time,
            y: {
              field: 'shards',
              type: 'quantitative',
              title: 'active shards',
              scale: { domain: [0, top + 1] },
              axis: { tickMinStep: 1 },
            },
          },
        },
        ...(events.length > 0
          ? [
              {
                data: { values: events },
                mark: { type: 'rule' as const, strokeWidth: 1.5, opacity: 0.8, clip: true },
                encoding: {
                  x: { field: 't', type: 'quantitative' as const },
                  color: {
                    field: 'event',
                    type: 'nominal' as const,
                    title: null,
                    scale: { domain: kinds, range: kinds.map((k) => EVENT_COLORS.get(k)!) },
                    legend: { orient: 'bottom' as const, columns: 3, labelLimit: 200 },
                  },
                  strokeDash: {
                    condition: { test: "indexof(datum.event, 'breaker') === 0", value: [4, 3] },
                    value: [1, 0],
                  },
                },
              },
            ]
          : []),
      ],
    },
  };
}

function accountingTable(s: LoadTestSummary): Table {
  const l = s.push_latency_ns;
  const us = (ns: number): string => `${num(ns / 1000, 3)} µs`;
  const st = s.stall_consumer;
  const rows: [string, string][] = [
    ['events/s', num(s.events_per_s)],
    ['produced', num(s.produced)],
    ['consumed', num(s.consumed)],
    ['lost', num(s.lost)],
    ['duplicated', num(s.duplicated)],
    ['reordered', num(s.reordered)],
    [
      'push latency',
      l.samples === 0
        ? '- (no push was timed)'
        : `p50 ${us(l.p50)}, p99 ${us(l.p99)}, p999 ${us(l.p999)}, max ${us(l.max)} (${num(l.samples)} pushes)`,
    ],
    ['scale events', num(s.scale_events.length)],
    ['breaker transitions', num(s.breaker_events.length)],
    [
      'stalled consumer',
      st === null
        ? '-'
        : st.t_ms === null
          ? `shard ${st.shard}: not stalled (the shard was gone)`
          : `shard ${st.shard} at ${num(st.t_ms / 1000, 4)} s`,
    ],
    ['final shards', s.shards_final.length === 0 ? '-' : s.shards_final.join(', ')],
    ['most shards at once', String(s.shards_max)],
    ['duration', `${num(s.duration_ms / 1000, 4)} s`],
  ];
  return { rows };
}

function producersTable(s: LoadTestSummary): Table {
  return {
    head: ['producer', 'produced', 'consumed', 'lost', 'duplicated', 'reordered'],
    rows: Object.entries(s.per_producer).map(([p, v]) => [
      p,
      num(v.produced),
      num(v.consumed),
      num(v.lost),
      num(v.duplicated),
      num(v.reordered),
    ]),
    numeric: [1, 2, 3, 4, 5],
  };
}

function eventsTable(s: LoadTestSummary): Table {
  const rows = [
    ...s.scale_events.map((e) => ({ t: e.t_ms, what: `${e.kind} shard ${e.shard}`, why: e.reason })),
    ...s.breaker_events.map((e) => ({ t: e.t_ms, what: `breaker shard ${e.shard}`, why: `${e.from} → ${e.to}` })),
  ].sort((a, b) => a.t - b.t);
  return {
    head: ['time (s)', 'event', 'detail'],
    rows: rows.map((e) => [num(e.t / 1000, 4), e.what, e.why]),
    numeric: [0],
  };
}

function configTable(s: LoadTestSummary, o: LoadTestReportOptions['options']): Table {
  const ms = (x: number): string => (x >= 1000 ? `${num(x / 1000, 4)} s` : `${num(x, 4)} ms`);
  const rate = s.rate === 'max' ? 'max' : `${num(s.rate)} events/s per producer`;
  const rows: [string, string][] = [
    ['--producers', String(s.producers)],
    ['--threads', String(s.threads)],
    ['--rate', rate],
    ['--batch', String(s.batch)],
    ['--profile', s.profile],
    ['--duration', ms(o?.durationMs ?? s.duration_ms)],
    ['--auto-scale', s.auto_scale ? 'on' : 'off'],
  ];
  if (o !== undefined) {
    rows.push(
      ['--shards', String(o.shards)],
      ['--min-shards', String(o.minShards)],
      ['--max-shards', String(o.maxShards)],
      ['--cooldown', ms(o.cooldownMs)],
      ['--tick', ms(o.tickMs)],
      ['--ring-capacity', num(o.ringCapacity)],
      ['--breaker-threshold', String(o.breakerThreshold)],
      ['--breaker-cooldown', ms(o.breakerCoolDownMs)],
      ['--stall-consumer', o.stallConsumer ? `shard ${o.stallConsumer.shard} at ${ms(o.stallConsumer.atMs)}` : '-'],
    );
  }
  return { head: ['setting', 'value'], rows, split: 2 };
}

export function loadTestBlocks(s: LoadTestSummary, o: LoadTestReportOptions = {}): Block[] {
  const charts = loadTestCharts(s);
  const ok = s.lost === 0 && s.duplicated === 0 && s.reordered === 0;
  const overTime = charts.filter((c) => c.id !== 'accounting');
  const blocks: Block[] = [];
  if (overTime.length > 0) blocks.push({ kind: 'charts', title: 'Over time', charts: overTime });
  blocks.push(
    {
      kind: 'verdict',
      ok,
      text: ok
        ? `ok: all ${num(s.consumed)} events arrived exactly once and in order`
        : `FAILED: ${num(s.lost)} lost, ${num(s.duplicated)} duplicated, ${num(s.reordered)} reordered`,
    },
    { kind: 'table', title: 'Final accounting', table: accountingTable(s) },
    { kind: 'charts', title: 'Per producer', charts: charts.filter((c) => c.id === 'accounting') },
    { kind: 'table', title: 'Producers', table: producersTable(s) },
  );
  if (s.scale_events.length + s.breaker_events.length > 0)
    blocks.push({ kind: 'table', title: 'Scale and breaker events', table: eventsTable(s) });
  blocks.push({ kind: 'table', title: 'Configuration', table: configTable(s, o.options) });
  return blocks.filter((b) => b.kind !== 'charts' || b.charts.length > 0);
}

/** The whole report as one self-contained HTML page (charts as inline SVG; no script, no network). */
export async function loadTestReportHtml(s: LoadTestSummary, o: LoadTestReportOptions = {}): Promise<string> {
  const when = (o.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const subtitle = [
    `${s.producers} producer(s) on ${s.threads} thread(s), ${s.profile} load, auto-scale ` +
      `${s.auto_scale ? 'on' : 'off'}, ${(s.duration_ms / 1000).toFixed(2)} s; written ${when} UTC`,
  ];
  if (o.command !== undefined) subtitle.push(o.command);
  if (s.timeline === undefined)
    subtitle.push('No timeline was recorded (run with timeline: true): only the final figures are shown.');
  return pageHtml({ title: 'kgshard loadtest', subtitle, blocks: loadTestBlocks(s, o) });
}
