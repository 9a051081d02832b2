/**
 * The `mutation` soak (npm run soak -- mutation), run short: it covers every
 * file kind and reports errors and exact loads per kind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MUTATION_KINDS } from '../helpers/mutation-kinds.js';
import { soak } from '../soak/mutation.js';

test('a short mutation soak holds and reports every kind', async () => {
  const r = await soak({ runs: 15 });
  assert.ok(r.ok, r.failures.join('\n'));
  for (const kind of MUTATION_KINDS) {
    const k = r.details[kind] as { tried: number; errors: number; exact: number };
    assert.ok(k.tried > 0 && k.errors + k.exact === k.tried, `${kind}: ${JSON.stringify(k)}`);
  }
  assert.is(
    r.details['tried'],
    MUTATION_KINDS.reduce((s, kind) => s + (r.details[kind] as { tried: number }).tried, 0),
  );
});

test.run();
