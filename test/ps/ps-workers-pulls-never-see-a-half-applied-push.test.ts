import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pullsScenario } from '../stress/ps.js';

test(
  'sync mode: 100k pulls by a reader thread and the main thread, ' +
    'racing a writer thread, all equal the trajectory at their step',
  async () => {
    // Every sync push is applied under the shard lock inside one seqlock
    // write, so a pull is exact. Every pull must complete: a pull waits
    // (napping on workers) for a write in progress for up to twice the lease.
    const report = await pullsScenario({
      pulls: 100_000,
      readers: 1,
      mainReader: 1,
      minChanges: 1000,
      seconds: 8,
      maxGaveUp: 0,
    });
    console.log(`  pulls: ${JSON.stringify(report.details)}`);
    assert.ok(report.ok, report.failures.join('\n'));
    assert.is(report.details['mismatches'], 0);
    assert.is(report.details['badSteps'], 0);
    assert.ok((report.details['checkedPulls'] as number) >= 99_000);
  },
);

test(
  'async (Hogwild) mode: pulls racing lock-free pushes see every element ' +
    'between the trajectory at the previous pull and one push past their step',
  async () => {
    // Hogwild pushes are not fenced against pulls, so a pull may show part of
    // the push in flight; what it guarantees is stated in ParameterServer's
    // contract and checked here element by element.
    const report = await pullsScenario({
      pulls: 40_000,
      readers: 1,
      mainReader: 1,
      minChanges: 500,
      seconds: 8,
      maxGaveUp: 0,
      hogwild: 1,
    });
    console.log(`  pulls: ${JSON.stringify(report.details)}`);
    assert.ok(report.ok, report.failures.join('\n'));
    assert.is(report.details['mismatches'], 0);
    assert.is(report.details['badSteps'], 0);
  },
);

test.run();
