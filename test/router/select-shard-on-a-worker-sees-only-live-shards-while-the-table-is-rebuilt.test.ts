/**
 * Real threads: a worker calls selectShard millions of times (lock-free,
 * from its own copy of the table) while the main thread keeps rebuilding
 * the selection table: scale-ups (direct and through Provisioning),
 * drains, scale-downs, finalization and removal, and weight changes
 * through collectMetrics. The scenario runs in epochs: a burst of changes
 * made without waiting, then a settle in which the main thread publishes
 * the table it has and waits until the worker has seen exactly that table
 * through selectShard (protocol in test/fixtures/mapper-protocol.ts).
 *
 * Proves: every id the worker is handed was Active at some point, never
 * one that left Active before a table the worker had already seen, and
 * never NO_SHARD (a shard is always Active); and the worker really reads
 * fresh tables: it confirms every epoch's table (settles alternate between
 * "every Active shard" and "one least-loaded shard", so it sees many
 * different sets), none is reported stale.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper, type MapperResult } from '../../src/router/mapper.js';
import {
  kSelAck,
  kSelEpoch,
  kSelEverActive,
  kSelExpected,
  kSelExpectedLen,
  kSelRetiredAt,
  kSelStop,
  SEL_CONTROL_WORDS,
  SEL_MAX_TABLE,
  waitWord,
  type SelectorInput,
  type SelectorResult,
} from '../fixtures/mapper-protocol.js';
import { withSeed } from '../helpers/prop.js';
import { rng } from '../helpers/rng.js';
import { firstMessage, startWorker } from '../helpers/threads.js';

const EPOCHS = 300;
const BURST = 4;
const MAX = 8;

/** Run a scale operation, retrying while the 1 ns cooldown of the previous one is still running. */
function retry<T>(what: string, op: () => MapperResult<T>): T {
  for (let tries = 0; tries < 1000; tries++) {
    const r = op();
    if (r.ok) return r.value;
    assert.is(r.error, 'in-cooldown', `${what}: ${r.message}`);
  }
  throw new Error(`${what}: in a 1 ns cooldown for 1000 tries`);
}

// eslint-disable-next-line max-len -- a one-sentence test name; prettier keeps it on the test( line
test(`selectShard on a worker returns only live shards while the main thread rebuilds the table (${EPOCHS} epochs)`, () =>
  withSeed(
    `selectShard on a worker returns only live shards while the main thread rebuilds the table (${EPOCHS} epochs)`,
    async (seed) => {
      const mapper = ShardMapper.create({
        initialShards: 4,
        ringCapacity: 1024,
        policy: { minShards: 1, maxShards: MAX, cooldownMs: 1e-6, minDrainMs: 0 },
      });
      const ctlBuf = new SharedArrayBuffer(SEL_CONTROL_WORDS * 4);
      const ctl = new Int32Array(ctlBuf);
      const everActive = (id: number): void => void Atomics.or(ctl, kSelEverActive + (id >>> 5), 1 << (id & 31));
      for (let id = 0; id < 4; id++) everActive(id);
      let nextId = 4;
      const rand = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

      const input: SelectorInput = {
        handle: mapper.handle,
        ctl: ctlBuf,
        minCalls: 5_000_000,
        staleAfterCalls: 20_000_000,
        seed,
      };
      const worker = startWorker('mapper-selector', input);
      const done = firstMessage<SelectorResult>(worker, 120_000);
      done.catch(() => undefined);
      // The selector answers only once stopped: an answer (or an error) before that ends the wait for a confirmation.
      const early = done.then((r) => Promise.reject(new Error(`the selector stopped early: ${JSON.stringify(r)}`)));
      early.catch(() => undefined);
      try {
        const retire = (ids: readonly number[], epoch: number): void =>
          ids.forEach((id) => Atomics.store(ctl, kSelRetiredAt + id, epoch));
        const scaleUp = (n: number): void => {
          const want = Array.from({ length: n }, (_, i) => nextId + i);
          want.forEach(everActive); // before the ids can be routable
          assert.equal(
            retry('scaleUp', () => mapper.scaleUp(n)),
            want,
          );
          nextId += n;
        };
        const stageAndActivate = (): void => {
          const id = nextId++;
          assert.equal(
            retry('scaleUpProvisioning', () => mapper.scaleUpProvisioning(1)),
            [id],
          );
          everActive(id);
          assert.equal(mapper.activate(id), { ok: true, value: true });
        };
        const cleanUp = (): void => {
          mapper.finalizeDraining();
          mapper.removeStoppedShards();
        };
        /** Give each Active shard one push: latency `low` for those in `lows`, `high` for the rest; then collect. */
        const weigh = (lows: ReadonlySet<number>, low: number, high: number): void => {
          for (const id of mapper.activeShardIds()) mapper.metricsCollector(id)!.recordPush(lows.has(id) ? low : high);
          mapper.collectMetrics();
        };

        const published = new Set<string>();
        for (let e = 1; e <= EPOCHS; e++) {
          for (let b = 0; b < BURST; b++) {
            const active = mapper.activeShardIds();
            const u = rand();
            if (u < 0.25 && active.length + 2 <= MAX) scaleUp(1 + Math.floor(rand() * 2));
            else if (u < 0.4 && active.length < MAX) stageAndActivate();
            else if (u < 0.6 && active.length > 1) {
              const id = pick(active);
              retry('drainSpecific', () => mapper.drainSpecific(id));
              retire([id], e);
              cleanUp();
            } else if (u < 0.7 && active.length > 1) {
              retire(
                retry('scaleDown', () => mapper.scaleDown(1)),
                e,
              );
              cleanUp();
            } else {
              weigh(new Set(active.filter(() => rand() < 0.5)), 10, 50);
            }
          }
          // Settle: every Active shard equally loaded (even epochs), or one least-loaded shard (odd epochs).
          if (mapper.activeShardCount() < 2) scaleUp(1);
          const active = mapper.activeShardIds();
          const lows = e % 2 === 0 ? new Set(active) : new Set([pick(active)]);
          weigh(lows, 10, 50);
          const table = mapper.selectionTable();
          assert.equal(
            table,
            [...lows].sort((a, b) => a - b),
            `epoch ${e}: selection table after the settle`,
          );
          assert.ok(table.length <= SEL_MAX_TABLE);
          published.add(table.join(','));
          Atomics.store(ctl, kSelExpectedLen, table.length);
          table.forEach((id, k) => Atomics.store(ctl, kSelExpected + k, id));
          Atomics.store(ctl, kSelEpoch, e);
          await Promise.race([
            waitWord(ctl, kSelAck, e, `epoch ${e}: the selector confirming the table [${table.join(',')}]`, 60_000),
            early,
          ]);
        }
        Atomics.store(ctl, kSelStop, 1);
        const r = await done;
        assert.equal(r.failures, [], `selector saw ${r.failures.length} bad results`);
        assert.is(r.acked, EPOCHS, 'every epoch confirmed');
        assert.is(r.confirmed, EPOCHS, 'every epoch confirmed by seeing its table, none given up on as stale');
        assert.ok(r.calls >= 5_000_000, `${r.calls} selectShard calls`);
        assert.ok(published.size >= 2, `the settles published ${published.size} different tables`);
        assert.ok(
          r.distinctSets >= published.size,
          `the selector saw ${r.distinctSets} sets of ids, fewer than the ${published.size} tables published`,
        );
        assert.ok(nextId > 4 + EPOCHS / 10, `only ${nextId - 4} shards were added`);
      } finally {
        Atomics.store(ctl, kSelStop, 1);
        await worker.terminate();
      }
    },
  ));

test.run();
