/**
 * Live resharding with real worker threads: two Hogwild pushers add +1 to
 * random rows they own (no two workers share a row, so the only way an
 * increment can go missing is a move) while the main thread reshards the
 * server 2 → 4 → 2 → 3 shards, chunk by chunk, and corrects one chunk
 * (its rows replaced by 1000s). Afterwards every row holds exactly the
 * number of increments its pusher counted: no update was lost to a move.
 * The corrected chunk's rows hold 1000 plus the increments pushed after
 * the correction was registered, the same in every element. Meanwhile a reader pinned to the placement before a reshard
 * finds every chunk, at that version, in a slot that still holds it (live
 * or draining), and writers were paused for about one chunk's copy at a
 * time. The pushers' choices come from KGSHARD_SEED.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer, type PlacementPin } from '../../src/ps/server.js';
import { Placement, SLOT_FREE } from '../../src/ps/placement.js';
import { startWorker } from '../helpers/threads.js';
import { withSeed } from '../helpers/prop.js';

const ENTITIES = 600;
const DIM = 8;
const WORKERS = 2;

/** Every entity that the pin places sits in a slot that still holds its chunk. */
function pinnedChunksHeld(p: Placement, pin: PlacementPin): string | null {
  for (let e = 0; e < p.entities(); e++) {
    const { shard, row } = pin.locate(e);
    const c = p.chunkOf[e]!;
    const i = p.slotIndex(shard, Math.floor(row / p.chunkRows));
    if (p.slotState[i] === SLOT_FREE || p.slotChunk[i] !== c)
      return `entity ${e} (chunk ${c}) at version ${pin.version}: shard ${shard} row ${row} holds ${p.slotChunk[i]}`;
  }
  return null;
}

test('2 → 4 → 2 → 3 shards while two Hogwild workers push: every increment is in the final rows', async () => {
  await withSeed('live reshard', async (seed) => {
    const ids = Array.from({ length: ENTITIES }, (_, i) => `e${i}`);
    const ps = ParameterServer.create(
      {
        dim: DIM,
        numShards: 4,
        activeShards: 2,
        strategy: 'range',
        mode: 'async',
        optimizer: 'sgd',
        learningRate: 1,
        maxStaleness: 2 ** 31 - 1,
        chunkRows: 16,
        shardCapacityRows: ENTITIES,
        graceMs: 60_000,
      },
      ids,
      ['r0'],
    );
    ps.overwrite({ entities: new Float32Array(ENTITIES * DIM), relations: new Float32Array(DIM) });
    const placement = Placement.attach(ps.handle.placement);
    const control = new SharedArrayBuffer(4 * (1 + WORKERS));
    const ctl = new Int32Array(control);
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker('reshard-pusher', { handle: ps.handle, control, worker: w, workers: WORKERS, seed }),
    );
    const results = workers.map(
      (w) =>
        new Promise<{ counts: Int32Array; pushes: number; refused: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    let corrected = -1;
    const waitForPushes = async (): Promise<void> => {
      const start = [1, 2].map((i) => Atomics.load(ctl, i));
      while ([1, 2].some((i, k) => Atomics.load(ctl, i) < start[k]! + 20)) await new Promise((r) => setTimeout(r, 1));
    };
    try {
      await waitForPushes();
      assert.is(ps.activeShards(), 2);
      const up = await ps.reshard(4, { maxMovesPerStep: 3 });
      assert.ok(up.chunksMoved > 0, 'chunks moved onto the new shards');
      assert.ok(
        ps.entityIds(3).some((id) => id !== ''),
        'shard 3 holds entities',
      );
      await waitForPushes();
      // A reader pins the 4-shard placement, then the server goes back to 2.
      const pin = ps.pinPlacement();
      let checks = 0;
      const down = await ps.reshard(2, {
        maxMovesPerStep: 2,
        onStep: () => {
          checks++;
          assert.is(pinnedChunksHeld(placement, pin), null);
        },
      });
      assert.ok(down.chunksMoved > 0);
      assert.ok(checks > 0);
      assert.is(pinnedChunksHeld(placement, pin), null);
      pin.unpin();
      assert.ok(
        ps.entityIds(3).every((id) => id === ''),
        'shard 3 holds no entity after going back to 2',
      );
      await waitForPushes();
      // A correction while they push: the chunk's rows become 1000, plus every increment.
      corrected = ps.chunkOf(ENTITIES - 1);
      const rows = ENTITIES - 1 - [...Array(ENTITIES).keys()].findIndex((e) => ps.chunkOf(e) === corrected) + 1;
      await ps.correct(corrected, new Float32Array(rows * DIM).fill(1000));
      await waitForPushes();
      const third = await ps.reshard(3, { maxMovesPerStep: 4 });
      assert.is(ps.activeShards(), 3);
      for (const r of [up, down, third]) {
        assert.ok(r.steps >= Math.ceil(r.chunksMoved / 4), `steps ${r.steps} for ${r.chunksMoved} moves`);
        // A pause is one chunk's copy (16 rows of 8 floats): far below a millisecond unless descheduled.
        assert.ok(r.maxWriterPauseUs < 250_000, `max writer pause ${r.maxWriterPauseUs} µs`);
      }
      await waitForPushes();
    } finally {
      Atomics.store(ctl, 0, 1);
    }
    const done = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    const want = new Int32Array(ENTITIES);
    for (const r of done) for (let e = 0; e < ENTITIES; e++) want[e] = want[e]! + r.counts[e]!;
    const out = { entities: new Float32Array(ENTITIES * DIM), relations: new Float32Array(DIM) };
    ps.copyInto(out);
    let pushed = 0;
    for (let e = 0; e < ENTITIES; e++) {
      pushed += want[e]!;
      if (ps.chunkOf(e) === corrected) {
        // Replaced by 1000s: increments pushed before the correction was
        // registered were replaced with the rest of the old rows; those after
        // it carried over. Every element of the row agrees.
        const v = out.entities[e * DIM]! - 1000;
        assert.ok(Number.isInteger(v) && v >= 0 && v <= want[e]!, `corrected entity ${e}: 1000 + ${v}`);
        for (let q = 1; q < DIM; q++) assert.is(out.entities[e * DIM + q], 1000 + v);
        continue;
      }
      for (let q = 0; q < DIM; q++) {
        if (out.entities[e * DIM + q] !== want[e])
          assert.unreachable(`entity ${e} element ${q} holds ${out.entities[e * DIM + q]}, pushed ${want[e]} times`);
      }
    }
    assert.ok(pushed > 1000, `${pushed} increments pushed`);
    assert.ok(
      done.every((r) => r.refused === 0),
      'no push was refused',
    );
    // The grace window (a minute here, for the pinned reader) keeps every old copy.
    assert.ok(placement.draining() > 0, 'old copies drain rather than vanish');
  });
});

test.run();
