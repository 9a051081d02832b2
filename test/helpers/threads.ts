/**
 * Helpers for tests that run real worker threads: start a fixture worker
 * from dist/test/fixtures, wait for its result message or its exit.
 */
import { Worker } from 'node:worker_threads';

export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}.js`, import.meta.url);
}

export function startWorker(name: string, workerData: unknown): Worker {
  return new Worker(fixture(name), { workerData });
}

/** Resolve with the first message the worker posts; reject on error or an exit before it. */
export function firstMessage<T>(w: Worker, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker gave no message within ${timeoutMs} ms`)), timeoutMs);
    w.once('message', (m: T) => {
      clearTimeout(timer);
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    w.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with code ${code} before sending a message`));
    });
  });
}

/** Run a fixture to completion and return its one result message. */
export async function runWorker<T>(name: string, workerData: unknown, timeoutMs = 120_000): Promise<T> {
  const w = startWorker(name, workerData);
  try {
    return await firstMessage<T>(w, timeoutMs);
  } finally {
    await w.terminate();
  }
}
