/**
 * A Trainer on a dataset whose train split holds no triples is refused at
 * construction, naming the field and the dataset: an epoch of no triples has
 * no loss, and reporting one (or checkpointing it as an objective) would be
 * a made-up number.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset, sharedSplit } from '../../src/data/dataset.js';
import { KgError } from '../../src/errors.js';
import { DEFAULT_TRAIN, Trainer, type TrainOptions } from '../../src/kge/trainer.js';

const options: TrainOptions = {
  ...DEFAULT_TRAIN,
  model: 'distmult',
  dim: 4,
  epochs: 2,
  batch: 4,
  neg: 2,
  chunk: 2,
  workers: 1,
  inThread: true,
};

test('an empty train split is refused before anything trains', () => {
  const full = buildDataset('ring', {
    train: [
      ['a', 'r', 'b'],
      ['b', 'r', 'a'],
    ],
    valid: [],
    test: [],
  });
  for (const dataset of [
    { ...full, train: sharedSplit([]) },
    buildDataset('empty', { train: [], valid: [], test: [] }),
  ]) {
    let caught: unknown = null;
    try {
      new Trainer(dataset, options);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof KgError, `${dataset.name}: refused with a KgError`);
    const e = caught;
    assert.is(e.code, 'E_INVALID_ARGUMENT');
    assert.match(e.message, /dataset\.train\.count/);
    assert.ok(e.message.includes(JSON.stringify(dataset.name)), e.message);
  }
});

test('one triple is enough: every epoch reports a finite loss over its positives', async () => {
  const dataset = buildDataset('one', { train: [['a', 'r', 'b']], valid: [], test: [] });
  const trainer = new Trainer(dataset, options);
  await trainer.train();
  assert.is(trainer.epochs.length, 2);
  for (const e of trainer.epochs) {
    assert.is(e.positives, 1);
    assert.ok(Number.isFinite(e.loss) && e.loss > 0, `loss ${e.loss}`);
  }
});

test.run();
