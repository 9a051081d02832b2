/**
 * Seqlock benchmark: a writer that keeps rewriting the region, `rowsPerWrite`
 * rows at a time at about `writesPerSec`, cycling through it, until the main thread sets the stop
 * word. Used to measure snapshot bandwidth with a writer active.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Seqlock, SEQ_OK } from '../../src/shm/seqlock.js';
import type { SeqlockWriterInput, SeqlockWriterResult } from '../lib/protocol.js';

const input = workerData as SeqlockWriterInput;
const lock = Seqlock.attach(input.handle);
const stop = new Int32Array(input.stop);
const rows = Math.min(input.rowsPerWrite, lock.rows);
const src = new Float32Array(rows * lock.cols);
let writes = 0;
let failures = 0;
let row = 0;
const intervalMs = 1000 / input.writesPerSec;
const t0 = performance.now();
let next = t0;
parentPort!.postMessage('started');
while (Atomics.load(stop, 0) === 0) {
  // Sleep, not spin, between writes: the reader's core should not share
  // its time with a busy loop (and a real writer is not one).
  const wait = next - performance.now();
  if (wait > 0) {
    Atomics.wait(stop, 0, 0, wait);
    continue;
  }
  next += intervalMs;
  src[0] = writes;
  if (lock.write(row, src, 1000) === SEQ_OK) writes++;
  else failures++;
  row += rows;
  if (row + rows > lock.rows) row = 0;
}
const result: SeqlockWriterResult = { writes, failures, ms: performance.now() - t0 };
parentPort!.postMessage(result);
