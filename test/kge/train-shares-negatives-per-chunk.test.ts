/**
 * The training step scores each chunk of positives against one set of
 * negatives shared by the whole chunk: one blocked call per chunk (n
 * positives × `neg` candidates), never a per-pair `score` for negatives,
 * and `score` once per positive. Chunks alternate between corrupting tails
 * and heads, also in a task that does not start on a chunk boundary (a pool
 * worker's share).
 *
 * Observed through a user-defined model (defineModel) that counts its calls.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import {
  defineModel,
  loopGradHeads,
  loopGradTails,
  loopScoreHeads,
  loopScoreTails,
  type Block,
} from '../../src/kge/models/index.js';
import { TrainContext } from '../../src/kge/train-core.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { rng } from '../helpers/rng.js';

interface BlockCall {
  readonly side: 'tails' | 'heads';
  readonly n: number;
  readonly m: number;
  /** Candidate entity ids (the chunk's negatives). */
  readonly candidates: number[];
  /** Query entity ids. */
  readonly queries: number[];
}

const DIM = 4;
const calls = { score: 0, grad: 0, blocks: [] as BlockCall[], gradBlocks: [] as ('tails' | 'heads')[] };

function reset(): void {
  calls.score = 0;
  calls.grad = 0;
  calls.blocks = [];
  calls.gradBlocks = [];
}

function distmultScore(
  E: Float32Array,
  h: number,
  R: Float32Array,
  r: number,
  T: Float32Array,
  t: number,
  dim: number,
): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += E[h + k]! * R[r + k]! * T[t + k]!;
  return s;
}

function distmultGrad(
  E: Float32Array,
  h: number,
  R: Float32Array,
  r: number,
  T: Float32Array,
  t: number,
  dim: number,
  coef: number,
  gH: Float32Array,
  gh: number,
  gR: Float32Array,
  gr: number,
  gT: Float32Array,
  gt: number,
): void {
  for (let k = 0; k < dim; k++) {
    gH[gh + k] = gH[gh + k]! + coef * R[r + k]! * T[t + k]!;
    gR[gr + k] = gR[gr + k]! + coef * E[h + k]! * T[t + k]!;
    gT[gt + k] = gT[gt + k]! + coef * E[h + k]! * R[r + k]!;
  }
}

/** Uncounted inner model for the block kernels' loops. */
const inner = { score: distmultScore, accumulateGrad: distmultGrad };

function record(side: 'tails' | 'heads', b: Block): void {
  calls.blocks.push({
    side,
    n: b.n,
    m: b.m,
    candidates: Array.from(b.candOffs.subarray(0, b.m), (o) => o / DIM),
    queries: Array.from(b.entOffs.subarray(0, b.n), (o) => o / DIM),
  });
}

const counting = defineModel({
  name: 'counting-distmult',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score(...a) {
    calls.score++;
    return distmultScore(...a);
  },
  accumulateGrad(...a) {
    calls.grad++;
    distmultGrad(...a);
  },
  scoreTails(b, out) {
    record('tails', b);
    loopScoreTails(inner, b, out);
  },
  scoreHeads(b, out) {
    record('heads', b);
    loopScoreHeads(inner, b, out);
  },
  accumulateGradTails(b, coef, g) {
    calls.gradBlocks.push('tails');
    loopGradTails(inner, b, coef, g);
  },
  accumulateGradHeads(b, coef, g) {
    calls.gradBlocks.push('heads');
    loopGradHeads(inner, b, coef, g);
  },
});

const rand = rng(99);
const rows: [string, string, string][] = [];
for (let i = 0; i < 100; i++) rows.push([`e${i % 50}`, `r${i % 3}`, `e${(i * 13 + 7) % 50}`]);
const dataset = buildDataset('small', { train: rows, valid: [], test: [] });
const n = dataset.train.count;

function options(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN,
    model: counting.name,
    dim: DIM,
    batch: 64,
    chunk: 16,
    neg: 8,
    epochs: 1,
    workers: 1,
    inThread: true,
    seed: Math.floor(rand() * 1000),
    // The direct path reads rows in place, so a row's offset names its entity (offset / DIM); the
    // server path gives the kernels the same rows gathered into a tile (equal bit for bit, see
    // train-through-the-sharded-server-equals-the-direct-path).
    dataPath: 'direct',
    shards: 1,
    ...extra,
  };
}

test('one epoch: one blocked call per chunk against `neg` shared negatives; score once per positive', async () => {
  assert.is(n, 100);
  const trainer = new Trainer(dataset, options(), counting);
  reset();
  await trainer.epoch(0);
  const chunks = Math.ceil(n / 16);
  assert.is(calls.blocks.length, chunks, 'one scoring call per chunk');
  assert.is(calls.gradBlocks.length, chunks, 'one gradient call per chunk');
  assert.equal(
    calls.blocks.map((b) => b.n),
    [16, 16, 16, 16, 16, 16, 4],
  );
  assert.ok(
    calls.blocks.every((b) => b.m === 8 && b.candidates.length === 8),
    'every chunk: 8 candidates for all its positives',
  );
  assert.ok(
    calls.blocks.every((b) => b.candidates.every((e) => Number.isInteger(e) && e >= 0 && e < dataset.entities.length)),
  );
  // Positives are scored one by one (n calls); negatives only through the blocked kernel.
  assert.is(calls.score, n);
  assert.is(calls.grad, n);
  // Sides alternate chunk by chunk, starting with tails in epoch 0 ...
  assert.equal(
    calls.blocks.map((b) => b.side),
    ['tails', 'heads', 'tails', 'heads', 'tails', 'heads', 'tails'],
  );
  assert.equal(
    calls.gradBlocks,
    calls.blocks.map((b) => b.side),
  );
  // ... and with heads in epoch 1.
  reset();
  await trainer.epoch(1);
  assert.equal(
    calls.blocks.map((b) => b.side),
    ['heads', 'tails', 'heads', 'tails', 'heads', 'tails', 'heads'],
  );
  // Different chunks draw different negatives.
  const sets = new Set(calls.blocks.map((b) => b.candidates.join(',')));
  assert.is(sets.size, chunks);
});

test('the query rows of a chunk are its positives: heads when tails are corrupted, tails when heads are', async () => {
  const trainer = new Trainer(dataset, options(), counting);
  reset();
  await trainer.epoch(0);
  const order = trainer.handle.order;
  const t = dataset.train.triples;
  let p = 0;
  for (const b of calls.blocks) {
    const expected = Array.from({ length: b.n }, (_, i) => t[order[p + i]! * 3 + (b.side === 'tails' ? 0 : 2)]!);
    assert.equal(b.queries, expected);
    p += b.n;
  }
  assert.is(p, n);
});

test('a task that starts off a chunk boundary still alternates tails and heads', () => {
  // A pool worker's share starts at k * ceil(n / workers), rarely a multiple of the chunk size.
  const trainer = new Trainer(dataset, options(), counting);
  const order = trainer.handle.order;
  for (let i = 0; i < order.length; i++) order[i] = i;
  const context = new TrainContext(trainer.handle, counting);
  for (const start of [5, 50, 51]) {
    for (const epoch of [0, 1]) {
      reset();
      const r = context.run({ epoch, start, end: start + 4 * 16, steps: 0, worker: 1, seed: 3 });
      assert.is(r.positives, 64);
      const sides = calls.blocks.map((b) => b.side);
      const expected = epoch === 0 ? ['tails', 'heads', 'tails', 'heads'] : ['heads', 'tails', 'heads', 'tails'];
      assert.equal(sides, expected, `start ${start}, epoch ${epoch}`);
    }
  }
});

test.run();
