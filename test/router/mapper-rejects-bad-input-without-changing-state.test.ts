import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SHARD, type ShardMapper } from '../../src/router/mapper.js';
import { errorText } from '../helpers/errors.js';
import { failure, mapper, ONE_NS_MS, snapshot, value } from './helpers/mapper.js';

/**
 * Shards in every state: 0 Active, 1 Draining, 2 Stopped, 3 Provisioning,
 * 4 Active; and id 5 created and removed.
 */
function everyState(): ShardMapper {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const hooks = m.testHooks();
  value(m.drainSpecific(1));
  value(m.drainSpecific(2));
  hooks.setDrainStartedMs(2, hooks.now() - 1000);
  m.metricsCollector(1)!.recordBufferLen(3); // keeps 1 draining
  assert.equal(m.finalizeDraining(), [2]);
  assert.equal(value(m.scaleUpProvisioningForce(1)), [3]);
  assert.equal(value(m.scaleUpProvisioningForce(2)), [4, 5]);
  value(m.activate(4));
  value(m.activate(5));
  value(m.drainSpecific(5));
  hooks.setDrainStartedMs(5, hooks.now() - 1000);
  assert.equal(m.finalizeDraining(), [5]);
  assert.is(m.removeSpecificStoppedShard(5), true);
  hooks.setLastScalingMs(hooks.now() - 1000);
  assert.equal(
    [0, 1, 2, 3, 4, 5].map((id) => m.shardState(id)),
    ['active', 'draining', 'stopped', 'provisioning', 'active', undefined],
  );
  return m;
}

test('unknown shard ids are refused as unknown-shard and change nothing', () => {
  const m = everyState();
  const before = snapshot(m);
  for (const id of [5, 6, 99, -1, 1.5, Number.NaN, NO_SHARD, 70_000, Number.POSITIVE_INFINITY]) {
    assert.match(failure(m.activate(id), 'unknown-shard'), /^activate: no shard with id/);
    assert.match(failure(m.drainSpecific(id), 'unknown-shard'), /^drain: no shard with id/);
    assert.is(m.rearmDrain(id), false);
    assert.is(m.removeSpecificStoppedShard(id), false);
    assert.is(m.shardState(id), undefined);
    assert.is(m.metricsCollector(id), undefined);
    assert.is(m.slotOf(id), -1);
    assert.equal(snapshot(m), before, `id ${id}`);
  }
  const hooks = m.testHooks();
  assert.match(
    errorText(() => hooks.setLastMetrics(99, { weight: 1 })),
    /id must be an existing shard id, got 99/,
  );
  assert.match(
    errorText(() => hooks.setState(5, 'active')),
    /got 5$/,
  );
  assert.equal(snapshot(m), before);
});

test('activating a draining or stopped shard is an illegal transition that changes nothing', () => {
  const m = everyState();
  const before = snapshot(m);
  assert.match(failure(m.activate(1), 'illegal-transition'), /shard 1 is draining/);
  assert.match(failure(m.activate(2), 'illegal-transition'), /shard 2 is stopped/);
  assert.equal(snapshot(m), before);
  assert.is(m.metricsCollector(1)!.isDraining(), true);
});

test('draining a stopped or provisioning shard is an illegal transition that changes nothing', () => {
  const m = everyState();
  const before = snapshot(m);
  assert.match(failure(m.drainSpecific(2), 'illegal-transition'), /shard 2 is stopped/);
  assert.match(failure(m.drainSpecific(3), 'illegal-transition'), /shard 3 is provisioning/);
  assert.equal(snapshot(m), before);
});

test('no-op transitions succeed without changing anything', () => {
  const m = everyState();
  const before = snapshot(m);
  assert.is(value(m.activate(0)), false);
  assert.is(value(m.drainSpecific(1)), undefined, 'draining a draining shard is a no-op');
  assert.is(m.removeSpecificStoppedShard(0), false);
  assert.is(m.removeSpecificStoppedShard(1), false);
  assert.is(m.removeSpecificStoppedShard(3), false);
  assert.equal(snapshot(m), before);
});

test('a drain that would leave fewer than minShards Active is refused and changes nothing', () => {
  const m = everyState();
  value(m.drainSpecific(4));
  const before = snapshot(m);
  assert.match(failure(m.drainSpecific(0), 'at-min-shards'), /1 shards are active, minShards is 1/);
  failure(m.scaleDown(1), 'at-min-shards');
  assert.equal(snapshot(m), before);
});

test('non-integer and out-of-range counts throw, naming the count, and change nothing', () => {
  const m = everyState();
  const before = snapshot(m);
  const ops: [string, (n: number) => unknown][] = [
    ['scaleUp', (n) => m.scaleUp(n)],
    ['scaleUpProvisioning', (n) => m.scaleUpProvisioning(n)],
    ['scaleUpProvisioningForce', (n) => m.scaleUpProvisioningForce(n)],
    ['scaleDown', (n) => m.scaleDown(n)],
  ];
  for (const [name, op] of ops) {
    const where = name.replace(/[.]/g, '\\.');
    assert.match(
      errorText(() => op(1.5)),
      new RegExp(`^E_INVALID_ARGUMENT: ShardMapper\\.${where}: count must be an integer, got 1\\.5$`),
    );
    assert.match(
      errorText(() => op(Number.NaN)),
      /^E_INVALID_ARGUMENT: .*count must be an integer, got NaN$/,
    );
    assert.match(
      errorText(() => op(Number.POSITIVE_INFINITY)),
      /count must be an integer, got Infinity$/,
    );
    assert.match(
      errorText(() => op('2' as unknown as number)),
      /count must be an integer, got "2"$/,
    );
    assert.match(
      errorText(() => op(-1)),
      new RegExp(`^E_OUT_OF_RANGE: ShardMapper\\.${where}: count must be in \\[0, 65534\\], got -1$`),
    );
    assert.match(
      errorText(() => op(65535)),
      /count must be in \[0, 65534\], got 65535$/,
    );
    assert.equal(snapshot(m), before, name);
  }
});

test('results that fail are refusals, never throws, for every refusal kind', () => {
  const m = mapper(2, { minShards: 2, maxShards: 2, cooldownMs: 60_000 });
  const before = snapshot(m);
  failure(m.scaleUp(1), 'at-max-shards');
  failure(m.scaleDown(1), 'at-min-shards');
  failure(m.drainSpecific(0), 'at-min-shards');
  failure(m.activate(7), 'unknown-shard');
  assert.equal(snapshot(m), before);
});

test.run();
