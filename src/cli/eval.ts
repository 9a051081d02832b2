/**
 * `kgshard eval`: evaluate filtered link prediction on a split, either of
 * embeddings saved by `kgshard train --out DIR` (`--embeddings DIR`, rows
 * lined up with a dataset's ids by name) or of the latest entry of a run in
 * a checkpoint store (`--checkpoint-dir DIR`: a run training now, finished
 * or killed; the library's `openStoredRun` reads it without changing the
 * store).
 */
import type { Dataset } from '../data/dataset.js';
import { KgError } from '../errors.js';
import { alignEmbeddings, openEmbeddings } from '../kge/embeddings-io.js';
import { RunEvaluator, outcomeJson } from '../kge/training/evaluation.js';
import { checkStoredRunDataset, openStoredRun, type StoredRun } from '../kge/training/stored-run.js';
import { datasetLine, openDataset } from './dataset.js';
import { asUsage, bool, choiceFlag, parseFlags, str, usage, workersFlag, type FlagSpecs } from './flags.js';
import { metricsTable, perRelationTable } from './metrics.js';
import { StatusLine } from './progress.js';

const FLAGS: FlagSpecs = {
  embeddings: { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  fingerprint: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  workers: { type: 'string' },
  rebuild: { type: 'boolean' },
  json: { type: 'boolean' },
  'per-relation': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const EVAL_HELP =
  'Usage: kgshard eval --embeddings DIR [--dataset NAME|DIR] [--split valid|test] [--workers N|auto]\n' +
  '                    [--per-relation] [--json]\n' +
  '       kgshard eval --checkpoint-dir DIR [--fingerprint FP] [the same flags]' +
  `

Evaluate embeddings by filtered link prediction: every triple of the split
is ranked against all entities as a head query and a tail query, other
known true triples (train, valid, test) filtered out. Prints MRR, MR and
Hits@1/3/10 for heads, tails and both.

The embeddings are either saved ones (a directory written by
'kgshard train --out DIR', or exported by 'kgshard export'), or the latest
entry (most epochs done, then newest) of a run in a checkpoint store written
by 'kgshard train --checkpoint-dir DIR': while the run trains (with
--checkpoint-every-s also entries written inside an epoch), after it
finished, or after it was killed. The store is only read; the entry's epoch
(or its place inside an epoch), kind (checkpoint or final) and time of
writing are reported.

Flags:
  --embeddings DIR        saved or exported embeddings
  --checkpoint-dir DIR    a checkpoint store (excludes --embeddings; one of
                          the two is required)
  --fingerprint FP        the run to evaluate when the store holds several
                          (64 hex digits, as 'kgshard train --json' reports
                          under checkpoint.fingerprint)
  --dataset NAME|DIR      the data to rank on: wordnet, wordnet-lf or a
                          directory (default: the dataset recorded in
                          DIR/config.json, or in the store's description of
                          the run, DIR/runs/FP.json); saved rows are matched
                          to it by name, a store's rows need the run's
                          entities and relations in the run's order
  --split valid|test      default test
  --workers N|auto        evaluation threads (default auto)
  --rebuild               build the WordNet split anew instead of the cache
  --per-relation          also print MRR, MR and Hits@k per relation (worst
                          first); --json always holds them (per_relation),
                          with the rank histogram (rank_histogram)
  --json                  print one JSON object instead of the table
  -h, --help              show this help
`;

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** What is evaluated: saved embeddings or a stored run's latest entry. */
interface Source {
  readonly model: string;
  readonly dim: number;
  /** The dataset the source records, and the file that records it. */
  readonly recorded: { readonly name: string; readonly path?: string } | undefined;
  readonly recordedIn: string;
  /** The tables in `dataset`'s id order (checked or aligned), and what to tell the user. */
  tables(dataset: Dataset): { entities: Float32Array; relations: Float32Array; notices: string[] };
  /** The first line(s) of the printed report. */
  readonly header: string;
  /** The source's fields of the JSON summary. */
  readonly json: Record<string, unknown>;
}

function usageError(message: string, flag: string): KgError {
  return usage(new KgError('E_USAGE', message, { flag }));
}

export async function evalCommand(args: readonly string[]): Promise<number> {
  const c = 'eval';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  const embeddingsDir = str(flags, 'embeddings');
  const storeDir = str(flags, 'checkpoint-dir');
  const fingerprint = str(flags, 'fingerprint');
  if (embeddingsDir !== undefined && storeDir !== undefined) {
    throw usageError(
      `eval: --embeddings ${JSON.stringify(embeddingsDir)} and --checkpoint-dir ${JSON.stringify(storeDir)} ` +
        'exclude each other (saved embeddings, or the latest entry of a checkpoint store)',
      '--checkpoint-dir',
    );
  }
  if (fingerprint !== undefined && storeDir === undefined) {
    throw usageError(
      `eval: --fingerprint ${JSON.stringify(fingerprint)} needs --checkpoint-dir DIR (the store holding that run)`,
      '--fingerprint',
    );
  }
  if (storeDir === undefined && (embeddingsDir === undefined || embeddingsDir.trim() === '')) {
    throw usageError(
      "eval: --embeddings DIR (a directory written by 'kgshard train --out DIR') " +
        "or --checkpoint-dir DIR (a store written by 'kgshard train --checkpoint-dir DIR') is required",
      '--embeddings',
    );
  }
  if (storeDir !== undefined && storeDir.trim() === '')
    throw usageError('eval: --checkpoint-dir needs a directory, got ""', '--checkpoint-dir');
  if (fingerprint !== undefined && !FINGERPRINT.test(fingerprint)) {
    throw usageError(
      `eval: --fingerprint must be 64 lowercase hex digits, got ${JSON.stringify(fingerprint)}`,
      '--fingerprint',
    );
  }
  const split = asUsage(() => choiceFlag(c, flags, 'split', ['valid', 'test'] as const, 'test'));
  const workers = asUsage(() => workersFlag(c, flags, 'auto'));
  const line = new StatusLine(process.stderr);
  const notices: string[] = [];
  const note = (n: string): void => {
    notices.push(n);
    line.note(n);
  };

  const source =
    storeDir !== undefined
      ? storedRunSource(storeDir, fingerprint, (m) => note(`warning: ${m}`))
      : embeddingsSource(embeddingsDir!);
  const explicit = str(flags, 'dataset');
  const spec = explicit ?? recordedSpec(source);
  const opened = openDataset(spec, { rebuild: bool(flags, 'rebuild') });
  const dataset = opened.dataset;
  for (const n of opened.notices) note(n);
  let tables;
  try {
    tables = source.tables(dataset);
  } catch (e) {
    // A dataset the rows do not fit: name the flag when the user chose it.
    if (explicit !== undefined && e instanceof KgError && e.details['field'] === 'dataset')
      throw new KgError(e.code, `eval: --dataset ${JSON.stringify(explicit)}: ${e.message}`, e.details);
    throw e;
  }
  for (const n of tables.notices) note(n);
  if (dataset[split].count === 0) {
    throw new KgError('E_DATASET', `eval: the ${split} split of ${dataset.name} has no triples`, { split });
  }
  const queries = dataset[split].count.toLocaleString('en-US');
  line.set(`evaluating ${source.model} dim ${source.dim} on ${split} (${queries} triples)`);
  let outcome;
  try {
    const evaluator = new RunEvaluator(dataset, source.model, source.dim, workers, false);
    try {
      outcome = await evaluator.evaluate(split, { entities: tables.entities, relations: tables.relations });
    } finally {
      await evaluator.close();
    }
  } finally {
    line.clear();
  }
  if (bool(flags, 'json')) {
    const summary = {
      command: 'eval',
      ...source.json,
      model: source.model,
      dim: source.dim,
      dataset: dataset.name,
      dataset_source: opened.source,
      entities: dataset.entities.length,
      relations: dataset.relations.length,
      workers,
      ...outcomeJson(outcome),
      notices,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  const perRelation = bool(flags, 'per-relation') ? `\n${perRelationTable(outcome)}` : '';
  process.stdout.write(`${source.header}\non ${datasetLine(dataset)}\n\n${metricsTable(outcome)}${perRelation}`);
  return 0;
}

/** The `--dataset` spec of the dataset a source records. */
function recordedSpec(source: Source): string {
  const recorded = source.recorded;
  if ((recorded?.name === 'wordnet' || recorded?.name === 'wordnet-lf') && recorded.path === undefined)
    return recorded.name;
  if (typeof recorded?.path === 'string') return recorded.path;
  throw usage(
    new KgError('E_USAGE', `eval: ${source.recordedIn} names no dataset; pass --dataset wordnet|wordnet-lf|DIR`, {
      flag: '--dataset',
    }),
  );
}

function embeddingsSource(dir: string): Source {
  const emb = openEmbeddings(dir);
  return {
    model: emb.model,
    dim: emb.dim,
    recorded: emb.config.dataset,
    recordedIn: `${emb.dir}/config.json`,
    tables: (dataset) => {
      const aligned = alignEmbeddings(emb, dataset.entities, dataset.relations);
      const unused = aligned.unused;
      return {
        entities: aligned.entityTable,
        relations: aligned.relationTable,
        notices:
          unused.entities > 0 || unused.relations > 0
            ? [
                `${unused.entities} saved entities and ${unused.relations} saved relations ` +
                  `are not in ${dataset.name}; they are not ranked`,
              ]
            : [],
      };
    },
    header: `${emb.model} dim ${emb.dim} from ${emb.dir}`,
    json: { embeddings: emb.dir, checkpoint: null },
  };
}

function storedRunSource(dir: string, fingerprint: string | undefined, warn: (message: string) => void): Source {
  let run: StoredRun;
  try {
    run = openStoredRun(dir, { ...(fingerprint !== undefined ? { fingerprint } : {}), onWarning: warn });
  } catch (e) {
    if (e instanceof KgError && e.details['field'] === 'fingerprint') {
      // Several runs and none chosen, or a run the store does not hold: say how to choose.
      throw usage(
        new KgError(
          e.code,
          e.details['reason'] === 'ambiguous'
            ? `eval: ${e.message} (--fingerprint FP)`
            : `eval: --fingerprint: ${e.message}`,
          { ...e.details, flag: '--fingerprint' },
        ),
      );
    }
    if (e instanceof KgError && e.details['field'] === 'dir')
      throw new KgError(e.code, `eval: --checkpoint-dir ${e.message}`, { ...e.details, flag: '--checkpoint-dir' });
    throw e;
  }
  const d = run.description;
  const n = (x: number): string => x.toLocaleString('en-US');
  const at =
    run.partial !== null
      ? `in epoch ${run.partial.epoch}, ${n(run.partial.positives)} of ${n(run.partial.of)} positives trained`
      : `after epoch ${run.epochs}`;
  const writtenAt = new Date(run.entry.writtenAt).toISOString();
  return {
    model: d.model,
    dim: d.dim,
    recorded: d.dataset,
    recordedIn: run.descriptionFile,
    tables: (dataset) => ({ ...run.tables, notices: checkStoredRunDataset(run, dataset) }),
    header:
      `${d.model} dim ${d.dim} from checkpoint store ${run.dir}, run ${run.fingerprint.slice(0, 12)}\n` +
      `${run.entry.kind} ${at}, written ${writtenAt}`,
    json: {
      embeddings: null,
      checkpoint: {
        dir: run.dir,
        fingerprint: run.fingerprint,
        epochs: run.epochs,
        partial: run.partial,
        kind: run.entry.kind,
        written_at: writtenAt,
      },
    },
  };
}
