/** A trainer snapshot survives encode/decode bit for bit; a damaged payload is refused with a clear error. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTrainerSnapshot, encodeTrainerSnapshot } from '../../src/store/train-state.js';

const snap = {
  epochs: [{ epoch: 0, loss: 0.5, positives: 10, seconds: 0.1 }],
  positives: 10,
  trainSeconds: 0.1,
  entities: Float32Array.from({ length: 37 }, (_, i) => Math.fround(i / 7 - 2)),
  relations: Float32Array.from([1.5, -0, NaN, Infinity]),
  optimizer: Float32Array.from({ length: 41 }, (_, i) => i * 0.25),
};

test('round trip, bit for bit', () => {
  const back = decodeTrainerSnapshot(encodeTrainerSnapshot(snap), 'test');
  const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.slice().buffer));
  assert.equal(bits(back.entities), bits(snap.entities));
  assert.equal(bits(back.relations), bits(snap.relations));
  assert.equal(bits(back.optimizer), bits(snap.optimizer));
  assert.equal(back.epochs, snap.epochs);
  assert.is(back.positives, 10);
});

test('truncated, padded or garbled payloads are refused, naming the source', () => {
  const good = encodeTrainerSnapshot(snap);
  assert.throws(() => decodeTrainerSnapshot(good.subarray(0, good.length - 4), 'ckpt.kgs'), /ckpt\.kgs/);
  const longer = new Uint8Array(good.length + 4);
  longer.set(good);
  assert.throws(() => decodeTrainerSnapshot(longer, 'ckpt.kgs'), /bytes for the sizes/);
  const garbled = good.slice();
  garbled[5] = 0x7b;
  garbled[6] = 0x7b;
  assert.throws(() => decodeTrainerSnapshot(garbled, 'ckpt.kgs'), /JSON header|format/);
  assert.throws(() => decodeTrainerSnapshot(new Uint8Array(2), 'ckpt.kgs'), /header length/);
});

test.run();
