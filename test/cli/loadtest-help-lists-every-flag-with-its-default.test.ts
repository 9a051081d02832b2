import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST } from '../../src/router/loadtest.js';
import { kgshard } from './kgshard-cli.js';

const D = DEFAULT_LOADTEST;

/** Each flag and the default its help entry must state (the library's defaults). */
const DEFAULTS: [string, string][] = [
  ['--producers', `default ${D.producers}`],
  ['--shards', `default ${D.shards}`],
  ['--min-shards', `default ${D.minShards}`],
  ['--max-shards', `default ${D.maxShards}`],
  ['--duration', `default ${D.durationMs / 1000}s`],
  ['--rate', `default ${String(D.rate)}`],
  ['--batch', `default ${D.batch}`],
  ['--auto-scale', 'default off'],
  ['--profile', `default ${D.profile}`],
  ['--cooldown', `default ${D.cooldownMs}ms`],
  ['--tick', `default ${D.tickMs}ms`],
  ['--threads', 'default min(producers, 2)'],
  ['--ring-capacity', `default ${D.ringCapacity}`],
  ['--breaker-threshold', `default ${D.breakerThreshold}`],
  ['--breaker-cooldown', `default ${D.breakerCoolDownMs / 1000}s`],
  ['--stall-consumer', 'default none'],
];

/** A flag's help entry: its line and the indented lines continuing it. */
function entry(help: string, flag: string): string {
  const lines = help.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`  ${flag} `));
  if (i < 0) return '';
  const out = [lines[i]!];
  for (let k = i + 1; k < lines.length && /^ {10,}\S/.test(lines[k]!); k++) out.push(lines[k]!);
  return out.join(' ').replace(/\s+/g, ' ');
}

test('loadtest --help (and -h) lists every flag with its default; kgshard --help lists loadtest', () => {
  for (const h of ['--help', '-h']) {
    const r = kgshard('loadtest', h);
    assert.is(r.code, 0);
    assert.is(r.err, '');
    assert.match(r.out, /^Usage: kgshard loadtest /);
    for (const [flag, def] of DEFAULTS) {
      const e = entry(r.out, flag);
      assert.ok(e !== '', `${flag} is listed`);
      assert.ok(e.includes(def), `${flag}: "${def}" in "${e}"`);
    }
    for (const flag of ['--json', '-h, --help']) assert.ok(r.out.includes(`  ${flag} `), flag);
  }
  const top = kgshard('--help');
  assert.is(top.code, 0);
  assert.match(top.out, /^ {2}loadtest \[flags\] /m);
});

test.run();
