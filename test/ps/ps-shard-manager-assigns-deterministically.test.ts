import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ShardManager, hashShard } from '../../src/ps/shard-manager.js';
import { errorText } from '../helpers/errors.js';

const ids = (n: number, p: string): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

test('entity hash is deterministic and bounded', () => {
  for (const shards of [1, 2, 3, 8, 100]) {
    for (const id of ['http://example.org/Alice', '', 'e0', 'Ω']) {
      const s = hashShard(id, shards);
      assert.is(hashShard(id, shards), s);
      assert.ok(s >= 0 && s < shards);
    }
  }
});

test('two managers with the same shard count assign the same way; a different count changes it', () => {
  const list = ids(50, 'k_');
  const a = new ShardManager(list, 4, 'entity-hash').assignment;
  const b = new ShardManager(list, 4, 'entity-hash').assignment;
  assert.equal(a.ids, b.ids);
  const c = new ShardManager(list, 2, 'entity-hash').assignment;
  assert.is.not(JSON.stringify(a.ids), JSON.stringify(c.ids));
  assert.is(
    c.ids.reduce((s, x) => s + x.length, 0),
    50,
  );
});

test('hashing spreads 200 ids over every one of 4 shards', () => {
  const a = new ShardManager(ids(200, 'entity_'), 4, 'entity-hash').assignment;
  for (const bucket of a.ids) assert.ok(bucket.length >= 25, `bucket of ${bucket.length}`);
  assert.is(
    a.ids.reduce((s, x) => s + x.length, 0),
    200,
  );
});

test('range assignment gives contiguous, balanced ranges in list order', () => {
  const list = ids(10, 'e');
  const m = new ShardManager(list, 3, 'range');
  assert.equal(m.assignment.ids, [
    ['e0', 'e1', 'e2', 'e3'],
    ['e4', 'e5', 'e6'],
    ['e7', 'e8', 'e9'],
  ]);
  assert.equal(m.locate('e5'), { shard: 1, row: 1 });
  assert.is(m.shardFor('nope'), -1);
  assert.match(
    errorText(() => m.locate('nope')),
    /^E_UNKNOWN_ID: ShardManager\.locate: unknown entity id "nope"$/,
  );
});

test('every thread computes the same assignment', async () => {
  const list = ids(300, 'x');
  const here = new ShardManager(list, 5, 'entity-hash').assignment;
  const mod = new URL('../../src/ps/shard-manager.js', import.meta.url).href;
  const w = new Worker(
    `import('${mod}').then(({ ShardManager }) => { const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage(new ShardManager(workerData, 5, 'entity-hash').assignment.ids); });`,
    { eval: true, workerData: list },
  );
  const there = await new Promise<string[][]>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.equal(there, here.ids);
});

test('a duplicate id is refused', () => {
  assert.match(
    errorText(() => new ShardManager(['a', 'b', 'a'], 2, 'range')),
    /^E_DUPLICATE_ID: .*"a" appears twice \(positions 0 and 2\)/,
  );
});

test.run();
