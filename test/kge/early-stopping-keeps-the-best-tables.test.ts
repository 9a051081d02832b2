import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EarlyStopping } from '../../src/kge/early-stopping.js';
import { errorText } from '../helpers/errors.js';

const tables = (v: number) => ({ entities: new Float32Array(4).fill(v), relations: new Float32Array(2).fill(v) });

test('stops after `patience` validations without a strict improvement, and restores the best tables', () => {
  const early = new EarlyStopping(2);
  const t = tables(0);
  assert.is(early.best(), null);
  assert.is(early.restoreBest(t, 5), null);
  t.entities.fill(1);
  assert.is(early.record(1, 0.2, t), 'continue');
  t.entities.fill(2);
  t.relations.fill(2);
  assert.is(early.record(2, 0.5, t), 'continue');
  t.entities.fill(3);
  assert.is(early.record(3, 0.5, t), 'continue', 'a tie is not an improvement, but patience is 2');
  t.entities.fill(4);
  assert.is(early.record(4, 0.4, t), 'stop');
  assert.equal(early.best(), { epoch: 2, score: 0.5 });
  assert.is(early.restoreBest(t, 4), 2);
  assert.ok(t.entities.every((v) => v === 2) && t.relations.every((v) => v === 2));
});

test('when the best validation is the last epoch the tables are left alone', () => {
  const early = new EarlyStopping(3);
  const t = tables(7);
  early.record(1, 0.1, t);
  t.entities.fill(9);
  early.record(2, 0.3, t);
  assert.is(early.restoreBest(t, 2), 2);
  assert.ok(t.entities.every((v) => v === 9));
});

test('patience must be a positive integer', () => {
  assert.match(
    errorText(() => new EarlyStopping(0)),
    /^E_INVALID_ARGUMENT: EarlyStopping: patience must be a positive integer, got 0$/,
  );
});

test.run();
