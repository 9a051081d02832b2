/**
 * The metrics table the commands print for an evaluation outcome (the
 * library's `RunEvaluator` computes it; `outcomeJson` gives its JSON fields).
 */
import type { EvalOutcome, Metrics } from '../kge/training/evaluation.js';

/** The metrics table printed to stdout. */
export function metricsTable(o: EvalOutcome): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const header =
    `filtered link prediction on ${o.split}: ` +
    `${n(o.triples)} triples (${n(2 * o.triples)} queries), ${o.seconds.toFixed(1)} s`;
  const cols = ['', 'MRR', 'MR', 'Hits@1', 'Hits@3', 'Hits@10'];
  const row = (name: string, m: Metrics): string[] => [
    name,
    m.mrr.toFixed(4),
    m.mr.toFixed(1),
    m.hits1.toFixed(4),
    m.hits3.toFixed(4),
    m.hits10.toFixed(4),
  ];
  const rows = [cols, row('heads', o.heads), row('tails', o.tails), row('both', o.both)];
  const widths = cols.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  const lines = rows.map((r) => r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  '));
  return `${header}\n${lines.join('\n')}\n`;
}

/**
 * The per-relation table (`--per-relation`): for each relation with a query
 * triple, its count and MRR, MR and Hits@1/3/10 over both directions, then
 * MRR of head and of tail queries, worst MRR first (what to look at).
 */
export function perRelationTable(o: EvalOutcome): string {
  const cols = ['relation', 'triples', 'MRR', 'MR', 'Hits@1', 'Hits@3', 'Hits@10', 'MRR heads', 'MRR tails'];
  const rows = [...o.perRelation]
    .sort((a, b) => a.both.mrr - b.both.mrr)
    .map((p) => [
      p.relation,
      p.count.toLocaleString('en-US'),
      p.both.mrr.toFixed(4),
      p.both.mr.toFixed(1),
      p.both.hits1.toFixed(4),
      p.both.hits3.toFixed(4),
      p.both.hits10.toFixed(4),
      p.heads.mrr.toFixed(4),
      p.tails.mrr.toFixed(4),
    ]);
  const all = [cols, ...rows];
  const widths = cols.map((_, k) => Math.max(...all.map((r) => r[k]!.length)));
  const lines = all.map((r) => r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  '));
  return `per relation on ${o.split} (worst MRR first)\n${lines.join('\n')}\n`;
}
