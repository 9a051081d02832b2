import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTsvDir } from '../../src/data/tsv.js';
import { err, errorText } from '../helpers/errors.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/data/tsv/${name}/`, import.meta.url));

test('a missing split names the directory and the file names looked for', () => {
  const dir = fixture('missing-test');
  assert.is(
    errorText(() => loadTsvDir(dir)),
    `E_DATASET: ${dir}: no test split: looked for test.tsv and test.txt`,
  );
  assert.equal(err(() => loadTsvDir(dir)).details['lookedFor'], ['test.tsv', 'test.txt']);
});

test('both .tsv and .txt for one split is ambiguous and names both paths', () => {
  const dir = fixture('ambiguous');
  assert.is(
    errorText(() => loadTsvDir(dir)),
    `E_DATASET: ${dir}: ambiguous train split: ` +
      `both ${join(dir, 'train.tsv')} and ${join(dir, 'train.txt')} exist; keep one`,
  );
});

test('a nonexistent directory or a file in place of one is a clear error', () => {
  const missing = join(tmpdir(), `kgshard-no-such-dir-${process.pid}-${Date.now()}`);
  assert.is(
    errorText(() => loadTsvDir(missing)),
    `E_DATASET: ${missing}: dataset directory does not exist`,
  );
  const file = fileURLToPath(new URL('../../../test/fixtures/data/tsv/basic/train.tsv', import.meta.url));
  assert.is(
    errorText(() => loadTsvDir(file)),
    `E_DATASET: ${file}: is not a directory`,
  );
});

test('a train split without triples is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-tsv-empty-'));
  try {
    writeFileSync(join(dir, 'train.tsv'), '\n\n');
    writeFileSync(join(dir, 'valid.tsv'), 'a\tr\tb\n');
    writeFileSync(join(dir, 'test.tsv'), 'a\tr\tb\n');
    assert.is(
      errorText(() => loadTsvDir(dir)),
      `E_DATASET: ${join(dir, 'train.tsv')}: train split has no triples`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
