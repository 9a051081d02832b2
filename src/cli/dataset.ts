/**
 * `--dataset wordnet|DIR` for every command, and `kgshard dataset`: load a
 * dataset, print its summary (counts per split and relation, held-out
 * triples whose reverse is in train), and with `--write DIR` write the split
 * out as train.tsv / valid.tsv / test.tsv.
 */
import { resolve } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { KgError } from '../errors.js';
import { writeSplit, splitSummary, summaryTable, type WrittenSplit } from '../data/split-writer.js';
import { loadTsvDir } from '../data/tsv.js';
import { BUILTIN_DATASETS, loadWordnetWithInfo, type BuiltinDataset } from '../data/wordnet.js';
import { bool, parseFlags, str, type FlagSpecs } from './flags.js';

export interface OpenedDataset {
  readonly dataset: Dataset;
  /** `wordnet`, or the TSV directory's absolute path. */
  readonly source: string;
  /** What `config.json` records, so `kgshard eval` can load the same data. */
  readonly ref: { readonly name: string; readonly path?: string };
  readonly notices: readonly string[];
}

/**
 * `wordnet` is the built-in graph; anything else is a directory of
 * train/valid/test `.tsv`/`.txt` files (the loader's errors, `file:line:
 * problem` for a malformed line, propagate).
 */
export function openDataset(spec: string, options: { rebuild?: boolean } = {}): OpenedDataset {
  if ((BUILTIN_DATASETS as readonly string[]).includes(spec)) {
    const variant = spec as BuiltinDataset;
    const w = loadWordnetWithInfo({ rebuild: options.rebuild === true, variant });
    return { dataset: w.dataset, source: variant, ref: { name: variant }, notices: w.dataset.report.notices };
  }
  const dir = resolve(spec);
  let dataset: Dataset;
  try {
    dataset = loadTsvDir(dir);
  } catch (e) {
    // A mistyped name is the likeliest cause of a missing directory: say what --dataset takes.
    if (
      e instanceof KgError &&
      e.code === 'E_DATASET' &&
      e.details['errno'] === 'ENOENT' &&
      e.details['path'] === dir
    ) {
      throw new KgError(
        e.code,
        `--dataset ${JSON.stringify(spec)}: ${e.message} ` +
          '(--dataset takes wordnet, wordnet-lf or a directory of train/valid/test .tsv or .txt files)',
        e.details,
      );
    }
    throw e;
  }
  return { dataset, source: dir, ref: { name: dataset.name, path: dir }, notices: dataset.report.notices };
}

/** One line: `wordnet: 38,189 entities, 11 relations, 86,835 / 3,000 / 3,000 train / valid / test triples`. */
export function datasetLine(d: Dataset): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return (
    `${d.name}: ${n(d.entities.length)} entities, ${n(d.relations.length)} relations, ` +
    `${n(d.train.count)} / ${n(d.valid.count)} / ${n(d.test.count)} train / valid / test triples`
  );
}

const FLAGS: FlagSpecs = {
  dataset: { type: 'string' },
  write: { type: 'string' },
  rebuild: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const DATASET_HELP = `Usage: kgshard dataset [--dataset wordnet|wordnet-lf|DIR] [--write DIR] [--json]

Load a dataset and print its summary: entities, relations, triples per split
and per relation, and how many valid/test triples have their reverse in train.

Flags:
  --dataset NAME|DIR      wordnet: the built-in WordNet graph, WN18RR-style
                          (default); wordnet-lf: its leak-free version (no
                          valid/test triple has its reverse in train); or a
                          directory holding train, valid and test as .tsv/.txt
  --write DIR             write the split as DIR/train.tsv, valid.tsv, test.tsv
                          (head<TAB>relation<TAB>tail by name, one triple a line)
  --rebuild               build the WordNet split anew instead of using the cache
  --json                  print one JSON object (the summary and the files written)
  -h, --help              show this help
`;

export function datasetCommand(args: readonly string[]): number {
  const flags = parseFlags('dataset', args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(DATASET_HELP);
    return 0;
  }
  const opened = openDataset(str(flags, 'dataset') ?? 'wordnet', { rebuild: bool(flags, 'rebuild') });
  const d = opened.dataset;
  const summary = splitSummary(d);
  const outDir = str(flags, 'write');
  const written: WrittenSplit | null = outDir === undefined ? null : writeSplit(d, outDir);
  if (bool(flags, 'json')) {
    const files = written
      ? Object.fromEntries(
          Object.entries(written.files).map(([k, f]) => [
            k,
            { path: f.path, triples: f.triples, bytes: f.bytes, sha256: f.sha256 },
          ]),
        )
      : null;
    const report = {
      dataset: d.name,
      source: opened.source,
      ...summary,
      notices: opened.notices,
      written: written ? { dir: written.dir, files } : null,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  if (process.stderr.isTTY) for (const notice of opened.notices) process.stderr.write(`${notice}\n`);
  const n = (x: number): string => x.toLocaleString('en-US');
  const pct = (x: number, of: number): string => `${of === 0 ? '0' : ((100 * x) / of).toFixed(1)}%`;
  const rev = summary.reverseInTrain;
  const lines = [
    datasetLine(d),
    'valid triples with their reverse in train: ' +
      `${n(rev.valid.sameRelation)} (${pct(rev.valid.sameRelation, d.valid.count)}) under the same relation, ` +
      `${n(rev.valid.anyRelation)} (${pct(rev.valid.anyRelation, d.valid.count)}) under any relation`,
    'test triples with their reverse in train: ' +
      `${n(rev.test.sameRelation)} (${pct(rev.test.sameRelation, d.test.count)}) under the same relation, ` +
      `${n(rev.test.anyRelation)} (${pct(rev.test.anyRelation, d.test.count)}) under any relation`,
    '',
    summaryTable(summary).trimEnd(),
  ];
  if (written) {
    lines.push('', `wrote the split to ${written.dir}:`);
    for (const f of Object.values(written.files))
      lines.push(`  ${f.path}  ${n(f.triples)} triples, ${n(f.bytes)} bytes`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
