/**
 * Reading the WordNet 3.0 database files (`data.noun`, `data.verb`, ...) into
 * a graph of synsets and WN18RR's relations (see `../wordnet.ts` for the
 * whole pipeline).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetError, parseError } from '../../errors.js';
import { resolve } from 'node:path';
import type { WordnetGraph } from './split.js';

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

const DATA_FILES = [
  { file: 'data.noun', pos: 'n', types: 'n' },
  { file: 'data.verb', pos: 'v', types: 'v' },
  { file: 'data.adj', pos: 'a', types: 'as' },
  { file: 'data.adv', pos: 'r', types: 'r' },
] as const;

const POINTER_POS: Readonly<Record<string, string>> = { n: 'n', v: 'v', a: 'a', s: 'a', r: 'r' };
const OFFSET_RE = /^\d{8}$/;
/** Index of each WN18RR relation in `WORDNET_RELATIONS`. */
export const RELATION_INDEX = new Map<string, number>(WORDNET_RELATIONS.map((r, i) => [r, i]));
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
