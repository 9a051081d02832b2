/**
 * Write a dataset's split out as `train.tsv`, `valid.tsv` and `test.tsv`
 * (`head<TAB>relation<TAB>tail` by name, one triple a line, in split
 * order), the form the TSV loader and other tools (the reference trainer
 * among them) read, so they train on exactly the same data. Plus a summary
 * of a split's counts for reports.
 *
 * Each file is written to a temporary name in the same directory, flushed
 * and renamed over the target, so a reader never sees a half-written file.
 * The three renames are separate: a reader racing a writer may see files
 * from two writes (the WordNet cache guards against that with hashes in a
 * manifest written last).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { datasetError, invalidArgument } from '../errors.js';
import type { Dataset, TripleSplit } from './dataset.js';
import { writeFileAtomic } from '../atomic-write.js';
import { CLEAN_NAME, cleanName } from './text-input.js';

const SPLITS = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface WrittenFile {
  readonly path: string;
  readonly triples: number;
  readonly bytes: number;
  /** SHA-256 of the file's bytes, hex. */
  readonly sha256: string;
}

export interface WrittenSplit {
  readonly dir: string;
  readonly files: { readonly train: WrittenFile; readonly valid: WrittenFile; readonly test: WrittenFile };
}

/** The TSV text of one split: a line per triple, each ending in `\n`. */
export function splitTsv(dataset: Dataset, split: SplitName): string {
  const { triples, count } = dataset[split];
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const h = dataset.entities[triples[3 * i]!];
    const r = dataset.relations[triples[3 * i + 1]!];
    const t = dataset.entities[triples[3 * i + 2]!];
    lines[i] = `${h}\t${r}\t${t}\n`;
  }
  return lines.join('');
}

/**
 * Write `train.tsv`, `valid.tsv` and `test.tsv` into `dir` (created if
 * missing), each atomically, replacing files of those names. Throws
 * `E_INVALID_ARGUMENT` for a name that a TSV line cannot hold (empty, or
 * with a tab or line break) and `E_DATASET` when the directory or a file
 * cannot be written.
 */
export function writeSplit(dataset: Dataset, dir: string): WrittenSplit {
  checkNames('writeSplit', 'entities', dataset.entities);
  checkNames('writeSplit', 'relations', dataset.relations);
  for (const split of SPLITS) checkIds('writeSplit', dataset, split, dataset[split]);
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw datasetError(out, `cannot create the directory (${errnoText(e)})`);
  }
  const files = {} as Record<SplitName, WrittenFile>;
  for (const split of SPLITS) {
    const path = join(out, `${split}.tsv`);
    const bytes = Buffer.from(splitTsv(dataset, split), 'utf8');
    writeAtomic(path, bytes);
    files[split] = {
      path,
      triples: dataset[split].count,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  }
  return { dir: out, files };
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ?? (e instanceof Error ? e.message : String(e));
}

function checkNames(where: string, field: string, names: readonly string[]): void {
  names.forEach((name, i) => {
    if (!cleanName(name)) throw invalidArgument(where, `${field}[${i}]`, name, CLEAN_NAME);
  });
}

function checkIds(where: string, dataset: Dataset, split: SplitName, s: TripleSplit): void {
  const E = dataset.entities.length;
  const R = dataset.relations.length;
  for (let i = 0; i < s.count; i++) {
    const h = s.triples[3 * i]!;
    const r = s.triples[3 * i + 1]!;
    const t = s.triples[3 * i + 2]!;
    if (!(h >= 0 && h < E && r >= 0 && r < R && t >= 0 && t < E)) {
      throw invalidArgument(where, `${split} triple ${i}`, [h, r, t], `ids below ${E} entities and ${R} relations`);
    }
  }
}

// ---------------------------------------------------------------- summary

export interface RelationSummary {
  readonly relation: string;
  readonly train: number;
  readonly valid: number;
  readonly test: number;
  /** Valid triples (h, r, t) of this relation with (t, r, h) in train. */
  readonly validReverseInTrain: number;
  /** Test triples (h, r, t) of this relation with (t, r, h) in train. */
  readonly testReverseInTrain: number;
}

export interface ReverseCounts {
  /** Triples (h, r, t) with (t, r, h) in train. */
  readonly sameRelation: number;
  /** Triples (h, r, t) with (t, r', h) in train for some relation r'. */
  readonly anyRelation: number;
}

export interface SplitSummary {
  readonly name: string;
  readonly entities: number;
  readonly relations: number;
  readonly triples: { readonly train: number; readonly valid: number; readonly test: number; readonly total: number };
  readonly reverseInTrain: { readonly valid: ReverseCounts; readonly test: ReverseCounts };
  /** By relation id. */
  readonly perRelation: readonly RelationSummary[];
}

/** Counts of a dataset's split, with how many held-out triples have their reverse in train. */
export function splitSummary(dataset: Dataset): SplitSummary {
  const E = dataset.entities.length;
  const R = dataset.relations.length;
  // Relations of train per (head, tail) pair; pair keys are exact below ~94M entities.
  const pairs = new Map<number, number[]>();
  const train = dataset.train;
  const per = dataset.relations.map((relation) => ({
    relation,
    train: 0,
    valid: 0,
    test: 0,
    validReverseInTrain: 0,
    testReverseInTrain: 0,
  }));
  for (let i = 0; i < train.count; i++) {
    const h = train.triples[3 * i]!;
    const r = train.triples[3 * i + 1]!;
    const t = train.triples[3 * i + 2]!;
    per[r]!.train++;
    const key = h * E + t;
    const rs = pairs.get(key);
    if (rs === undefined) pairs.set(key, [r]);
    else rs.push(r);
  }
  const reverse = (split: 'valid' | 'test'): ReverseCounts => {
    const s = dataset[split];
    let same = 0;
    let any = 0;
    for (let i = 0; i < s.count; i++) {
      const h = s.triples[3 * i]!;
      const r = s.triples[3 * i + 1]!;
      const t = s.triples[3 * i + 2]!;
      const row = per[r]!;
      row[split]++;
      const rs = pairs.get(t * E + h);
      if (rs === undefined) continue;
      any++;
      if (rs.includes(r)) {
        same++;
        if (split === 'valid') row.validReverseInTrain++;
        else row.testReverseInTrain++;
      }
    }
    return { sameRelation: same, anyRelation: any };
  };
  const valid = reverse('valid');
  const test = reverse('test');
  return {
    name: dataset.name,
    entities: E,
    relations: R,
    triples: {
      train: train.count,
      valid: dataset.valid.count,
      test: dataset.test.count,
      total: train.count + dataset.valid.count + dataset.test.count,
    },
    reverseInTrain: { valid, test },
    perRelation: per,
  };
}

/** The summary as a Markdown table (a row per relation, then the totals), for the README. */
export function summaryTable(summary: SplitSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const rows = [
    '| relation | train | valid | test | test with reverse in train |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...summary.perRelation.map(
      (r) => `| \`${r.relation}\` | ${n(r.train)} | ${n(r.valid)} | ${n(r.test)} | ${n(r.testReverseInTrain)} |`,
    ),
    `| **all ${summary.relations} relations** | ` +
      `${n(summary.triples.train)} | ${n(summary.triples.valid)} | ${n(summary.triples.test)} | ` +
      `${n(summary.reverseInTrain.test.sameRelation)} |`,
  ];
  return `${rows.join('\n')}\n`;
}

function writeAtomic(path: string, bytes: Buffer): void {
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw datasetError(path, `cannot write the split file (${errnoText(e)})`);
  }
}
