/**
 * `--profile FILE.json` is checked before the run: every problem is one
 * line naming the file, the stage index and the field, with the value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KgError } from '../../src/errors.js';
import { loadProfile } from '../../src/router/schedule.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-profile-'));
const run = { producers: 3, rate: 1000 as number | 'max', durationMs: 5000 };

function fails(content: string, message: RegExp, r = run): void {
  const file = join(dir, 'profile.json');
  writeFileSync(file, content);
  try {
    loadProfile(file, r);
  } catch (e) {
    assert.instance(e, KgError);
    const err = e as KgError;
    assert.is(err.code, 'E_PROFILE');
    assert.not.match(err.message, /\n/);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, message);
    return;
  }
  assert.unreachable(`no error for ${content}`);
}

const cases: [string, RegExp][] = [
  ['{', /the file must be JSON, got/],
  ['42', /the profile must be an object/],
  ['{"stages": []}', /stages must be a non-empty array/],
  ['{"stages": [{"duration_s": 1}], "extra": 1}', /extra must be absent/],
  [
    '[{"duration_s": 1, "rate": 5}, {"duration_s": 2, "rate": 5}, {"duration_s": 1, "rate": -5}]',
    /stages\[2\]\.rate must be a positive number, got -5$/,
  ],
  ['[{"duration_s": 0, "rate": 5}]', /stages\[0\]\.duration_s must be a positive number, got 0$/],
  ['[{"duration_s": "soon"}]', /stages\[0\]\.duration_s must be a number or a share such as "50%", got "soon"$/],
  [
    '[{"duration_s": 1}, {"duration_s": 1, "producers": 2.5}]',
    /stages\[1\]\.producers must be a whole number of producers \(>= 0\), got 2\.5$/,
  ],
  ['[{"duration_s": 1, "producers": 9}]', /stages\[0\]\.producers must be at most --producers \(3\), got 9$/],
  ['[{"duration_s": 1, "rat": 1}]', /stages\[0\]\.rat must be absent/],
  ['{"start": {"rate": "x"}, "stages": [{"duration_s": 1}]}', /start\.rate must be a number or a share/],
];

for (const [content, message] of cases) {
  test(`${content} -> ${message.source}`, () => fails(content, message));
}

test('a missing file says so', () => {
  try {
    loadProfile(join(dir, 'nope.json'), run);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /nope\.json: the file must be a readable JSON profile, got "no such file"/);
  }
});

test('a share of a max rate is refused', () => {
  fails(
    '[{"duration_s": 1, "rate": "50%"}]',
    /stages\[0\]\.rate must be events\/s \(a share needs a numeric --rate\)/,
    {
      ...run,
      rate: 'max',
    },
  );
});

test('a good file resolves to its corners', () => {
  const file = join(dir, 'good.json');
  writeFileSync(
    file,
    JSON.stringify({
      stages: [
        { duration_s: 1, rate: 100, producers: 1 },
        { duration_s: 2, rate: 300, producers: 3 },
      ],
    }),
  );
  const p = loadProfile(file, run);
  assert.is(p.durationMs, 3000);
  assert.equal(p.points, [
    { t_ms: 0, rate: 100, producers: 1 },
    { t_ms: 1000, rate: 100, producers: 1 },
    { t_ms: 3000, rate: 300, producers: 3 },
  ]);
});

test.run();
