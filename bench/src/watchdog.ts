/** Rejects if `promise` has not settled within `ms` (the caller then tears the measurement down). */
export function withWatchdog<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Races a measurement against its peer's failure and a watchdog. The measurement may still reject
 * after it lost (its transport is torn down under it): that late rejection is expected, not an error.
 */
export function guarded<T>(work: Promise<T>, failure: Promise<never>, ms: number): Promise<T> {
  work.catch(() => {});
  return withWatchdog(Promise.race([work, failure]), ms);
}
