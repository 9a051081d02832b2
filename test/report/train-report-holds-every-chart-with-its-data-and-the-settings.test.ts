/**
 * The report of a real training run (validations, a checkpoint store, async
 * pushes to two shards): every chart is there with a drawn item per data
 * row, every setting is shown with its value, the run's figures are there,
 * and the page needs nothing outside itself. The epoch history it plots
 * comes from `TrainingReport.history`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SETTINGS } from '../../src/kge/hyper.js';
import type { TrainingReport } from '../../src/kge/training/run.js';
import { trainCharts, trainReportHtml } from '../../src/report/train.js';
import { drawn, externalRefs, figures, vertices } from '../helpers/report-html.js';
import { trainForReport } from '../helpers/report-runs.js';

let report: TrainingReport;
let html: string;

test.before(async () => {
  report = await trainForReport();
  html = await trainReportHtml(report, { command: 'kgshard train --model complex', datasetSource: 'a test' });
});

test('the history holds every epoch with its loss, positives, seconds, staleness and checkpoints', () => {
  const h = report.history;
  assert.is(h.length, 16);
  assert.equal(
    h.map((e) => e.epoch),
    Array.from({ length: 16 }, (_, k) => k + 1),
  );
  for (const e of h) {
    assert.ok(Number.isFinite(e.loss) && e.loss > 0, `epoch ${e.epoch} loss ${e.loss}`);
    assert.ok(e.positives > 0 && e.seconds > 0);
    assert.is(e.resumed, false);
    assert.ok(e.meanStaleness !== null && e.meanStaleness >= 0, 'async pushes have a staleness');
  }
  assert.is(h[h.length - 1]!.loss, report.finalLoss);
  // Epoch ends checkpoint when the objective improves; the last epoch is the final entry.
  assert.ok(h[h.length - 1]!.checkpoints >= 1);
  assert.ok(h.reduce((s, e) => s + e.checkpoints, 0) >= 2);
});

test('every chart is in the page, and draws one item per data row', () => {
  const figs = figures(html);
  assert.equal(
    figs.map((f) => f.id),
    ['loss', 'validation', 'throughput', 'per-relation', 'rank-histogram', 'staleness', 'checkpoints'],
  );
  const byId = new Map(figs.map((f) => [f.id, f]));
  const ev = report.evaluation!;
  const expected: Record<string, number> = {
    loss: 16,
    validation: 2 * report.validations.length,
    throughput: 16,
    'per-relation': ev.perRelation.length,
    'rank-histogram': ev.rankHistogram.length,
    staleness: 16,
    checkpoints: 2 * 16,
  };
  for (const [id, rows] of Object.entries(expected)) {
    const f = byId.get(id)!;
    assert.is(f.rows, rows, `${id}: rows`);
    const d = drawn(f.svg);
    const items = (d.get('bar') ?? 0) + (d.get('point') ?? 0);
    assert.is(items, rows, `${id}: ${JSON.stringify([...d])}`);
  }
  assert.is(report.validations.length, 4);
  assert.is(ev.perRelation.length, 6);
  // The lines go through every point.
  assert.is(vertices(byId.get('loss')!.svg, 'line mark'), 16);
  assert.is(vertices(byId.get('validation')!.svg, 'line mark'), 8);
  // The charts' data are the report's.
  const loss = trainCharts(report)[0]!.spec as unknown as { data: { values: { loss: number }[] } };
  assert.equal(
    loss.data.values.map((v) => v.loss),
    report.history.map((e) => e.loss),
  );
  for (const p of ev.perRelation) assert.ok(html.includes(`${p.relation} (${p.count})`), p.relation);
});

test('every setting is shown by its flag with the value the run trained with', () => {
  const config = html.slice(html.indexOf('<h2>Configuration</h2>'));
  for (const s of SETTINGS) assert.ok(config.includes(`<td>${s.flag}</td>`), s.flag);
  const row = (flag: string): string => new RegExp(`<td>${flag}</td><td>([^<]*)</td>`).exec(config)?.[1] ?? '';
  assert.is(row('--model'), 'complex');
  assert.is(row('--dim'), '16');
  assert.is(row('--epochs'), '16');
  assert.is(row('--lr'), '0.1');
  assert.is(row('--mode'), 'async');
  assert.is(row('--shards'), '2');
  assert.is(row('--eval-every'), '4');
  assert.ok(html.includes('kgshard train --model complex'), 'the command line');
});

test('the run, its metrics and the parameter server figures are in tables', () => {
  const ev = report.evaluation!;
  const four = (x: number): string => String(Number(x.toPrecision(4)));
  assert.ok(html.includes(`<td>test MRR / MR</td><td>${four(ev.both.mrr)} / `), 'the final MRR');
  assert.ok(html.includes(`<td>both</td><td class="n">${four(ev.both.mrr)}</td>`), 'the metrics table');
  for (const label of ['staleness mean / max', 'checkpoints written', 'writer pauses', 'snapshots (longest fence)'])
    assert.ok(html.includes(`<td>${label}</td>`), label);
  assert.ok(html.includes('<h2>Metrics on test (filtered)</h2>'));
});

test('the page is self-contained: no script, no link, no URL', () => {
  assert.equal(externalRefs(html), []);
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(html.includes('<style>'));
});

test('a run without validations, store or async pushes leaves out the charts it has no data for', async () => {
  const bare: TrainingReport = {
    ...report,
    validations: [],
    evaluation: null,
    history: report.history.map((e) => ({ ...e, meanStaleness: null, checkpoints: 0, snapshots: 0 })),
  };
  const ids = figures(await trainReportHtml(bare)).map((f) => f.id);
  assert.equal(ids, ['loss', 'throughput']);
});

test.run();
