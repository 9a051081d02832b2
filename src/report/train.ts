/**
 * The report of a training run (`kgshard train --report FILE.html`, or
 * `trainReportHtml` on a `TrainingReport`): the loss per epoch, the
 * validations' MRR and Hits@10, triples/s per epoch, the final per-relation
 * MRR and rank histogram, and, when the run had them, the parameter
 * server's staleness, the checkpoints written and the snapshots with the
 * writer pauses they caused; then the run's figures and its settings.
 */
import { SETTINGS } from '../kge/hyper.js';
import type { EvalOutcome } from '../kge/training/evaluation.js';
import type { TrainingReport } from '../kge/training/run.js';
import { num, pageHtml, type Block, type Table } from './page.js';
import { HEIGHT, PALETTE, WIDTH, type Chart } from './render.js';

export interface TrainReportOptions {
  /** The command line that ran (shown under the title). */
  readonly command?: string;
  /** Where the dataset came from (`built-in`, a directory). */
  readonly datasetSource?: string;
  /** The time shown as the report's (default: now). */
  readonly generatedAt?: Date;
}

/** Relations drawn at most in the per-relation chart: beyond it, the worst and the best half each. */
export const MAX_RELATION_BARS = 40;

/** The report's charts, each with its data inline (those without data are left out). */
export function trainCharts(r: TrainingReport): Chart[] {
  const charts: Chart[] = [];
  const h = r.history;
  const epochAxis = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } } as const;
  const points = h.length <= 60;
  if (h.length > 0) {
    const values = h.map((e) => ({ epoch: e.epoch, loss: e.loss }));
    charts.push({
      id: 'loss',
      title: 'Training loss per epoch',
      caption: `Mean loss per positive triple (${r.options.loss} loss) of each of the ${h.length} epochs.`,
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'line', point: points },
        encoding: {
          x: epochAxis,
          y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
        },
      },
    });
  }
  if (r.validations.length > 0) {
    const values = r.validations.flatMap((v) => [
      { epoch: v.epoch, metric: 'MRR', value: v.outcome.both.mrr },
      { epoch: v.epoch, metric: 'Hits@10', value: v.outcome.both.hits10 },
    ]);
    const best = r.best;
    charts.push({
      id: 'validation',
      title: 'Validation MRR and Hits@10',
      caption:
        `Filtered metrics on the valid split at each of the ${r.validations.length} validations` +
        (best !== null ? `; best MRR ${num(best.mrr)} at epoch ${best.epoch}.` : '.'),
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: epochAxis,
          y: { field: 'value', type: 'quantitative', title: 'metric' },
          color: { field: 'metric', type: 'nominal', title: null, sort: ['MRR', 'Hits@10'] },
        },
      },
    });
  }
  const trained = h.filter((e) => !e.resumed && e.seconds > 0);
  if (trained.length > 0) {
    const values = trained.map((e) => ({ epoch: e.epoch, rate: e.positives / e.seconds }));
    charts.push({
      id: 'throughput',
      title: 'Positive triples per second, per epoch',
      caption: `Positive triples trained per second in each epoch, on ${r.options.workers} worker(s); mean ${num(
        r.triplesPerSecond,
        3,
      )}/s.`,
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'bar', color: PALETTE[2] },
        encoding: {
          x: { field: 'epoch', type: 'ordinal', title: 'epoch', axis: { labelOverlap: true, labelAngle: 0 } },
          y: { field: 'rate', type: 'quantitative', title: 'triples/s', axis: { format: '~s' } },
        },
      },
    });
  }
  const ev = r.evaluation;
  if (ev !== null && ev.perRelation.length > 0) charts.push(perRelationChart(ev));
  if (ev !== null && ev.rankHistogram.some((b) => b.count > 0)) charts.push(rankChart(ev));
  charts.push(...psCharts(r));
  return charts;
}

function perRelationChart(ev: EvalOutcome): Chart {
  const sorted = [...ev.perRelation].sort((a, b) => a.both.mrr - b.both.mrr);
  const half = MAX_RELATION_BARS / 2;
  const shown = sorted.length > MAX_RELATION_BARS ? [...sorted.slice(0, half), ...sorted.slice(-half)] : sorted;
  const values = shown.map((p) => ({ relation: `${p.relation} (${p.count})`, mrr: p.both.mrr }));
  return {
    id: 'per-relation',
    title: `MRR per relation (${ev.split})`,
    caption:
      `Filtered MRR of each relation's head and tail queries on the ${ev.split} split, worst first, with its ` +
      `count of triples` +
      (shown.length < sorted.length
        ? `; the ${half} worst and ${half} best of ${sorted.length} relations.`
        : `; ${sorted.length} relations.`),
    rows: values.length,
    spec: {
      width: WIDTH - 180,
      height: { step: 20 },
      data: { values },
      mark: { type: 'bar', color: PALETTE[0] },
      encoding: {
        // Text widths are estimated (no canvas), on the long side: room for names of about 40 characters.
        y: {
          field: 'relation',
          type: 'nominal',
          title: null,
          sort: null,
          axis: { labelLimit: 320, labelFontSize: 10 },
        },
        x: { field: 'mrr', type: 'quantitative', title: 'MRR' },
      },
    },
  };
}

function rankChart(ev: EvalOutcome): Chart {
  const values = ev.rankHistogram.map((b) => ({
    ranks: b.from === b.to ? String(b.from) : `${b.from}-${b.to}`,
    from: b.from,
    count: b.count,
  }));
  return {
    id: 'rank-histogram',
    title: `Rank histogram (${ev.split})`,
    caption:
      `The filtered rank of the true entity in all ${(2 * ev.triples).toLocaleString('en-US')} head and tail ` +
      `queries, in log-spaced buckets (1, 2, 3-4, 5-8, ...). MR ${num(ev.both.mr, 5)}, MRR ${num(ev.both.mrr)}.`,
    rows: values.length,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: 'bar', color: PALETTE[1] },
      encoding: {
        x: { field: 'ranks', type: 'ordinal', title: 'rank', sort: { field: 'from' }, axis: { labelAngle: -40 } },
        y: { field: 'count', type: 'quantitative', title: 'queries' },
      },
    },
  };
}

/** Staleness, checkpoints and snapshots per epoch: only the ones the run had. */
function psCharts(r: TrainingReport): Chart[] {
  const charts: Chart[] = [];
  const h = r.history.filter((e) => !e.resumed);
  const epochAxis = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } } as const;
  const stale = h.filter((e) => e.meanStaleness !== null);
  if (stale.length > 0) {
    const values = stale.map((e) => ({ epoch: e.epoch, staleness: e.meanStaleness }));
    charts.push({
      id: 'staleness',
      title: 'Parameter-server staleness per epoch',
      caption:
        `Mean staleness of the epoch's asynchronous pushes: pushes to a shard by any worker since the pushing ` +
        `worker last read it (${r.ps.shards} shard(s); largest seen ${r.ps.maxStaleness}).`,
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'line', point: h.length <= 60, color: PALETTE[3] },
        encoding: { x: epochAxis, y: { field: 'staleness', type: 'quantitative', title: 'mean staleness' } },
      },
    });
  }
  const written = h.reduce((s, e) => s + e.checkpoints, 0);
  const snapshots = h.reduce((s, e) => s + e.snapshots, 0);
  if (written > 0 || snapshots > 0) {
    const values = h.flatMap((e) => [
      { epoch: e.epoch, what: 'checkpoints', count: e.checkpoints },
      { epoch: e.epoch, what: 'snapshots', count: e.snapshots },
    ]);
    charts.push({
      id: 'checkpoints',
      title: 'Checkpoints and snapshots per epoch',
      caption:
        `${written} checkpoint(s) written into the store (at epoch ends, while epochs ran, and the final one) and ` +
        `${snapshots} snapshot(s) of the parameter server taken while training ran.`,
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'epoch', type: 'ordinal', title: 'epoch', axis: { labelOverlap: true, labelAngle: 0 } },
          xOffset: { field: 'what', type: 'nominal' },
          y: { field: 'count', type: 'quantitative', title: 'count', axis: { tickMinStep: 1 } },
          color: { field: 'what', type: 'nominal', title: null, scale: { range: [PALETTE[0], PALETTE[4]] } },
        },
      },
    });
  }
  if (h.some((e) => e.writerPauses > 0)) {
    const values = h.map((e) => ({ epoch: e.epoch, pauses: e.writerPauses }));
    const us = r.ps.writerPauseUs;
    charts.push({
      id: 'writer-pauses',
      title: 'Snapshot pauses per epoch',
      caption: 'Pushes that waited at a shard fenced by a snapshot' + (us !== null ? ` (wait ${pauses(us)}).` : '.'),
      rows: values.length,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: 'bar', color: PALETTE[4] },
        encoding: {
          x: { field: 'epoch', type: 'ordinal', title: 'epoch', axis: { labelOverlap: true, labelAngle: 0 } },
          y: { field: 'pauses', type: 'quantitative', title: 'writer pauses' },
        },
      },
    });
  }
  return charts;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${s % 60} s` : `${num(seconds, 3)} s`;
}

/** A setting's value as a table shows it. */
function show(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map((x: unknown) => scheduleEntry(x)).join(', ');
  if (typeof v === 'number') return num(v, 6);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A schedule's entry `{ epoch: 3, shards: 4 }` as `3:4`. */
function scheduleEntry(x: unknown): string {
  if (typeof x !== 'object' || x === null) return JSON.stringify(x);
  const rec = x as Record<string, unknown>;
  const rest = Object.entries(rec).filter(([k]) => k !== 'epoch');
  return [rec['epoch'], ...rest.map(([, v]) => v)]
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .join(':');
}

/** Every setting of the run by its flag (the settings table's order), with the value it trained with. */
export function settingsTable(r: TrainingReport): Table {
  const hyper = r.options as unknown as Record<string, unknown>;
  const run = r.run as unknown as Record<string, unknown>;
  const rows: [string, string][] = SETTINGS.map((s) => [
    s.flag,
    s.name === 'model' ? r.model : show(s.scope === 'hyper' ? hyper[s.name] : run[s.name]),
  ]);
  return { head: ['setting', 'value'], rows, split: 3 };
}

function metricsRows(ev: EvalOutcome): (string | number)[][] {
  const row = (label: string, m: EvalOutcome['both']): (string | number)[] => [
    label,
    num(m.mrr),
    num(m.mr, 5),
    num(m.hits1),
    num(m.hits3),
    num(m.hits10),
  ];
  return [row('heads', ev.heads), row('tails', ev.tails), row('both', ev.both)];
}

function summaryTable(r: TrainingReport, o: TrainReportOptions): Table {
  const d = r.dataset;
  const ev = r.evaluation;
  const rows: [string, string][] = [
    ['model', `${r.model}, dim ${r.options.dim}`],
    ['dataset', `${d.name}${o.datasetSource !== undefined ? ` (${o.datasetSource})` : ''}`],
    ['entities / relations', `${num(d.entities)} / ${num(d.relations)}`],
    ['train / valid / test triples', `${num(d.trainTriples)} / ${num(d.validTriples)} / ${num(d.testTriples)}`],
    ['epochs', `${r.epochs} of ${r.options.epochs} (stopped by ${r.stoppedBy})`],
    ['tables kept', `epoch ${r.bestEpoch}${r.best !== null ? ` (best valid MRR ${num(r.best.mrr)})` : ''}`],
    ['training time', clock(r.trainSeconds)],
    ['positive triples/s', num(r.triplesPerSecond, 3)],
    ['final loss', num(r.finalLoss)],
  ];
  if (ev !== null) {
    rows.push(
      [`${ev.split} MRR / MR`, `${num(ev.both.mrr)} / ${num(ev.both.mr, 5)}`],
      [`${ev.split} Hits@1 / @3 / @10`, `${num(ev.both.hits1)} / ${num(ev.both.hits3)} / ${num(ev.both.hits10)}`],
      ['evaluation', `${num(ev.triples)} triples in ${num(ev.seconds, 3)} s (${ev.backend}, ${ev.threads} thread(s))`],
    );
  } else rows.push(['evaluation', `none (the ${r.run.evalSplit} split is empty)`]);
  if (r.out !== null) rows.push(['embeddings saved to', r.out]);
  return { rows };
}

function pauses(us: { p50: number; p99: number; max: number }): string {
  return `p50 ${num(us.p50)} µs, p99 ${num(us.p99)} µs, max ${num(us.max)} µs`;
}

function psTable(r: TrainingReport): Table {
  const p = r.ps;
  const c = r.checkpoint;
  const us = p.writerPauseUs;
  const written = r.history.reduce((s, e) => s + e.checkpoints, 0);
  const rows: [string, string][] = [
    ['mode, shards', `${p.mode}, ${p.shards}`],
    ['pulls / pushes / relation pushes', `${num(p.pulls)} / ${num(p.pushes)} / ${num(p.relationPushes)}`],
  ];
  if (p.mode === 'sync') rows.push(['barriers', num(p.barriers)]);
  else rows.push(['staleness mean / max', `${num(p.meanStaleness)} / ${num(p.maxStaleness)}`]);
  rows.push(
    ['snapshots (longest fence)', `${num(p.snapshots)} (${num(p.snapshotFenceMaxMs, 3)} ms)`],
    ['writer pauses', num(p.writerPauses) + (us !== null ? ` (${pauses(us)})` : '')],
    ['checkpoint store', c.dir ?? '-'],
  );
  if (c.dir !== null) {
    rows.push(
      ['checkpoints written', `${written} (${c.midEpoch} while an epoch ran)`],
      ['last checkpointed epoch', c.lastEpoch !== null ? String(c.lastEpoch) : '-'],
    );
    if (c.resumedFrom !== null) rows.push(['resumed from epoch', String(c.resumedFrom)]);
  }
  if (c.warmStartedFrom !== null) rows.push(['warm-started from', c.warmStartedFrom]);
  for (const x of r.reshards) {
    rows.push([
      `reshard in epoch ${x.epoch}`,
      `${x.from} → ${x.to} shards: ${x.chunksMoved} chunk(s) in ${x.steps} step(s), ` +
        `longest writer pause ${num(x.maxWriterPauseUs)} µs, ${num(x.convergeMs, 3)} ms`,
    ]);
  }
  for (const g of r.growth) {
    rows.push([
      `growth at epoch ${g.epoch}`,
      `${num(g.triples)} triple(s), ${num(g.newEntities)} new entities in ${g.chunks} chunk(s), ` +
        `placed in ${num(g.placeMs, 3)} ms`,
    ]);
  }
  return { rows };
}

/** The page's blocks: charts first, then the figures and the settings. */
export function trainBlocks(r: TrainingReport, o: TrainReportOptions = {}): Block[] {
  const charts = trainCharts(r);
  const ps = new Set(['staleness', 'checkpoints', 'writer-pauses']);
  const blocks: Block[] = [
    { kind: 'charts', title: 'Training', charts: charts.filter((c) => !ps.has(c.id)) },
    { kind: 'table', title: 'Run', table: summaryTable(r, o) },
  ];
  const ev = r.evaluation;
  if (ev !== null) {
    blocks.push({
      kind: 'table',
      title: `Metrics on ${ev.split} (filtered)`,
      table: {
        head: ['queries', 'MRR', 'MR', 'Hits@1', 'Hits@3', 'Hits@10'],
        rows: metricsRows(ev),
        numeric: [1, 2, 3, 4, 5],
      },
    });
    if (ev.perRelation.length > 0) {
      blocks.push({
        kind: 'details',
        summary: `Every relation's metrics (${ev.perRelation.length})`,
        table: {
          head: ['relation', 'triples', 'MRR', 'MR', 'Hits@1', 'Hits@10', 'MRR heads', 'MRR tails'],
          rows: [...ev.perRelation]
            .sort((a, b) => a.both.mrr - b.both.mrr)
            .map((p) => [
              p.relation,
              num(p.count),
              num(p.both.mrr),
              num(p.both.mr, 5),
              num(p.both.hits1),
              num(p.both.hits10),
              num(p.heads.mrr),
              num(p.tails.mrr),
            ]),
          numeric: [1, 2, 3, 4, 5, 6, 7],
        },
      });
    }
  }
  const psCharts = charts.filter((c) => ps.has(c.id));
  if (psCharts.length > 0) blocks.push({ kind: 'charts', title: 'Parameter server and checkpoints', charts: psCharts });
  blocks.push({ kind: 'table', title: 'Parameter server', table: psTable(r) });
  blocks.push({ kind: 'table', title: 'Configuration', table: settingsTable(r) });
  return blocks;
}

/** The whole report as one self-contained HTML page (charts as inline SVG; no script, no network). */
export async function trainReportHtml(r: TrainingReport, o: TrainReportOptions = {}): Promise<string> {
  const when = (o.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const subtitle = [
    `${r.model} dim ${r.options.dim} on ${r.dataset.name}: ${r.epochs} epoch(s), ${r.options.workers} worker(s), ` +
      `${r.ps.mode} mode, ${r.ps.shards} shard(s); written ${when} UTC`,
  ];
  if (o.command !== undefined) subtitle.push(o.command);
  return pageHtml({ title: `kgshard train: ${r.model} on ${r.dataset.name}`, subtitle, blocks: trainBlocks(r, o) });
}
