import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Accumulator, type AccumulatorOptions } from '../../src/shm/accumulator.js';
import { err } from '../helpers/errors.js';

test('threshold must be an integer in [1, 2^30], and the message names field and value', () => {
  const cases: [unknown, string, RegExp][] = [
    [0, 'E_OUT_OF_RANGE', /Accumulator\.create: threshold must be in \[1, 1073741824\], got 0/],
    [-5, 'E_OUT_OF_RANGE', /threshold must be in \[1, 1073741824\], got -5/],
    [2 ** 31, 'E_OUT_OF_RANGE', /got 2147483648/],
    [0.5, 'E_INVALID_ARGUMENT', /Accumulator\.create: threshold must be an integer, got 0\.5/],
    [Number.NaN, 'E_INVALID_ARGUMENT', /threshold must be an integer, got NaN/],
    [null, 'E_INVALID_ARGUMENT', /threshold must be an integer, got null/],
  ];
  for (const [threshold, code, message] of cases) {
    const e = err(() => Accumulator.create({ threshold } as unknown as AccumulatorOptions));
    assert.is(e.code, code, `threshold=${String(threshold)}`);
    assert.match(e.message, message);
  }
  assert.is(err(() => Accumulator.create(undefined as unknown as AccumulatorOptions)).code, 'E_INVALID_ARGUMENT');
  assert.is(Accumulator.create({ threshold: 2 ** 30 }).threshold, 2 ** 30);
});

test('add refuses a bad amount before touching the pending total', () => {
  const a = Accumulator.create({ threshold: 10 });
  a.add(3);
  const cases: [unknown, string, RegExp][] = [
    [-1, 'E_OUT_OF_RANGE', /Accumulator\.add: amount must be in \[0, 1048576\], got -1/],
    [2 ** 20 + 1, 'E_OUT_OF_RANGE', /got 1048577/],
    [1.25, 'E_INVALID_ARGUMENT', /Accumulator\.add: amount must be an integer, got 1\.25/],
    [Number.NaN, 'E_INVALID_ARGUMENT', /got NaN/],
    ['2', 'E_INVALID_ARGUMENT', /got "2"/],
  ];
  for (const [amount, code, message] of cases) {
    const e = err(() => a.add(amount as number));
    assert.is(e.code, code, `amount=${String(amount)}`);
    assert.match(e.message, message);
    assert.is(err(() => a.deposit(amount as number)).code, code);
  }
  assert.is(a.pending(), 3);
  assert.is(a.add(0), 0, 'zero is a valid amount');
});

test.run();
