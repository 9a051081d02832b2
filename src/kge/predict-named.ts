/**
 * Predictions and nearest neighbours by name, over saved or exported
 * embeddings (`openEmbeddings`): what `kgshard predict` and `kgshard
 * similar` call. Names are resolved with `NameIndex` (an unknown name is
 * one error naming it, where it came from, and the closest known names);
 * the work is `predict.ts`'s and `similar.ts`'s.
 *
 * The filter comes from a dataset matched to the embeddings by name
 * ({@link knownTriples}): the embeddings' own ids stay the ids predicted
 * over, so every saved entity is a candidate, and a known triple that
 * names something without an embedding cannot be predicted and is dropped.
 */
import type { Dataset } from '../data/dataset.js';
import { NameIndex } from '../data/names.js';
import type { NamedQuery } from '../data/queries.js';
import { invalidArgument } from '../errors.js';
import type { EmbeddingTables, Embeddings } from '../store/embeddings/types.js';
import { FilterIndex } from './filter.js';
import type { KgeModel } from './model.js';
import { createModel } from './models/index.js';
import { ASKED, createPredictor, type PredictBackend } from './predict.js';
import { createNeighbourIndex, type SimilarityMetric } from './similar.js';

export type KnownSplit = 'train' | 'valid' | 'test';
export const KNOWN_SPLITS: readonly KnownSplit[] = ['train', 'valid', 'test'];

/** Known triples over the embeddings' ids. */
export interface KnownTriples {
  readonly filter: FilterIndex;
  /** The splits indexed. */
  readonly splits: readonly KnownSplit[];
  /** Distinct known triples indexed. */
  readonly triples: number;
  /** Triples left out because an entity or relation of theirs has no embedding. */
  readonly dropped: number;
}

/**
 * The triples of `dataset`'s `splits` (default all three) as a
 * `FilterIndex` over `embeddings`' entity and relation ids, matched by
 * name. Triples naming an entity or relation the embeddings lack are
 * counted in `dropped` and left out.
 */
export function knownTriples(
  embeddings: EmbeddingTables,
  dataset: Dataset,
  splits: readonly KnownSplit[] = KNOWN_SPLITS,
): KnownTriples {
  const where = 'knownTriples';
  for (const s of splits)
    if (!KNOWN_SPLITS.includes(s)) throw invalidArgument(where, 'splits', s, `one of ${KNOWN_SPLITS.join(', ')}`);
  const eIndex = new NameIndex('entity', embeddings.entities);
  const rIndex = new NameIndex('relation', embeddings.relations);
  const eMap = Int32Array.from(dataset.entities, (name) => eIndex.get(name));
  const rMap = Int32Array.from(dataset.relations, (name) => rIndex.get(name));
  let dropped = 0;
  const named = [...new Set(splits)].map((name) => {
    const src = dataset[name].triples;
    const out = new Int32Array(src.length);
    let n = 0;
    for (let i = 0; i < src.length; i += 3) {
      const h = eMap[src[i]!]!;
      const r = rMap[src[i + 1]!]!;
      const t = eMap[src[i + 2]!]!;
      if (h < 0 || r < 0 || t < 0) {
        dropped++;
        continue;
      }
      out[n++] = h;
      out[n++] = r;
      out[n++] = t;
    }
    return { name, triples: out.subarray(0, n) };
  });
  const filter = FilterIndex.build(embeddings.entities.length, embeddings.relations.length, named);
  return { filter, splits: named.map((s) => s.name), triples: filter.count, dropped };
}

/** One result: its 1-based rank, the entity (or relation) id and name, and its score. */
export interface NamedResult {
  readonly rank: number;
  readonly id: number;
  readonly name: string;
  readonly score: number;
}

export interface NamedPrediction {
  /** The query's head, or null when the head is asked for. */
  readonly head: string | null;
  readonly relation: string;
  readonly tail: string | null;
  /** The side predicted. */
  readonly asked: 'head' | 'tail';
  /** Entities the filter left out (known answers). */
  readonly filtered: number;
  readonly results: readonly NamedResult[];
}

export interface NamedPredictOptions {
  /** Results per query (default 10; at most the number of entities). */
  readonly k?: number;
  /** Known triples over the embeddings' ids ({@link knownTriples}); default none. */
  readonly filter?: FilterIndex | null;
  /** Default `'auto'`. */
  readonly backend?: PredictBackend;
  /** The model; default `createModel(embeddings.model)`. */
  readonly model?: KgeModel;
}

export interface NamedPredictions {
  readonly backend: 'js' | 'wasm';
  readonly k: number;
  /** Seconds spent predicting (names resolved, predictor created, queries answered). */
  readonly seconds: number;
  readonly predictions: NamedPrediction[];
}

/**
 * The top k tails or heads of each query, by name. Every name is resolved
 * before any work: an unknown one throws `E_UNKNOWN_ID`
 * `<source>: unknown entity "name"; closest: "a", "b", "c"`, where source is
 * the query's `source` (a file's `file:line`, or a flag) or `query N`.
 */
export function predictNamed(
  embeddings: Embeddings,
  queries: readonly NamedQuery[],
  options: NamedPredictOptions = {},
): NamedPredictions {
  const t0 = performance.now();
  const entities = new NameIndex('entity', embeddings.entities);
  const relations = new NameIndex('relation', embeddings.relations);
  const ids = new Int32Array(3 * queries.length);
  queries.forEach((q, i) => {
    const where = q.source ?? `query ${i + 1}`;
    ids[3 * i] = q.head === undefined ? ASKED : entities.resolve(q.head, where);
    ids[3 * i + 1] = relations.resolve(q.relation, where);
    ids[3 * i + 2] = q.tail === undefined ? ASKED : entities.resolve(q.tail, where);
  });
  const predictor = createPredictor({
    model: options.model ?? createModel(embeddings.model),
    dim: embeddings.dim,
    entities: embeddings.entityTable,
    relations: embeddings.relationTable,
    filter: options.filter ?? null,
    backend: options.backend ?? 'auto',
  });
  const p = predictor.predict(ids, options.k ?? 10);
  const predictions = queries.map((q, i): NamedPrediction => {
    const results: NamedResult[] = [];
    for (let j = 0; j < p.counts[i]!; j++) {
      const id = p.ids[i * p.k + j]!;
      results.push({ rank: j + 1, id, name: embeddings.entities[id]!, score: p.scores[i * p.k + j]! });
    }
    return {
      head: q.head ?? null,
      relation: q.relation,
      tail: q.tail ?? null,
      asked: q.head === undefined ? 'head' : 'tail',
      filtered: p.filtered[i]!,
      results,
    };
  });
  return { backend: predictor.backend, k: p.k, seconds: (performance.now() - t0) / 1000, predictions };
}

export interface NamedNeighbours {
  readonly kind: 'entity' | 'relation';
  readonly name: string;
  readonly id: number;
  readonly metric: SimilarityMetric;
  readonly backend: 'js' | 'wasm';
  readonly seconds: number;
  /** Closest first: cosine similarity (highest first) or L2 distance (smallest first). */
  readonly results: readonly NamedResult[];
}

export interface NamedSimilarOptions {
  /** Neighbours (default 10). */
  readonly k?: number;
  /** Default `'cosine'`. */
  readonly metric?: SimilarityMetric;
  readonly backend?: PredictBackend;
  /** Where the name came from, for an unknown name's error (default `similar`). */
  readonly source?: string;
}

/**
 * The nearest entities to an entity, or relations to a relation, of saved
 * embeddings, by name (an unknown name throws as in {@link predictNamed}).
 * The row itself is left out.
 */
export function similarNamed(
  embeddings: Embeddings,
  of: { readonly entity: string } | { readonly relation: string },
  options: NamedSimilarOptions = {},
): NamedNeighbours {
  const t0 = performance.now();
  const kind = 'entity' in of ? 'entity' : 'relation';
  const names = kind === 'entity' ? embeddings.entities : embeddings.relations;
  const table = kind === 'entity' ? embeddings.entityTable : embeddings.relationTable;
  const name = 'entity' in of ? of.entity : of.relation;
  const id = new NameIndex(kind, names).resolve(name, options.source ?? 'similar');
  const index = createNeighbourIndex({
    table,
    width: kind === 'entity' ? embeddings.entityWidth : embeddings.relationWidth,
    metric: options.metric ?? 'cosine',
    backend: options.backend ?? 'auto',
  });
  const r = index.nearest(Int32Array.of(id), options.k ?? 10);
  const results: NamedResult[] = [];
  for (let j = 0; j < r.counts[0]!; j++) {
    const nb = r.ids[j]!;
    results.push({ rank: j + 1, id: nb, name: names[nb]!, score: r.scores[j]! });
  }
  return {
    kind,
    name,
    id,
    metric: index.metric,
    backend: index.backend,
    seconds: (performance.now() - t0) / 1000,
    results,
  };
}
