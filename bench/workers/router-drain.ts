/**
 * `router` suite, consumer side: `drainShard` on one slot of the router,
 * verifying every event's producer id and sequence number, until the main
 * thread requests a stop (after the producers are done) and the ring is
 * empty. Posts 'started' just before it starts draining, then its
 * DrainResult (per-producer traces for `verifyDelivery`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { drainShard } from '../../src/router/consumer.js';
import { Router } from '../../src/router/router.js';
import type { RouteDrainInput, RouteDrainResult } from '../lib/router-protocol.js';

const input = workerData as RouteDrainInput;
const router = Router.attach(input.handle);
parentPort!.postMessage('started');
const result: RouteDrainResult = drainShard(router, input.slot, { batch: input.batch, verify: true });
parentPort!.postMessage(result);
