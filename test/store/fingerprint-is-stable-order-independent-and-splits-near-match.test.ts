/**
 * Fingerprints: independent of the order fields are absorbed in, sensitive
 * to every value (and to element order inside a value), stable across
 * processes, and the near-match key ignores dataset, model and
 * hyper-parameters while the problem key does not.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Fingerprinter, problemKeys, type FieldValue, type ProblemDescription } from '../../src/store/fingerprint.js';
import { check } from '../helpers/prop.js';
import { err } from '../helpers/errors.js';

const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.string(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 5 }),
  fc.array(fc.float({ noNaN: true }), { maxLength: 8 }).map((a) => Float32Array.from(a)),
  fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 8 }).map((a) => Int32Array.from(a)),
);

test('absorb order does not matter', async () => {
  await check(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), fieldValue), { selector: (t) => t[0], maxLength: 8 }),
      fc.integer(),
      (fields, shuffleSeed) => {
        const a = new Fingerprinter();
        for (const [n, v] of fields) a.absorb(n, v);
        const shuffled = [...fields]
          .sort((x, y) => ((x[0].length * 31 + shuffleSeed) % 7) - ((y[0].length * 31 + shuffleSeed) % 7))
          .reverse();
        const b = new Fingerprinter();
        for (const [n, v] of shuffled) b.absorb(n, v);
        assert.is(a.digest(), b.digest());
        assert.match(a.digest(), /^[0-9a-f]{64}$/);
      },
    ),
  );
});

test('every value, name, type and element order changes the digest', () => {
  const base = (): Fingerprinter =>
    new Fingerprinter().absorb('entities', ['a', 'b']).absorb('dim', 32).absorb('lr', 0.01);
  const d = base().digest();
  assert.is(base().digest(), d, 'same fields, same digest');
  assert.is.not(new Fingerprinter().absorb('entities', ['b', 'a']).absorb('dim', 32).absorb('lr', 0.01).digest(), d);
  assert.is.not(new Fingerprinter().absorb('entities', ['a', 'b']).absorb('dim', 33).absorb('lr', 0.01).digest(), d);
  assert.is.not(new Fingerprinter().absorb('entities', ['a', 'b']).absorb('dims', 32).absorb('lr', 0.01).digest(), d);
  assert.is.not(new Fingerprinter().absorb('entities', ['a', 'b']).absorb('dim', '32').absorb('lr', 0.01).digest(), d);
  assert.is.not(
    new Fingerprinter().absorb('entities', ['ab']).absorb('dim', 32).absorb('lr', 0.01).digest(),
    d,
    'no concatenation collision',
  );
  assert.is.not(
    new Fingerprinter().absorb('x', Float32Array.of(1, 2)).digest(),
    new Fingerprinter().absorb('x', Float64Array.of(1, 2)).digest(),
  );
  assert.is(new Fingerprinter().absorb('z', 0).digest(), new Fingerprinter().absorb('z', -0).digest(), '-0 is 0');
  assert.is(new Fingerprinter().absorb('x', true).digest(), new Fingerprinter().absorb('x', true).digest());
});

test('bad names and values are E_INVALID_ARGUMENT', () => {
  assert.is(err(() => new Fingerprinter().absorb('', 1)).code, 'E_INVALID_ARGUMENT');
  assert.match(err(() => new Fingerprinter().absorb('a', 1).absorb('a', 2)).message, /absorbed only once/);
  assert.is(err(() => new Fingerprinter().absorb('a', [1] as unknown as string[])).code, 'E_INVALID_ARGUMENT');
  assert.is(err(() => new Fingerprinter().absorb('a', {} as unknown as string)).code, 'E_INVALID_ARGUMENT');
});

const problem: ProblemDescription = {
  dataset: Uint8Array.of(1, 2, 3, 4),
  entities: ['e0', 'e1', 'e2'],
  relations: ['r0'],
  model: 'transe',
  shapes: { entity: [3, 16], relation: [1, 16] },
  hyperParameters: { lr: 0.01, margin: 1, optimizer: 'adagrad', normalize: true },
};

test('problem key vs near-match key', () => {
  const k = problemKeys(problem);
  assert.is.not(k.problem, k.nearMatch);
  const hp = problemKeys({ ...problem, hyperParameters: { ...problem.hyperParameters, lr: 0.02 } });
  assert.is.not(hp.problem, k.problem, 'hyper-parameters change the problem key');
  assert.is(hp.nearMatch, k.nearMatch, '...but not the near-match key');
  const other = problemKeys({ ...problem, model: 'distmult', dataset: Uint8Array.of(9) });
  assert.is.not(other.problem, k.problem);
  assert.is(other.nearMatch, k.nearMatch);
  const shape = problemKeys({ ...problem, shapes: { entity: [3, 32], relation: [1, 32] } });
  assert.is.not(shape.nearMatch, k.nearMatch, 'shapes change both');
  assert.is.not(shape.problem, k.problem);
  const ents = problemKeys({ ...problem, entities: ['e0', 'e2', 'e1'] });
  assert.is.not(ents.nearMatch, k.nearMatch, 'the entity id map changes both');
  assert.is(err(() => problemKeys({ ...problem, shapes: { entity: [3.5] } })).code, 'E_INVALID_ARGUMENT');
});

test('digests are the same in another process', () => {
  const here = problemKeys(problem);
  const url = new URL('../../src/store/fingerprint.js', import.meta.url).href;
  const arg = JSON.stringify({ ...problem, dataset: 'X' });
  const src = `import('${url}').then((m) => process.stdout.write(JSON.stringify(m.problemKeys(${arg}))))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const there = JSON.parse(r.stdout) as { problem: string; nearMatch: string };
  const local = problemKeys({ ...problem, dataset: 'X' });
  assert.equal(there, { problem: local.problem, nearMatch: local.nearMatch });
  assert.is(there.nearMatch, here.nearMatch);
});

test.run();
