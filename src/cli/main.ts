#!/usr/bin/env node
/**
 * The `kgshard` command. Each subcommand parses its own flags; errors are
 * printed on one line with a non-zero exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KgError } from '../errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const HELP = `kgshard ${pkg.version} — shared-memory compute engine for Node.js

Usage: kgshard <command> [flags]

Commands:
  bench <suite> [flags]   run a benchmark suite and write bench/results/<suite>.json
                          suites: shm
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
    if (err instanceof KgError) process.stderr.write(`kgshard: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`kgshard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
