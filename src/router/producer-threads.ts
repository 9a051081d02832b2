/**
 * The main thread's side of the load test's producer threads: start one
 * worker per thread and talk to it over comlink (see producer-thread.ts for
 * which conversation goes over comlink and which over shared control words).
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { ProducerProgress, ProducerReport, ProducerThreadApi, ProducerThreadInput } from './producer-thread.js';
import type { RouterHandle } from './router.js';

const PRODUCER_FILE = new URL('../../workers/router-producer.js', import.meta.url);

export interface ProducerThreads {
  /**
   * Wait for every thread's final report (after CTL_STOP is set), then end
   * the threads. Returns each thread's final report. Rejects when a
   * thread failed or exited before reporting.
   */
  finished(): Promise<ProducerReport[]>;
}

/**
 * Start `threads` producer threads, thread t running `inputOf(t)`.
 * `onReport(t, r)` gets thread t's progress reports and, last, its final
 * report.
 */
export function startProducerThreads(
  threads: number,
  inputOf: (t: number) => ProducerThreadInput & { handle: RouterHandle },
  onReport: (t: number, r: ProducerProgress) => void,
): ProducerThreads {
  const workers: Worker[] = [];
  const done: Promise<ProducerReport>[] = [];
  for (let t = 0; t < threads; t++) {
    const w = new Worker(PRODUCER_FILE);
    workers.push(w);
    const api = Comlink.wrap<ProducerThreadApi>(nodeEndpoint(w));
    const report = api.run(
      inputOf(t),
      Comlink.proxy((p: ProducerProgress) => onReport(t, p)),
    );
    done.push(
      new Promise((resolve, reject) => {
        report.then((r: ProducerReport) => {
          onReport(t, r);
          resolve(r);
        }, reject);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`producer thread ${t} exited with code ${code} before reporting`)));
      }),
    );
  }
  return {
    async finished() {
      try {
        return await Promise.all(done);
      } finally {
        await Promise.all(workers.map((w) => w.terminate()));
      }
    },
  };
}
