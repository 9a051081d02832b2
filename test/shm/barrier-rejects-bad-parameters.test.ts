import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Barrier, type BarrierOptions } from '../../src/shm/barrier.js';
import { err, rejection } from '../helpers/errors.js';

test('parties must be an integer in [1, 32767], and the message names field and value', () => {
  const cases: [unknown, string, RegExp][] = [
    [0, 'E_OUT_OF_RANGE', /Barrier\.create: parties must be in \[1, 32767\], got 0/],
    [-3, 'E_OUT_OF_RANGE', /parties must be in \[1, 32767\], got -3/],
    [32_768, 'E_OUT_OF_RANGE', /parties must be in \[1, 32767\], got 32768/],
    [2.5, 'E_INVALID_ARGUMENT', /Barrier\.create: parties must be an integer, got 2\.5/],
    [Number.NaN, 'E_INVALID_ARGUMENT', /parties must be an integer, got NaN/],
    [Number.POSITIVE_INFINITY, 'E_INVALID_ARGUMENT', /parties must be an integer, got Infinity/],
    ['4', 'E_INVALID_ARGUMENT', /parties must be an integer, got "4"/],
    [undefined, 'E_INVALID_ARGUMENT', /parties must be an integer, got undefined/],
  ];
  for (const [parties, code, message] of cases) {
    const e = err(() => Barrier.create({ parties } as unknown as BarrierOptions));
    assert.is(e.code, code, `parties=${String(parties)}`);
    assert.match(e.message, message);
    assert.is(e.details['field'], 'parties');
  }
  assert.is(err(() => Barrier.create(null as unknown as BarrierOptions)).code, 'E_INVALID_ARGUMENT');
  assert.is(Barrier.create({ parties: 1 }).parties, 1);
  assert.is(Barrier.create({ parties: 32_767 }).parties, 32_767);
});

test('a bad timeout is refused before arriving', async () => {
  const b = Barrier.create({ parties: 2 });
  const neg = await rejection(b.arriveAndWaitAsync(-1));
  assert.is(neg.code, 'E_OUT_OF_RANGE');
  assert.match(neg.message, /Barrier\.arriveAndWaitAsync: timeoutMs must be in \[0, 2147483647\], got -1/);
  assert.is((await rejection(b.arriveAndWaitAsync(Number.POSITIVE_INFINITY))).code, 'E_OUT_OF_RANGE');
  const nan = await rejection(b.arriveAndWaitAsync(Number.NaN));
  assert.is(nan.code, 'E_INVALID_ARGUMENT');
  assert.match(nan.message, /timeoutMs must be a number of milliseconds, got NaN/);
  assert.is((await rejection(b.arriveAndWaitAsync('10' as unknown as number))).code, 'E_INVALID_ARGUMENT');
  assert.is(b.arrived(), 0, 'no arrival was counted');
  assert.is(b.generation(), 0);
});

test.run();
