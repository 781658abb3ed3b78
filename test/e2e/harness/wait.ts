// Bounded polling: the only way this suite waits for anything.

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  message: string | (() => string);
}

/**
 * Calls `check` until it returns a truthy value (which is returned) or the time is up.
 * An exception thrown by `check` ends the wait at once.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) {
      throw new Error(typeof opts.message === 'function' ? opts.message() : opts.message);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
