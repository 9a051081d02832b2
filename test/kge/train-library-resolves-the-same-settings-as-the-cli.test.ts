/**
 * One set of defaults: `new Trainer` and `runTraining` given only a model
 * resolve every other setting as `kgshard train --model M` does (the
 * model's defaults from MODEL_DEFAULTS, the base ones for the rest, all
 * cores), and a setting given explicitly wins over the model's default in
 * both. (The shard count is the one setting whose default depends on the
 * dataset: the Trainer sets it, at most one shard per entity.)
 */
import { availableParallelism } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planTraining, prepareFromFlags } from '../../src/cli/train.js';
import { buildDataset } from '../../src/data/dataset.js';
import { MODEL_DEFAULTS } from '../../src/kge/defaults.js';
import { setting } from '../../src/kge/hyper.js';
import { Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { runTraining } from '../../src/kge/training/run.js';
import { tinyTriples } from '../cli/kgshard-cli.js';

const dataset = buildDataset('tiny', tinyTriples());

/** The options but the shard count, which the Trainer resolves against the dataset. */
function unsharded(o: TrainOptions): TrainOptions {
  const { shards, ...rest } = o;
  assert.is(shards, Math.min(setting('shards').default as number, dataset.entities.length), 'the shard count');
  return rest;
}

function cliOptions(...args: string[]): TrainOptions {
  const plan = planTraining(args);
  if (plan === 'help') throw new Error('help');
  return prepareFromFlags(plan.options).options;
}

const ROTATE = '{ model: rotate }: the Trainer, runTraining and kgshard train --model rotate resolve the same options';
test(ROTATE, async () => {
  const cli = cliOptions('--model', 'rotate');
  const rotate = MODEL_DEFAULTS['rotate']!;
  // The CLI's are rotate's defaults (so the comparison below is not of two empty objects).
  assert.is(cli.model, 'rotate');
  assert.is(cli.lr, rotate.lr);
  assert.is(cli.margin, rotate.margin);
  assert.is(cli.adversarial, rotate.adversarial);
  assert.is(cli.epochs, rotate.epochs);
  assert.is(cli.workers, availableParallelism());

  const trainer = new Trainer(dataset, { model: 'rotate' });
  await trainer.close();
  assert.equal(unsharded(trainer.options), cli);

  const report = await runTraining(dataset, { model: 'rotate' });
  assert.equal(unsharded(report.options), cli);
  assert.is(report.epochs, rotate.epochs);
  assert.is(report.run.evalWorkers, cli.workers);
});

test('every built-in model resolves alike; an explicit setting wins over the model default everywhere', () => {
  for (const model of ['transe', 'distmult', 'complex', 'rotate']) {
    assert.equal(unsharded(new Trainer(dataset, { model }).options), cliOptions('--model', model), model);
    assert.equal(
      unsharded(new Trainer(dataset, { model, lr: 0.05, margin: 2 }).options),
      cliOptions('--model', model, '--lr', '0.05', '--margin', '2'),
      model,
    );
  }
  // No model: the default model, as `kgshard train` with no --model.
  assert.equal(unsharded(new Trainer(dataset, {}).options), cliOptions());
});

test.run();
