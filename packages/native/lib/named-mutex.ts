import { binding } from './binding';
import { ShmError } from './errors';
import { initializeHeader } from './header';
import { Region, assertMayBlock, openPrefixed, unlinkPrefixed } from './region';
import { checkTimeout } from './validate';
import { driveAsync, driveBlocking, type WaitStep } from './wait-steps';

// The object's layout and the lock / unlock / abandon protocol, which a C program shares
// (peers/c/named_mutex.h): docs/protocol.md, section "Named mutex".
const MAGIC = 0x584d4c53;
const VERSION = 1;
const OWNER = 8;
const ABANDONED = 12;
const SIZE = 64;
const WAITERS = 0x80000000;
const THREAD_ID_MASK = 0x7fffffff;
// A dead owner never wakes anyone: waiters re-check the owner's liveness this often.
const LIVENESS_POLL_MS = 100;
export const MUTEX_PREFIX = 'shmlink.mx.';

export interface LockResult {
  /** True when the previous owner died (or closed) while holding the mutex: the data it guarded may be inconsistent. */
  abandoned: boolean;
}

const held = new Set<NamedMutex>();
let exitHookInstalled = false;

function releaseHeldOnExit(): void {
  for (const mutex of held) mutex.close();
}

/**
 * A cross-process mutex that survives its owner's death: when the owning process dies holding it,
 * the next lock succeeds and reports `abandoned: true` (the .NET AbandonedMutexException case).
 * The owner is the handle; a handle that is closed, or whose thread exits, while holding the lock
 * releases it as abandoned. Not recursive: locking a handle that holds the lock is an error.
 */
export class NamedMutex {
  readonly name: string;
  #region: Region;
  #held = false;
  #owner = binding.currentThreadId();

  private constructor(name: string, region: Region) {
    this.name = name;
    this.#region = region;
  }

  static createOrOpen(name: string): NamedMutex {
    return NamedMutex.#wrap(name, openPrefixed(MUTEX_PREFIX, name, 'createOrOpen', SIZE));
  }

  static open(name: string): NamedMutex {
    return NamedMutex.#wrap(name, openPrefixed(MUTEX_PREFIX, name, 'open', SIZE));
  }

  static unlink(name: string): boolean {
    return unlinkPrefixed(MUTEX_PREFIX, name);
  }

  static #wrap(name: string, region: Region): NamedMutex {
    try {
      initializeHeader(region, { what: 'named mutex', magic: MAGIC, version: VERSION, magicOffset: 0, versionOffset: 4 }, () => {});
    } catch (err) {
      region.close();
      throw err;
    }
    return new NamedMutex(name, region);
  }

  /** Whether this handle holds the lock. */
  get isLocked(): boolean {
    return this.#held;
  }

  get closed(): boolean {
    return this.#region.closed;
  }

  #acquired(): LockResult {
    this.#held = true;
    held.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', releaseHeldOnExit);
    }
    const abandoned = this.#region.compareExchange(ABANDONED, 1, 0) === 1;
    return { abandoned };
  }

  /** One attempt; `contended` keeps the waiters bit so that our unlock wakes the next in line. */
  #attempt(contended: boolean): LockResult | number {
    const me = contended ? (this.#owner | WAITERS) >>> 0 : this.#owner;
    const seen = this.#region.compareExchange(OWNER, 0, me);
    if (seen === 0) return this.#acquired();
    const owner = seen & THREAD_ID_MASK;
    if (!binding.processAlive(owner)) {
      // The owner died holding it: take it over, and tell the caller.
      if (this.#region.compareExchange(OWNER, seen, (this.#owner | (seen & WAITERS)) >>> 0) === seen) {
        this.#region.store(ABANDONED, 1);
        return this.#acquired();
      }
      return this.#region.load(OWNER);
    }
    if ((seen & WAITERS) === 0) this.#region.compareExchange(OWNER, seen, (seen | WAITERS) >>> 0);
    return (seen | WAITERS) >>> 0;
  }

  #checkNotHeld(): void {
    if (this.#held) {
      throw new ShmError('ERR_INVALID_STATE', `named mutex '${this.name}' is already held by this handle (not recursive)`);
    }
  }

  /** Tries once without waiting; null when another owner holds it. */
  tryLock(): LockResult | null {
    this.#checkNotHeld();
    const r = this.#attempt(false);
    return typeof r === 'number' ? null : r;
  }

  /** Waits for the lock, blocking the thread (worker threads only); ERR_TIMEOUT after `timeoutMs`. */
  lock(timeoutMs?: number): LockResult {
    assertMayBlock('NamedMutex.lock()');
    return driveBlocking(this.#region, this.#lockSteps(timeoutMs));
  }

  /** Waits for the lock without blocking the event loop; rejects ERR_TIMEOUT after `timeoutMs`. */
  async lockAsync(timeoutMs?: number): Promise<LockResult> {
    return driveAsync(this.#region, this.#lockSteps(timeoutMs));
  }

  *#lockSteps(timeoutMs: number | undefined): Generator<WaitStep, LockResult> {
    const deadline = performance.now() + checkTimeout(timeoutMs);
    let contended = false;
    for (;;) {
      // Checked on every round: another call on this handle may have taken the lock meanwhile.
      this.#checkNotHeld();
      const r = this.#attempt(contended);
      if (typeof r !== 'number') return r;
      contended = true;
      const left = deadline - performance.now();
      if (left <= 0) throw this.#timeout(timeoutMs);
      // A dead owner never wakes anyone: sleep in slices and re-check its liveness.
      yield { offset: OWNER, expected: r, timeoutMs: Math.min(left, LIVENESS_POLL_MS) };
    }
  }

  #timeout(timeoutMs: number | undefined): ShmError {
    const owner = this.#region.load(OWNER) & THREAD_ID_MASK;
    return new ShmError('ERR_TIMEOUT', `named mutex '${this.name}' still held by thread ${owner} after ${timeoutMs} ms`);
  }

  /** Releases the lock; ERR_INVALID_STATE when this handle does not hold it. */
  unlock(): void {
    if (!this.#held) throw new ShmError('ERR_INVALID_STATE', `named mutex '${this.name}' is not held by this handle`);
    this.#release();
  }

  #release(): void {
    this.#held = false;
    held.delete(this);
    let seen = this.#region.load(OWNER);
    for (;;) {
      const found = this.#region.compareExchange(OWNER, seen, 0);
      if (found === seen) break;
      seen = found;
    }
    if ((seen & WAITERS) !== 0) this.#region.notify(OWNER, 1);
  }

  /** Closes the handle; if it held the lock, releases it as abandoned. */
  close(): void {
    if (this.#region.closed) return;
    if (this.#held) {
      this.#region.store(ABANDONED, 1);
      this.#release();
    }
    this.#region.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
