import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fnv1a64, initRow } from '../../src/ps/init.js';
import { ParameterServer } from '../../src/ps/server.js';

interface Case {
  id: string;
  dim: number;
  fnv1a64: string;
  bits: number[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/data/init-row-vectors.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

test('the FNV-1a 64 hash of each id matches the reference', () => {
  for (const c of vectors.cases) {
    const h = fnv1a64(c.id);
    assert.is(h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0'), c.fnv1a64, c.id);
  }
});

test('initial rows are bit for bit those of the reference', () => {
  assert.ok(vectors.cases.length >= 40);
  for (const c of vectors.cases) {
    const out = new Float32Array(c.dim + 2).fill(7);
    initRow(c.id, c.dim, out, 1);
    const bits = new Uint32Array(out.buffer);
    assert.equal(Array.from(bits.subarray(1, c.dim + 1)), c.bits, `${c.id} dim ${c.dim}`);
    assert.is(out[0], 7, 'nothing written before the row');
    assert.is(out[c.dim + 1], 7, 'nothing written after the row');
  }
});

test('every value lies in [-0.05, 0.05] and the server initialises its rows the same way', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `entity_${i}`);
  const ps = ParameterServer.create({ dim: 7, numShards: 3 }, ids, ['rel0']);
  const expect = new Float32Array(7);
  for (const id of ids) {
    const { shard, row } = ps.locate(id);
    initRow(id, 7, expect, 0);
    const got = ps.pull(shard).entities.subarray(row * 7, row * 7 + 7);
    assert.equal(Array.from(got), Array.from(expect), id);
    for (const v of got) assert.ok(v >= -0.05 && v <= 0.05);
  }
  initRow('rel0', 7, expect, 0);
  assert.equal(Array.from(ps.pull(0).relations), Array.from(expect));
});

test.run();
