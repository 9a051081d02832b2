/** Waiting helpers shared by the primitives. */

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
