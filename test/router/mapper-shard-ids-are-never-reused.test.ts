import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapper, ONE_NS_MS, pastCooldown, value } from './helpers/mapper.js';

// Reference: scale_up_does_not_reuse_ids_after_remove.
test('an id removed after a drain is not issued again', () => {
  const m = mapper(2, { minShards: 1, maxShards: 16, cooldownMs: ONE_NS_MS });
  const hooks = m.testHooks();
  assert.equal(value(m.scaleUp(2)), [2, 3]);
  const drained = value(pastCooldown(() => m.scaleDown(1)));
  assert.is(drained.length, 1);
  const id = drained[0]!;
  hooks.setState(id, 'stopped');
  assert.equal(m.removeStoppedShards(), [id]);
  assert.is(m.shardState(id), undefined);
  assert.equal(
    value(pastCooldown(() => m.scaleUp(1))),
    [4],
    `shard id ${id} was just removed; no issued id may come back`,
  );
});

test('the highest id drained, stopped through finalize and removed, is not revived', () => {
  const m = mapper(2, { minShards: 1, maxShards: 16, cooldownMs: ONE_NS_MS, minDrainMs: 0 });
  const hooks = m.testHooks();
  assert.equal(value(m.scaleUp(2)), [2, 3]);
  value(m.drainSpecific(3));
  hooks.setDrainStartedMs(3, hooks.now() - 1000);
  assert.equal(m.finalizeDraining(), [3]);
  assert.is(m.removeSpecificStoppedShard(3), true);
  assert.equal(m.activeShardIds(), [0, 1, 2]);
  assert.equal(value(pastCooldown(() => m.scaleUp(1))), [4]);
  assert.equal(value(pastCooldown(() => m.scaleUpProvisioning(1))), [5]);
});

test('over many add/remove cycles ids only grow, while slots are reused', () => {
  const m = mapper(2, { minShards: 1, maxShards: 3, cooldownMs: ONE_NS_MS }, { slots: 4 });
  const hooks = m.testHooks();
  const issued: number[] = [0, 1];
  const slotsUsed = new Set<number>();
  for (let round = 0; round < 20; round++) {
    hooks.setLastScalingMs(null);
    const [id] = value(m.scaleUp(1));
    assert.is(id, issued[issued.length - 1]! + 1, `round ${round}`);
    issued.push(id!);
    const slot = m.slotOf(id!);
    slotsUsed.add(slot);
    // A reused slot starts clean: no metrics or drain state of its predecessor.
    assert.equal(
      { ...m.lastMetrics(id!)!, weight: 0 },
      {
        shardId: id,
        fillRatio: 0,
        eventRate: 0,
        avgPushLatencyNs: 0,
        avgFlushLatencyUs: 0,
        draining: false,
        weight: 0,
      },
    );
    const c = m.metricsCollector(id!)!;
    assert.is(c.pushesSinceDrainStart(), 0);
    assert.is(c.bufferLength(), 0);
    assert.is(c.isDraining(), false);
    c.recordBufferLen(100);
    c.recordEvents(5);
    m.collectMetrics();
    value(m.drainSpecific(id!));
    hooks.setState(id!, 'stopped');
    assert.equal(m.removeStoppedShards(), [id]);
  }
  assert.ok(slotsUsed.size <= 2, `only the two spare slots are cycled, got ${[...slotsUsed]}`);
  assert.equal(new Set(issued).size, issued.length);
});

test.run();
