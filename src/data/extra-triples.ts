/**
 * Extra training triples for a dataset that grows while it trains
 * (`growAt`): a directory holding `train.tsv` or `train.txt`, read against
 * the dataset's names. Relations must be known; entities not seen before
 * become new entities, numbered after the dataset's in order of first
 * appearance. Triples already in the train split, or repeated in the file,
 * are left out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetError, parseError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { forEachTabLine } from './tsv.js';

export interface ExtraTriples {
  /** The file read. */
  readonly file: string;
  /** (head, relation, tail) ids, 3 per triple, new entities numbered after the dataset's. */
  readonly triples: Int32Array;
  /** Names of the new entities, in id order. */
  readonly newEntities: readonly string[];
  /** Triples left out as already in the train split or repeated. */
  readonly duplicates: number;
}

/** Read `dir`'s extra train triples against `dataset` (see the module note). */
export function readExtraTriples(
  dir: string,
  dataset: Pick<Dataset, 'entities' | 'relations' | 'train'>,
): ExtraTriples {
  const file = ['train.tsv', 'train.txt'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (file === undefined) throw datasetError(dir, 'no train.tsv or train.txt of extra triples in this directory');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw datasetError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'unknown'})`);
  }
  const entityId = new Map(dataset.entities.map((n, i) => [n, i]));
  const relationId = new Map(dataset.relations.map((n, i) => [n, i]));
  const known = new Set<string>();
  const t = dataset.train.triples;
  for (let i = 0; i < dataset.train.count; i++) known.add(`${t[3 * i]},${t[3 * i + 1]},${t[3 * i + 2]}`);
  const newEntities: string[] = [];
  const idOf = (name: string): number => {
    let id = entityId.get(name);
    if (id === undefined) {
      id = dataset.entities.length + newEntities.length;
      entityId.set(name, id);
      newEntities.push(name);
    }
    return id;
  };
  const out: number[] = [];
  let duplicates = 0;
  forEachTabLine(text, file, 'head, relation, tail', ([h, r, tl], lineNo, line) => {
    const rel = relationId.get(r);
    if (rel === undefined)
      throw parseError(
        file,
        lineNo,
        `unknown relation ${JSON.stringify(r)} (extra triples use the dataset's relations)`,
        line,
      );
    const hi = idOf(h);
    const ti = idOf(tl);
    const key = `${hi},${rel},${ti}`;
    if (known.has(key)) {
      duplicates++;
      return;
    }
    known.add(key);
    out.push(hi, rel, ti);
  });
  return { file, triples: Int32Array.from(out), newEntities, duplicates };
}
