/**
 * `--report FILE.html` on train and loadtest: a path that cannot be written
 * (no such directory, a directory, a file as its directory, empty) fails
 * at once in one line naming the flag and the path, exit code 2, before
 * any data is read or any thread started; a good path gets the page, and
 * the output says so (the table) or stays one JSON object without the
 * timeline (--json).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import { checkReportPath } from '../../src/report/file.js';
import { figures } from '../helpers/report-html.js';
import { FAST, json, kgshard, kgshardAsync, tempDir, tinyDataset } from './kgshard-cli.js';

/** A short, light load test: one producer at 100k events/s for 300 ms. */
const LIGHT_LOAD = ['--duration', '300ms', '--producers', '1', '--shards', '1', '--rate', '100k'];

const dir = tempDir('report');
const file = join(dir, 'a-file');
writeFileSync(file, 'x');

const BAD: [string, RegExp][] = [
  [join(dir, 'no-such-dir', 'r.html'), /the directory .*no-such-dir does not exist$/],
  [dir, /is a directory$/],
  [join(file, 'r.html'), /a-file is not a directory$/],
  ['', /not a file name$/],
];

test('checkReportPath names the flag and the path, and says what is wrong with it', () => {
  for (const [path, why] of BAD) {
    try {
      checkReportPath(path, 'train', '--report');
      assert.unreachable(path);
    } catch (e) {
      assert.instance(e, KgError);
      assert.ok((e as KgError).message.startsWith(`train: --report ${JSON.stringify(path)}: `));
      assert.match((e as KgError).message, why);
    }
  }
  assert.is(checkReportPath(join(dir, 'ok.html')), join(dir, 'ok.html'));
});

for (const command of ['train', 'loadtest']) {
  test(`${command} --report: a bad path fails in one line naming the flag and the path, before the run`, () => {
    for (const [path, why] of BAD.slice(0, 2)) {
      // train: a dataset that does not exist either; the report's path is checked first.
      const extra = command === 'train' ? ['--dataset', join(dir, 'no-data')] : ['--duration', '30s'];
      const t0 = performance.now();
      const r = kgshard(command, ...extra, '--report', path);
      assert.is(r.code, 2, r.err);
      assert.is(r.out, '');
      const lines = r.err.trimEnd().split('\n');
      assert.is(lines.length, 1, r.err);
      assert.ok(
        lines[0]!.startsWith(`kgshard: E_INVALID_ARGUMENT: ${command}: --report ${JSON.stringify(path)}: `),
        r.err,
      );
      assert.match(lines[0]!, why);
      assert.ok(performance.now() - t0 < 10_000, 'no run');
    }
  });
}

test('train --report writes the page and says where; loadtest --json --report keeps one object', async () => {
  const trainReport = join(dir, 'train.html');
  const loadReport = join(dir, 'loadtest.html');
  const [train, load] = await Promise.all([
    kgshardAsync(
      'train',
      '--dataset',
      tinyDataset(),
      ...FAST,
      '--epochs',
      '6',
      '--eval-every',
      '3',
      '--report',
      trainReport,
    ),
    kgshardAsync('loadtest', ...LIGHT_LOAD, '--json', '--report', loadReport),
  ]);
  assert.is(train.code, 0, train.err);
  assert.ok(train.out.endsWith(`wrote the report to ${trainReport}\n`), train.out);
  const trainHtml = readFileSync(trainReport, 'utf8');
  assert.equal(
    figures(trainHtml)
      .map((f) => f.id)
      .slice(0, 5),
    ['loss', 'validation', 'throughput', 'per-relation', 'rank-histogram'],
  );
  assert.ok(trainHtml.includes('kgshard train --dataset '), 'the command line');

  assert.is(load.code, 0, load.err);
  const summary = json(load);
  assert.is(summary['timeline'], undefined);
  assert.is(summary['lost'], 0);
  const loadHtml = readFileSync(loadReport, 'utf8');
  assert.ok(figures(loadHtml).some((f) => f.id === 'events' && f.rows > 0));
  // Written atomically: no temporary file left beside it.
  assert.not.ok(existsSync(`${loadReport}.tmp`));
});

test.run();
