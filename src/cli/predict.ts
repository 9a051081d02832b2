/**
 * `kgshard predict`: the top k tails of (head, relation, ?) or heads of
 * (?, relation, tail) by saved or exported embeddings, optionally leaving
 * out the triples a dataset already knows. Flags map to one call of the
 * library's `predictNamed`; the result is printed as a table, TSV or JSON.
 */
import { NameIndex } from '../data/names.js';
import { readQueries, type NamedQuery } from '../data/queries.js';
import { KgError } from '../errors.js';
import { openEmbeddings } from '../kge/embeddings-io.js';
import { KNOWN_SPLITS, knownTriples, predictNamed, type KnownSplit, type KnownTriples } from '../kge/predict-named.js';
import { MAX_TOPK } from '../kge/predict.js';
import { openDataset } from './dataset.js';
import { asUsage, bool, intFlag, parseFlags, str, usage, type FlagSpecs, type ParsedFlags } from './flags.js';
import { StatusLine } from './progress.js';

const FLAGS: FlagSpecs = {
  embeddings: { type: 'string' },
  head: { type: 'string' },
  relation: { type: 'string' },
  tail: { type: 'string' },
  queries: { type: 'string' },
  topk: { type: 'string' },
  filter: { type: 'string' },
  'filter-splits': { type: 'string' },
  json: { type: 'boolean' },
  tsv: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const PREDICT_HELP = `Usage: kgshard predict --embeddings DIR --head H --relation R [flags]
       kgshard predict --embeddings DIR --relation R --tail T [flags]
       kgshard predict --embeddings DIR --queries FILE [flags]

Predict with trained embeddings: the entities the model scores highest as
the tail of (H, R, ?), or as the head of (?, R, T), best first, with their
scores. The scores are the evaluation's: the same WebAssembly SIMD kernels
(JavaScript where SIMD is missing), higher is more plausible; ties go to the
entity saved first.

Flags:
  --embeddings DIR        saved ('kgshard train --out DIR') or exported
                          ('kgshard export') embeddings (required)
  --head H --relation R   predict tails of (H, R, ?)
  --relation R --tail T   predict heads of (?, R, T)
  --queries FILE          many queries, one a line, tab-separated:
                          H<TAB>R<TAB>? (tails) or ?<TAB>R<TAB>T (heads)
  --topk K                predictions per query (default 10)
  --filter NAME|DIR       leave out every entity that completes a query to a
                          triple the dataset already holds (wordnet,
                          wordnet-lf or a directory of train/valid/test
                          files; matched to the embeddings by name)
  --filter-splits LIST    the splits of --filter that count as known
                          (default train,valid,test; e.g. train to see which
                          held-out triples the model predicts)
  --tsv                   print TSV: query, asked, rank, head, relation,
                          tail, score (the asked side filled in)
  --json                  print one JSON object
  -h, --help              show this help

An unknown name is an error that suggests the closest known names.
`;

function usageError(message: string, flag: string): KgError {
  return usage(new KgError('E_USAGE', `predict: ${message}`, { flag }));
}

/** `--embeddings DIR`, required by predict and similar. */
export function embeddingsDirFlag(command: string, dir: string | undefined): string {
  if (dir === undefined || dir.trim() === '') {
    throw usage(
      new KgError(
        'E_USAGE',
        `${command}: --embeddings DIR (saved by 'kgshard train --out DIR' or exported by 'kgshard export') is required`,
        { flag: '--embeddings' },
      ),
    );
  }
  return dir;
}

/** `--json` and `--tsv` exclude each other. */
export function outputFlag(command: string, json: boolean, tsv: boolean): 'json' | 'tsv' | 'table' {
  if (json && tsv)
    throw usage(new KgError('E_USAGE', `${command}: --json and --tsv exclude each other`, { flag: '--tsv' }));
  return json ? 'json' : tsv ? 'tsv' : 'table';
}

/** A table with a header row, columns aligned (numbers right, text left). */
export function alignedTable(rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, k) => (numeric[k] ? c.padStart(widths[k]!) : k === r.length - 1 ? c : c.padEnd(widths[k]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A score as the tables print it: 4 decimals (an exponent beyond a million). */
export function scoreText(x: number): string {
  return Math.abs(x) >= 1e6 ? x.toExponential(4) : x.toFixed(4);
}

function splitsFlag(raw: string | undefined): readonly KnownSplit[] {
  if (raw === undefined) return KNOWN_SPLITS;
  const parts = raw.split(',').map((s) => s.trim());
  const bad = parts.find((s) => !(KNOWN_SPLITS as readonly string[]).includes(s));
  if (bad !== undefined || parts.length === 0) {
    throw usage(
      new KgError(
        'E_INVALID_ARGUMENT',
        `predict: --filter-splits must be a comma-separated list of ${KNOWN_SPLITS.join(', ')}, ` +
          `got ${JSON.stringify(raw)}`,
        { flag: '--filter-splits', value: raw },
      ),
    );
  }
  return [...new Set(parts as KnownSplit[])];
}

/** The query the flags ask (--head/--relation/--tail), or the query file to read. */
function queryFlags(flags: ParsedFlags): { readonly query: NamedQuery } | { readonly file: string } {
  const head = str(flags, 'head');
  const relation = str(flags, 'relation');
  const tail = str(flags, 'tail');
  const file = str(flags, 'queries');
  if (file !== undefined) {
    if (head !== undefined || relation !== undefined || tail !== undefined) {
      const given = head !== undefined ? '--head' : relation !== undefined ? '--relation' : '--tail';
      throw usageError(`--queries ${JSON.stringify(file)} and ${given} exclude each other`, given);
    }
    if (file.trim() === '') throw usageError('--queries needs a file, got ""', '--queries');
    return { file };
  }
  if (head !== undefined && tail !== undefined)
    throw usageError('--head and --tail exclude each other: give one side, the other is predicted', '--tail');
  if (relation === undefined) {
    if (head !== undefined || tail !== undefined)
      throw usageError(`${head !== undefined ? '--head' : '--tail'} needs --relation R`, '--relation');
    throw usageError(
      'a query is required: --head H --relation R, --relation R --tail T, or --queries FILE',
      '--relation',
    );
  }
  if (head === undefined && tail === undefined)
    throw usageError('--relation needs --head H (tails are predicted) or --tail T (heads)', '--head');
  for (const [flag, v] of [
    ['--head', head],
    ['--relation', relation],
    ['--tail', tail],
  ] as const)
    if (v === '') throw usageError(`${flag} needs a name, got ""`, flag);
  return { query: head !== undefined ? { head, relation } : { relation, tail: tail! } };
}

export function predictCommand(args: readonly string[]): number {
  const c = 'predict';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(PREDICT_HELP);
    return 0;
  }
  const embeddingsDir = embeddingsDirFlag(c, str(flags, 'embeddings'));
  const output = outputFlag(c, bool(flags, 'json'), bool(flags, 'tsv'));
  const k = intFlag(c, flags, 'topk', 10, 1, MAX_TOPK);
  const filterSpec = str(flags, 'filter');
  const splitsRaw = str(flags, 'filter-splits');
  if (splitsRaw !== undefined && filterSpec === undefined)
    throw usageError('--filter-splits needs --filter NAME|DIR (the dataset whose splits are known)', '--filter-splits');
  const splits = splitsFlag(splitsRaw);
  if (filterSpec !== undefined && filterSpec.trim() === '')
    throw usageError('--filter needs a dataset, got ""', '--filter');
  // Every flag first (usage errors before any file is read), then the embeddings, the queries and the filter.
  const asked = queryFlags(flags);
  const emb = openEmbeddings(embeddingsDir);
  const fromFile = 'file' in asked;
  if (!fromFile) {
    // A name given by a flag is a usage error naming the flag (exit 2); a name in a query file is
    // the file's error, naming file:line (exit 1, from predictNamed).
    const q = asked.query;
    const entities = new NameIndex('entity', emb.entities);
    asUsage(() => {
      if (q.head !== undefined) entities.resolve(q.head, 'predict: --head');
      new NameIndex('relation', emb.relations).resolve(q.relation, 'predict: --relation');
      if (q.tail !== undefined) entities.resolve(q.tail, 'predict: --tail');
    });
  }
  const queries = 'file' in asked ? readQueries(asked.file) : [asked.query];
  const line = new StatusLine(process.stderr);
  const notices: string[] = [];
  const note = (n: string): void => {
    notices.push(n);
    line.note(n);
  };
  let known: KnownTriples | null = null;
  let filterName: string | null = null;
  if (filterSpec !== undefined) {
    const opened = openDataset(filterSpec);
    for (const n of opened.notices) note(n);
    filterName = opened.dataset.name;
    known = knownTriples(emb, opened.dataset, splits);
    if (known.dropped > 0)
      note(
        `${known.dropped.toLocaleString('en-US')} known triples of ${filterName} name an entity or relation ` +
          'without an embedding; they cannot be predicted and are not indexed',
      );
  }
  const result = predictNamed(emb, queries, { k, filter: known?.filter ?? null });
  const n = (x: number): string => x.toLocaleString('en-US');
  if (output === 'json') {
    const summary = {
      command: 'predict',
      embeddings: emb.dir,
      model: emb.model,
      dim: emb.dim,
      entities: emb.entities.length,
      relations: emb.relations.length,
      backend: result.backend,
      k: result.k,
      filter:
        known === null
          ? null
          : { dataset: filterName, splits: known.splits, triples: known.triples, dropped: known.dropped },
      seconds: result.seconds,
      queries: result.predictions.map((p) => ({
        head: p.head,
        relation: p.relation,
        tail: p.tail,
        asked: p.asked,
        filtered: p.filtered,
        predictions: p.results.map((r) => ({ rank: r.rank, entity: r.name, score: r.score })),
      })),
      notices,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (output === 'tsv') {
    const rows = ['query\tasked\trank\thead\trelation\ttail\tscore'];
    result.predictions.forEach((p, i) => {
      for (const r of p.results) {
        const h = p.asked === 'head' ? r.name : p.head!;
        const t = p.asked === 'tail' ? r.name : p.tail!;
        rows.push(`${i + 1}\t${p.asked}\t${r.rank}\t${h}\t${p.relation}\t${t}\t${r.score}`);
      }
    });
    process.stdout.write(`${rows.join('\n')}\n`);
    return 0;
  }
  const head =
    `${emb.model} dim ${emb.dim} from ${embeddingsDir} (${n(emb.entities.length)} entities, ` +
    `${n(emb.relations.length)} relations), ` +
    `${result.backend === 'wasm' ? 'WebAssembly SIMD' : 'JavaScript'} kernels\n` +
    (known === null
      ? 'no filter: known triples are predicted too (--filter DATASET leaves them out)\n'
      : `known triples left out: ${filterName} ${known.splits.join(', ')} (${n(known.triples)} triples)\n`);
  const blocks = result.predictions.map((p) => {
    const q = `(${p.head ?? '?'}, ${p.relation}, ${p.tail ?? '?'})`;
    const left = known === null ? '' : `, ${n(p.filtered)} known left out`;
    const title = `${q}: top ${p.results.length} ${p.asked}s${left}`;
    if (p.results.length === 0) return `${title}\n`;
    const rows = [['rank', p.asked, 'score'], ...p.results.map((r) => [String(r.rank), r.name, scoreText(r.score)])];
    return `${title}\n${alignedTable(rows, [true, false, true])}\n`;
  });
  process.stdout.write(`${head}\n${blocks.join('\n')}`);
  return 0;
}
