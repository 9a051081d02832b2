/**
 * Relation statistics are advisory: a periodic write that fails (here for
 * real, its directory replaced by a regular file: ENOTDIR) must not stop
 * the caller (training). It is reported once per run of failures, the
 * samples stay pending, and the next periodic write after the directory
 * is back holds every sample. An explicit flush still throws.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDurable } from '../../src/store/durable.js';
import { RelationStats, StatsPersister, STATS_KIND } from '../../src/store/running-stats.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-stats-fail-'));

test('a failing periodic write warns once, keeps the samples, and the next one writes them all', () => {
  const dir = join(root, 'stats');
  mkdirSync(dir);
  const path = join(dir, 'relation-stats.kgs');
  const warnings: string[] = [];
  const p = new StatsPersister(path, 2, { every: 4, onWarning: (m) => warnings.push(m) });
  for (let i = 0; i < 4; i++) p.record(i & 1, i);
  assert.is(p.writeCount, 1);
  renameSync(dir, `${dir}.aside`);
  writeFileSync(dir, 'not a directory\n');
  try {
    for (let i = 0; i < 12; i++) assert.not.ok(p.record(i & 1, i), `record ${i} cannot write`);
    const part = new RelationStats(2);
    part.update(0, 1);
    assert.not.ok(p.merge(part));
    assert.is(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /ENOTDIR/);
    assert.ok(warnings[0]!.includes(path), warnings[0]);
    assert.is(err(() => p.flush()).code, 'E_STORE_WRITE', 'an explicit flush still throws');
  } finally {
    rmSync(dir);
    renameSync(`${dir}.aside`, dir);
  }
  assert.ok(p.record(1, 5), 'the next periodic write succeeds');
  const onDisk = readDurable(path, STATS_KIND);
  assert.ok(onDisk.ok);
  if (onDisk.ok) assert.is(RelationStats.deserialize(onDisk.payload).total(), 4 + 12 + 1 + 1);
  renameSync(dir, `${dir}.aside`);
  writeFileSync(dir, 'not a directory\n');
  try {
    for (let i = 0; i < 4; i++) p.record(0, i);
    assert.is(warnings.length, 2, 'a new run of failures is reported again');
  } finally {
    rmSync(dir);
    renameSync(`${dir}.aside`, dir);
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
