import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kgshard } from './kgshard-cli.js';

const TRAIN_FLAGS = [
  '--dataset',
  '--model',
  '--dim',
  '--epochs',
  '--batch',
  '--neg',
  '--chunk',
  '--lr',
  '--optimizer',
  '--loss',
  '--margin',
  '--adversarial',
  '--reg',
  '--reg-kind',
  '--mode',
  '--workers',
  '--seed',
  '--eval-every',
  '--patience',
  '--eval-split',
  '--out',
  '--json',
];

test('kgshard --help lists train, eval and dataset', () => {
  const r = kgshard('--help');
  assert.is(r.code, 0);
  for (const c of ['train', 'eval --embeddings', 'dataset', 'bench']) assert.ok(r.out.includes(`  ${c}`), c);
});

test('train --help lists every flag and the per-model defaults', () => {
  for (const h of ['--help', '-h']) {
    const r = kgshard('train', h);
    assert.is(r.code, 0);
    assert.is(r.err, '');
    for (const flag of TRAIN_FLAGS) assert.ok(r.out.includes(`  ${flag} `), flag);
    for (const model of ['transe', 'distmult', 'complex', 'rotate'])
      assert.match(r.out, new RegExp(`^  ${model} +\\d+`, 'm'));
  }
});

test('eval --help and dataset --help list their flags', () => {
  const e = kgshard('eval', '--help');
  assert.is(e.code, 0);
  for (const flag of [
    '--embeddings',
    '--checkpoint-dir',
    '--fingerprint',
    '--dataset',
    '--split',
    '--workers',
    '--json',
  ])
    assert.ok(e.out.includes(`  ${flag} `), flag);
  const d = kgshard('dataset', '--help');
  assert.is(d.code, 0);
  for (const flag of ['--dataset', '--write', '--json']) assert.ok(d.out.includes(`  ${flag} `), flag);
});

test.run();
