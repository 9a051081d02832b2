/**
 * The evaluations of a training run: filtered link prediction of the
 * current tables on the valid split (validations) or the final split, with
 * one filter (the known true triples, built on first use) and, with
 * validations on several threads, one Piscina pool for all of them.
 */
import { Piscina } from 'piscina';
import type { Dataset } from '../../data/dataset.js';
import {
  EVAL_TASK_FILENAME,
  evaluate,
  perRelationMetrics,
  rankHistogram,
  type RankBucket,
  type RankMetrics,
} from '../eval.js';
import { FilterIndex } from '../filter.js';
import { createModel } from '../models/index.js';

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
  /** Per relation (those with a query), by direction, with each relation's count of query triples. */
  readonly perRelation: readonly RelationOutcome[];
  /** Every rank (heads and tails) in log-spaced buckets ([1], [2], [3, 4], [5, 8], ...). */
  readonly rankHistogram: readonly RankBucket[];
}

export interface RelationOutcome {
  /** The relation's name. */
  readonly relation: string;
  readonly count: number;
  readonly heads: Metrics;
  readonly tails: Metrics;
  readonly both: Metrics;
}

/** The JSON fields of an outcome: the "both" metrics at top level, heads and tails nested. */
export function outcomeJson(o: EvalOutcome): Record<string, unknown> {
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
    per_relation: o.perRelation.map((p) => ({
      relation: p.relation,
      count: p.count,
      ...round(p.both),
      heads: round(p.heads),
      tails: round(p.tails),
    })),
    rank_histogram: o.rankHistogram.map((b) => ({ from: b.from, to: b.to, count: b.count })),
  };
}

export class RunEvaluator {
  private filter: FilterIndex | undefined;
  private pool: Piscina | undefined;

  /** `shared`: keep one pool for every evaluation (a run that validates). */
  constructor(
    private dataset: Dataset,
    private readonly model: string,
    private readonly dim: number,
    private readonly workers: number,
    private readonly shared: boolean,
  ) {}

  /** Evaluate against `d` from now on (a dataset that grew while training: more entities, more train triples). */
  setDataset(d: Dataset): void {
    if (d === this.dataset) return;
    this.dataset = d;
    this.filter = undefined;
  }

  async evaluate(
    split: 'valid' | 'test',
    tables: { entities: Float32Array; relations: Float32Array },
  ): Promise<EvalOutcome> {
    this.filter ??= FilterIndex.fromDataset(this.dataset);
    if (this.pool === undefined && this.shared && this.workers > 1) {
      this.pool = new Piscina({
        filename: EVAL_TASK_FILENAME,
        minThreads: this.workers,
        maxThreads: this.workers,
        idleTimeout: 60_000,
      });
    }
    const r = await evaluate({
      model: createModel(this.model),
      dim: this.dim,
      entities: tables.entities,
      relations: tables.relations,
      dataset: this.dataset,
      split,
      workers: this.workers,
      filter: this.filter,
      ...(this.pool ? { pool: this.pool } : {}),
    });
    const m = (x: RankMetrics): Metrics => ({ mrr: x.mrr, mr: x.mr, hits1: x.hits1, hits3: x.hits3, hits10: x.hits10 });
    return {
      split,
      triples: this.dataset[split].count,
      heads: m(r.head),
      tails: m(r.tail),
      both: m(r.both),
      seconds: r.seconds,
      backend: r.backend,
      threads: r.threads,
      perRelation: perRelationMetrics(this.dataset[split].triples, r.ranks.tail, r.ranks.head).map((p) => ({
        relation: this.dataset.relations[p.relation] ?? String(p.relation),
        count: p.count,
        heads: m(p.head),
        tails: m(p.tail),
        both: m(p.both),
      })),
      rankHistogram: rankHistogram(Float64Array.from([...r.ranks.tail, ...r.ranks.head])),
    };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}
