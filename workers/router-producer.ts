/**
 * Load-test producer thread: exposes `producerThreadApi` from
 * src/router/producer-thread.ts to the main thread over comlink.
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { producerThreadApi } from '../src/router/producer-thread.js';

Comlink.expose(producerThreadApi, nodeEndpoint(parentPort!));
