/**
 * StatsPersister: writes the statistics (durable envelope, kind
 * relation-stats) every N samples and on flush; a later run loads them; a
 * missing file is a silent fresh start; a corrupt, truncated, foreign or
 * mismatched file is one warning and a fresh start.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDurable, writeDurable } from '../../src/store/durable.js';
import { RelationStats, StatsPersister, STATS_KIND } from '../../src/store/running-stats.js';

const dir = mkdtempSync(join(tmpdir(), 'kgshard-stats-'));

function collect(): { warnings: string[]; onWarning: (m: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (m) => warnings.push(m) };
}

test('missing file: fresh start, no warning', () => {
  const w = collect();
  const p = new StatsPersister(join(dir, 'none.kgs'), 3, { onWarning: w.onWarning });
  assert.is(p.start, 'fresh');
  assert.is(p.stats.total(), 0);
  assert.equal(w.warnings, []);
});

test('persists every N samples, and a new run loads exactly what was written', () => {
  const path = join(dir, 'every.kgs');
  const w = collect();
  const p = new StatsPersister(path, 3, { every: 5, onWarning: w.onWarning });
  const wrote: boolean[] = [];
  for (let i = 0; i < 12; i++) wrote.push(p.record(i % 3, i * 0.5));
  assert.equal(
    wrote.map((b, i) => (b ? i : -1)).filter((i) => i >= 0),
    [4, 9],
  );
  assert.is(p.writeCount, 2);
  const onDisk = readDurable(path, STATS_KIND);
  assert.ok(onDisk.ok);
  if (onDisk.ok) assert.is(RelationStats.deserialize(onDisk.payload).total(), 10);
  assert.ok(p.flush());
  assert.not.ok(p.flush(), 'nothing pending');
  const q = new StatsPersister(path, 3, { every: 5, onWarning: w.onWarning });
  assert.is(q.start, 'loaded');
  for (let r = 0; r < 3; r++) assert.equal(q.stats.get(r), p.stats.get(r));
  assert.equal(w.warnings, []);
});

test('merged worker statistics count toward N', () => {
  const path = join(dir, 'merge.kgs');
  const p = new StatsPersister(path, 2, { every: 10, onWarning: () => {} });
  const part = new RelationStats(2);
  for (let i = 0; i < 6; i++) part.update(i & 1, i);
  assert.not.ok(p.merge(part));
  assert.ok(p.merge(part));
  assert.is(new StatsPersister(path, 2).stats.total(), 12);
});

test('corrupt, truncated, foreign or mismatched file: exactly one warning naming the path, then a fresh start', () => {
  const path = join(dir, 'bad.kgs');
  const good = new RelationStats(3);
  good.update(1, 2.5);
  writeDurable(path, STATS_KIND, good.serialize());
  const bytes = readFileSync(path);
  const cases: [string, () => void][] = [
    ['truncated', () => writeFileSync(path, bytes.subarray(0, bytes.length - 7))],
    [
      'flipped byte',
      () =>
        writeFileSync(
          path,
          Uint8Array.from(bytes, (b, i) => (i === bytes.length - 3 ? b ^ 0x10 : b)),
        ),
    ],
    ['garbage', () => writeFileSync(path, 'not stats at all')],
    ['other kind', () => writeDurable(path, 'checkpoint', good.serialize())],
    ['bad payload', () => writeDurable(path, STATS_KIND, Uint8Array.of(1, 0, 0, 0, 3, 0, 0, 0, 9))],
    ['other relation count', () => writeDurable(path, STATS_KIND, new RelationStats(5).serialize())],
  ];
  for (const [name, damage] of cases) {
    damage();
    const w = collect();
    const p = new StatsPersister(path, 3, { every: 1, onWarning: w.onWarning });
    assert.is(p.start, 'recovered', name);
    assert.is(w.warnings.length, 1, name);
    assert.ok(w.warnings[0]!.includes(path), `${name}: ${w.warnings[0]}`);
    assert.is(p.stats.total(), 0, name);
    // the next write replaces the bad file with good statistics
    p.record(0, 1);
    assert.is(new StatsPersister(path, 3, { onWarning: () => assert.unreachable(name) }).start, 'loaded', name);
    writeDurable(path, STATS_KIND, good.serialize());
  }
});

test('default warning goes through process.emitWarning', async () => {
  const path = join(dir, 'warn.kgs');
  writeFileSync(path, 'junk');
  const seen = new Promise<Error>((resolve) => process.once('warning', resolve));
  const p = new StatsPersister(path, 1);
  assert.is(p.start, 'recovered');
  const w = await seen;
  assert.ok(w.message.includes(path));
});

test('serialize / deserialize round trip and bad payloads', () => {
  const s = new RelationStats(4);
  for (let i = 0; i < 50; i++) s.update(i % 4, Math.sin(i) * 100);
  const t = RelationStats.deserialize(s.serialize());
  assert.equal(t.toJSON(), s.toJSON());
  assert.throws(() => RelationStats.deserialize(new Uint8Array(3)), /shorter/);
  assert.throws(() => RelationStats.deserialize(s.serialize().subarray(0, 20)), /need/);
  const v = s.serialize();
  v[0] = 9;
  assert.throws(() => RelationStats.deserialize(v), /version 9/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
