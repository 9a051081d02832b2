/**
 * Requested vs achieved: a paced run that fell behind schedule is blamed on
 * the generator only when the router had room (the producers hardly waited
 * for ring space or a shard); otherwise the warning names the router's
 * side. On schedule, nothing is said.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pacingVerdict } from '../../src/router/loadtest.js';

const base = {
  paced: true,
  requested: 1_000_000,
  behind: 0,
  calls: 100_000,
  fullCalls: 0,
  unboundMs: 0,
  producerMs: 10_000,
  producers: 2,
  threads: 2,
};

test('on schedule, or flat out: no warning', () => {
  assert.equal(pacingVerdict(base), { generatorBound: false, warnings: [] });
  assert.equal(pacingVerdict({ ...base, behind: 10_000 }), { generatorBound: false, warnings: [] });
  assert.equal(pacingVerdict({ ...base, paced: false, behind: 900_000 }), { generatorBound: false, warnings: [] });
});

test('behind while the rings had room: the generator is the bottleneck', () => {
  const v = pacingVerdict({ ...base, behind: 300_000, fullCalls: 2, producers: 4, threads: 1 });
  assert.ok(v.generatorBound);
  assert.is(v.warnings.length, 1);
  assert.match(v.warnings[0]!, /^generator-bound: the producers fell 30\.0% behind schedule while the rings had room/);
  assert.match(v.warnings[0]!, /4 producers share 1 thread/);
});

test('behind while waiting for space: the consumers did not keep up', () => {
  const v = pacingVerdict({ ...base, behind: 300_000, fullCalls: 100 });
  assert.not.ok(v.generatorBound);
  assert.match(
    v.warnings[0]!,
    /waiting for ring space 20\.0% of their time; the router \(its consumers\) did not keep up/,
  );
});

test('behind while waiting for a shard: add shards', () => {
  const v = pacingVerdict({ ...base, behind: 300_000, unboundMs: 3000 });
  assert.not.ok(v.generatorBound);
  assert.match(v.warnings[0]!, /waiting for a shard 30\.0% of their time/);
});

test.run();
