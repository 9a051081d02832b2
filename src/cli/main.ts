#!/usr/bin/env node
/**
 * The `kgshard` command. Each subcommand parses its own flags; errors are
 * printed on one line with a non-zero exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KgError } from '../errors.js';
import { datasetCommand } from './dataset.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { isUsageError } from './flags.js';
import { loadtestCommand } from './loadtest.js';
import { predictCommand } from './predict.js';
import { similarCommand } from './similar.js';
import { trainCommand } from './train.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const HELP = `kgshard ${pkg.version} — shared-memory compute engine for Node.js

Usage: kgshard <command> [flags]

Commands:
  train [flags]           train embeddings (default: ComplEx on the built-in
                          WordNet graph), print filtered link-prediction metrics,
                          save them with --out DIR
  eval --embeddings DIR   evaluate saved embeddings on a dataset's test split;
                          --checkpoint-dir DIR evaluates a run's latest
                          checkpoint, while it trains or after it ended
  export [flags]          write saved embeddings as .npy (DGL-KE layout), TSV or
                          word2vec text
  predict [flags]         the top-k tails of (head, relation, ?) or heads of
                          (?, relation, tail) by saved embeddings; --filter
                          DATASET leaves known triples out
  similar [flags]         the nearest entities to an entity, or relations to
                          a relation, by cosine similarity or L2 distance
  dataset [flags]         summarise a dataset; --write DIR writes its split as
                          train.tsv, valid.tsv, test.tsv
  loadtest [flags]        load-test the event router: events/s, push latency,
                          shard scaling, and a check that no event was lost,
                          duplicated or reordered
  bench <suite> [flags]   run a benchmark suite and write bench/results/<suite>.json
                          ('kgshard bench --help' lists the suites)
  help                    show this help

Flags:
  -h, --help              show this help
  -v, --version           print the version

Run 'kgshard <command> --help' for a command's flags.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  switch (command) {
    case 'train':
      return trainCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'dataset':
      return datasetCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'predict':
      return predictCommand(rest);
    case 'similar':
      return similarCommand(rest);
    case 'loadtest':
      return loadtestCommand(rest);
    case 'bench': {
      parseArgs({ args: rest, allowPositionals: true, strict: false });
      // The benchmark suites live beside the library in bench/; they are
      // part of a source checkout, not of the published package.
      const benchMain = new URL('../../bench/main.js', import.meta.url);
      const mod = (await import(benchMain.href)) as { main(args: string[]): Promise<number> };
      return mod.main(rest);
    }
    default:
      process.stderr.write(`kgshard: unknown command ${JSON.stringify(command)}; run 'kgshard --help'\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof KgError) process.stderr.write(`kgshard: ${err.code}: ${oneLine(err.message)}\n`);
    // An unexpected error is a bug: one line too, with the stack when KGSHARD_DEBUG is set.
    else if (process.env['KGSHARD_DEBUG'])
      process.stderr.write(`kgshard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    else
      process.stderr.write(
        `kgshard: ${oneLine(err instanceof Error ? `${err.name}: ${err.message}` : String(err))} ` +
          '(KGSHARD_DEBUG=1 for the stack)\n',
      );
    // 2 for a usage error (a bad flag or value, caught before any work), 1 for any other failure.
    process.exitCode = isUsageError(err) ? 2 : 1;
  },
);

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
