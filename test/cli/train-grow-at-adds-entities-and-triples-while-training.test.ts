/**
 * `kgshard train --grow-at EPOCH:DIR` adds the extra train triples in
 * DIR/train.tsv from that epoch on: their new entities join the parameter
 * server as new chunks while the tables stay live, and `--json` reports each
 * growth (`growth`: epoch, dir, triples, new_entities, chunks, steps,
 * place_ms) and the grown entity and train-triple counts. Bad extra triples
 * (an unknown relation, a missing file) fail in one line naming the file
 * and line, and sync mode is refused.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAST, json, kgshard, tempDir, tinyDataset } from './kgshard-cli.js';

const data = tinyDataset();

function extra(lines: string[]): string {
  const dir = tempDir('grow');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.tsv'), lines.map((l) => `${l}\n`).join(''));
  return dir;
}

test('--grow-at 2:DIR trains on the extra triples from epoch 2, with their new entities', () => {
  const dir = extra(['n0\tnext\te3', 'e5\tskip\tn1', 'n0\tpair\tn1', 'e0\tnext\te1']);
  const base = json(kgshard('train', '--dataset', data, ...FAST, '--epochs', '3', '--json'));
  const r = kgshard('train', '--dataset', data, ...FAST, '--epochs', '3', '--grow-at', `2:${dir}`, '--json');
  assert.is(r.code, 0, r.err);
  const j = json(r);
  const growth = j.growth as Array<Record<string, unknown>>;
  assert.is(growth.length, 1);
  const g = growth[0]!;
  assert.is(g.epoch, 2);
  assert.is(g.dir, dir);
  assert.is(g.new_entities, 2, 'n0 and n1');
  assert.ok((g.triples as number) >= 3 && (g.triples as number) <= 4, `triples ${String(g.triples)}`);
  assert.ok((g.chunks as number) >= 1);
  assert.is(j.entities, (base.entities as number) + 2);
  assert.is(j.train_triples, (base.train_triples as number) + (g.triples as number));
  assert.equal(j.grow_at, [{ epoch: 2, dir }]);
  assert.ok(typeof j.mrr === 'number' && Number.isFinite(j.mrr));
});

test('bad extra triples fail in one line naming the file and line', () => {
  const dir = extra(['n0\tnext\te3', 'n0\tbogus\te1']);
  const r = kgshard('train', '--dataset', data, ...FAST, '--epochs', '2', '--grow-at', `1:${dir}`);
  assert.is.not(r.code, 0);
  const lines = r.err.trim().split('\n');
  assert.is(lines.length, 1, r.err);
  assert.match(lines[0]!, /train\.tsv:2: unknown relation "bogus"/);
  const empty = tempDir('grow-empty');
  const m = kgshard('train', '--dataset', data, ...FAST, '--epochs', '2', '--grow-at', `1:${empty}`);
  assert.is.not(m.code, 0);
  assert.match(m.err.trim(), /no train\.tsv or train\.txt of extra triples in this directory$/);
});

test('--grow-at is refused in sync mode and past the last epoch', () => {
  const dir = extra(['n0\tnext\te3']);
  const s = kgshard('train', '--dataset', data, ...FAST, '--mode', 'sync', '--grow-at', `1:${dir}`);
  assert.is(s.code, 2, s.err);
  assert.match(s.err.trim(), /--grow-at must be unset in sync mode/);
  const late = kgshard('train', '--dataset', data, ...FAST, '--epochs', '2', '--grow-at', `3:${dir}`);
  assert.is(late.code, 2, late.err);
  assert.match(late.err.trim(), /--grow-at must be an epoch at most the run's epochs \(2\)/);
  const bad = kgshard('train', '--dataset', data, ...FAST, '--grow-at', 'x');
  assert.is(bad.code, 2, bad.err);
  assert.match(bad.err.trim(), /--grow-at "x": must be EPOCH:DIR with EPOCH >= 1$/);
});

test.run();
