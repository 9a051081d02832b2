import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Breaker,
  BreakerTable,
  resolveBreakerOptions,
  type BreakerOptions,
  type BreakerTableOptions,
} from '../../src/shm/breaker.js';
import { err } from '../helpers/errors.js';

type Case = [unknown, string, RegExp];

const THRESHOLDS: Case[] = [
  [0, 'E_OUT_OF_RANGE', /failureThreshold must be in \[1, 1023\], got 0$/],
  [1024, 'E_OUT_OF_RANGE', /failureThreshold must be in \[1, 1023\], got 1024$/],
  [2.5, 'E_INVALID_ARGUMENT', /failureThreshold must be an integer, got 2\.5$/],
  [Number.NaN, 'E_INVALID_ARGUMENT', /failureThreshold must be an integer, got NaN$/],
  ['3', 'E_INVALID_ARGUMENT', /failureThreshold must be an integer, got "3"$/],
];
const COOL_DOWNS: Case[] = [
  [0, 'E_OUT_OF_RANGE', /coolDownMs must be in \[1, 2147483647\], got 0$/],
  [2 ** 31, 'E_OUT_OF_RANGE', /coolDownMs must be in \[1, 2147483647\], got 2147483648$/],
  [-5, 'E_OUT_OF_RANGE', /got -5$/],
  [0.5, 'E_INVALID_ARGUMENT', /coolDownMs must be an integer, got 0\.5$/],
  [Number.POSITIVE_INFINITY, 'E_INVALID_ARGUMENT', /got Infinity$/],
];
const SLOTS: Case[] = [
  [0, 'E_OUT_OF_RANGE', /slots must be in \[1, 65536\], got 0$/],
  [65_537, 'E_OUT_OF_RANGE', /slots must be in \[1, 65536\], got 65537$/],
  [undefined, 'E_INVALID_ARGUMENT', /slots must be an integer, got undefined$/],
  [1.5, 'E_INVALID_ARGUMENT', /got 1\.5$/],
];

test('create refuses a bad threshold, cool-down or slot count, naming the field and value', () => {
  for (const [failureThreshold, code, message] of THRESHOLDS) {
    const e = err(() => Breaker.create({ failureThreshold } as BreakerOptions));
    assert.is(e.code, code, `failureThreshold=${String(failureThreshold)}`);
    assert.match(e.message, /^Breaker\.create: /);
    assert.match(e.message, message);
    assert.is(e.details['field'], 'failureThreshold');
    assert.is(err(() => BreakerTable.create({ slots: 2, failureThreshold } as BreakerTableOptions)).code, code);
  }
  for (const [coolDownMs, code, message] of COOL_DOWNS) {
    const e = err(() => BreakerTable.create({ slots: 1, coolDownMs } as BreakerTableOptions));
    assert.is(e.code, code, `coolDownMs=${String(coolDownMs)}`);
    assert.match(e.message, /^BreakerTable\.create: /);
    assert.match(e.message, message);
  }
  for (const [slots, code, message] of SLOTS) {
    const e = err(() => BreakerTable.create({ slots } as BreakerTableOptions));
    assert.is(e.code, code, `slots=${String(slots)}`);
    assert.match(e.message, message);
  }
  assert.is(err(() => BreakerTable.create(null as unknown as BreakerTableOptions)).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => Breaker.create(7 as unknown as BreakerOptions)).code, 'E_INVALID_ARGUMENT');
  const clock = err(() => Breaker.create({ clock: { now: () => 0 } } as unknown as BreakerOptions));
  assert.is(clock.code, 'E_INVALID_ARGUMENT');
  assert.match(clock.message, /^Breaker\.create: clock must be a Clock/);
});

test('get refuses a slot outside the table, and resolveBreakerOptions names the prefixed field', () => {
  const t = BreakerTable.create({ slots: 4 });
  for (const slot of [-1, 4, 1.5, Number.NaN]) {
    const e = err(() => t.get(slot));
    assert.match(e.message, /^BreakerTable\.get: slot must be /);
    assert.is(e.details['field'], 'slot');
  }
  assert.is(t.initialisedSlots(), 0, 'nothing was initialised by a refused get');
  const e = err(() => resolveBreakerOptions('CheckpointStore.open', { coolDownMs: 0 }, 'breaker.'));
  assert.match(e.message, /^CheckpointStore\.open: breaker\.coolDownMs must be in \[1, 2147483647\], got 0$/);
  assert.equal(
    { ...resolveBreakerOptions('x', {}), clock: null },
    { failureThreshold: 5, coolDownMs: 30_000, clock: null },
  );
});

test.run();
