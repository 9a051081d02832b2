/**
 * A training state with a non-finite loss or counter is refused when it is
 * encoded (JSON would turn a NaN loss into null) and when it is decoded; the
 * checkpointer refuses an iteration that is not the state's epoch count,
 * and `latest()` passes over an entry whose payload is not a valid training
 * state (one warning naming the file) and resumes from the next latest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
import { TrainingCheckpointer } from '../../src/store/training-checkpoints.js';
import { decodeTrainerSnapshot, encodeTrainerSnapshot, type TrainingState } from '../../src/store/train-state.js';

const state = (epochs: number, loss = 0.5): TrainingState => ({
  epochs: Array.from({ length: epochs }, (_, i) => ({ epoch: i, loss, positives: 4, seconds: 0.01 })),
  positives: 4 * epochs,
  trainSeconds: 0.01 * epochs,
  entities: Float32Array.from([1, 2, 3, 4]),
  relations: Float32Array.from([5, 6]),
  optimizer: new Float32Array(0),
});

/** A payload in the snapshot layout with a hand-written JSON header. */
function payload(header: Record<string, unknown>, floats: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = Math.ceil((4 + json.length) / 4) * 4;
  const out = new Uint8Array(start + floats * 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  return out;
}

function throwsKg(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KgError, String(e));
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('encode refuses a non-finite loss or counter, naming the field', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    throwsKg(() => encodeTrainerSnapshot(state(2, bad)), /epochs\[0\]\.loss/);
  }
  throwsKg(() => encodeTrainerSnapshot({ ...state(1), trainSeconds: NaN }), /trainSeconds/);
  throwsKg(() => encodeTrainerSnapshot({ ...state(1), positives: -1 }), /positives/);
});

test('decode refuses a header with a null loss, a missing report field or a bad counter', () => {
  const good = {
    format: 1,
    epochs: [{ epoch: 0, loss: 0.5, positives: 4, seconds: 0.01 }],
    positives: 4,
    trainSeconds: 0.01,
    entities: 4,
    relations: 2,
    optimizer: 0,
  };
  assert.is(decodeTrainerSnapshot(payload(good, 6), 'x.kgck').epochs[0]!.loss, 0.5);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...good, epochs: [{ epoch: 0, loss: null, positives: 4, seconds: 0.01 }] }, /epochs\[0\]\.loss/],
    [{ ...good, epochs: [{ epoch: 0, loss: 0.5, seconds: 0.01 }] }, /epochs\[0\]\.positives/],
    [{ ...good, epochs: 'many' }, /epochs/],
    [{ ...good, trainSeconds: null }, /trainSeconds/],
    [{ ...good, positives: 1.5 }, /positives/],
    [{ ...good, entities: -4, relations: 10 }, /entities/],
  ];
  for (const [header, pattern] of cases) throwsKg(() => decodeTrainerSnapshot(payload(header, 6), 'x.kgck'), pattern);
  throwsKg(
    () =>
      decodeTrainerSnapshot(
        payload({ ...good, epochs: [{ epoch: 0, loss: null, positives: 4, seconds: 0.01 }] }, 6),
        'x.kgck',
      ),
    /x\.kgck/,
  );
});

test('latest() skips an entry that is not a valid training state and resumes from the next latest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-latest-'));
  try {
    const warnings: string[] = [];
    const problem = {
      dataset: 'd',
      entities: ['a', 'b'],
      relations: ['r'],
      model: 'distmult',
      shapes: { entity: [2, 2], relation: [1, 2] },
      hyperParameters: { lr: 0.1 },
    };
    const older = TrainingCheckpointer.open({ dir, problem, onWarning: (m) => warnings.push(m) });
    assert.ok(older.checkpoint(state(2), 0.5, 2));
    throwsKg(() => older.checkpoint(state(3), 0.4, 4), /epochs/);
    // Another run of the same problem wrote a later entry whose payload is not a training state.
    const other = TrainingCheckpointer.open({ dir, problem, onWarning: (m) => warnings.push(m) });
    other.store.save(
      other.keys.problem,
      'ckpt-broken',
      payload({ format: 1, epochs: [null], positives: 0, trainSeconds: 0, entities: 4, relations: 2, optimizer: 0 }, 6),
      { objective: 0.1, iteration: 9 },
    );
    other.store.save(other.keys.problem, 'ckpt-mismatch', encodeTrainerSnapshot(state(3)), {
      objective: 0.1,
      iteration: 7,
    });
    const got = other.latest();
    assert.ok(got !== null);
    assert.is(got.entry.iteration, 2);
    assert.is(got.state.epochs.length, 2);
    assert.is(warnings.length, 2, warnings.join('\n'));
    assert.ok(
      warnings.some((w) => w.includes('ckpt-broken')),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.some((w) => w.includes('ckpt-mismatch') && /epoch 7/.test(w)),
      warnings.join('\n'),
    );
    other.latest();
    assert.is(warnings.length, 2, 'each file reported once');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
