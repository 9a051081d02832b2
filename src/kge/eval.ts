/**
 * Filtered link prediction: for every query triple (h, r, t), rank the true
 * tail among all entities for (h, r, ?) and the true head among all entities
 * for (?, r, t), leaving out every *other* entity that forms a known true
 * triple (a `FilterIndex`, normally train + valid + test), and report MRR,
 * MR and Hits@1/3/10 for tails, heads and both.
 *
 * One concept per file under `eval/`:
 *
 * - `eval/ranker.ts`: the ranker, scoring (JS block kernels or the WASM
 *   kernels of `wasm/`) and filtered ranks with their tie rules;
 * - `eval/metrics.ts`: MRR, MR and Hits@k from ranks;
 * - `eval/pool.ts`: `evaluate`, over worker threads or in the calling
 *   thread, and what a worker attaches from an `EvalHandle`.
 *
 * This module is their entry point.
 */
export {
  createRanker,
  rankQueries,
  Ranker,
  type EvalBackend,
  type RankerOptions,
  type TieRule,
} from './eval/ranker.js';
export {
  linkPredictionMetrics,
  metricsFromRanks,
  perRelationMetrics,
  rankHistogram,
  type LinkPredictionMetrics,
  type RankBucket,
  type RankMetrics,
  type RelationMetrics,
} from './eval/metrics.js';
export {
  evaluate,
  EvalAttachment,
  EVAL_HANDLE_VERSION,
  EVAL_TASK_FILENAME,
  type EvalHandle,
  type EvalTask,
  type EvaluateOptions,
  type EvaluationResult,
  type TableRef,
} from './eval/pool.js';
