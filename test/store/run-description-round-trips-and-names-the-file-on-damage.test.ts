/**
 * The description of a run beside its checkpoint store
 * (`runs/<fingerprint>.json`): written atomically (no temporary file left),
 * read back field for field, listed by fingerprint; a missing file and
 * every kind of damage (not JSON, another format or version, a field
 * missing or of the wrong type, another run's fingerprint) is one E_DATASET
 * error naming the file; the writer refuses an inconsistent description.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describedRuns,
  readRunDescription,
  runDescriptionPath,
  writeRunDescription,
  type RunDescription,
} from '../../src/store/run-description.js';
import { err } from '../helpers/errors.js';

const root = mkdtempSync(join(tmpdir(), 'kgshard-run-description-'));
const FP = 'c0'.repeat(32);
const OTHER = 'd1'.repeat(32);

const DESCRIPTION: RunDescription = {
  fingerprint: FP,
  nearKey: 'e2'.repeat(32),
  model: 'complex',
  dim: 8,
  entityWidth: 16,
  relationWidth: 16,
  entities: 24,
  relations: 3,
  trainTriples: 63,
  dataset: { name: 'tiny', path: '/data/tiny' },
  hyper: { lr: 0.2, optimizer: 'adagrad', filter_negatives: false },
  epochsPlanned: 30,
  created: '2025-01-02T03:04:05.000Z',
};

test('write, read back, list', () => {
  const store = join(root, 'store');
  const path = writeRunDescription(store, DESCRIPTION);
  assert.is(path, join(store, 'runs', `${FP}.json`));
  assert.is(runDescriptionPath(store, FP), path);
  assert.equal(readRunDescription(store, FP), DESCRIPTION);
  writeRunDescription(store, { ...DESCRIPTION, fingerprint: OTHER, dataset: { name: 'wordnet' } });
  assert.equal(readRunDescription(store, OTHER).dataset, { name: 'wordnet' });
  assert.equal(describedRuns(store), [FP, OTHER].sort());
  assert.equal(readdirSync(join(store, 'runs')).sort(), [`${FP}.json`, `${OTHER}.json`].sort(), 'no temporary file');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.is(json['format'], 'kgshard-run');
  assert.is(json['entity_width'], 16);
  assert.equal(describedRuns(join(root, 'no-store')), []);
});

test('a missing or damaged description is one E_DATASET error naming the file', () => {
  const store = join(root, 'damaged');
  const path = writeRunDescription(store, DESCRIPTION);
  const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"format": "kgshard-run",', /not valid JSON/],
    ['an array', '[]', /not a JSON object/],
    ['another format', JSON.stringify({ ...good, format: 'kgshard-embeddings' }), /format must be "kgshard-run"/],
    ['a newer version', JSON.stringify({ ...good, version: 2 }), /version 2 is not supported/],
    ['no model', JSON.stringify({ ...good, model: undefined }), /model must be a non-empty string/],
    ['a dim of 0', JSON.stringify({ ...good, dim: 0 }), /dim must be an integer >= 1, got 0/],
    ['a width as text', JSON.stringify({ ...good, entity_width: '16' }), /entity_width must be an integer/],
    ['no dataset', JSON.stringify({ ...good, dataset: undefined }), /dataset\.name must be a string/],
    ['a nested hyper', JSON.stringify({ ...good, hyper: { lr: [1] } }), /hyper must be an object/],
    ['another run', JSON.stringify({ ...good, fingerprint: OTHER }), new RegExp(`description of run ${OTHER}`)],
  ];
  for (const [what, text, why] of cases) {
    writeFileSync(path, text);
    const e = err(() => readRunDescription(store, FP));
    assert.is(e.code, 'E_DATASET', what);
    assert.ok(e.message.startsWith(path), `${what}: ${e.message}`);
    assert.match(e.message, why, what);
    assert.not.match(e.message, /\n/, what);
  }
  const missing = err(() => readRunDescription(store, OTHER));
  assert.is(missing.code, 'E_DATASET');
  assert.match(missing.message, new RegExp(`^${join(store, 'runs', OTHER)}\\.json: no run description`));
});

test('the writer refuses an inconsistent description and a bad fingerprint', () => {
  const store = join(root, 'refused');
  assert.match(err(() => writeRunDescription(store, { ...DESCRIPTION, dim: 1.5 })).message, /dim must be an integer/);
  assert.match(
    err(() => writeRunDescription(store, { ...DESCRIPTION, fingerprint: 'XYZ' })).message,
    /fingerprint must be 64 lowercase hex digits/,
  );
  assert.match(err(() => runDescriptionPath(store, '../x')).message, /64 lowercase hex digits/);
});

test.run();
