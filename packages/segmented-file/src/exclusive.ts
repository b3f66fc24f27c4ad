import { isMainThread } from 'node:worker_threads';
import { ShmError, type NamedMutex } from '@shmlink/native';
import { pauseMs } from '@shmlink/native/internal';

/**
 * A synchronous call on Node's main thread may not sleep in the kernel (NamedMutex.lock is refused
 * there), so it polls tryLock with 1 ms pauses — and never for longer than this, whatever
 * lockTimeoutMs says: a critical section here is one memcpy, so a holder that keeps the lock this
 * long is stuck or dead, and freezing the event loop for it would be worse than ERR_TIMEOUT.
 */
export const MAIN_THREAD_LOCK_BUDGET_MS = 100;

/**
 * How a segmented file's handle runs its critical sections: holding its NamedMutex (or, with
 * `synchronize: false`, without one), waiting for it as the calling thread may.
 */
export class Exclusive {
  readonly #what: string;
  readonly #mutex: NamedMutex | null;
  readonly #lockTimeoutMs: number;
  readonly #checkOpen: () => void;
  /** Async operations of this handle run one at a time: a NamedMutex handle is not recursive. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(what: string, mutex: NamedMutex | null, lockTimeoutMs: number, checkOpen: () => void) {
    this.#what = what;
    this.#mutex = mutex;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#checkOpen = checkOpen;
  }

  /** Runs `fn` holding the mutex (when synchronized), waiting for it without freezing the event loop for long. */
  run<T>(fn: () => T): T {
    const mutex = this.#mutex;
    // isLocked: an async call of this handle holds the lock and waits for its continuation; this
    // thread is the owner, so `fn` is as protected as that call would be.
    if (mutex === null || mutex.isLocked) return fn();
    this.#checkOpen();
    this.#lockSync(mutex);
    try {
      return fn();
    } finally {
      mutex.unlock();
    }
  }

  /** run() for the async variants: queued behind this handle's earlier calls, waiting with lockAsync. */
  runAsync<T>(fn: () => T): Promise<T> {
    const run = this.#queue.then(async () => {
      const mutex = this.#mutex;
      this.#checkOpen();
      if (mutex === null) return fn();
      await mutex.lockAsync(this.#lockTimeoutMs);
      try {
        return fn();
      } finally {
        // close() while waiting releases the lock itself.
        if (mutex.isLocked) mutex.unlock();
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the mutex handle (releasing the lock as abandoned if a call holds it). */
  close(): void {
    this.#mutex?.close();
  }

  #lockSync(mutex: NamedMutex): void {
    if (!isMainThread) {
      // A worker thread may sleep in the kernel: the owner's unlock wakes it at once.
      mutex.lock(this.#lockTimeoutMs);
      return;
    }
    const budget = Math.min(this.#lockTimeoutMs, MAIN_THREAD_LOCK_BUDGET_MS);
    const deadline = performance.now() + budget;
    while (mutex.tryLock() === null) {
      if (performance.now() >= deadline) {
        throw new ShmError(
          'ERR_TIMEOUT',
          `${this.#what}: mutex still held after ${budget} ms (a synchronous call on the ` +
            `main thread waits at most ${MAIN_THREAD_LOCK_BUDGET_MS} ms; use the async variant to wait longer)`,
        );
      }
      pauseMs(1);
    }
  }
}
