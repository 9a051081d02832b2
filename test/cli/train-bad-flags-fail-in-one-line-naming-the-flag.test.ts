import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kgshard, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();

const USAGE: [string[], RegExp][] = [
  [['--dim', '0'], /E_OUT_OF_RANGE: train: --dim must be in \[1, 65536\], got 0$/],
  [['--dim', 'abc'], /--dim must be an integer, got "abc"/],
  [['--dim', '2.5'], /--dim must be an integer, got "2\.5"/],
  [['--epochs', '0'], /--epochs must be in \[1, 1000000\], got 0/],
  [['--lr', '-1'], /--lr must be a finite number > 0, got -1/],
  [['--lr', 'fast'], /--lr must be a finite number, got "fast"/],
  [['--margin=-2'], /--margin must be a finite number >= 0, got -2/],
  [['--model', 'transr'], /--model must be one of .*complex.*, got "transr"/],
  [['--optimizer', 'adam'], /--optimizer must be one of sgd, adagrad, adagrad-row, got "adam"/],
  [['--loss', 'hinge'], /--loss must be one of logistic, margin, got "hinge"/],
  [['--reg-kind', 'l3'], /--reg-kind must be one of l2, n3, got "l3"/],
  [['--max-norm', '-1'], /E_INVALID_ARGUMENT: train: --max-norm must be a finite number >= 0, got -1$/],
  [['--mode', 'hogwild'], /--mode must be one of async, sync, got "hogwild"/],
  [['--workers', '0'], /--workers must be in \[1, 256\], got 0/],
  [['--workers', 'lots'], /--workers must be a positive integer or 'auto', got "lots"/],
  [['--eval-split', 'train'], /--eval-split must be one of valid, test, got "train"/],
  [['--patience', '0'], /--patience must be in \[1, 1000000\], got 0/],
  [['--neg', '0'], /--neg must be in \[1, 65536\], got 0/],
  [['--reshard-at', '2'], /--reshard-at "2": must be EPOCH:SHARDS with EPOCH >= 1 and SHARDS in \[1, 4096\]$/],
  [['--reshard-at', '2:4,0:2'], /--reshard-at "0:2": must be EPOCH:SHARDS/],
  [['--reshard-at', '2:4', '--reshard-at', 'x'], /--reshard-at "x": must be EPOCH:SHARDS/],
  [['--frobnicate', '3'], /unknown flag --frobnicate/],
  [['--dim'], /--dim needs a value/],
  [['stray'], /unexpected argument "stray"/],
];

test('bad train flags: exit code 2, one line on stderr naming the flag and the value, nothing on stdout', () => {
  for (const [args, pattern] of USAGE) {
    const r = kgshard('train', '--dataset', data, ...args);
    const what = `train ${args.join(' ')}`;
    assert.is(r.code, 2, `${what}: exit code (stderr: ${r.err})`);
    assert.is(r.out, '', `${what}: stdout`);
    const lines = r.err.trimEnd().split('\n');
    assert.is(lines.length, 1, `${what}: ${r.err}`);
    assert.match(lines[0]!, /^kgshard: E_[A-Z_]+: /, what);
    assert.match(lines[0]!, pattern, what);
  }
});

test('bad eval and dataset flags exit 2 as well', () => {
  for (const args of [
    ['eval'],
    ['eval', '--embeddings', data, '--split', 'train'],
    ['eval', '--embeddings', data, '--workers', '-3'],
    ['dataset', '--write'],
    ['dataset', '--bogus'],
  ]) {
    const r = kgshard(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.is(r.err.trimEnd().split('\n').length, 1, args.join(' '));
  }
});

test('dataset problems surface the loader errors (file:line), exit code 1', () => {
  const missing = kgshard('train', '--dataset', join(data, 'nope'));
  assert.is(missing.code, 1);
  assert.is(missing.err.trimEnd().split('\n').length, 1);
  assert.match(missing.err, /E_DATASET: .*nope.*does not exist/);

  const valid = join(data, 'valid.tsv');
  const line = readFileSync(valid, 'utf8').split('\n').length; // the appended line's number
  appendFileSync(valid, 'e1\tnext\n');
  const r = kgshard('train', '--dataset', data);
  assert.is(r.code, 1);
  assert.is(r.err.trimEnd().split('\n').length, 1);
  assert.ok(r.err.includes(`E_PARSE: ${valid}:${line}: expected 3 tab-separated fields`), r.err);
});

test.run();
