import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShardMapper } from '../../src/router/mapper.js';
import { scalingPolicy, validatePolicy, type ScalingPolicy } from '../../src/router/policy.js';
import { err, errorText } from '../helpers/errors.js';

type Case = [field: keyof ScalingPolicy, value: unknown, shown: string, code: 'E_INVALID_ARGUMENT' | 'E_OUT_OF_RANGE'];

/** Out-of-range values for every field, rejected by validation whichever way they arrive. */
const bad: Case[] = [
  ['minShards', 0, '0', 'E_OUT_OF_RANGE'],
  ['minShards', -3, '-3', 'E_OUT_OF_RANGE'],
  ['minShards', 65535, '65535', 'E_OUT_OF_RANGE'],
  ['minShards', 1.5, '1.5', 'E_INVALID_ARGUMENT'],
  ['minShards', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['maxShards', 65535, '65535', 'E_OUT_OF_RANGE'],
  ['maxShards', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['maxShards', '4', '"4"', 'E_INVALID_ARGUMENT'],
  ['fillRatioThreshold', 0, '0', 'E_INVALID_ARGUMENT'],
  ['fillRatioThreshold', 1.5, '1.5', 'E_INVALID_ARGUMENT'],
  ['fillRatioThreshold', -0.2, '-0.2', 'E_INVALID_ARGUMENT'],
  ['fillRatioThreshold', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['fillRatioThreshold', Number.POSITIVE_INFINITY, 'Infinity', 'E_INVALID_ARGUMENT'],
  ['underutilizedThreshold', -0.1, '-0.1', 'E_INVALID_ARGUMENT'],
  ['underutilizedThreshold', 0.7, '0.7', 'E_INVALID_ARGUMENT'],
  ['underutilizedThreshold', 0.9, '0.9', 'E_INVALID_ARGUMENT'],
  ['underutilizedThreshold', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['pushLatencyThresholdNs', 0, '0', 'E_INVALID_ARGUMENT'],
  ['pushLatencyThresholdNs', -1, '-1', 'E_INVALID_ARGUMENT'],
  ['pushLatencyThresholdNs', Number.POSITIVE_INFINITY, 'Infinity', 'E_INVALID_ARGUMENT'],
  ['flushLatencyThresholdUs', 0, '0', 'E_INVALID_ARGUMENT'],
  ['flushLatencyThresholdUs', -5, '-5', 'E_INVALID_ARGUMENT'],
  ['flushLatencyThresholdUs', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['cooldownMs', -1, '-1', 'E_OUT_OF_RANGE'],
  ['cooldownMs', 86_400_001, '86400001', 'E_OUT_OF_RANGE'],
  ['cooldownMs', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
  ['cooldownMs', Number.POSITIVE_INFINITY, 'Infinity', 'E_INVALID_ARGUMENT'],
  ['autoScale', 'yes', '"yes"', 'E_INVALID_ARGUMENT'],
  ['autoScale', 1, '1', 'E_INVALID_ARGUMENT'],
  ['latencySampleEvery', 0, '0', 'E_OUT_OF_RANGE'],
  ['latencySampleEvery', 3, '3', 'E_INVALID_ARGUMENT'],
  ['latencySampleEvery', 48, '48', 'E_INVALID_ARGUMENT'],
  ['latencySampleEvery', 1.5, '1.5', 'E_INVALID_ARGUMENT'],
  ['latencySampleEvery', 2 ** 21, '2097152', 'E_OUT_OF_RANGE'],
  ['minDrainMs', -1, '-1', 'E_OUT_OF_RANGE'],
  ['minDrainMs', 3_600_001, '3600001', 'E_OUT_OF_RANGE'],
  ['minDrainMs', Number.NaN, 'NaN', 'E_INVALID_ARGUMENT'],
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('validatePolicy names the field and the value of each out-of-range setting', () => {
  for (const [field, v, shown, code] of bad) {
    const text = errorText(() => validatePolicy(scalingPolicy({ [field]: v })));
    assert.match(
      text,
      new RegExp(`^${code}: validatePolicy: policy\\.${field} must be .*, got ${escape(shown)}$`),
      `${field} = ${shown}`,
    );
    const e = err(() => validatePolicy(scalingPolicy({ [field]: v })));
    assert.is(e.details['field'], `policy.${field}`);
    assert.ok(Object.is(e.details['value'], v), `${field}: details.value`);
  }
});

test('ShardMapper.create rejects the same settings, naming the field and the value', () => {
  for (const [field, v, shown, code] of bad) {
    const text = errorText(() => ShardMapper.create({ initialShards: 1, ringCapacity: 1024, policy: { [field]: v } }));
    assert.match(
      text,
      new RegExp(`^${code}: ShardMapper\\.create: policy\\.${field} must be .*, got ${escape(shown)}$`),
      `${field} = ${shown}`,
    );
  }
});

test('maxShards below 1 or not an integer is rejected by validation', () => {
  assert.match(
    errorText(() => validatePolicy(scalingPolicy({ maxShards: 0 }))),
    /^E_OUT_OF_RANGE: validatePolicy: policy\.maxShards must be in \[1, 65534\], got 0$/,
  );
  assert.match(
    errorText(() => validatePolicy(scalingPolicy({ maxShards: 2.5 }))),
    /^E_INVALID_ARGUMENT: .*policy\.maxShards must be an integer, got 2\.5$/,
  );
});

test('an unknown policy field is an error naming it and its value', () => {
  assert.match(
    errorText(() => scalingPolicy({ cooldown: 5 } as unknown as Partial<ScalingPolicy>)),
    /^E_INVALID_ARGUMENT: scalingPolicy: policy\.cooldown must be one of the policy fields \(minShards, maxShards, .*minDrainMs\), got 5$/,
  );
  assert.match(
    errorText(() =>
      ShardMapper.create({
        initialShards: 2,
        ringCapacity: 1024,
        policy: { maxShard: 3 } as unknown as Partial<ScalingPolicy>,
      }),
    ),
    /^E_INVALID_ARGUMENT: ShardMapper\.create: policy\.maxShard must be one of the policy fields .*, got 3$/,
  );
  // A misspelt field is not silently ignored next to good ones.
  assert.match(
    errorText(() => scalingPolicy({ minShards: 1, fill_ratio_threshold: 0.5 } as unknown as Partial<ScalingPolicy>)),
    /policy\.fill_ratio_threshold .*got 0\.5$/,
  );
});

test('a policy that is not an object is refused', () => {
  assert.match(
    errorText(() => scalingPolicy(5 as unknown as Partial<ScalingPolicy>)),
    /^E_INVALID_ARGUMENT: scalingPolicy: policy must be an object, got 5$/,
  );
  assert.match(
    errorText(() =>
      ShardMapper.create({ initialShards: 1, ringCapacity: 1024, policy: 'fast' as unknown as Partial<ScalingPolicy> }),
    ),
    /^E_INVALID_ARGUMENT: ShardMapper\.create: policy must be an object, got "fast"$/,
  );
});

test.run();
