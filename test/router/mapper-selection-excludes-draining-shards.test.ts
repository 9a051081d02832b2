import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SHARD } from '../../src/router/mapper.js';
import { mapper, mixed, ONE_NS_MS, selected, spread, value } from './helpers/mapper.js';

// Reference: selection_table_reflects_active_subset_after_state_transitions.
test('the selectable set follows each drain down to minShards', () => {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  const hashes = mixed(500);
  assert.equal(selected(m, hashes), [0, 1, 2]);
  value(m.drainSpecific(1));
  assert.equal(selected(m, hashes), [0, 2], 'a drained shard must vanish from selectShard');
  assert.equal(m.selectionTable(), [0, 2]);
  value(m.drainSpecific(2));
  assert.equal(selected(m, hashes), [0]);
  assert.equal(m.selectionTable(), [0]);
  assert.equal(m.activeShardIds(), [0]);
  assert.equal(m.allShardIds(), [0, 1, 2]);
});

// Reference: test_draining_excludes_from_selection.
test('after scaleDown every selection goes to a remaining Active shard', () => {
  const m = mapper(2, { minShards: 1, cooldownMs: ONE_NS_MS });
  const drained = value(m.scaleDown(1));
  assert.is(drained.length, 1);
  const active = m.activeShardIds();
  assert.is(active.length, 1);
  assert.not.ok(active.includes(drained[0]!));
  for (let i = 0; i < 100; i++) assert.ok(active.includes(m.selectShard(i)));
  for (const h of spread(1000)) assert.ok(active.includes(m.selectShard(h)));
});

// Reference: drain_specific_takes_shard_out_of_select.
test('drainSpecific makes the shard Draining and unselectable', () => {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  value(m.drainSpecific(0));
  assert.is(m.shardState(0), 'draining');
  assert.is(m.activeShardCount(), 2);
  for (let h = 0; h < 10_000; h++) assert.is.not(m.selectShard(h), 0);
  for (const h of spread(10_000)) assert.is.not(m.selectShard(h), 0);
  assert.equal(selected(m), [1, 2]);
  assert.is(m.lastMetrics(0)?.draining, true);
  assert.is(m.lastMetrics(0)?.weight, Number.MAX_VALUE);
  assert.ok(m.metricsCollector(0)?.isDraining());
});

// Reference: select_shard_does_not_fall_back_to_draining.
test('with every shard Draining, selectShard answers NO_SHARD rather than a draining shard', () => {
  const m = mapper(2, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  const hooks = m.testHooks();
  for (const id of [0, 1]) {
    hooks.setState(id, 'draining');
    m.metricsCollector(id)!.setDraining(true);
  }
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), []);
  for (let h = 0; h < 1000; h++) assert.is(m.selectShard(h), NO_SHARD);
  for (const h of spread(1000)) {
    assert.is(m.selectShard(h), NO_SHARD);
    assert.is(m.selectSlot(h), -1);
  }
  // Nothing to bind a producer to either.
  assert.is(m.bindProducer(7, 99), -1);
});

test('Provisioning and Stopped shards are never selectable either', () => {
  const m = mapper(3, { minShards: 1, maxShards: 8, cooldownMs: ONE_NS_MS });
  const hooks = m.testHooks();
  hooks.setState(0, 'provisioning');
  hooks.setState(1, 'stopped');
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [2]);
  assert.equal(selected(m), [2]);
});

test.run();
