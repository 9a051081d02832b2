/**
 * A knowledge graph split into train / valid / test triples over integer
 * ids. Triples are stored as (head, relation, tail) int32 triplets in
 * SharedArrayBuffers, so every worker thread reads them in place.
 */

export interface TripleSplit {
  /** (head, relation, tail) per triple, 3 * count values, SharedArrayBuffer-backed. */
  readonly triples: Int32Array;
  readonly count: number;
}

/** What loading found and did, for the report a user sees. */
export interface DatasetReport {
  /** Duplicate triples dropped, per split. */
  readonly duplicatesDropped: { readonly train: number; readonly valid: number; readonly test: number };
  /**
   * Valid/test triples whose head, relation or tail never occurs in train:
   * counted and excluded (as PyKEEN does), per split.
   */
  readonly unseenExcluded: { readonly valid: number; readonly test: number };
  /** Free-form notices (e.g. "train.tsv: 3 duplicate triples dropped"). */
  readonly notices: readonly string[];
}

export interface Dataset {
  readonly name: string;
  /** Entity names by id. */
  readonly entities: readonly string[];
  /** Relation names by id. */
  readonly relations: readonly string[];
  readonly train: TripleSplit;
  readonly valid: TripleSplit;
  readonly test: TripleSplit;
  readonly report: DatasetReport;
}

/** Copy `values` (3 per triple) into a SharedArrayBuffer-backed split. */
export function sharedSplit(values: ArrayLike<number>): TripleSplit {
  const triples = new Int32Array(new SharedArrayBuffer(Math.max(4, values.length * 4)), 0, values.length);
  triples.set(values);
  return { triples, count: values.length / 3 };
}

/**
 * Build a dataset from string triples: ids are assigned in order of first
 * appearance in train (then valid, then test, though valid/test triples
 * naming anything unseen in train are excluded and counted). Duplicate
 * triples within a split are dropped and counted.
 */
export function buildDataset(
  name: string,
  splits: {
    readonly train: readonly (readonly [string, string, string])[];
    readonly valid: readonly (readonly [string, string, string])[];
    readonly test: readonly (readonly [string, string, string])[];
  },
  notices: string[] = [],
): Dataset {
  const entityIds = new Map<string, number>();
  const relationIds = new Map<string, number>();
  const entities: string[] = [];
  const relations: string[] = [];
  const idOf = (map: Map<string, number>, list: string[], key: string): number => {
    let id = map.get(key);
    if (id === undefined) {
      id = list.length;
      map.set(key, id);
      list.push(key);
    }
    return id;
  };
  const dedupe = (
    rows: readonly (readonly [string, string, string])[],
    toIds: (t: readonly [string, string, string]) => number[] | null,
  ) => {
    const seen = new Set<string>();
    const out: number[] = [];
    let dups = 0;
    let unseen = 0;
    for (const t of rows) {
      const ids = toIds(t);
      if (ids === null) {
        unseen++;
        continue;
      }
      const key = `${ids[0]}\t${ids[1]}\t${ids[2]}`;
      if (seen.has(key)) {
        dups++;
        continue;
      }
      seen.add(key);
      out.push(ids[0]!, ids[1]!, ids[2]!);
    }
    return { out, dups, unseen };
  };
  const train = dedupe(splits.train, ([h, r, t]) => [
    idOf(entityIds, entities, h),
    idOf(relationIds, relations, r),
    idOf(entityIds, entities, t),
  ]);
  const known = ([h, r, t]: readonly [string, string, string]): number[] | null => {
    const hi = entityIds.get(h);
    const ri = relationIds.get(r);
    const ti = entityIds.get(t);
    return hi === undefined || ri === undefined || ti === undefined ? null : [hi, ri, ti];
  };
  const valid = dedupe(splits.valid, known);
  const test = dedupe(splits.test, known);
  return {
    name,
    entities,
    relations,
    train: sharedSplit(train.out),
    valid: sharedSplit(valid.out),
    test: sharedSplit(test.out),
    report: {
      duplicatesDropped: { train: train.dups, valid: valid.dups, test: test.dups },
      unseenExcluded: { valid: valid.unseen, test: test.unseen },
      notices,
    },
  };
}
