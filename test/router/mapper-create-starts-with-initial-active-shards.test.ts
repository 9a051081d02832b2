import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SHARD, ShardMapper, type ShardMapperOptions } from '../../src/router/mapper.js';
import { DEFAULT_SCALING_POLICY } from '../../src/router/policy.js';
import { errorText } from '../helpers/errors.js';
import { mapper, selected } from './helpers/mapper.js';

// Reference: test_shard_mapper_creation.
test('a new mapper has initialShards Active shards, ids 0..n-1', () => {
  const m = mapper(4);
  assert.is(m.activeShardCount(), 4);
  assert.is(m.totalShardCount(), 4);
  assert.equal(m.activeShardIds(), [0, 1, 2, 3]);
  assert.equal(m.allShardIds(), [0, 1, 2, 3]);
  for (const id of [0, 1, 2, 3]) assert.is(m.shardState(id), 'active');
  assert.is(m.shardState(4), undefined);
  assert.equal(m.selectionTable(), [0, 1, 2, 3]);
  assert.is(m.ringCapacity, 1024);
  assert.ok(Number.isNaN(m.testHooks().lastScalingMs()), 'no scaling action has happened yet');
});

// Reference: test_shard_mapper_normalizes_policy.
test('a minShards above the default maxShards is accepted: maxShards is raised to it', () => {
  const m = mapper(4, { minShards: 4 });
  assert.is(m.activeShardCount(), 4);
  assert.is(m.policy.minShards, 4);
  assert.is(m.policy.maxShards, Math.max(4, DEFAULT_SCALING_POLICY.maxShards));
});

// Reference: test_shard_mapper_adjusts_max_shards_to_initial_count.
test('more initial shards than the default maxShards raise maxShards to initialShards', () => {
  const m = mapper(8);
  assert.is(m.activeShardCount(), 8);
  assert.ok(m.policy.maxShards >= 8, `maxShards ${m.policy.maxShards}`);
  assert.is(m.policy.maxShards, Math.max(8, DEFAULT_SCALING_POLICY.maxShards));
  // The raised budget is the one enforced: at the cap, scale-up is refused.
  if (m.policy.maxShards === 8) {
    const r = m.scaleUp(1);
    assert.is(r.ok, false);
  }
});

test('the stored policy is the defaults overlaid with the given fields', () => {
  const m = mapper(2, {
    cooldownMs: 5,
    minDrainMs: 7,
    fillRatioThreshold: 0.5,
    autoScale: false,
    latencySampleEvery: 16,
  });
  assert.equal(
    { ...m.policy },
    {
      ...DEFAULT_SCALING_POLICY,
      maxShards: Math.max(2, DEFAULT_SCALING_POLICY.maxShards),
      cooldownMs: 5,
      minDrainMs: 7,
      fillRatioThreshold: 0.5,
      autoScale: false,
      latencySampleEvery: 16,
    },
  );
  assert.ok(Object.isFrozen(m.policy));
});

test('zero initial shards is allowed; nothing is selectable', () => {
  const m = mapper(0);
  assert.is(m.activeShardCount(), 0);
  assert.equal(m.activeShardIds(), []);
  assert.equal(m.selectionTable(), []);
  assert.is(m.selectShard(12345), NO_SHARD);
  assert.is(m.selectSlot(12345), -1);
});

test('a mapper attached from the handle sees the same shards and table', () => {
  const m = mapper(3, { maxShards: 6 });
  const other = ShardMapper.attach(m.handle);
  assert.equal(other.activeShardIds(), [0, 1, 2]);
  assert.equal({ ...other.policy }, { ...m.policy });
  assert.is(other.ringCapacity, 1024);
  assert.equal(selected(other), selected(m));
  m.testHooks().setLastScalingMs(null);
  const added = m.scaleUp(1);
  assert.ok(added.ok);
  assert.equal(other.activeShardIds(), [0, 1, 2, 3]);
  assert.equal(other.selectionTable(), m.selectionTable());
});

test('bad creation options are refused, naming the field and the value', () => {
  const create = (o: Partial<ShardMapperOptions>) => () =>
    ShardMapper.create({ initialShards: 2, ringCapacity: 1024, ...o });
  assert.match(
    errorText(create({ initialShards: -1 })),
    /^E_OUT_OF_RANGE: ShardMapper\.create: initialShards must be in \[0, 4096\], got -1$/,
  );
  assert.match(
    errorText(create({ initialShards: 1.5 })),
    /^E_INVALID_ARGUMENT: ShardMapper\.create: initialShards must be an integer, got 1\.5$/,
  );
  assert.match(
    errorText(create({ ringCapacity: 0 })),
    /^E_OUT_OF_RANGE: .*ringCapacity must be in \[1, 67108864\], got 0$/,
  );
  assert.match(
    errorText(create({ ringCapacity: 2 ** 32 })),
    /ringCapacity must be in \[1, 67108864\], got 4294967296$/,
  );
  assert.match(errorText(create({ ringCapacity: 10.5 })), /ringCapacity .*got 10\.5$/);
  assert.match(
    errorText(create({ initialShards: 4, slots: 3 })),
    /^E_OUT_OF_RANGE: .*slots must be in \[4, 4096\], got 3$/,
  );
  assert.match(errorText(create({ slots: 1.5 })), /^E_INVALID_ARGUMENT: .*slots must be an integer, got 1\.5$/);
  assert.match(errorText(create({ leaseMs: 0 })), /^E_OUT_OF_RANGE: .*leaseMs .*got 0$/);
  assert.match(
    errorText(() => ShardMapper.create(null as unknown as ShardMapperOptions)),
    /^E_INVALID_ARGUMENT: .*options must be an object/,
  );
});

test.run();
