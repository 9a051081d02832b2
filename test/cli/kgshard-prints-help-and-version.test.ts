import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

function kgshard(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the package declares the kgshard command', () => {
  assert.is(pkg.bin['kgshard'], 'dist/src/cli/main.js');
});

test('--version prints the package version', () => {
  for (const flag of ['--version', '-v']) {
    const r = kgshard(flag);
    assert.is(r.code, 0);
    assert.is(r.out.trim(), pkg.version);
  }
});

test('--help lists the commands and exits 0', () => {
  const r = kgshard('--help');
  assert.is(r.code, 0);
  assert.match(r.out, /Usage: kgshard <command>/);
  assert.match(r.out, /bench <suite>/);
});

test('an unknown command is a one-line error with a non-zero exit code', () => {
  const r = kgshard('frobnicate');
  assert.is(r.code, 2);
  assert.is(r.err.trim().split('\n').length, 1);
  assert.match(r.err, /unknown command "frobnicate"/);
});

test.run();
