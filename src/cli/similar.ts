/**
 * `kgshard similar`: the nearest entities to an entity (or relations to a
 * relation) of saved or exported embeddings, by cosine similarity or L2
 * distance. Flags map to one call of the library's `similarNamed`.
 */
import { KgError } from '../errors.js';
import { openEmbeddings } from '../kge/embeddings-io.js';
import { MAX_TOPK } from '../kge/predict.js';
import { similarNamed } from '../kge/predict-named.js';
import { SIMILARITY_METRICS } from '../kge/similar.js';
import { bool, choiceFlag, intFlag, parseFlags, str, usage, type FlagSpecs } from './flags.js';
import { alignedTable, embeddingsDirFlag, outputFlag, scoreText } from './predict.js';

const FLAGS: FlagSpecs = {
  embeddings: { type: 'string' },
  entity: { type: 'string' },
  relation: { type: 'string' },
  topk: { type: 'string' },
  metric: { type: 'string' },
  json: { type: 'boolean' },
  tsv: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const SIMILAR_HELP = `Usage: kgshard similar --embeddings DIR --entity E [--topk K] [--metric cosine|l2]
                       [--json|--tsv]
       kgshard similar --embeddings DIR --relation R [the same flags]

The entities nearest to entity E (or the relations nearest to relation R)
in trained embeddings, nearest first, E itself left out. Rows are compared
as saved (ComplEx and RotatE rows: real parts, then imaginary parts).

Flags:
  --embeddings DIR        saved ('kgshard train --out DIR') or exported
                          ('kgshard export') embeddings (required)
  --entity E              the entity whose neighbours to list
  --relation R            the relation whose neighbours to list
  --topk K                neighbours (default 10)
  --metric cosine|l2      cosine similarity, highest first (default), or
                          Euclidean distance, smallest first
  --tsv                   print TSV: rank, entity (or relation), score
  --json                  print one JSON object
  -h, --help              show this help

An unknown name is an error that suggests the closest known names.
`;

function usageError(message: string, flag: string): KgError {
  return usage(new KgError('E_USAGE', `similar: ${message}`, { flag }));
}

export function similarCommand(args: readonly string[]): number {
  const c = 'similar';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(SIMILAR_HELP);
    return 0;
  }
  const dir = embeddingsDirFlag(c, str(flags, 'embeddings'));
  const output = outputFlag(c, bool(flags, 'json'), bool(flags, 'tsv'));
  const k = intFlag(c, flags, 'topk', 10, 1, MAX_TOPK);
  const metric = choiceFlag(c, flags, 'metric', SIMILARITY_METRICS, 'cosine');
  const entity = str(flags, 'entity');
  const relation = str(flags, 'relation');
  if (entity !== undefined && relation !== undefined)
    throw usageError('--entity and --relation exclude each other: name one entity or one relation', '--relation');
  if (entity === undefined && relation === undefined)
    throw usageError('--entity E or --relation R is required', '--entity');
  const flag = entity !== undefined ? '--entity' : '--relation';
  const name = (entity ?? relation)!;
  if (name === '') throw usageError(`${flag} needs a name, got ""`, flag);
  const emb = openEmbeddings(dir);
  let r;
  try {
    r = similarNamed(emb, entity !== undefined ? { entity } : { relation: name }, {
      k,
      metric,
      source: `similar: ${flag}`,
    });
  } catch (e) {
    // An unknown name given by a flag is a usage error.
    if (e instanceof KgError && e.code === 'E_UNKNOWN_ID') throw usage(e);
    throw e;
  }
  const what = r.kind === 'entity' ? 'entity' : 'relation';
  const scoreName = metric === 'cosine' ? 'cosine' : 'l2';
  if (output === 'json') {
    const summary = {
      command: 'similar',
      embeddings: emb.dir,
      model: emb.model,
      dim: emb.dim,
      kind: r.kind,
      name: r.name,
      metric,
      k,
      backend: r.backend,
      seconds: r.seconds,
      neighbours: r.results.map((x) => ({ rank: x.rank, name: x.name, score: x.score })),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (output === 'tsv') {
    const rows = [`rank\t${what}\t${scoreName}`, ...r.results.map((x) => `${x.rank}\t${x.name}\t${x.score}`)];
    process.stdout.write(`${rows.join('\n')}\n`);
    return 0;
  }
  const plural = r.kind === 'entity' ? 'entities' : 'relations';
  const by = metric === 'cosine' ? 'cosine similarity' : 'L2 distance';
  const title =
    `${emb.model} dim ${emb.dim} from ${dir}: ` + `the ${r.results.length} ${plural} nearest ${r.name} by ${by}`;
  const rows = [['rank', what, scoreName], ...r.results.map((x) => [String(x.rank), x.name, scoreText(x.score)])];
  process.stdout.write(`${title}\n${alignedTable(rows, [true, false, true])}\n`);
  return 0;
}
