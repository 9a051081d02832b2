/**
 * A load test longer than one producer's first 2^32 events keeps exact
 * accounting: sequence numbers are wider than 32 bits, so the consumers'
 * checks see the events after the 2^32nd continue the run. The producers
 * start just below the boundary (the internal `firstSequence` option) so a
 * one-second run crosses it instead of a 35-second one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LOADTEST, runLoadTest, type LoadTestSummary } from '../../src/router/loadtest.js';

const BELOW = 5000;

function assertExact(s: LoadTestSummary): void {
  const what = JSON.stringify({
    produced: s.produced,
    consumed: s.consumed,
    lost: s.lost,
    duplicated: s.duplicated,
    reordered: s.reordered,
  });
  assert.is(s.lost, 0, what);
  assert.is(s.duplicated, 0, what);
  assert.is(s.reordered, 0, what);
  assert.is(s.consumed, s.produced, what);
}

test('one producer crosses sequence 2^32 mid-run: nothing lost, duplicated or reordered', async () => {
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers: 1,
    shards: 2,
    durationMs: 1000,
    firstSequence: 2 ** 32 - BELOW,
  });
  assert.ok(
    s.per_producer[0]!.produced > BELOW,
    `the producer passed 2^32 (it sent ${s.per_producer[0]!.produced} events from 2^32 - ${BELOW})`,
  );
  assertExact(s);
});

test('two producers cross 5 x 2^32: nothing lost, duplicated or reordered', async () => {
  const s = await runLoadTest({
    ...DEFAULT_LOADTEST,
    producers: 2,
    shards: 2,
    durationMs: 1000,
    firstSequence: 5 * 2 ** 32 - BELOW,
  });
  for (const p of [0, 1]) {
    assert.ok(
      s.per_producer[p]!.produced > BELOW,
      `producer ${p} passed 5 x 2^32 (it sent ${s.per_producer[p]!.produced} events)`,
    );
  }
  assertExact(s);
});

test.run();
