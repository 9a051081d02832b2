/**
 * `--profile FILE.json`: the stages set the run's length, rate and active
 * producers (the summary lists the profile's corners); a bad file fails
 * before the run in one line naming the file, the stage and the field.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, kgshard } from './kgshard-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-profile-cli-'));

test('a two-stage profile: its length, its corners, every event delivered', () => {
  const file = join(dir, 'steps.json');
  const stages = [
    { duration_s: 0.4, rate: 100_000, producers: 1 },
    { duration_s: 0.4, rate: 200_000, producers: 2 },
  ];
  writeFileSync(file, JSON.stringify({ stages }));
  const r = kgshard('loadtest', '--producers', '2', '--shards', '2', '--profile', file, '--batch', '64', '--json');
  assert.is(r.code, 0, r.err);
  const s = json(r);
  assert.is(s['lost'], 0);
  assert.is(s['profile'], file);
  assert.equal(s['profile_points'], [
    { t_ms: 0, rate: 100_000, producers: 1 },
    { t_ms: 400, rate: 100_000, producers: 1 },
    { t_ms: 800, rate: 200_000, producers: 2 },
  ]);
  const d = s['duration_ms'] as number;
  assert.ok(d >= 800 && d < 5000, `duration ${d}`);
  assert.type(s['rate_requested'], 'number');
});

test('a bad stage: one line naming file, stage and field; exit 2', () => {
  const file = join(dir, 'profile.json');
  writeFileSync(file, JSON.stringify([{ duration_s: 1, rate: 5 }, { duration_s: 1 }, { duration_s: 1, rate: -5 }]));
  const r = kgshard('loadtest', '--profile', file);
  assert.is(r.code, 2, r.err);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.ok(r.err.trim().endsWith(`${file}: stages[2].rate must be a positive number, got -5`), r.err);
});

test.run();
