/**
 * A user-defined model, written with `defineModel` (a score and its gradient,
 * nothing else), is trained by the same Trainer as the built-in models: in a
 * pool of two worker threads, and on the calling thread. It learns a toy
 * graph (a chain, both ways): the true tail ranks near the top among all entities.
 *
 * How the model reaches the workers: a worker cannot receive code, so the
 * model lives in an ES module whose default export is the model, named by
 * `modelModule`; every pool worker imports it before it builds its training
 * context. Here that module is this very file (its tests are registered only
 * on the main thread, so a worker importing it just gets the model). In an
 * application it is any module, e.g. `new URL('./my-model.js', import.meta.url)`.
 */
import { isMainThread } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { defineModel } from '../../src/kge/models/index.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { KgError } from '../../src/errors.js';
import { rejection } from '../helpers/errors.js';

/**
 * "Scaled translation": each relation has a translation r and a per-coordinate
 * scale s (relation rows are 2*dim wide: r, then s), and
 *   score(h, r, t) = -sum_k (s_k h_k + r_k - t_k)^2.
 * Scales start at 1 (initRelation), so it starts as a squared-distance TransE.
 */
const scaledTranslation = defineModel({
  name: 'scaled-translation',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: 2 * dim }),
  initRelation(row, offset, dim, rand) {
    for (let k = 0; k < dim; k++) {
      row[offset + k] = (rand() - 0.5) * 0.1;
      row[offset + dim + k] = 1;
    }
  },
  score(E, h, R, r, T, t, dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const u = R[r + dim + k]! * E[h + k]! + R[r + k]! - T[t + k]!;
      s += u * u;
    }
    return -s;
  },
  accumulateGrad(E, h, R, r, T, t, dim, coef, gH, gh, gR, gr, gT, gt) {
    for (let k = 0; k < dim; k++) {
      const scale = R[r + dim + k]!;
      const hv = E[h + k]!;
      const g = -2 * coef * (scale * hv + R[r + k]! - T[t + k]!); // coef * dscore/du
      gH[gh + k] = gH[gh + k]! + g * scale;
      gR[gr + k] = gR[gr + k]! + g;
      gR[gr + dim + k] = gR[gr + dim + k]! + g * hv;
      gT[gt + k] = gT[gt + k]! - g;
    }
  },
});

/** What the pool's workers import. */
export default scaledTranslation;

if (isMainThread) {
  const N = 40;
  const rows: [string, string, string][] = [];
  for (let i = 0; i + 1 < N; i++) rows.push([`e${i}`, 'next', `e${i + 1}`], [`e${i + 1}`, 'prev', `e${i}`]);
  const dataset = buildDataset('chain', { train: rows, valid: [], test: [] });
  const triples = dataset.train.triples;

  /** Mean rank of the true tail among all entities, over every training triple. */
  const meanRank = (trainer: Trainer): number => {
    const { entities: E, relations: R } = trainer.tables();
    const model = trainer.model;
    const dim = trainer.options.dim;
    const { entityWidth: ew, relationWidth: rw } = model.shapes(dim);
    let sum = 0;
    for (let i = 0; i < dataset.train.count; i++) {
      const h = triples[3 * i]!;
      const r = triples[3 * i + 1]!;
      const t = triples[3 * i + 2]!;
      const truth = model.score(E, h * ew, R, r * rw, E, t * ew, dim);
      let rank = 1;
      for (let e = 0; e < N; e++) if (e !== t && model.score(E, h * ew, R, r * rw, E, e * ew, dim) >= truth) rank++;
      sum += rank;
    }
    return sum / dataset.train.count;
  };

  const options = (extra: Partial<TrainOptions>): TrainOptions => ({
    ...DEFAULT_TRAIN,
    model: scaledTranslation.name,
    dim: 8,
    batch: 32,
    neg: 16,
    chunk: 8,
    lr: 0.5,
    optimizer: 'adagrad',
    loss: 'logistic',
    margin: 4,
    epochs: 100,
    seed: 11,
    ...extra,
  });

  const learns = async (trainer: Trainer, label: string): Promise<void> => {
    const before = meanRank(trainer);
    await trainer.train();
    const after = meanRank(trainer);
    const losses = trainer.epochs.map((e) => e.loss);
    const first = losses[0]!;
    const last = losses[losses.length - 1]!;
    assert.is(losses.length, 100, label);
    assert.ok(last < 0.5 * first, `${label}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    assert.ok(before > N / 4, `${label}: untrained mean rank ${before.toFixed(1)}`);
    assert.ok(after <= 3, `${label}: mean rank ${before.toFixed(1)} -> ${after.toFixed(1)}`);
    assert.is(trainer.positives, 100 * dataset.train.count, label);
  };

  test('the user model is what the workers import (this module default-exports it)', async () => {
    const mod = (await import(import.meta.url)) as { default: unknown };
    assert.is(mod.default, scaledTranslation);
    assert.equal(scaledTranslation.shapes(8), { entityWidth: 8, relationWidth: 16 });
  });

  test('trained by the Trainer in a pool of two workers, it learns the chain', async () => {
    const trainer = new Trainer(dataset, options({ workers: 2, modelModule: import.meta.url }), scaledTranslation);
    assert.is(trainer.model, scaledTranslation);
    assert.is(trainer.handle.hyper.modelModule, import.meta.url);
    // Relation rows were initialised by the model's initRelation (scales 1) on this thread.
    const R = trainer.tables().relations;
    assert.equal(Array.from(R.subarray(8, 16)), new Array(8).fill(1));
    await learns(trainer, 'pool');
    // Training changed the scales too: their gradient reached the shared table.
    const trained = trainer.tables().relations;
    assert.ok(
      Array.from(trained.subarray(8, 16)).some((v) => v !== 1),
      'scales were trained',
    );
  });

  test('trained in-thread (no module needed), it learns the chain', async () => {
    const trainer = new Trainer(dataset, options({ workers: 1, inThread: true }), scaledTranslation);
    await learns(trainer, 'in-thread');
  });

  const flagsName =
    'the pool starts under process-wide node flags, which workers refuse (only loader-related flags are passed on)';
  test(flagsName, async () => {
    // Setting a worker's execArgv replaces what it would inherit, so the
    // trainer must not hand it flags such as --max-old-space-size.
    const saved = [...process.execArgv];
    process.execArgv.push(
      '--max-old-space-size=300',
      '--stack-size',
      '900',
      '--expose-gc',
      '--title=kgshard',
      '--enable-source-maps',
    );
    try {
      const trainer = new Trainer(
        dataset,
        options({ workers: 2, epochs: 2, modelModule: import.meta.url }),
        scaledTranslation,
      );
      await trainer.train();
      assert.is(trainer.epochs.length, 2);
    } finally {
      process.execArgv.splice(0, process.execArgv.length, ...saved);
    }
  });

  test('a pool without modelModule, or a module exporting another model, is refused on this thread', async () => {
    let e: unknown;
    try {
      new Trainer(dataset, options({ workers: 2 }), scaledTranslation);
    } catch (x) {
      e = x;
    }
    assert.instance(e, KgError);
    assert.match((e as KgError).message, /modelModule/);
    assert.match((e as KgError).message, /scaled-translation/);

    // Same code, another name: this module's default export is not it.
    const other = defineModel({
      name: 'other-model',
      shapes: (dim) => ({ entityWidth: dim, relationWidth: 2 * dim }),
      score: (...a) => scaledTranslation.score(...a),
      accumulateGrad: (...a) => scaledTranslation.accumulateGrad(...a),
    });
    const trainer = new Trainer(
      dataset,
      options({ model: 'other-model', workers: 2, epochs: 1, modelModule: import.meta.url }),
      other,
    );
    const err = await rejection(trainer.train());
    assert.is(err.code, 'E_INVALID_ARGUMENT');
    assert.match(err.message, /modelModule/);
    assert.match(err.message, /"other-model"/);
    assert.match(err.message, /"scaled-translation"/);
    assert.is(trainer.epochs.length, 0);
  });

  test.run();
}
