/**
 * NameIndex: exact lookup, and for an unknown name one E_UNKNOWN_ID line
 * naming where it came from, the kind and the name, with the three
 * closest known names by edit distance (case folded first, then exact
 * case, then alphabetical), checked against a plain Levenshtein.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { check } from '../helpers/prop.js';
import { KgError } from '../../src/errors.js';
import { NameIndex } from '../../src/data/names.js';

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

const NAMES = ['dog.n.01', 'dog.n.02', 'cat.n.01', 'Dog.v.01', 'hot_dog.n.01', '_hypernym', '_has_part'];

test('known names resolve to their ids; unknown ones give one line with three suggestions', () => {
  const idx = new NameIndex('entity', NAMES);
  assert.is(idx.resolve('cat.n.01', 'here'), 2);
  assert.is(idx.get('nope'), -1);
  try {
    idx.resolve('dog.n.1', 'queries.tsv:3');
    assert.unreachable('resolved an unknown name');
  } catch (e) {
    assert.instance(e, KgError);
    const err = e as KgError;
    assert.is(err.code, 'E_UNKNOWN_ID');
    assert.is(err.message, 'queries.tsv:3: unknown entity "dog.n.1"; closest: "dog.n.01", "dog.n.02", "Dog.v.01"');
    assert.equal(err.details['suggestions'], ['dog.n.01', 'dog.n.02', 'Dog.v.01']);
  }
  // Case is folded before distances are compared, then breaks ties.
  assert.equal(new NameIndex('entity', ['Dog.n.01', 'dog.n.01', 'dig.n.01']).closest('DOG.n.01', 2), [
    'Dog.n.01',
    'dog.n.01',
  ]);
  assert.equal(new NameIndex('relation', []).closest('x'), []);
});

test('suggestions are the closest names by case-folded edit distance (against a plain Levenshtein)', async () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', '.', '_'), maxLength: 8 });
  await check(
    fc.property(
      fc.uniqueArray(word, { minLength: 1, maxLength: 30 }),
      word,
      fc.integer({ min: 1, max: 5 }),
      (names, q, count) => {
        const got = new NameIndex('entity', names).closest(q, count);
        assert.is(got.length, Math.min(count, names.length));
        const d = (n: string): number => levenshtein(q.toLowerCase(), n.toLowerCase());
        const sorted = [...names].sort(
          (a, b) => d(a) - d(b) || levenshtein(q, a) - levenshtein(q, b) || (a < b ? -1 : a > b ? 1 : 0),
        );
        assert.equal(got, sorted.slice(0, count));
      },
    ),
    300,
  );
});

test.run();
