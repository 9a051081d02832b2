import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NO_SHARD } from '../../src/router/mapper.js';
import { mapper, mixed, selected, spread } from './helpers/mapper.js';

// Reference: test_select_shard_distributes.
test('different hashes reach different shards', () => {
  const m = mapper(4);
  const small = new Set<number>();
  for (let i = 0; i < 100; i++) small.add(m.selectShard(i * 12345));
  assert.ok(small.size > 0);
  for (const id of small) assert.ok(id >= 0 && id < 4, `selected ${id}`);
  // Hashes spread over the 32-bit range reach every shard.
  assert.equal(selected(m, spread(100)), [0, 1, 2, 3]);
  assert.equal(selected(m, mixed(100)), [0, 1, 2, 3]);
});

// Reference: select_shard_distribution_is_unbiased.
test('uniform hashes split evenly over a non-power-of-two shard count (within 5%)', () => {
  for (const n of [3, 5, 6, 7]) {
    const m = mapper(n);
    const trials = 30_000;
    const counts = new Array<number>(n).fill(0);
    for (const h of spread(trials)) {
      const id = m.selectShard(h);
      assert.ok(id < n, `selected ${id} of ${n}`);
      counts[id] = counts[id]! + 1;
    }
    const expected = trials / n;
    for (let id = 0; id < n; id++) {
      const off = (Math.abs(counts[id]! - expected) / expected) * 100;
      assert.ok(off < 5, `${n} shards: shard ${id} got ${counts[id]} picks, ${off.toFixed(2)}% off ${expected}`);
    }
  }
});

test('the split is contiguous: hash ranges map to shards in table order, no modulo', () => {
  const m = mapper(3);
  // Multiply-shift: the lowest third of the hash range goes to the first
  // candidate, the top third to the last. A modulo would interleave them.
  assert.is(m.selectShard(0), 0);
  assert.is(m.selectShard(1), 0);
  assert.is(m.selectShard(2), 0);
  assert.is(m.selectShard(Math.floor(2 ** 32 / 3) - 1), 0);
  assert.is(m.selectShard(Math.ceil(2 ** 32 / 3)), 1);
  assert.is(m.selectShard(0xffffffff), 2);
});

test('selection is a pure function of the hash, taken modulo 2^32', () => {
  const m = mapper(5);
  for (const h of mixed(1000)) assert.is(m.selectShard(h), m.selectShard(h));
  assert.is(m.selectShard(-1), m.selectShard(0xffffffff));
  assert.is(m.selectShard(2 ** 32 + 7), m.selectShard(7));
  for (const h of mixed(200)) {
    const s = m.selectSlot(h);
    assert.ok(s >= 0);
    assert.is(m.idAtSlot(s), m.selectShard(h));
  }
  assert.is.not(m.selectShard(123), NO_SHARD);
});

test.run();
