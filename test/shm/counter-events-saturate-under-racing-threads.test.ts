/**
 * Real threads: 3 writer workers hammer recordEvent while a collector worker
 * resets the counter and starts every window a few events below EVENTS_CAP.
 * Windows saturate while several writers race past the cap; none may wrap,
 * lose its reset to a stale saturation store, or mis-flag saturation. The
 * short version of `npm run stress -- counter`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventsScenario } from '../stress/counter.js';

test('events saturate without wrapping or overwriting a reset under racing threads', async () => {
  const report = await eventsScenario({ threads: 3, events: 2_000_000, seconds: 120 });
  assert.ok(report.ok, `${report.name}\n${report.failures.join('\n')}\n${JSON.stringify(report.details)}`);
  assert.is(report.details['recorded'], 6_000_000);
});

test.run();
