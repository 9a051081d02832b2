/**
 * One set of defaults: `new Trainer` and `runTraining` given only a model
 * resolve every other setting as `kgshard train --model M` does (the
 * model's defaults from MODEL_DEFAULTS, the base ones for the rest, all
 * cores), and a setting given explicitly wins over the model's default in
 * both.
 */
import { availableParallelism } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planTraining, prepareFromFlags } from '../../src/cli/train.js';
import { buildDataset } from '../../src/data/dataset.js';
import { MODEL_DEFAULTS } from '../../src/kge/defaults.js';
import { Trainer, type TrainOptions } from '../../src/kge/trainer.js';
import { runTraining } from '../../src/kge/training/run.js';
import { tinyTriples } from '../cli/kgshard-cli.js';

const dataset = buildDataset('tiny', tinyTriples());

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
  assert.equal(trainer.options, cli);

  const report = await runTraining(dataset, { model: 'rotate' });
  assert.equal(report.options, cli);
  assert.is(report.epochs, rotate.epochs);
  assert.is(report.run.evalWorkers, cli.workers);
});

test('every built-in model resolves alike; an explicit setting wins over the model default everywhere', () => {
  for (const model of ['transe', 'distmult', 'complex', 'rotate']) {
    assert.equal(new Trainer(dataset, { model }).options, cliOptions('--model', model), model);
    assert.equal(
      new Trainer(dataset, { model, lr: 0.05, margin: 2 }).options,
      cliOptions('--model', model, '--lr', '0.05', '--margin', '2'),
      model,
    );
  }
  // No model: the default model, as `kgshard train` with no --model.
  assert.equal(new Trainer(dataset, {}).options, cliOptions());
});

test.run();
