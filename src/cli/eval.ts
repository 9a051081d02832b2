/**
 * `kgshard eval --embeddings DIR`: load embeddings saved by
 * `kgshard train --out DIR`, line their rows up with a dataset's ids by
 * name, and evaluate filtered link prediction on a split.
 */
import { KgError } from '../errors.js';
import { alignEmbeddings, openEmbeddings } from '../kge/embeddings-io.js';
import { datasetLine, openDataset } from './dataset.js';
import { asUsage, bool, choiceFlag, parseFlags, str, usage, workersFlag, type FlagSpecs } from './flags.js';
import { RunEvaluator, outcomeJson } from '../kge/training/evaluation.js';
import { metricsTable } from './metrics.js';
import { StatusLine } from './progress.js';

const FLAGS: FlagSpecs = {
  embeddings: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  workers: { type: 'string' },
  rebuild: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const EVAL_HELP =
  'Usage: kgshard eval --embeddings DIR [--dataset wordnet|wordnet-lf|DIR] [--split test] [--workers N|auto] [--json]' +
  `

Evaluate saved embeddings (a directory written by 'kgshard train --out DIR')
by filtered link prediction: every triple of the split is ranked against all
entities as a head query and a tail query, other known true triples (train,
valid, test) filtered out. Prints MRR, MR and Hits@1/3/10 for heads, tails
and both.

Flags:
  --embeddings DIR        the saved embeddings (required)
  --dataset NAME|DIR      the data to rank on: wordnet, wordnet-lf or a
                          directory (default: the dataset recorded
                          in DIR/config.json); rows are matched to the
                          dataset's entities and relations by name
  --split valid|test      default test
  --workers N|auto        evaluation threads (default auto)
  --rebuild               build the WordNet split anew instead of the cache
  --json                  print one JSON object instead of the table
  -h, --help              show this help
`;

export async function evalCommand(args: readonly string[]): Promise<number> {
  const c = 'eval';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  const dir = str(flags, 'embeddings');
  if (dir === undefined || dir.trim() === '') {
    throw usage(
      new KgError('E_USAGE', "eval: --embeddings DIR is required (a directory written by 'kgshard train --out DIR')", {
        flag: '--embeddings',
      }),
    );
  }
  const split = asUsage(() => choiceFlag(c, flags, 'split', ['valid', 'test'] as const, 'test'));
  const workers = asUsage(() => workersFlag(c, flags, 'auto'));
  const line = new StatusLine(process.stderr);

  const emb = openEmbeddings(dir);
  const recorded = emb.config.dataset;
  let spec = str(flags, 'dataset');
  if (spec === undefined) {
    if ((recorded?.name === 'wordnet' || recorded?.name === 'wordnet-lf') && recorded.path === undefined)
      spec = recorded.name;
    else if (typeof recorded?.path === 'string') spec = recorded.path;
    else {
      throw usage(
        new KgError('E_USAGE', `eval: ${emb.dir}/config.json names no dataset; pass --dataset wordnet|wordnet-lf|DIR`, {
          flag: '--dataset',
        }),
      );
    }
  }
  const opened = openDataset(spec, { rebuild: bool(flags, 'rebuild') });
  const dataset = opened.dataset;
  for (const notice of opened.notices) line.note(notice);
  const aligned = alignEmbeddings(emb, dataset.entities, dataset.relations);
  if (aligned.unused.entities > 0 || aligned.unused.relations > 0) {
    line.note(
      `${aligned.unused.entities} saved entities and ${aligned.unused.relations} saved relations ` +
        `are not in ${dataset.name}; they are not ranked`,
    );
  }
  if (dataset[split].count === 0) {
    throw new KgError('E_DATASET', `eval: the ${split} split of ${dataset.name} has no triples`, { split });
  }
  line.set(
    `evaluating ${emb.model} dim ${emb.dim} on ${split} (${dataset[split].count.toLocaleString('en-US')} triples)`,
  );
  let outcome;
  try {
    const evaluator = new RunEvaluator(dataset, emb.model, emb.dim, workers, false);
    try {
      outcome = await evaluator.evaluate(split, { entities: aligned.entityTable, relations: aligned.relationTable });
    } finally {
      await evaluator.close();
    }
  } finally {
    line.clear();
  }
  if (bool(flags, 'json')) {
    const summary = {
      command: 'eval',
      embeddings: emb.dir,
      model: emb.model,
      dim: emb.dim,
      dataset: dataset.name,
      dataset_source: opened.source,
      entities: dataset.entities.length,
      relations: dataset.relations.length,
      workers,
      ...outcomeJson(outcome),
      notices: opened.notices,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  process.stdout.write(
    `${emb.model} dim ${emb.dim} from ${emb.dir}\non ${datasetLine(dataset)}\n\n${metricsTable(outcome)}`,
  );
  return 0;
}
