import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kgshard } from './kgshard-cli.js';

// Each case: the arguments and what the one stderr line must say (the flag and the value).
const USAGE: [string[], RegExp][] = [
  [['--producers', '0'], /E_OUT_OF_RANGE: loadtest: --producers must be in \[1, 1024\], got 0$/],
  [['--producers', '2.5'], /--producers must be an integer, got "2\.5"/],
  [['--batch', 'abc'], /--batch must be an integer, got "abc"/],
  [['--batch', '0'], /--batch must be in \[1, 65536\], got 0/],
  [['--rate', '-5'], /--rate must be 'max' or events\/s per producer.*, got -5$/],
  [['--rate', 'fast'], /--rate must be 'max' or events\/s per producer.*, got "fast"$/],
  [
    ['--profile', 'zigzag'],
    /--profile must be 'flat', 'ramp' or a JSON profile file \(there is no such file\), got "zigzag"/,
  ],
  [['--min-shards', '5', '--max-shards', '2'], /--min-shards must be at most --max-shards \(2\), got 5$/],
  [['--shards', '9', '--max-shards', '4'], /--shards must be in \[1, 4\] .*got 9$/],
  [['--max-shards', '1'], /--shards must be in \[1, 1\] .*got 2 \(the default\)$/],
  [['--duration', '0'], /--duration must be in \[1ms, 1h\], got "0"$/],
  [['--duration', 'soon'], /--duration must be a duration such as 5 \(seconds\), 5s, 500ms or 1m, got "soon"$/],
  [['--tick', '0.5ms'], /--tick must be a whole number of milliseconds, got "0\.5ms"$/],
  [['--cooldown', '-1s'], /--cooldown must be in \[0ms, 24h\], got "-1s"$/],
  [['--threads', '0'], /--threads must be in \[1, 2\], got 0$/],
  [['--producers', '2', '--threads', '3'], /--threads must be in \[1, 2\], got 3$/],
  [
    ['--ring-capacity', '16777216', '--max-shards', '64'],
    /--ring-capacity must be small enough .* fit in 4 GiB .*got 16777216$/,
  ],
  [['--ring-capacity', '1000'], /--ring-capacity must be a power of two, got 1000$/],
  [['--batch', '2048', '--ring-capacity', '1024'], /--batch must be at most the ring capacity \(1024\), got 2048$/],
  [['--breaker-threshold', '0'], /--breaker-threshold must be in \[1, 1023\], got 0$/],
  [['--breaker-threshold', 'many'], /--breaker-threshold must be an integer, got "many"$/],
  [['--breaker-cooldown', '2h'], /--breaker-cooldown must be in \[1ms, 1h\], got "2h"$/],
  [['--breaker-cooldown', '0'], /--breaker-cooldown must be in \[1ms, 1h\], got "0"$/],
  [['--breaker-cooldown', '0.5ms'], /--breaker-cooldown must be a whole number of milliseconds, got "0\.5ms"$/],
  [['--stall-consumer', '0'], /--stall-consumer must be SHARD@TIME such as 0@2 .*, got "0"$/],
  [['--stall-consumer', 'a@1'], /--stall-consumer must be SHARD@TIME .*, got "a@1"$/],
  [['--stall-consumer', '0@soon'], /--stall-consumer must be SHARD@TIME .*, got "0@soon"$/],
  [
    ['--stall-consumer', '2@1', '--shards', '2'],
    /--stall-consumer must be a shard that exists at the start \(0 to 1\) at a time within the run, got "2@1"$/,
  ],
  [
    ['--stall-consumer', '0@40m'],
    /--stall-consumer must be a shard at a time within the run \(before --duration\), got "0@40m"$/,
  ],
  [['--frobnicate'], /E_USAGE: loadtest: unknown flag --frobnicate/],
  [['--producers'], /--producers needs a value/],
  [['stray'], /unexpected argument "stray"/],
];

test(
  'bad loadtest flags: exit code 2 before any work, one stderr line naming the flag and the value, ' +
    'nothing on stdout',
  () => {
    for (const [args, pattern] of USAGE) {
      // A half-hour run first: were a bad flag caught only once the load test had
      // started, the command would not return (a flag given twice keeps its last value).
      const r = kgshard('loadtest', '--duration', '30m', ...args);
      const what = `loadtest ${args.join(' ')}`;
      assert.is(r.code, 2, `${what}: exit code (stderr: ${r.err})`);
      assert.is(r.out, '', `${what}: stdout`);
      const lines = r.err.trimEnd().split('\n');
      assert.is(lines.length, 1, `${what}: ${r.err}`);
      assert.match(lines[0]!, /^kgshard: E_[A-Z_]+: loadtest: /, what);
      assert.match(lines[0]!, pattern, what);
    }
  },
);

test.run();
