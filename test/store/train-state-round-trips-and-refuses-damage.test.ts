/** A trainer snapshot survives encode/decode bit for bit; a damaged payload is refused with a clear error. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KgError } from '../../src/errors.js';
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

test('a state taken inside an epoch keeps its partial epoch (format 2); between epochs it stays format 1', () => {
  const partial = { epoch: 1, remaining: [5, 9, 12, 20], positives: 7, seconds: 0.25 };
  const bytes = encodeTrainerSnapshot({ ...snap, partial });
  const back = decodeTrainerSnapshot(bytes, 'test');
  assert.equal(back.partial, partial);
  assert.is(decodeTrainerSnapshot(encodeTrainerSnapshot(snap), 'test').partial, undefined);
  const header = (b: Uint8Array): Record<string, unknown> =>
    JSON.parse(Buffer.from(b.subarray(4, 4 + new DataView(b.buffer).getUint32(0, true))).toString('utf8')) as Record<
      string,
      unknown
    >;
  assert.is(header(bytes)['format'], 2);
  assert.is(header(encodeTrainerSnapshot(snap))['format'], 1);
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

/** A payload with `header` (any JSON text) and `floats` zero floats after it. */
function payload(header: string, floats: number): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const start = Math.ceil((4 + json.length) / 4) * 4;
  const out = new Uint8Array(start + floats * 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  return out;
}

test('a header that does not describe a snapshot is refused in one line, whatever its sizes add up to', () => {
  const ok = {
    format: 1,
    epochs: [{ epoch: 0, loss: 0.5, positives: 3, seconds: 0.1 }],
    positives: 3,
    trainSeconds: 0.1,
    entities: 2,
    relations: 1,
    optimizer: 1,
  };
  const h = (patch: Record<string, unknown>): string => JSON.stringify({ ...ok, ...patch });
  const cases: [string, number][] = [
    ['null', 0],
    ['[1]', 0],
    [h({ entities: -4, relations: 7 }), 4],
    [h({ entities: 1.5, relations: 0.5 }), 3],
    [h({ epochs: 'x' }), 4],
    [h({ epochs: [null] }), 4],
    [h({ epochs: [{ epoch: 0 }] }), 4],
    [h({ positives: '3' }), 4],
    [h({ trainSeconds: -1 }), 4],
    [h({ optimizer: null, entities: 3 }), 4],
    [h({ partial: { epoch: 1, remaining: [0, 3], positives: 0, seconds: 0 } }), 4],
    [h({ format: 2, partial: { epoch: 1, remaining: [0], positives: 0, seconds: 0 } }), 4],
    [h({ format: 2, partial: { epoch: 1, remaining: [0, -3], positives: 0, seconds: 0 } }), 4],
    [h({ format: 2, partial: { epoch: 1, remaining: [0, 3], positives: 0, seconds: -1 } }), 4],
    [h({ format: 2, partial: null }), 4],
    [h({ format: 3 }), 4],
  ];
  for (const [header, floats] of cases) {
    let e: unknown = null;
    try {
      decodeTrainerSnapshot(payload(header, floats), 'ckpt.kgck');
    } catch (err) {
      e = err;
    }
    assert.instance(e, KgError, header);
    assert.match((e as KgError).message, /^ckpt\.kgck: trainer snapshot must be /, header);
    assert.not.match((e as KgError).message, /\n/);
  }
  // A loss JSON wrote as null (a NaN) is damage: encode refuses a diverged state.
  assert.throws(
    () =>
      decodeTrainerSnapshot(
        payload(h({ epochs: [{ epoch: 0, loss: null, positives: 3, seconds: 0.1 }] }), 4),
        'ckpt.kgck',
      ),
    /^ckpt\.kgck: trainer snapshot must be a header whose epochs\[0\]\.loss is a finite number \(got null\)/,
  );
});

test.run();
