import { kernelMutexes } from './named-mutex-kernel';
import { wordMutexes } from './named-mutex-word';
import { assertMayBlock } from './region';
import type { LockResult, MutexImpl } from './sync-backend';
import { checkTimeout } from './validate';

export type { LockResult } from './sync-backend';

// Windows has named mutexes in the kernel, with abandonment built in; elsewhere the mutex is a word
// in shared memory that a C program can share (docs/protocol.md). Decisions §32.
const backend = process.platform === 'win32' ? kernelMutexes : wordMutexes;

/**
 * A cross-process mutex that survives its owner's death: when the owning process dies holding it,
 * the next lock succeeds and reports `abandoned: true` (the .NET AbandonedMutexException case).
 * The owner is the handle; a handle that is closed, or whose thread exits, while holding the lock
 * releases it as abandoned. Not recursive: locking a handle that holds the lock is an error.
 */
export class NamedMutex {
  readonly name: string;
  #impl: MutexImpl;

  private constructor(name: string, impl: MutexImpl) {
    this.name = name;
    this.#impl = impl;
  }

  static createOrOpen(name: string): NamedMutex {
    return new NamedMutex(name, backend.open(name, 'createOrOpen'));
  }

  static open(name: string): NamedMutex {
    return new NamedMutex(name, backend.open(name, 'open'));
  }

  /** Removes the mutex's name; false when there was none (always on Windows: decisions §32). */
  static unlink(name: string): boolean {
    return backend.unlink(name);
  }

  /** Whether this handle holds the lock. */
  get isLocked(): boolean {
    return this.#impl.isLocked;
  }

  get closed(): boolean {
    return this.#impl.closed;
  }

  /** Tries once without waiting; null when another owner holds it. */
  tryLock(): LockResult | null {
    return this.#impl.tryLock();
  }

  /** Waits for the lock, blocking the thread (worker threads only); ERR_TIMEOUT after `timeoutMs`. */
  lock(timeoutMs?: number): LockResult {
    assertMayBlock('NamedMutex.lock()');
    return this.#impl.lock(checkTimeout(timeoutMs));
  }

  /** Waits for the lock without blocking the event loop; rejects ERR_TIMEOUT after `timeoutMs`. */
  async lockAsync(timeoutMs?: number): Promise<LockResult> {
    return this.#impl.lockAsync(checkTimeout(timeoutMs));
  }

  /** Releases the lock; ERR_INVALID_STATE when this handle does not hold it. */
  unlock(): void {
    this.#impl.unlock();
  }

  /** Closes the handle; if it held the lock, releases it as abandoned. */
  close(): void {
    this.#impl.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
