/**
 * Every bad training option is refused at the edge: the Trainer constructor
 * (and `validateTrainOptions`) throws a KgError whose message and details
 * name the field and the value, before anything is allocated: no parameter
 * server, no shared buffer, no worker thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDataset } from '../../src/data/dataset.js';
import { KgError, show } from '../../src/errors.js';
import { createModel, defineModel, type KgeModel } from '../../src/kge/models/index.js';
import { DEFAULT_TRAIN, Trainer, validateTrainOptions, type TrainOptions } from '../../src/kge/trainer.js';
import { ParameterServer } from '../../src/ps/server.js';

const dataset = buildDataset('tiny', {
  train: [
    ['a', 'r', 'b'],
    ['b', 'r', 'c'],
  ],
  valid: [],
  test: [],
});
const good: TrainOptions = { ...DEFAULT_TRAIN, model: 'distmult', dim: 8, epochs: 1, workers: 1 };

const userModel = defineModel({
  name: 'user-distmult',
  shapes: (dim) => ({ entityWidth: dim, relationWidth: dim }),
  score: (E, h, R, r, T, t, dim) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += E[h + k]! * R[r + k]! * T[t + k]!;
    return s;
  },
  accumulateGrad: () => {},
});

interface Case {
  /** The options to change. */
  readonly patch: Record<string, unknown>;
  /** The field the error must name, and the value it must show. */
  readonly field: string;
  readonly value: unknown;
  readonly model?: KgeModel;
}

const cases: Case[] = [
  { patch: { dim: 0 }, field: 'dim', value: 0 },
  { patch: { dim: 2.5 }, field: 'dim', value: 2.5 },
  { patch: { dim: 70_000 }, field: 'dim', value: 70_000 },
  { patch: { epochs: -1 }, field: 'epochs', value: -1 },
  { patch: { epochs: 0 }, field: 'epochs', value: 0 },
  { patch: { neg: 0 }, field: 'neg', value: 0 },
  { patch: { batch: 0 }, field: 'batch', value: 0 },
  { patch: { chunk: 0 }, field: 'chunk', value: 0 },
  { patch: { workers: 0 }, field: 'workers', value: 0 },
  { patch: { workers: '2' }, field: 'workers', value: '2' },
  { patch: { lr: 0 }, field: 'lr', value: 0 },
  { patch: { lr: -0.1 }, field: 'lr', value: -0.1 },
  { patch: { lr: Number.NaN }, field: 'lr', value: Number.NaN },
  { patch: { lr: Number.POSITIVE_INFINITY }, field: 'lr', value: Number.POSITIVE_INFINITY },
  { patch: { margin: -1 }, field: 'margin', value: -1 },
  { patch: { reg: -1e-3 }, field: 'reg', value: -1e-3 },
  { patch: { adversarial: -1 }, field: 'adversarial', value: -1 },
  { patch: { seed: 1.5 }, field: 'seed', value: 1.5 },
  { patch: { model: 'transh' }, field: 'model', value: 'transh' },
  { patch: { model: '' }, field: 'model', value: '' },
  { patch: { optimizer: 'rmsprop' }, field: 'optimizer', value: 'rmsprop' },
  { patch: { loss: 'hinge' }, field: 'loss', value: 'hinge' },
  { patch: { regKind: 'l1' }, field: 'regKind', value: 'l1' },
  { patch: { maxNorm: -1 }, field: 'maxNorm', value: -1 },
  { patch: { maxNorm: Number.NaN }, field: 'maxNorm', value: Number.NaN },
  { patch: { mode: 'hogwild' }, field: 'mode', value: 'hogwild' },
  { patch: { mode: 'sync', optimizer: 'sgd', inThread: true }, field: 'inThread', value: true },
  { patch: { inThread: 'yes' }, field: 'inThread', value: 'yes' },
  { patch: { modelModule: 'file:///tmp/model.js' }, field: 'modelModule', value: 'file:///tmp/model.js' },
  // A user-defined model: its name must be options.model; a pool needs a module URL (absolute).
  { patch: { model: 'distmult' }, field: 'model', value: 'distmult', model: userModel },
  { patch: { model: 'user-distmult', workers: 2 }, field: 'modelModule', value: undefined, model: userModel },
  {
    patch: { model: 'user-distmult', modelModule: './model.js' },
    field: 'modelModule',
    value: './model.js',
    model: userModel,
  },
  {
    patch: { model: 'user-distmult', modelModule: 'https://example.com/m.js' },
    field: 'modelModule',
    value: 'https://example.com/m.js',
    model: userModel,
  },
  { patch: { model: 'user-distmult', inThread: true, dim: 0 }, field: 'dim', value: 0, model: userModel },
];

/** Count what the constructor allocates while `fn` runs. */
function allocations(fn: () => void): { servers: number; sharedBuffers: number } {
  const counts = { servers: 0, sharedBuffers: 0 };
  const create = ParameterServer.create;
  const SAB = globalThis.SharedArrayBuffer;
  ParameterServer.create = (...args: Parameters<typeof create>) => {
    counts.servers++;
    return create.apply(ParameterServer, args);
  };
  globalThis.SharedArrayBuffer = new Proxy(SAB, {
    construct(target, args) {
      counts.sharedBuffers++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    fn();
  } finally {
    ParameterServer.create = create;
    globalThis.SharedArrayBuffer = SAB;
  }
  return counts;
}

test('the allocation spies see a good Trainer allocate (so that zero below means something)', () => {
  let trainer: Trainer | undefined;
  const counts = allocations(() => {
    trainer = new Trainer(dataset, good);
  });
  assert.ok(trainer instanceof Trainer);
  assert.is(counts.servers, 1);
  assert.ok(counts.sharedBuffers > 0);
});

for (const c of cases) {
  const label = `${Object.entries(c.patch)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ')}${c.model ? ` (user model ${c.model.name})` : ''}`;
  test(`refused: ${label}`, () => {
    const o = { ...good, ...c.patch };
    const resources = process.getActiveResourcesInfo().length;
    let error: unknown;
    const counts = allocations(() => {
      try {
        new Trainer(dataset, o, c.model);
      } catch (e) {
        error = e;
      }
    });
    assert.instance(error, KgError, 'a KgError');
    const e = error as KgError;
    assert.ok(e.code === 'E_INVALID_ARGUMENT' || e.code === 'E_OUT_OF_RANGE', e.code);
    assert.ok(e.message.includes(c.field), `names the field ${c.field}: ${e.message}`);
    assert.ok(e.message.includes(`got ${show(c.value)}`), `shows the value ${show(c.value)}: ${e.message}`);
    assert.is(e.details['field'], c.field);
    assert.ok(Object.is(e.details['value'], c.value), `details.value ${show(e.details['value'])}`);
    assert.equal(counts, { servers: 0, sharedBuffers: 0 }, 'nothing allocated');
    assert.is(process.getActiveResourcesInfo().length, resources, 'nothing started');
    // The same check is available without a Trainer.
    let again: unknown;
    try {
      validateTrainOptions(o, c.model);
    } catch (x) {
      again = x;
    }
    assert.instance(again, KgError);
    assert.is((again as KgError).message, e.message);
  });
}

test('good options pass, with a built-in model object too (workers rebuild it by name)', () => {
  assert.is(validateTrainOptions(good), good);
  const transe = createModel('transe');
  const o: TrainOptions = { ...good, model: transe.name, workers: 2 };
  assert.is(validateTrainOptions(o, transe), o);
  const trainer = new Trainer(dataset, o, transe);
  assert.is(trainer.model, transe);
  assert.is(trainer.handle.hyper.model, 'transe-l1');
  assert.is(trainer.handle.hyper.modelModule, undefined);
  // A user model in-thread needs no module.
  assert.ok(new Trainer(dataset, { ...good, model: 'user-distmult', inThread: true }, userModel));
});

test.run();
