import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { availableParallelism } from 'node:os';
import {
  DEFAULT_SCALING_POLICY,
  MAX_SHARDS_LIMIT,
  normalizePolicy,
  scalingPolicy,
  validatePolicy,
} from '../../src/router/policy.js';
import { errorText } from '../helpers/errors.js';

test('the defaults are valid, with maxShards the CPU count', () => {
  assert.equal(
    { ...DEFAULT_SCALING_POLICY },
    {
      minShards: 1,
      maxShards: Math.min(MAX_SHARDS_LIMIT, Math.max(1, availableParallelism())),
      fillRatioThreshold: 0.7,
      underutilizedThreshold: 0.1,
      pushLatencyThresholdNs: 1000,
      flushLatencyThresholdUs: 10_000,
      cooldownMs: 30_000,
      autoScale: true,
      latencySampleEvery: 64,
      minDrainMs: 100,
    },
  );
  assert.is(validatePolicy(DEFAULT_SCALING_POLICY), DEFAULT_SCALING_POLICY);
  assert.equal(scalingPolicy(), DEFAULT_SCALING_POLICY);
  assert.equal(scalingPolicy({ cooldownMs: undefined }), DEFAULT_SCALING_POLICY, 'undefined fields take the default');
  assert.ok(Object.isFrozen(scalingPolicy({ cooldownMs: 5 })));
});

// Reference: test_policy_validation.
test('validate rejects a fill ratio threshold over 1 and minShards above maxShards', () => {
  assert.match(
    errorText(() => validatePolicy(scalingPolicy({ fillRatioThreshold: 1.5 }))),
    /^E_INVALID_ARGUMENT: validatePolicy: policy\.fillRatioThreshold must be in \(0, 1\], got 1\.5$/,
  );
  // Without normalizing, minShards above maxShards is invalid.
  assert.match(
    errorText(() => validatePolicy(scalingPolicy({ minShards: 10, maxShards: 5 }))),
    /^E_INVALID_ARGUMENT: validatePolicy: policy\.minShards must be at most policy\.maxShards \(5\), got 10$/,
  );
  assert.is(validatePolicy(scalingPolicy({ minShards: 5, maxShards: 5 })).minShards, 5);
});

// Reference: test_policy_normalize_auto_adjusts_max_shards.
test('normalize raises maxShards to minShards, and the result validates', () => {
  const normalized = normalizePolicy(scalingPolicy({ minShards: 8, maxShards: 2 }));
  assert.is(normalized.maxShards, 8, 'maxShards should be raised to minShards');
  assert.is(normalized.minShards, 8);
  assert.is(validatePolicy(normalized), normalized);
  assert.ok(Object.isFrozen(normalized));
});

test('normalize also raises maxShards to the initial shard count, and nothing else', () => {
  const p = scalingPolicy({ minShards: 2, maxShards: 3, cooldownMs: 7 });
  const n = normalizePolicy(p, 6);
  assert.equal({ ...n }, { ...p, maxShards: 6 });
  assert.is(normalizePolicy(scalingPolicy({ minShards: 8, maxShards: 2 }), 5).maxShards, 8);
  assert.is(normalizePolicy(scalingPolicy({ minShards: 2, maxShards: 2 }), 9).maxShards, 9);
});

// Reference: test_policy_normalize_preserves_valid_config.
test('normalize leaves a consistent policy as it is', () => {
  const p = scalingPolicy({ minShards: 4, maxShards: 16 });
  const n = normalizePolicy(p);
  assert.is(n.minShards, 4);
  assert.is(n.maxShards, 16);
  assert.is(n, p, 'unchanged policies are returned as they are');
  assert.is(normalizePolicy(p, 16), p);
});

test.run();
