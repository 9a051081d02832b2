/**
 * Real threads (the seed's record_push_collect_no_sum_count_desync):
 * RECORDERS worker threads call recordPush on one shared shard (latency
 * (i % 100) + 1) and each on a shard of its own (a constant latency) while
 * the main thread calls mapper.collectMetrics() in a loop. A push's latency
 * count and sum travel as one word, so no window ever reports an average
 * that no set of samples could have: the shared shard's average is 0 (no
 * sample) or in [1, 100], a private shard's is 0 or exactly its constant.
 * No push is lost or counted twice: the windows' events add up to the
 * pushes, per shard, both up to a collection made while every recorder
 * was paused halfway and in total.
 *
 * Recorders pace themselves on the collection count (REC_PACE), so even
 * with more threads than cores the collections land all through the
 * recording.
 */
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import type { ShardMetrics } from '../../src/router/metrics.js';
import {
  kRecCollections,
  kRecDone,
  kRecGo,
  kRecHalf,
  kRecReady,
  kRecResume,
  privateLatency,
  REC_CONTROL_WORDS,
  waitWord,
  type RecorderInput,
  type RecorderResult,
} from '../fixtures/mapper-protocol.js';
import { firstMessage, startWorker } from '../helpers/threads.js';

const RECORDERS = 3;
const PUSHES = 100_000;

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test(`${RECORDERS} recorders x ${PUSHES} pushes racing collectMetrics: no impossible average, no lost push`, async () => {
  const shards = 1 + RECORDERS;
  const mapper = ShardMapper.create({ initialShards: shards, ringCapacity: 1024 });
  const ctlBuf = new SharedArrayBuffer(REC_CONTROL_WORDS * 4);
  const ctl = new Int32Array(ctlBuf);
  const workers: Worker[] = [];
  try {
    const results: Promise<RecorderResult>[] = [];
    // The first recorder failure (a list: the rejection value may be anything).
    const dead: unknown[] = [];
    for (let t = 0; t < RECORDERS; t++) {
      const input: RecorderInput = { handle: mapper.handle, ctl: ctlBuf, thread: t, pushes: PUSHES };
      const w = startWorker('mapper-recorder', input);
      workers.push(w);
      const p = firstMessage<RecorderResult>(w, 60_000);
      p.catch((e: unknown) => void dead.push(e));
      results.push(p);
    }
    const died = new Promise<never>((_, reject) => {
      for (const p of results) p.catch(reject);
    });
    died.catch(() => undefined);
    await Promise.race([waitWord(ctl, kRecReady, RECORDERS, 'recorders starting'), died]);

    const events = new Array<number>(shards).fill(0);
    const nonEmpty = new Array<number>(shards).fill(0);
    let windows = 0;
    const faults: string[] = [];
    const check = (ms: ShardMetrics[]): void => {
      windows++;
      Atomics.store(ctl, kRecCollections, windows);
      if (ms.length !== shards) faults.push(`collection ${windows} returned ${ms.length} shards`);
      for (const m of ms) {
        const id = m.shardId;
        const avg = m.avgPushLatencyNs;
        events[id]! += m.eventRate;
        if (m.eventRate > 0) nonEmpty[id]!++;
        const legal =
          id === 0
            ? avg === 0 || (avg >= 1 && avg <= 100 && Number.isInteger(avg))
            : avg === 0 || avg === privateLatency(id - 1);
        if (!legal)
          faults.push(`window ${windows}, shard ${id}: average ${avg} ns over ${m.eventRate} events is impossible`);
        const weight = m.avgPushLatencyNs / 10 + m.eventRate / 1_000_000;
        if (m.weight !== weight || m.fillRatio !== 0 || m.avgFlushLatencyUs !== 0 || m.draining) {
          faults.push(`window ${windows}, shard ${id}: ${JSON.stringify(m)} (weight should be ${weight})`);
        }
      }
    };

    Atomics.store(ctl, kRecGo, 1);
    Atomics.notify(ctl, kRecGo);
    let resumed = false;
    let spins = 0;
    const deadline = performance.now() + 60_000;
    while (Atomics.load(ctl, kRecDone) < RECORDERS) {
      check(mapper.collectMetrics());
      if (!resumed && Atomics.load(ctl, kRecHalf) === RECORDERS) {
        // Every recorder is parked halfway: one more collection takes the rest of the first halves.
        check(mapper.collectMetrics());
        assert.is(events[0], RECORDERS * (PUSHES >> 1), 'shared shard: events up to the halfway collection');
        for (let t = 0; t < RECORDERS; t++)
          assert.is(events[1 + t], PUSHES >> 1, `shard ${1 + t}: events up to the halfway collection`);
        resumed = true;
        Atomics.store(ctl, kRecResume, 1);
        Atomics.notify(ctl, kRecResume);
      }
      // Let worker errors and messages through now and then.
      if ((++spins & 255) === 0) await new Promise((r) => setImmediate(r));
      if (dead.length > 0) throw dead[0];
      if (performance.now() > deadline)
        throw new Error(`recorders not done after 60 s (${Atomics.load(ctl, kRecDone)} done)`);
    }
    check(mapper.collectMetrics());
    assert.ok(resumed, 'the halfway collection happened');
    assert.equal(faults.slice(0, 5), [], `${faults.length} bad windows of ${windows}`);
    assert.is(events[0], RECORDERS * PUSHES, 'shared shard: every push counted exactly once');
    for (let t = 0; t < RECORDERS; t++)
      assert.is(events[1 + t], PUSHES, `shard ${1 + t}: every push counted exactly once`);
    // The halfway pause alone guarantees two non-empty windows per shard.
    for (let id = 0; id < shards; id++) assert.ok(nonEmpty[id]! >= 2, `shard ${id}: ${nonEmpty[id]} non-empty windows`);
    // An empty window afterwards: nothing left over, and the average of no samples is 0.
    const after = mapper.collectMetrics();
    assert.equal(
      after.map((m) => [m.eventRate, m.avgPushLatencyNs]),
      Array.from({ length: shards }, () => [0, 0]),
    );
    assert.equal(
      (await Promise.all(results)).map((r) => r.pushes),
      Array.from({ length: RECORDERS }, () => PUSHES),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
