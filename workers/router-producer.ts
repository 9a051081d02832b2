/**
 * Load-test producer thread (`workerData`: the router's handle plus the
 * thread's producer ids, batch, rate and control words). Runs
 * runProducerThread from src/router/loadtest.ts and posts its reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runProducerThread, type ProducerThreadInput } from '../src/router/loadtest.js';
import { Router, type RouterHandle } from '../src/router/router.js';

const input = workerData as ProducerThreadInput & { handle: RouterHandle };
runProducerThread(Router.attach(input.handle), input, (m) => parentPort!.postMessage(m));
