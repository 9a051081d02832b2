/**
 * `kgshard export --embeddings DIR --format npy|tsv|word2vec --out DIR`:
 * write embeddings saved by `kgshard train --out DIR` in a format other
 * tools read (NumPy .npy in DGL-KE's layout, TSV, word2vec text).
 */
import { KgError } from '../errors.js';
import { loadEmbeddings } from '../kge/embeddings-io.js';
import { EXPORT_FORMATS, exportEmbeddings } from '../store/embeddings/export.js';
import { asUsage, bool, choiceFlag, parseFlags, str, usage, type FlagSpecs } from './flags.js';

const FLAGS: FlagSpecs = {
  embeddings: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const EXPORT_HELP = `Usage: kgshard export --embeddings DIR --format npy|tsv|word2vec --out DIR [--json]

Write embeddings saved by 'kgshard train --out DIR' for other tools:
  npy       <dataset>_<model>_entity.npy and _relation.npy (float32,
            little-endian; numpy.load reads them), entities.tsv and
            relations.tsv id maps (<index>\\t<name>), as DGL-KE lays them out
  tsv       one row per entity / relation: name, then the values
  word2vec  the word2vec text format ("<count> <dim>", then "name v1 v2 ...";
            a backslash in a name is written \\\\ and a space \\s)
Every format also writes config.json (the run's configuration), last, so its
presence means the export is complete.

Flags:
  --embeddings DIR        the saved embeddings (required)
  --format F              npy, tsv or word2vec (default npy)
  --out DIR               where to write (required; created if missing)
  --json                  print one JSON object naming the files
  -h, --help              show this help
`;

export function exportCommand(args: readonly string[]): number {
  const c = 'export';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const required = (name: string): string => {
    const v = str(flags, name);
    if (v === undefined || v.trim() === '')
      throw usage(new KgError('E_USAGE', `export: --${name} DIR is required`, { flag: `--${name}` }));
    return v;
  };
  const dir = required('embeddings');
  const out = required('out');
  const format = asUsage(() => choiceFlag(c, flags, 'format', EXPORT_FORMATS, 'npy'));
  const emb = loadEmbeddings(dir);
  const result = exportEmbeddings(out, {
    format,
    dataset: emb.config.dataset?.name ?? 'dataset',
    model: emb.model,
    entities: emb.entities,
    relations: emb.relations,
    entityTable: emb.entityTable,
    relationTable: emb.relationTable,
    entityDim: emb.entityWidth,
    relationDim: emb.relationWidth,
    config: { ...emb.config },
  });
  if (bool(flags, 'json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `exported ${emb.entities.length} entities and ${emb.relations.length} relations as ${format} to ${result.dir}\n`,
    );
  return 0;
}
