/**
 * Filtered link-prediction metrics for the commands: one call that
 * evaluates tables on a split (through the library's evaluator), and the
 * table and JSON fields the commands print.
 */
import type { Dataset } from '../data/dataset.js';
import type { Piscina } from 'piscina';
import { evaluate, type RankMetrics } from '../kge/eval.js';
import type { FilterIndex } from '../kge/filter.js';
import { createModel } from '../kge/models/index.js';

export interface Metrics {
  readonly mrr: number;
  readonly mr: number;
  readonly hits1: number;
  readonly hits3: number;
  readonly hits10: number;
}

export interface EvalOutcome {
  readonly split: 'valid' | 'test';
  /** Triples ranked (each gives a head query and a tail query). */
  readonly triples: number;
  readonly heads: Metrics;
  readonly tails: Metrics;
  readonly both: Metrics;
  readonly seconds: number;
  /** The scoring backend the evaluator used (`wasm` SIMD kernels or the models' `js` kernels). */
  readonly backend: 'js' | 'wasm';
  /** Threads that ranked. */
  readonly threads: number;
}

export interface EvalInput {
  readonly model: string;
  readonly dim: number;
  /** Rows in dataset id order. */
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
  readonly dataset: Dataset;
  readonly split: 'valid' | 'test';
  readonly workers: number;
  readonly filter?: FilterIndex;
  readonly pool?: Piscina;
}

/**
 * Filtered ranking of every triple of `split` against all entities, heads
 * and tails, with the library's evaluator (`evaluate` in kge/eval.ts) on
 * `workers` threads (a pool of its own, or `pool`). `filter` (the known true
 * triples of train + valid + test) is built from the dataset when absent;
 * pass one to reuse it across validations.
 */
export async function evaluateTables(input: EvalInput): Promise<EvalOutcome> {
  const r = await evaluate({
    model: createModel(input.model),
    dim: input.dim,
    entities: input.entityTable,
    relations: input.relationTable,
    dataset: input.dataset,
    split: input.split,
    workers: input.workers,
    ...(input.filter ? { filter: input.filter } : {}),
    ...(input.pool ? { pool: input.pool } : {}),
  });
  const m = (x: RankMetrics): Metrics => ({ mrr: x.mrr, mr: x.mr, hits1: x.hits1, hits3: x.hits3, hits10: x.hits10 });
  return {
    split: input.split,
    triples: input.dataset[input.split].count,
    heads: m(r.head),
    tails: m(r.tail),
    both: m(r.both),
    seconds: r.seconds,
    backend: r.backend,
    threads: r.threads,
  };
}

/** The `--json` fields of an outcome: the "both" metrics at top level, heads and tails nested. */
export function metricsJson(o: EvalOutcome): Record<string, unknown> {
  const round = (m: Metrics) => ({ mrr: m.mrr, mr: m.mr, hits1: m.hits1, hits3: m.hits3, hits10: m.hits10 });
  return {
    eval_split: o.split,
    eval_triples: o.triples,
    eval_s: o.seconds,
    eval_backend: o.backend,
    eval_workers: o.threads,
    ...round(o.both),
    heads: round(o.heads),
    tails: round(o.tails),
  };
}

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
