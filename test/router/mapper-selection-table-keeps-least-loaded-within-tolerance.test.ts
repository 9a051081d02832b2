import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WEIGHT_TOLERANCE } from '../../src/router/mapper.js';
import { mapper, ONE_NS_MS, selected, value } from './helpers/mapper.js';

const four = () => mapper(4, { maxShards: 8, minShards: 1, cooldownMs: ONE_NS_MS });

test('the table holds the Active shards within WEIGHT_TOLERANCE of the lowest weight', () => {
  assert.is(WEIGHT_TOLERANCE, 0.1);
  const m = four();
  const hooks = m.testHooks();
  const weights = [5, 5.05, 5.2, 5.09];
  weights.forEach((weight, id) => hooks.setLastMetrics(id, { weight }));
  // Not republished until the lock holder rebuilds it.
  assert.equal(m.selectionTable(), [0, 1, 2, 3]);
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [0, 1, 3]);
  assert.equal(selected(m), [0, 1, 3]);
  assert.is(m.lastMetrics(2)?.weight, 5.2);
});

test('the tolerance is strict: a weight exactly 0.1 above the lowest is left out', () => {
  const m = four();
  const hooks = m.testHooks();
  [0, 0.1, 0.09, 0.2].forEach((weight, id) => hooks.setLastMetrics(id, { weight }));
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [0, 2]);
});

test('the lowest weight is taken over Active shards only', () => {
  const m = four();
  const hooks = m.testHooks();
  [0, 3, 3.05, 9].forEach((weight, id) => hooks.setLastMetrics(id, { weight }));
  hooks.setState(0, 'draining');
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [1, 2]);
  hooks.setState(0, 'provisioning');
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [1, 2]);
});

test('every weight NaN: the table falls back to every Active shard', () => {
  const m = four();
  const hooks = m.testHooks();
  for (const id of [0, 1, 2, 3]) hooks.setLastMetrics(id, { weight: Number.NaN });
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [0, 1, 2, 3]);
  assert.equal(selected(m), [0, 1, 2, 3]);
  // With a draining shard in the mix, the fallback is still Active shards only.
  hooks.setState(3, 'draining');
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [0, 1, 2]);
});

test('NaN weights are ignored when some weight is a number', () => {
  const m = four();
  const hooks = m.testHooks();
  [Number.NaN, 3, Number.NaN, 3.05].forEach((weight, id) => hooks.setLastMetrics(id, { weight }));
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [1, 3]);
});

test('collectMetrics recomputes the weights and republishes the table', () => {
  const m = four();
  const c = (id: number) => m.metricsCollector(id)!;
  c(0).recordBufferLen(512); // fill 0.5 -> weight 50
  m.collectMetrics();
  assert.equal(m.selectionTable(), [1, 2, 3]);
  assert.equal(selected(m), [1, 2, 3]);

  c(0).recordBufferLen(0);
  for (const id of [1, 2, 3]) c(id).recordBufferLen(512);
  m.collectMetrics();
  assert.equal(m.selectionTable(), [0]);
  assert.equal(selected(m), [0]);

  // Events weigh one per million: 50 000 stay within tolerance of an idle
  // shard, 200 000 do not; push latency weighs ns / 10.
  for (const id of [0, 1, 2, 3]) c(id).recordBufferLen(0);
  c(1).recordEvents(50_000);
  c(2).recordEvents(200_000);
  c(3).recordPush(2);
  const ms = m.collectMetrics();
  assert.equal(
    ms.map((x) => x.weight),
    [0, 0.05, 0.2, 0.2 + 1e-6],
  );
  assert.equal(m.selectionTable(), [0, 1]);

  // The next window is empty again: every shard equally loaded.
  m.collectMetrics();
  assert.equal(m.selectionTable(), [0, 1, 2, 3]);
});

test('a new shard enters with weight 0, so it alone is the least loaded', () => {
  const m = four();
  const hooks = m.testHooks();
  for (const id of [0, 1, 2, 3]) hooks.setLastMetrics(id, { weight: 10 });
  hooks.rebuildSelectionTable();
  assert.equal(m.selectionTable(), [0, 1, 2, 3]);
  assert.equal(value(m.scaleUp(1)), [4]);
  assert.equal(m.selectionTable(), [4]);
  assert.is(m.lastMetrics(4)?.weight, 0);
});

test.run();
