import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, kgshard } from './kgshard-cli.js';

test(
  'loadtest --json: one JSON object with the summary fields; ' + 'every event produced was consumed once, in order',
  () => {
    const r = kgshard('loadtest', '--duration', '1s', '--producers', '2', '--shards', '2', '--json');
    assert.is(r.code, 0, r.err);
    // Off a TTY the run is quiet: nothing but the one object, and nothing on stderr.
    assert.is(r.err, '');
    const s = json(r);
    for (const key of [
      'events_per_s',
      'produced',
      'consumed',
      'lost',
      'duplicated',
      'reordered',
      'push_latency_ns',
      'scale_events',
      'breaker_events',
      'stall_consumer',
      'shards_final',
    ]) {
      assert.ok(key in s, `missing ${key}`);
    }
    const num = (v: unknown, what: string): number => {
      assert.type(v, 'number', what);
      assert.ok(Number.isFinite(v), `${what} is finite`);
      return v as number;
    };
    const produced = num(s['produced'], 'produced');
    assert.ok(produced > 0, 'some events were produced');
    assert.is(num(s['consumed'], 'consumed'), produced, 'consumed === produced');
    assert.is(s['lost'], 0);
    assert.is(s['duplicated'], 0);
    assert.is(s['reordered'], 0);
    assert.ok(num(s['events_per_s'], 'events_per_s') > 0);

    const lat = s['push_latency_ns'] as Record<string, unknown>;
    const [p50, p99, p999] = [num(lat['p50'], 'p50'), num(lat['p99'], 'p99'), num(lat['p999'], 'p999')];
    assert.ok(p50 > 0 && p50 <= p99 && p99 <= p999, `percentiles ordered: ${p50} ${p99} ${p999}`);

    // The flags reached the library: two producers, two shards, no scaling without --auto-scale.
    assert.is(s['producers'], 2);
    assert.equal(s['scale_events'], []);
    assert.equal(s['stall_consumer'], null);
    assert.equal(s['shards_final'], [0, 1]);
    // The per-producer counts add up to the totals.
    const per = Object.values(s['per_producer'] as Record<string, { produced: number; consumed: number }>);
    assert.is(per.length, 2);
    assert.is(
      per.reduce((a, p) => a + p.produced, 0),
      produced,
    );
    assert.is(
      per.reduce((a, p) => a + p.consumed, 0),
      produced,
    );
  },
);

test.run();
