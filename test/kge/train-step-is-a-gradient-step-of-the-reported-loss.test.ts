/**
 * One training chunk with plain SGD at a tiny rate ε moves the tables by
 * -ε ∇L, where L is the loss the step reports. Checked to first order
 * without knowing the model's gradient: run the same chunk (same seed, same
 * negatives) twice; the loss falls by ε |∇L|^2 = |Δθ|^2 / ε. A wrong sign or
 * a lost gradient in any part of the step (positives, shared negatives,
 * relations, head or tail side, either loss) breaks the equality.
 *
 * Uniform negative weights and no regularisation: self-adversarial weights
 * are treated as constants by design, and the penalty is not in the
 * reported loss, so with either the two sides differ on purpose.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { createModel, type KgeModel } from '../../src/kge/models/index.js';
import { TrainContext } from '../../src/kge/train-core.js';
import { DEFAULT_TRAIN, Trainer } from '../../src/kge/trainer.js';
import { squaredTransE as squared } from '../helpers/user-models.js';

const rows: [string, string, string][] = [];
for (let i = 0; i + 1 < 30; i++) rows.push([`e${i}`, 'next', `e${i + 1}`], [`e${i + 1}`, 'prev', `e${i}`]);
const dataset = buildDataset('chain', { train: rows, valid: [], test: [] });

const models: KgeModel[] = [
  createModel('transe-l1'),
  createModel('transe-l2'),
  createModel('distmult'),
  createModel('complex'),
  createModel('rotate'),
  squared,
];

for (const model of models) {
  test(`${model.name}: a chunk's update is -ε times the gradient of its reported loss`, () => {
    for (const loss of ['logistic', 'margin'] as const) {
      for (const epoch of [0, 1]) {
        const side = epoch === 0 ? 'tails' : 'heads';
        const eps = 1e-4;
        const trainer = new Trainer(
          dataset,
          {
            ...DEFAULT_TRAIN,
            model: model.name,
            dim: 4,
            batch: 8,
            chunk: 8,
            neg: 5,
            lr: eps,
            optimizer: 'sgd',
            loss,
            margin: 1,
            adversarial: 0,
            reg: 0,
            epochs: 1,
            workers: 1,
            inThread: true,
            seed: 1,
          },
          model,
        );
        // Spread the rows (initial values are within ±0.05) so that scores and gradients are not all near 0.
        const spread = trainer.tables();
        for (let i = 0; i < spread.entities.length; i++) spread.entities[i] = spread.entities[i]! * 20;
        trainer.warmStart(spread.entities, spread.relations);
        const order = trainer.handle.order;
        for (let i = 0; i < order.length; i++) order[i] = i;
        const context = new TrainContext(trainer.handle, model);
        const task = { epoch, start: 3, end: 11, steps: 0, worker: 0, seed: 99 };
        const E0 = Float64Array.from(spread.entities);
        const R0 = Float64Array.from(spread.relations);
        const before = context.run(task).loss;
        const { entities: E, relations: R } = trainer.tables();
        let sq = 0;
        for (let i = 0; i < E.length; i++) sq += (E[i]! - E0[i]!) ** 2;
        for (let i = 0; i < R.length; i++) sq += (R[i]! - R0[i]!) ** 2;
        const after = context.run(task).loss;
        const predicted = sq / eps;
        assert.ok(predicted > 0, `${loss}, ${side}: the step moved the tables`);
        const ratio = (before - after) / predicted;
        assert.ok(
          Math.abs(ratio - 1) < 0.03,
          `${loss}, ${side}: loss fell by ${before - after}, predicted ${predicted} (ratio ${ratio})`,
        );
      }
    }
  });
}

test.run();
