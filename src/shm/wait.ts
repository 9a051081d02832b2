/** Waiting helpers shared by the primitives. */

/**
 * Where a waiter parks: sleep on `array[index]` while it still holds
 * `value`, for at most `timeoutMs`, announced in `array[sleepers]` so that
 * whoever changes the word notifies only when someone sleeps. A protocol's
 * wait step returns one of these (or its outcome); the blocking and the
 * awaiting forms of the wait then differ only in `park` versus `parkAsync`.
 */
export class Park {
  constructor(
    readonly array: Int32Array,
    readonly index: number,
    readonly value: number,
    readonly timeoutMs: number,
    readonly sleepers: number,
  ) {}
}

/** Sleep as `p` says, with `Atomics.wait` (worker threads only). */
export function park(p: Park): void {
  Atomics.add(p.array, p.sleepers, 1);
  Atomics.wait(p.array, p.index, p.value, p.timeoutMs);
  Atomics.sub(p.array, p.sleepers, 1);
}

/** Park as `p` says without blocking the thread (`waitAsync`); any thread. */
export async function parkAsync(p: Park): Promise<void> {
  Atomics.add(p.array, p.sleepers, 1);
  try {
    await waitAsync(p.array, p.index, p.value, p.timeoutMs);
  } finally {
    Atomics.sub(p.array, p.sleepers, 1);
  }
}

/**
 * `Atomics.waitAsync` with a timeout; resolves when woken, on a value change,
 * or on timeout. Node 20 neither counts a pending `waitAsync` as work that
 * keeps the process alive nor reliably runs its timeout task once nothing
 * else is pending, so the timeout is our own (ref'd) timer, raced against
 * the wait.
 */
export async function waitAsync(arr: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  const r = Atomics.waitAsync(arr, index, value, timeoutMs);
  if (!r.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      r.value,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.min(Math.max(timeoutMs, 0), 2 ** 31 - 1));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
