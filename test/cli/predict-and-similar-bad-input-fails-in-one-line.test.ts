/**
 * Bad input to `kgshard predict` and `kgshard similar` is one line on
 * stderr and nothing on stdout: a bad flag or an unknown name given by a
 * flag (with the closest known names) exits 2, before any work; a bad query
 * file line or an unknown name in a query file names file:line and exits 1,
 * as a malformed dataset line does. Both commands have help and are listed
 * in `kgshard --help`. (The query file rules are tested line by line in
 * test/data/queries-file-bad-lines-name-file-and-line.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isUsageError } from '../../src/cli/flags.js';
import { predictCommand } from '../../src/cli/predict.js';
import { similarCommand } from '../../src/cli/similar.js';
import { kgshard, tempDir, tinyDataset, tinyTrainArgs, type Run } from './kgshard-cli.js';

const data = tinyDataset();
const root = tempDir('predict-bad');
const saved = join(root, 'emb');
const trained = kgshard(...tinyTrainArgs(data, 1), '--epochs', '1', '--out', saved);

function fails(r: Run, code: number, re: RegExp, what: string): void {
  assert.is(r.code, code, `${what}: exit ${r.code}, stderr ${r.err}`);
  assert.is(r.out, '', `${what}: stdout`);
  const lines = r.err.trimEnd().split('\n');
  assert.is(lines.length, 1, `${what}: ${r.err}`);
  assert.match(lines[0]!, re, what);
}

test('training saved the embeddings', () => {
  assert.is(trained.code, 0, trained.err);
});

test('an unknown name in a flag: exit 2, naming the flag and the closest names', () => {
  const p = (...a: string[]): Run => kgshard('predict', '--embeddings', saved, ...a);
  fails(
    p('--head', 'e33', '--relation', 'next'),
    2,
    /^kgshard: E_UNKNOWN_ID: predict: --head: unknown entity "e33"; closest: "e13", "e23", "e3"$/,
    '--head',
  );
  fails(
    p('--relation', 'nxt', '--tail', 'e1'),
    2,
    /^kgshard: E_UNKNOWN_ID: predict: --relation: unknown relation "nxt"; closest: "next", /,
    '--relation',
  );
  fails(
    kgshard('similar', '--embeddings', saved, '--entity', 'E4'),
    2,
    /^kgshard: E_UNKNOWN_ID: similar: --entity: unknown entity "E4"; closest: "e4", /,
    'similar --entity',
  );
  fails(
    kgshard('similar', '--embeddings', saved, '--relation', 'skp'),
    2,
    /^kgshard: E_UNKNOWN_ID: similar: --relation: unknown relation "skp"; closest: "skip", /,
    'similar --relation',
  );
});

test('a bad query file line or an unknown name in it: exit 1, naming file:line', () => {
  const file = join(root, 'q.tsv');
  for (const [text, re] of [
    ['e1\tnext\t?\ne2\tnext\n', /: E_PARSE: .*q\.tsv:2: expected 3 tab-separated fields .*found 2$/],
    ['e1\tnext\t?\n\n?\tpiar\te2\n', /: E_UNKNOWN_ID: .*q\.tsv:3: unknown relation "piar"; closest: "pair", /],
  ] as const) {
    writeFileSync(file, text);
    fails(kgshard('predict', '--embeddings', saved, '--queries', file), 1, re, JSON.stringify(text));
  }
  fails(
    kgshard('predict', '--embeddings', saved, '--queries', join(root, 'none.tsv')),
    1,
    /: E_DATASET: .*none\.tsv: query file does not exist$/,
    'missing query file',
  );
});

test('bad flags: exit 2, one line naming the flag, before any file is read', () => {
  const none = join(root, 'no-such-dir');
  const cases: [string[], RegExp][] = [
    [['predict', '--head', 'e1', '--relation', 'next'], /--embeddings DIR .* is required$/],
    [['predict', '--embeddings', none], /a query is required: --head H --relation R, /],
    [['predict', '--embeddings', none, '--head', 'e1', '--tail', 'e2', '--relation', 'r'], /--head and --tail exclude/],
    [['predict', '--embeddings', none, '--relation', 'next'], /--relation needs --head H .* or --tail T/],
    [['predict', '--embeddings', none, '--head', 'e1'], /--head needs --relation R$/],
    [['predict', '--embeddings', none, '--queries', 'q', '--head', 'e1'], /--queries "q" and --head exclude/],
    [['predict', '--embeddings', none, '--head', 'e1', '--relation', 'r', '--topk', '0'], /--topk must be in \[1, /],
    [['predict', '--embeddings', none, '--head', 'e1', '--relation', 'r', '--topk', 'x'], /--topk must be an integer/],
    [
      ['predict', '--embeddings', none, '--head', 'e', '--relation', 'r', '--json', '--tsv'],
      /--json and --tsv exclude/,
    ],
    [['predict', '--embeddings', none, '--head', 'e', '--relation', 'r', '--filter-splits', 'train'], /needs --filter/],
    [
      ['predict', '--embeddings', none, '--head', 'e', '--relation', 'r', '--filter', data, '--filter-splits', 'tst'],
      /--filter-splits must be a comma-separated list of train, valid, test, got "tst"$/,
    ],
    [['predict', '--embeddings', none, '--bogus'], /unknown flag --bogus/],
    [['similar', '--embeddings', none], /--entity E or --relation R is required$/],
    [['similar', '--embeddings', none, '--entity', 'a', '--relation', 'b'], /--entity and --relation exclude/],
    [['similar', '--embeddings', none, '--entity', 'a', '--metric', 'dot'], /--metric must be one of cosine, l2/],
  ];
  // Each case in this process (the command throws a usage error and writes nothing to stdout), then
  // two through the real command line.
  for (const [[command, ...args], re] of cases) {
    const write = process.stdout.write.bind(process.stdout);
    let written = '';
    process.stdout.write = (chunk: string | Uint8Array): boolean => {
      written += String(chunk);
      return true;
    };
    let thrown: unknown;
    try {
      (command === 'predict' ? predictCommand : similarCommand)(args);
    } catch (e) {
      thrown = e;
    } finally {
      process.stdout.write = write;
    }
    const what = [command, ...args].join(' ');
    assert.ok(thrown instanceof Error && isUsageError(thrown), `${what}: ${String(thrown)}`);
    assert.match(thrown.message, new RegExp(`^${command}: .*${re.source}`), what);
    assert.not.match(thrown.message, /\n/, what);
    assert.is(written, '', what);
  }
  for (const [args, re] of [cases[2]!, cases[13]!])
    fails(kgshard(...args), 2, new RegExp(`^kgshard: E_[A-Z_]+: (predict|similar): .*${re.source}`), args.join(' '));
  fails(
    kgshard('predict', '--embeddings', none, '--head', 'e1', '--relation', 'next'),
    1,
    /^kgshard: E_DATASET: .*no-such-dir/,
    'missing embeddings directory',
  );
});

test('help: both commands list their flags, and kgshard --help lists both', () => {
  const p = kgshard('predict', '--help');
  assert.is(p.code, 0);
  for (const flag of [
    '--embeddings',
    '--head',
    '--relation',
    '--tail',
    '--queries',
    '--topk',
    '--filter',
    '--json',
    '--tsv',
  ])
    assert.match(p.out, new RegExp(`\\s${flag}\\b`), flag);
  const s = kgshard('similar', '-h');
  assert.is(s.code, 0);
  for (const flag of ['--embeddings', '--entity', '--relation', '--topk', '--metric', '--json', '--tsv'])
    assert.ok(s.out.includes(`  ${flag}`), flag);
  const h = kgshard('--help');
  assert.ok(h.out.includes('  predict [flags]') && h.out.includes('  similar [flags]'), h.out);
});

test.run();
