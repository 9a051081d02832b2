/**
 * The durable envelope: a written file reads back byte for byte; a missing,
 * truncated, corrupted, foreign or newer-format file is reported (with its
 * path and what is wrong), never loaded and never thrown.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDurable, writeDurable } from '../../src/store/durable.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-durable-'));
const payload = new Uint8Array(1000).map((_, i) => (i * 7) & 255);

test('round trip', () => {
  const p = join(dir, 'a.kgs');
  writeDurable(p, 'checkpoint', payload);
  const r = readDurable(p, 'checkpoint');
  assert.ok(r.ok);
  if (r.ok) assert.equal([...r.payload], [...payload]);
});

test('every kind of damage is a result naming the path', () => {
  const p = join(dir, 'b.kgs');
  writeDurable(p, 'checkpoint', payload);
  const good = readFileSync(p);
  const cases: [string, Uint8Array, string][] = [
    ['truncated', good.subarray(0, good.length - 10), 'truncated'],
    ['header only', good.subarray(0, 30), 'truncated'],
    ['flipped byte', Uint8Array.from(good, (b, i) => (i === good.length - 1 ? b ^ 1 : b)), 'corrupt'],
    ['foreign', Buffer.from('{"not":"ours"}'), 'foreign'],
    ['empty', new Uint8Array(0), 'truncated'],
    ['trailing bytes', Buffer.concat([good, Buffer.from([1, 2])]), 'corrupt'],
  ];
  for (const [name, bytes, problem] of cases) {
    writeFileSync(p, bytes);
    const r = readDurable(p, 'checkpoint');
    assert.is(r.ok, false, name);
    if (!r.ok) {
      assert.is(r.problem, problem, name);
      assert.ok(r.message.startsWith(p), name);
    }
  }
  writeDurable(p, 'relation-stats', payload);
  const other = readDurable(p, 'checkpoint');
  assert.ok(!other.ok && other.problem === 'foreign');
  const newer = Buffer.from(readFileSync(p));
  newer.writeUInt32LE(99, 4);
  writeFileSync(p, newer);
  const v = readDurable(p, 'relation-stats');
  assert.ok(!v.ok && v.problem === 'version');
  const missing = readDurable(join(dir, 'nope.kgs'), 'checkpoint');
  assert.ok(!missing.ok && missing.problem === 'missing');
});

test('a write that fails leaves the previous file intact', () => {
  const p = join(dir, 'c.kgs');
  writeDurable(p, 'checkpoint', payload);
  assert.throws(
    () => writeDurable(join(dir, 'no-such-dir', 'x.kgs'), 'checkpoint', payload),
    /E_STORE_WRITE|could not write/,
  );
  const r = readDurable(p, 'checkpoint');
  assert.ok(r.ok);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
