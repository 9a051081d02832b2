/**
 * Ring under real concurrency: a producer worker and a consumer worker move
 * numbered events through a small ring (many laps), with random batch sizes
 * on both sides and every push/pop path, while the main thread samples the
 * indices and checks `0 <= queued <= capacity` at every sample.
 * Options: events, capacity, slotWords, maxBatch, seed.
 */
import { Ring } from '../../src/shm/ring.js';
import { startWorker, firstMessage } from '../helpers/threads.js';
import { opt, type StressReport, type StressScenario } from './report.js';

interface ProducerResult {
  pushed: number;
  checksum: number;
  accountingErrors: number;
  fullReturns: number;
  guardsOk: boolean;
}
interface ConsumerResult {
  popped: number;
  checksum: number;
  outOfOrder: number;
  badPayload: number;
  firstError: string;
  emptyReturns: number;
  timedOut: boolean;
  accountingErrors: number;
  leftover: number;
}

export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const events = opt(opts, 'events', 200_000_000);
  const capacity = opt(opts, 'capacity', 4096);
  const slotWords = opt(opts, 'slotWords', 2);
  const maxBatch = opt(opts, 'maxBatch', 300);
  const seed = opt(opts, 'seed', (Date.now() & 0x7fffffff) >>> 0);
  const ring = Ring.create({ capacity, slotWords });
  const data = { handle: ring.handle, events, maxBatch, seed };
  const consumer = startWorker('ring-consumer', data);
  const producer = startWorker('ring-producer', data);
  const done = Promise.all([
    firstMessage<ProducerResult>(producer, 600_000),
    firstMessage<ConsumerResult>(consumer, 600_000),
  ]);

  // Sample the indices from a third thread while the two sides run.
  let samples = 0;
  let badSamples = 0;
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    // read, write, read: the first read index bounds the queue from below,
    // the second from above, whatever the two sides did in between.
    const r1 = ring.poppedTotal();
    const w = ring.pushedTotal();
    const r2 = ring.poppedTotal();
    if (((w - r1) | 0) < 0 || ((w - r2) | 0) > capacity) badSamples++;
    samples++;
    await new Promise((r) => setImmediate(r));
  }
  const [p, c] = await done;
  await Promise.all([producer.terminate(), consumer.terminate()]);

  const failures: string[] = [];
  if (p.pushed !== events) failures.push(`producer pushed ${p.pushed} of ${events}`);
  if (c.popped !== events)
    failures.push(`consumer popped ${c.popped} of ${events}${c.timedOut ? ' (timed out waiting)' : ''}`);
  if (c.outOfOrder > 0) failures.push(`${c.outOfOrder} events out of order: ${c.firstError}`);
  if (c.badPayload > 0) failures.push(`${c.badPayload} corrupt payloads: ${c.firstError}`);
  if (p.checksum !== c.checksum) failures.push(`checksum produced ${p.checksum} != consumed ${c.checksum}`);
  if (p.accountingErrors + c.accountingErrors > 0)
    failures.push(`index accounting disagreed ${p.accountingErrors + c.accountingErrors} times`);
  if (badSamples > 0) failures.push(`${badSamples} of ${samples} samples saw queued outside [0, ${capacity}]`);
  if (c.leftover !== 0 || ring.size() !== 0) failures.push(`ring not empty at the end: ${ring.size()}`);
  if (!p.guardsOk || !ring.checkGuards()) failures.push('canary words around the slots were overwritten');
  return {
    name: `ring(${events} events, capacity ${capacity}, ${slotWords} words/slot, batch <= ${maxBatch}, seed ${seed})`,
    ok: failures.length === 0,
    details: {
      events,
      laps: Math.floor(events / capacity),
      samples,
      fullReturns: p.fullReturns,
      emptyReturns: c.emptyReturns,
      seed,
    },
    failures,
  };
};
