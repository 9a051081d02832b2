/**
 * The split rule of the built-in WordNet graphs: the k-core, the
 * valid/test draw and (for `wordnet-lf`) the leak-free filter (see
 * `../wordnet.ts` for the whole pipeline).
 */
import { resolve } from 'node:path';
import { datasetError, invalidArgument } from '../../errors.js';
import type { StringTriple } from '../tsv.js';
import { mulberry32 } from '../../prng.js';
import { parseWordnet, RELATION_INDEX, WORDNET_POINTERS, type WordnetRelation } from './parse.js';

export interface WordnetRule {
  /** The entity filter keeps the k-core of the graph with this k. */
  readonly minDegree: number;
  /** Triples held out for validation. */
  readonly validSize: number;
  /** Triples held out for testing. */
  readonly testSize: number;
  /** Seed of the mulberry32 shuffle that picks the held-out triples. */
  readonly seed: number;
  /**
   * Leak-free build (`wordnet-lf`): the same entities (the k-core is taken
   * on the graph with both directions), then the symmetric relations keep
   * one direction only (head before tail in canonical order), and a triple
   * whose reverse (t, any relation, h) is in the graph is never held out, so
   * no valid or test triple has its reverse in train. Absent or false: both
   * directions, as WN18RR.
   */
  readonly leakFree?: boolean;
}

/** The rule of the built-in dataset. Changing it invalidates every cache. */
export const WORDNET_RULE: WordnetRule = Object.freeze({ minDegree: 3, validSize: 3000, testSize: 3000, seed: 42 });

/** The rule of the leak-free built-in dataset (`--dataset wordnet-lf`). */
export const WORDNET_LF_RULE: WordnetRule = Object.freeze({ ...WORDNET_RULE, leakFree: true });

/** The built-in graphs by name. */
export const BUILTIN_DATASETS = ['wordnet', 'wordnet-lf'] as const;
export type BuiltinDataset = (typeof BUILTIN_DATASETS)[number];

/** What parsing and filtering found, for reports. */
export interface WordnetStats {
  /** Synset lines read, over the four data files. */
  readonly synsets: number;
  /** Pointers read, by pointer symbol (`+ lex` etc. not separated). */
  readonly pointers: Readonly<Record<string, number>>;
  /** Pointers of the 11 kept kinds. */
  readonly pointersKept: number;
  /** Of those, lexical ones (source/target ≠ 0000), mapped to their synsets. */
  readonly lexicalPointersKept: number;
  /** Inverse pointers dropped (`~ ~i #m #p -c ;u ;r`). */
  readonly inversePointersDropped: number;
  /** Pointers of other kinds dropped (antonym, attribute, ...). */
  readonly otherPointersDropped: number;
  /** Kept pointers from a synset to itself, dropped. */
  readonly selfLoopsDropped: number;
  /** Reverse triples of symmetric relations that no pointer gave, added. */
  readonly symmetricReversesAdded: number;
  /** The graph before the entity filter. */
  readonly graph: { readonly entities: number; readonly triples: number };
  /** The graph after it (the k-core). */
  readonly core: { readonly minDegree: number; readonly entities: number; readonly triples: number };
  /**
   * The split sizes, the drawn triples kept in train to keep an entity or
   * relation there, and (leak-free) those kept in train because their
   * reverse is in the graph.
   */
  readonly split: {
    readonly train: number;
    readonly valid: number;
    readonly test: number;
    readonly keptInTrain: number;
    readonly reverseKeptInTrain?: number;
  };
  /**
   * Leak-free: the symmetric triples of the core dropped as the reverse of one
   * kept (head after tail in canonical order).
   */
  readonly symmetricOneWayDropped?: number;
}

/** The synset graph read from a dict directory, before any filter. */
export interface WordnetGraph {
  /** Entity names, sorted; triples refer to them by index. */
  readonly entities: readonly string[];
  /** `WORDNET_RELATIONS`; triples refer to them by index. */
  readonly relations: readonly WordnetRelation[];
  /** (head, relation, tail) per triple, in canonical order, no duplicates. */
  readonly triples: Int32Array;
  readonly stats: Omit<WordnetStats, 'core' | 'split'>;
}

export interface WordnetBuild {
  readonly train: StringTriple[];
  readonly valid: StringTriple[];
  readonly test: StringTriple[];
  readonly rule: WordnetRule;
  readonly stats: WordnetStats;
}

/**
 * Keep the k-core: remove entities in fewer than `k` triples, with their
 * triples, until none is left. Returns a keep flag per triple.
 */
export function kCore(numEntities: number, triples: Int32Array, k: number): Uint8Array {
  const m = triples.length / 3;
  const alive = new Uint8Array(m).fill(1);
  const degree = new Int32Array(numEntities);
  for (let j = 0; j < m; j++) {
    degree[triples[3 * j]!]!++;
    degree[triples[3 * j + 2]!]!++;
  }
  // Incidence lists in CSR form: for each entity, the triples it is in.
  const start = new Int32Array(numEntities + 1);
  for (let e = 0; e < numEntities; e++) start[e + 1] = start[e]! + degree[e]!;
  const fill = start.slice(0, numEntities);
  const incident = new Int32Array(2 * m);
  for (let j = 0; j < m; j++) {
    incident[fill[triples[3 * j]!]!++] = j;
    incident[fill[triples[3 * j + 2]!]!++] = j;
  }
  const removed = new Uint8Array(numEntities);
  const queue: number[] = [];
  for (let e = 0; e < numEntities; e++) {
    if (degree[e]! < k) {
      removed[e] = 1;
      queue.push(e);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const e = queue[q]!;
    for (let p = start[e]!; p < start[e + 1]!; p++) {
      const j = incident[p]!;
      if (alive[j] === 0) continue;
      alive[j] = 0;
      const h = triples[3 * j]!;
      const t = triples[3 * j + 2]!;
      const other = h === e ? t : h;
      degree[h]!--;
      degree[t]!--;
      if (removed[other] === 0 && degree[other]! < k) {
        removed[other] = 1;
        queue.push(other);
      }
    }
  }
  return alive;
}

function checkRule(where: string, rule: WordnetRule): void {
  for (const field of ['minDegree', 'validSize', 'testSize'] as const) {
    const v = rule[field];
    if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(where, `rule.${field}`, v, 'a non-negative integer');
  }
  if (!Number.isSafeInteger(rule.seed)) throw invalidArgument(where, 'rule.seed', rule.seed, 'an integer');
  if (rule.leakFree !== undefined && typeof rule.leakFree !== 'boolean')
    throw invalidArgument(where, 'rule.leakFree', rule.leakFree, 'a boolean');
}

/**
 * Build the dataset from a WordNet dict directory by the rule above
 * (`rule` overrides parts of `WORDNET_RULE`, e.g. for a tiny fixture).
 * Deterministic: the same files and rule give the same splits. Throws
 * `E_DATASET` when the graph is too small to hold out the requested sizes.
 */
export function buildWordnet(dictDir: string, rule: Partial<WordnetRule> = {}): WordnetBuild {
  const r: WordnetRule = { ...WORDNET_RULE, ...rule };
  checkRule('buildWordnet', r);
  const graph = parseWordnet(dictDir);
  const { entities, relations, triples } = graph;
  const alive = kCore(entities.length, triples, r.minDegree);
  let symmetricOneWayDropped = 0;
  if (r.leakFree === true) {
    // One direction of each symmetric pair: the head is the canonically smaller entity.
    const symmetric = new Set(
      Object.values(WORDNET_POINTERS)
        .filter((p) => p.symmetric)
        .map((p) => RELATION_INDEX.get(p.relation)!),
    );
    for (let j = 0; j < alive.length; j++) {
      if (alive[j] === 1 && symmetric.has(triples[3 * j + 1]!) && triples[3 * j]! > triples[3 * j + 2]!) {
        alive[j] = 0;
        symmetricOneWayDropped++;
      }
    }
  }

  // The core, still in canonical order, and its degrees in train.
  const core: number[] = [];
  for (let j = 0; j < alive.length; j++) if (alive[j] === 1) core.push(j);
  const entityCount = new Int32Array(entities.length);
  const relationCount = new Int32Array(relations.length);
  const coreEntities = new Set<number>();
  for (const j of core) {
    entityCount[triples[3 * j]!]!++;
    relationCount[triples[3 * j + 1]!]!++;
    entityCount[triples[3 * j + 2]!]!++;
    coreEntities.add(triples[3 * j]!);
    coreEntities.add(triples[3 * j + 2]!);
  }

  // Seeded Fisher-Yates over the canonical order.
  const shuffled = core.slice();
  const random = mulberry32(r.seed);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const k = Math.floor(random() * (i + 1));
    const tmp = shuffled[i]!;
    shuffled[i] = shuffled[k]!;
    shuffled[k] = tmp;
  }
  // Leak-free: the (head, tail) pairs of the core, to find a triple's reverse under any relation.
  const pairs = new Set<number>();
  if (r.leakFree === true) for (const j of core) pairs.add(triples[3 * j]! * entities.length + triples[3 * j + 2]!);
  const where = new Uint8Array(triples.length / 3); // 0 train, 1 valid, 2 test
  let valid = 0;
  let test = 0;
  let keptInTrain = 0;
  let reverseKeptInTrain = 0;
  for (const j of shuffled) {
    if (valid >= r.validSize && test >= r.testSize) break;
    const h = triples[3 * j]!;
    const rel = triples[3 * j + 1]!;
    const t = triples[3 * j + 2]!;
    if (r.leakFree === true && pairs.has(t * entities.length + h)) {
      reverseKeptInTrain++;
      continue;
    }
    if (entityCount[h]! <= 1 || entityCount[t]! <= 1 || relationCount[rel]! <= 1) {
      keptInTrain++;
      continue;
    }
    entityCount[h]!--;
    entityCount[t]!--;
    relationCount[rel]!--;
    if (valid < r.validSize && (valid <= test || test >= r.testSize)) {
      where[j] = 1;
      valid++;
    } else {
      where[j] = 2;
      test++;
    }
  }
  if (valid < r.validSize || test < r.testSize) {
    throw datasetError(
      resolve(dictDir),
      `the ${r.minDegree}-core has ${core.length} triples; ` +
        `cannot hold out ${r.validSize} valid and ${r.testSize} test triples ` +
        'and keep every entity and relation in train',
      {
        core: core.length,
        valid,
        test,
      },
    );
  }
  const out: [StringTriple[], StringTriple[], StringTriple[]] = [[], [], []];
  for (const j of core) {
    out[where[j]!]!.push([entities[triples[3 * j]!]!, relations[triples[3 * j + 1]!]!, entities[triples[3 * j + 2]!]!]);
  }
  const [trainRows, validRows, testRows] = out;
  return {
    train: trainRows,
    valid: validRows,
    test: testRows,
    rule: r,
    stats: {
      ...graph.stats,
      core: { minDegree: r.minDegree, entities: coreEntities.size, triples: core.length },
      split: {
        train: trainRows.length,
        valid: validRows.length,
        test: testRows.length,
        keptInTrain,
        ...(r.leakFree === true ? { reverseKeptInTrain } : {}),
      },
      ...(r.leakFree === true ? { symmetricOneWayDropped } : {}),
    },
  };
}
