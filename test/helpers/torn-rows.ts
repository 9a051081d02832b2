/**
 * The snapshot torn-row check, shared by `npm test` and the soak: real
 * worker threads push +1 to the rows they own through the parameter
 * server's client (Hogwild, no lock) while the main thread takes
 * `snapshotInto` copies in a loop and checks every row of every copy. In a
 * point-in-time copy of a shard, every row holds one whole number in every
 * element, and all rows one worker owns in that shard hold the same number
 * (its pushes so far to that shard): anything else is a torn row.
 */
import { ParameterServer } from '../../src/ps/server.js';
import { startWorker } from './threads.js';

/** `control` words the writers (test/fixtures/ps-pattern-writer.ts) watch and publish: stop, then each one's pushes. */
export const STOP = 0;
export const PUSHED = 1;

export interface TornRowsOptions {
  /** Stop once this many rows have been checked. */
  readonly rowChecks: number;
  readonly entities: number;
  readonly dim: number;
  readonly shards: number;
  readonly workers: number;
}

export interface TornRowsResult {
  readonly checks: number;
  readonly torn: number;
  readonly snapshots: number;
  /** Snapshots in which some row had moved since the previous snapshot (the writers were writing). */
  readonly moving: number;
  readonly pushes: number[];
  /** Writer pauses caused by the snapshots, and the longest (µs). */
  readonly pauses: number;
  readonly pauseMaxUs: number;
  /** The first torn row found, described. */
  readonly example: string | null;
}

export async function checkSnapshotsForTornRows(o: TornRowsOptions): Promise<TornRowsResult> {
  const ids = Array.from({ length: o.entities }, (_, i) => `e${i}`);
  const ps = ParameterServer.create(
    {
      dim: o.dim,
      numShards: o.shards,
      strategy: 'range',
      mode: 'async',
      optimizer: 'sgd',
      learningRate: 1,
      expectedWorkers: o.workers,
      maxStaleness: 2 ** 31 - 1,
    },
    ids,
    ['r0'],
  );
  const zero = { entities: new Float32Array(o.entities * o.dim), relations: new Float32Array(o.dim) };
  ps.overwrite(zero);
  const control = new SharedArrayBuffer(4 * (1 + o.workers));
  const ctl = new Int32Array(control);
  const workers = Array.from({ length: o.workers }, (_, w) =>
    startWorker('ps-pattern-writer', { handle: ps.handle, control, worker: w, workers: o.workers }),
  );
  const results = workers.map(
    (w) =>
      new Promise<{ pushes: number; pauses: number; pauseMaxUs: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  const snap = { entities: new Float32Array(o.entities * o.dim), relations: new Float32Array(o.dim) };
  const prev = new Float32Array(o.entities);
  const rowShard = ps.shardManager.assignment.shardOf;
  let checks = 0;
  let torn = 0;
  let snapshots = 0;
  let moving = 0;
  let example: string | null = null;
  try {
    // Start checking once every writer has pushed at least once.
    while (Array.from({ length: o.workers }, (_, w) => Atomics.load(ctl, PUSHED + w)).some((p) => p === 0))
      await new Promise((r) => setImmediate(r));
    // shardValue[s * workers + w]: the value worker w's rows hold in shard s in this snapshot.
    const shardValue = new Float64Array(o.shards * o.workers);
    while (checks < o.rowChecks) {
      await ps.snapshotInto(snap);
      snapshots++;
      shardValue.fill(NaN);
      let moved = false;
      const E = snap.entities;
      for (let i = 0; i < o.entities; i++) {
        const v = E[i * o.dim]!;
        let ok = Number.isInteger(v);
        for (let q = 1; q < o.dim && ok; q++) if (E[i * o.dim + q] !== v) ok = false;
        const key = rowShard[i]! * o.workers + (i % o.workers);
        if (ok) {
          if (Number.isNaN(shardValue[key]!)) shardValue[key] = v;
          else if (shardValue[key] !== v) ok = false;
        }
        if (!ok) {
          torn++;
          example ??=
            `snapshot ${snapshots}, row ${i} (shard ${rowShard[i]}, worker ${i % o.workers}): ` +
            `[${Array.from(E.subarray(i * o.dim, i * o.dim + Math.min(o.dim, 6))).join(', ')}...], ` +
            `its worker's rows of that shard hold ${shardValue[key]}`;
        }
        if (v !== prev[i]) moved = true;
        prev[i] = v;
        checks++;
      }
      if (moved) moving++;
    }
  } finally {
    Atomics.store(ctl, STOP, 1);
  }
  const done = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    checks,
    torn,
    snapshots,
    moving,
    pushes: done.map((d) => d.pushes),
    pauses: done.reduce((s, d) => s + d.pauses, 0),
    pauseMaxUs: Math.max(...done.map((d) => d.pauseMaxUs)),
    example,
  };
}
