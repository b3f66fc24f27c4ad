import { binding, type KernelMutexHandle } from './binding';
import { ShmError } from './errors';
import { toOsName } from './names';
import { MUTEX_PREFIX, alreadyHeld, notHeld, type LockResult, type MutexBackend, type MutexImpl } from './sync-backend';

// NamedMutex on Windows: a named mutex kernel object ("Local\shmlink.mx.<name>", owner-only),
// which the OS marks abandoned when its owning thread ends. Each handle's waits and releases run
// on a native thread of its own, which is therefore the owner: decisions §32.

type Outcome = ReturnType<KernelMutexHandle['tryLock']> | Awaited<ReturnType<KernelMutexHandle['lockAsync']>>;

class KernelMutex implements MutexImpl {
  readonly name: string;
  #handle: KernelMutexHandle;

  constructor(name: string, handle: KernelMutexHandle) {
    this.name = name;
    this.#handle = handle;
  }

  get isLocked(): boolean {
    return this.#handle.isLocked;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  tryLock(): LockResult | null {
    return this.#result(this.#handle.tryLock(), 0);
  }

  // A wait never answers 'busy', the only outcome that maps to null.
  lock(timeoutMs: number): LockResult {
    return this.#result(this.#handle.lock(timeoutMs), timeoutMs) as LockResult;
  }

  async lockAsync(timeoutMs: number): Promise<LockResult> {
    return this.#result(await this.#handle.lockAsync(timeoutMs), timeoutMs) as LockResult;
  }

  #result(outcome: Outcome, timeoutMs: number): LockResult | null {
    switch (outcome) {
      case 'acquired':
        return { abandoned: false };
      case 'abandoned':
        return { abandoned: true };
      case 'busy':
        return null;
      case 'already-held':
        throw alreadyHeld(this.name);
      case 'timed-out':
        throw new ShmError('ERR_TIMEOUT', `named mutex '${this.name}' still held by another owner after ${timeoutMs} ms`);
      case 'closed':
        throw new ShmError('ERR_CLOSED', `named mutex '${this.name}' was closed while lockAsync waited`);
    }
  }

  unlock(): void {
    // Checked here too so that a closed handle answers as on Linux (nothing held), not ERR_CLOSED.
    if (!this.#handle.isLocked || this.#handle.unlock() === 'not-held') {
      throw notHeld(this.name);
    }
  }

  close(): void {
    this.#handle.close();
  }
}

function kernelMutexClass(): NonNullable<typeof binding.KernelMutex> {
  if (binding.KernelMutex === undefined) {
    throw new ShmError('ERR_UNSUPPORTED_PLATFORM', `named mutexes on kernel objects exist on Windows only, not on ${process.platform}`);
  }
  return binding.KernelMutex;
}

export const kernelMutexes: MutexBackend = {
  open(name, disposition) {
    const Mutex = kernelMutexClass();
    return new KernelMutex(name, new Mutex(toOsName(name, MUTEX_PREFIX), disposition === 'createOrOpen'));
  },
  // A kernel object has no name apart from its handles: it vanishes with the last one. There is
  // nothing to remove, ever (decisions §32).
  unlink(name) {
    toOsName(name, MUTEX_PREFIX);
    return false;
  },
};
