/**
 * Start benchmark workers from dist/bench/workers and collect their one
 * result message.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';

export function workerUrl(name: string): URL {
  return new URL(`../workers/${name}.js`, import.meta.url);
}

export interface Started<T> {
  readonly worker: Worker;
  /** Resolves with the first message that is not the string 'started'. */
  readonly result: Promise<T>;
  /** Resolves when the worker has posted 'started' (if it does). */
  readonly started: Promise<void>;
}

export function start<T>(
  name: string,
  workerData: unknown,
  transferList: TransferListItem[] = [],
  timeoutMs = 120_000,
): Started<T> {
  const worker = new Worker(workerUrl(name), { workerData, transferList });
  let onStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bench worker ${name} gave no result within ${timeoutMs} ms`)),
      timeoutMs,
    );
    worker.on('message', (m: unknown) => {
      if (m === 'started') {
        onStarted();
        return;
      }
      clearTimeout(timer);
      resolve(m as T);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench worker ${name} exited with code ${code} before its result`));
    });
  });
  // A rejection is reported by whoever awaits `result`; keep it from being "unhandled" meanwhile.
  result.catch(() => {});
  return { worker, result, started };
}

/** Await every worker's result, then terminate them all (also on failure). */
export async function results<T extends unknown[]>(workers: { [K in keyof T]: Started<T[K]> }): Promise<T> {
  try {
    return (await Promise.all(workers.map((w) => w.result))) as T;
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
