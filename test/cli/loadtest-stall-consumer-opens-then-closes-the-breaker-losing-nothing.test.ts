/**
 * `kgshard loadtest --stall-consumer S@T`: the consumer of shard S freezes
 * mid-batch T into the run and stays frozen. Its producer's waits for ring
 * space fail, the shard's breaker opens, a replacement consumer drains the
 * ring, and after the cool-down the breaker goes half-open and closes. The
 * JSON lists those transitions and the accounting stays exact: every event
 * produced arrives once, in order, the stalled consumer's held batch
 * included. The shard and the moment come from the run's seed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32 } from '../../src/prng.js';
import { withSeed } from '../helpers/prop.js';
import { json, kgshard } from './kgshard-cli.js';

interface BreakerEvent {
  t_ms: number;
  shard: number;
  from: string;
  to: string;
}

test('a stalled consumer: its breaker opens, goes half-open and closes; nothing lost, duplicated or reordered', () =>
  withSeed('loadtest --stall-consumer', (seed) => {
    const rand = mulberry32(seed >>> 0);
    const shard = Math.floor(rand() * 2);
    const atMs = 600 + Math.floor(rand() * 600);
    const args = ['--stall-consumer', `${shard}@${atMs}ms`, '--duration', '3s', '--breaker-cooldown', '300ms'];
    const r = kgshard('loadtest', ...args, '--tick', '50ms', '--json');
    const what = `loadtest ${args.join(' ')}: ${r.out}${r.err}`;
    assert.is(r.code, 0, what);
    const s = json(r);
    const stall = s['stall_consumer'] as { shard: number; at_ms: number; t_ms: number | null };
    assert.equal([stall.shard, stall.at_ms], [shard, atMs], what);
    assert.type(stall.t_ms, 'number', what);

    // The stalled shard went closed -> open -> half-open -> ... -> closed, each
    // transition starting where the last one ended (a failed probe may
    // reopen it on the way); the opening came after the stall.
    const events = s['breaker_events'] as BreakerEvent[];
    const mine = events.filter((e) => e.shard === shard);
    assert.ok(mine.length >= 3, what);
    assert.equal([mine[0]!.from, mine[0]!.to], ['closed', 'open'], what);
    assert.ok(mine[0]!.t_ms >= stall.t_ms!, what);
    assert.equal([mine[1]!.from, mine[1]!.to], ['open', 'half-open'], what);
    assert.equal([mine.at(-1)!.from, mine.at(-1)!.to], ['half-open', 'closed'], what);
    // Every shard's transitions chain, in time order, and end closed.
    for (const id of new Set(events.map((e) => e.shard))) {
      const list = events.filter((e) => e.shard === id);
      let state = 'closed';
      let t = 0;
      for (const e of list) {
        assert.is(e.from, state, `shard ${id}: ${what}`);
        assert.ok(e.t_ms >= t, `shard ${id} in time order: ${what}`);
        state = e.to;
        t = e.t_ms;
      }
      assert.is(state, 'closed', `shard ${id} ends closed: ${what}`);
    }

    // Exact accounting across the stall, the replacement and the moves.
    const produced = s['produced'] as number;
    assert.ok(produced > 0, what);
    assert.is(s['consumed'], produced, what);
    assert.equal([s['lost'], s['duplicated'], s['reordered']], [0, 0, 0], what);
    const per = s['per_producer'] as Record<string, { produced: number; consumed: number }>;
    for (const [p, c] of Object.entries(per)) {
      assert.ok(c.produced > 0, `producer ${p} produced: ${what}`);
      assert.is(c.consumed, c.produced, `producer ${p}: ${what}`);
    }
  }));

test('the summary names the breaker events and the stall', () => {
  const r = kgshard('loadtest', '--stall-consumer', '0@500ms', '--duration', '2s', '--breaker-cooldown', '200ms');
  assert.is(r.code, 0, r.out + r.err);
  const line = r.out.split('\n').find((l) => l.startsWith('  breaker events ')) ?? '';
  assert.match(line, /shard 0: closed -> open [\d.]+s, open -> half-open [\d.]+s, [^;]*half-open -> closed [\d.]+s/);
  assert.match(line, /; shard 0's consumer stalled at [\d.]+s$/);
  assert.match(r.out, /result +ok: every event arrived exactly once and in order/);
});

test.run();
