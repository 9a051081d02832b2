/**
 * The evaluation pool: `evaluate`, filtered link prediction over a dataset
 * split or given queries, in the calling thread or over a Piscina pool of
 * worker threads.
 *
 * Tasks are ranges of queries; workers attach the entity and relation
 * tables, the filter, the queries and the output ranks in place from
 * SharedArrayBuffers named by an {@link EvalHandle} (in `workerData` of a
 * pool `evaluate` creates, in each task for a pool the caller passes), and
 * write their ranks into a shared Float64Array. With `workers` 0 or 1 (and
 * no `pool`) it runs in the calling thread, with the same code (`rankQueries`
 * of `ranker.ts`).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { badHandle, invalidArgument } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';
import { checkTriples, FilterIndex, type FilterHandle } from '../filter.js';
import type { KgeModel } from '../model.js';
import { createModel } from '../models/index.js';
import { linkPredictionMetrics, type LinkPredictionMetrics } from './metrics.js';
import {
  checkOptionalInt,
  checkRankerOptions,
  createRanker,
  rankQueries,
  Ranker,
  WASM_BATCH,
  type EvalBackend,
  type RankerOptions,
  type TieRule,
} from './ranker.js';

// ---------------------------------------------------------------- handles

/** A typed array's place in shared memory: plain and structured-cloneable. */
export interface TableRef {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** In elements. */
  readonly length: number;
}

export const EVAL_HANDLE_VERSION = 1;

/**
 * Everything a worker needs to rank a range of queries, by reference: sent
 * once (in `workerData`, or in each task for a caller's pool; it is small).
 * `id` is unique per evaluation, so a worker attaches once per evaluation.
 */
export interface EvalHandle {
  readonly kind: 'kge-eval';
  readonly version: number;
  readonly id: string;
  /** A built-in model name: `createModel(model)` rebuilds it in the worker. */
  readonly model: string;
  readonly dim: number;
  /** Float32. */
  readonly entities: TableRef;
  /** Float32. */
  readonly relations: TableRef;
  readonly filter: FilterHandle;
  /** Int32 (head, relation, tail) triplets. */
  readonly queries: TableRef;
  /** Float64, 2 × queries: tail ranks, then head ranks. Written by the workers. */
  readonly ranks: TableRef;
  readonly ties: TieRule;
  readonly backend: EvalBackend;
  readonly batch?: number;
  readonly chunk?: number;
}

/** A Piscina task of the evaluation: rank queries [start, end). `handle` when the pool's `workerData` lacks it. */
export interface EvalTask {
  readonly start: number;
  readonly end: number;
  readonly handle?: EvalHandle;
}

/** dist/workers/eval-task.js as a file URL string: the `filename` of evaluation tasks. */
export const EVAL_TASK_FILENAME = new URL('../../../workers/eval-task.js', import.meta.url).href;

function refOf(where: string, field: string, a: Float32Array | Float64Array | Int32Array): TableRef {
  if (!(a.buffer instanceof SharedArrayBuffer)) {
    throw invalidArgument(
      where,
      field,
      a,
      `a ${a.constructor.name} over a SharedArrayBuffer, ` +
        'so worker threads can read it in place (or run with workers: 0)',
    );
  }
  return { buffer: a.buffer, byteOffset: a.byteOffset, length: a.length };
}

function viewOf<T>(
  where: string,
  field: string,
  ref: TableRef,
  ctor: { new (b: SharedArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number },
): T {
  if (ref === null || typeof ref !== 'object' || !(ref.buffer instanceof SharedArrayBuffer)) {
    throw badHandle(
      where,
      `handle.${field}.buffer must be a SharedArrayBuffer`,
      (ref as { buffer?: unknown } | null)?.buffer,
    );
  }
  const size = ctor.BYTES_PER_ELEMENT;
  const { byteOffset: off, length: len } = ref;
  if (
    !Number.isInteger(off) ||
    off < 0 ||
    off % size !== 0 ||
    !Number.isInteger(len) ||
    len < 0 ||
    off + len * size > ref.buffer.byteLength
  ) {
    throw badHandle(
      where,
      `handle.${field} must lie inside its buffer (${ref.buffer.byteLength} bytes), aligned to ${size}`,
      { byteOffset: off, length: len },
    );
  }
  return new ctor(ref.buffer, off, len);
}

/** What a thread attached from an {@link EvalHandle}: its ranker and the shared arrays. */
export class EvalAttachment {
  readonly id: string;
  readonly ranker: Ranker;
  readonly queries: Int32Array;
  readonly tailRanks: Float64Array;
  readonly headRanks: Float64Array;

  private constructor(id: string, ranker: Ranker, queries: Int32Array, ranks: Float64Array) {
    this.id = id;
    this.ranker = ranker;
    this.queries = queries;
    const q = queries.length / 3;
    this.tailRanks = ranks.subarray(0, q);
    this.headRanks = ranks.subarray(q, 2 * q);
  }

  /**
   * Wrap an evaluation's shared state in this thread: check the handle
   * (`E_BAD_HANDLE` naming the field), attach the filter, rebuild the model
   * by name, and create this thread's ranker (copying the entity table for
   * the WASM backend).
   */
  static attach(handle: EvalHandle): EvalAttachment {
    const where = 'EvalAttachment.attach';
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'kge-eval') {
      throw badHandle(where, "handle.kind must be 'kge-eval'", (handle as { kind?: unknown } | null)?.kind);
    }
    if (handle.version !== EVAL_HANDLE_VERSION)
      throw badHandle(where, `handle.version must be ${EVAL_HANDLE_VERSION}`, handle.version);
    if (typeof handle.id !== 'string') throw badHandle(where, 'handle.id must be a string', handle.id);
    const queries = viewOf(where, 'queries', handle.queries, Int32Array);
    const ranks = viewOf(where, 'ranks', handle.ranks, Float64Array);
    if (queries.length % 3 !== 0 || ranks.length !== (2 * queries.length) / 3) {
      throw badHandle(where, 'handle.ranks must hold 2 ranks per query triple', {
        queries: queries.length,
        ranks: ranks.length,
      });
    }
    const ranker = createRanker({
      model: createModel(handle.model),
      dim: handle.dim,
      entities: viewOf(where, 'entities', handle.entities, Float32Array),
      relations: viewOf(where, 'relations', handle.relations, Float32Array),
      filter: FilterIndex.attach(handle.filter),
      ties: handle.ties,
      backend: handle.backend,
      ...(handle.batch === undefined ? {} : { batch: handle.batch }),
      ...(handle.chunk === undefined ? {} : { chunk: handle.chunk }),
    });
    return new EvalAttachment(handle.id, ranker, queries, ranks);
  }

  /** Rank queries [start, end) into the shared ranks; returns the backend used. */
  rank(start: number, end: number): 'js' | 'wasm' {
    rankQueries(this.ranker, this.queries, start, end, this.tailRanks, this.headRanks);
    return this.ranker.backend;
  }
}

// ---------------------------------------------------------------- evaluate

export interface EvaluateOptions {
  /** A model; with worker threads it must be built-in (workers rebuild it by name). */
  readonly model: KgeModel;
  readonly dim: number;
  /** Entity table (SharedArrayBuffer-backed for worker threads), e.g. a parameter server's `view(0)`. */
  readonly entities: Float32Array;
  /** Relation table (SharedArrayBuffer-backed for worker threads), e.g. `relationView()`. */
  readonly relations: Float32Array;
  /** Source of the queries (its `split`) and, unless `filter` is given, of the filter (train + valid + test). */
  readonly dataset?: Dataset;
  /** Default `'test'`. */
  readonly split?: 'test' | 'valid' | 'train';
  /** The known true triples; default `FilterIndex.fromDataset(dataset)`. */
  readonly filter?: FilterIndex;
  /** Query triples; default `dataset[split].triples`. */
  readonly queries?: Int32Array;
  /**
   * Worker threads: 0 or 1 (without `pool`) runs in the calling thread.
   * Default: the pool's `maxThreads` when `pool` is given (then it only
   * sizes the tasks), else `os.availableParallelism()`.
   */
  readonly workers?: number;
  /**
   * An existing Piscina pool to run the tasks on (any `filename`: tasks name
   * the evaluation worker file and carry the handle). Not destroyed here.
   * Without it, `evaluate` creates a pool of `workers` threads and destroys it.
   */
  readonly pool?: Piscina;
  /** Tasks per worker thread (default 4): more balances better, fewer costs less. */
  readonly tasksPerWorker?: number;
  readonly ties?: TieRule;
  readonly backend?: EvalBackend;
  readonly batch?: number;
  readonly chunk?: number;
}

export interface EvaluationResult extends LinkPredictionMetrics {
  /** Per-query ranks, in query order. */
  readonly ranks: { readonly tail: Float64Array; readonly head: Float64Array };
  readonly ties: TieRule;
  /** The backend the rankers used. */
  readonly backend: 'js' | 'wasm';
  /** Threads that ranked (1 when in the calling thread). */
  readonly threads: number;
  /** Wall time of the whole call, filter building and pool start-up included. */
  readonly seconds: number;
}

/**
 * Filtered link prediction over `queries` (or a dataset split), in the
 * calling thread or over a Piscina pool. Every argument is checked on the
 * calling thread before any work starts: table sizes against the model's
 * shapes (`E_DIM_MISMATCH`), query ids (`E_OUT_OF_RANGE`), and for worker
 * threads shared-memory tables and a built-in model (`E_INVALID_ARGUMENT`).
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  const where = 'evaluate';
  const t0 = performance.now();
  if (options === null || typeof options !== 'object') throw invalidArgument(where, 'options', options, 'an object');
  const { dataset, pool } = options;
  const split = options.split ?? 'test';
  if (split !== 'test' && split !== 'valid' && split !== 'train')
    throw invalidArgument(where, 'split', split, "'test', 'valid' or 'train'");
  if (dataset === undefined && (options.filter === undefined || options.queries === undefined)) {
    throw invalidArgument(where, 'dataset', dataset, 'a Dataset, unless both filter and queries are given');
  }
  const filter = options.filter ?? FilterIndex.fromDataset(dataset!);
  let queries = options.queries ?? dataset![split].triples;
  if (!(queries instanceof Int32Array))
    throw invalidArgument(where, 'queries', queries, 'an Int32Array of (head, relation, tail) triplets');
  const rankerOptions: RankerOptions = { ...pick(options), filter };
  const checked = checkRankerOptions(where, rankerOptions);
  checkTriples(where, 'queries', queries, filter.numEntities, filter.numRelations);
  const count = queries.length / 3;
  if (count === 0) throw invalidArgument(where, 'queries', queries, 'at least one triple');
  const tasksPerWorker = checkOptionalInt(where, 'tasksPerWorker', options.tasksPerWorker, 1 << 16) ?? 4;
  const poolSize = pool === undefined ? undefined : pool.options.maxThreads;
  const workers = options.workers ?? poolSize ?? availableParallelism();
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0 || workers > 1024)
    throw invalidArgument(where, 'workers', workers, 'an integer in [0, 1024]');

  if (workers <= 1 && pool === undefined) {
    const ranker = new Ranker(rankerOptions, checked);
    const tail = new Float64Array(count);
    const head = new Float64Array(count);
    ranker.rankUnchecked(queries, 0, count, tail, head);
    return result(tail, head, checked.ties, ranker.backend, 1, t0);
  }

  let modelName: string;
  try {
    const rebuilt = createModel(checked.model.name);
    if (rebuilt.constructor !== checked.model.constructor) throw new Error('not built-in');
    modelName = checked.model.name;
  } catch {
    throw invalidArgument(
      where,
      'model',
      checked.model.name,
      'a built-in model (createModel) when ranking on worker threads: workers rebuild it by name; ' +
        'run a user-defined model with workers: 0',
    );
  }
  if (!(queries.buffer instanceof SharedArrayBuffer)) {
    const shared = new Int32Array(new SharedArrayBuffer(queries.byteLength));
    shared.set(queries);
    queries = shared;
  }
  const ranks = new Float64Array(new SharedArrayBuffer(16 * count));
  const handle: EvalHandle = {
    kind: 'kge-eval',
    version: EVAL_HANDLE_VERSION,
    id: randomUUID(),
    model: modelName,
    dim: checked.dim,
    entities: refOf(where, 'entities', options.entities),
    relations: refOf(where, 'relations', options.relations),
    filter: filter.handle,
    queries: refOf(where, 'queries', queries),
    ranks: refOf(where, 'ranks', ranks),
    ties: checked.ties,
    backend: checked.backend,
    ...(options.batch === undefined ? {} : { batch: options.batch }),
    ...(options.chunk === undefined ? {} : { chunk: options.chunk }),
  };
  const threads = Math.max(1, workers);
  // Ranges in whole blocks: a task of a multiple of the batch wastes no block.
  const unit = checked.batch ?? WASM_BATCH;
  const size = Math.max(1, Math.ceil(count / (threads * tasksPerWorker) / unit)) * unit;
  const ranges: [number, number][] = [];
  for (let s = 0; s < count; s += size) ranges.push([s, Math.min(count, s + size)]);

  let own: Piscina | undefined;
  let runner: Piscina;
  if (pool !== undefined) runner = pool;
  else {
    own = new Piscina({
      filename: EVAL_TASK_FILENAME,
      minThreads: threads,
      maxThreads: threads,
      workerData: { evalHandle: handle },
    });
    runner = own;
  }
  let backends: string[];
  try {
    // Each worker writes its ranks into `ranks` in place; a task's result
    // message is sent after its writes, so they are visible once it resolves.
    backends = await Promise.all(
      ranges.map(([start, end]) =>
        own !== undefined
          ? (runner.run({ start, end } satisfies EvalTask) as Promise<string>)
          : (runner.run({ start, end, handle } satisfies EvalTask, {
              filename: EVAL_TASK_FILENAME,
            }) as Promise<string>),
      ),
    );
  } finally {
    if (own !== undefined) await own.destroy();
  }
  const backend = backends.every((b) => b === 'wasm') ? 'wasm' : 'js';
  return result(ranks.slice(0, count), ranks.slice(count), checked.ties, backend, threads, t0);
}

function pick(o: EvaluateOptions): Omit<RankerOptions, 'filter'> {
  return {
    model: o.model,
    dim: o.dim,
    entities: o.entities,
    relations: o.relations,
    ...(o.ties === undefined ? {} : { ties: o.ties }),
    ...(o.backend === undefined ? {} : { backend: o.backend }),
    ...(o.batch === undefined ? {} : { batch: o.batch }),
    ...(o.chunk === undefined ? {} : { chunk: o.chunk }),
  };
}

function result(
  tail: Float64Array,
  head: Float64Array,
  ties: TieRule,
  backend: 'js' | 'wasm',
  threads: number,
  t0: number,
): EvaluationResult {
  const m = linkPredictionMetrics(tail, head);
  return { ...m, ranks: { tail, head }, ties, backend, threads, seconds: (performance.now() - t0) / 1000 };
}
