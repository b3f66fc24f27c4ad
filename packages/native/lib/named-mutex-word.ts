import { binding } from './binding';
import { ShmError } from './errors';
import { initializeHeader } from './header';
import { Region, openPrefixed, unlinkPrefixed } from './region';
import { MUTEX_PREFIX, alreadyHeld, notHeld, type LockResult, type MutexBackend, type MutexImpl } from './sync-backend';
import { driveAsync, driveBlocking, type WaitStep } from './wait-steps';

// NamedMutex as a word in a small shared-memory object (every platform but Windows). The object's
// layout and the lock / unlock / abandon protocol, which a C program shares
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

const held = new Set<WordMutex>();
let exitHookInstalled = false;

function releaseHeldOnExit(): void {
  for (const mutex of held) mutex.close();
}

/**
 * The owner is the handle, recorded as its thread id in the word; a handle that is closed, or whose
 * thread exits, while holding the lock releases it as abandoned.
 */
class WordMutex implements MutexImpl {
  readonly name: string;
  #region: Region;
  #held = false;
  #owner = binding.currentThreadId();

  constructor(name: string, region: Region) {
    this.name = name;
    this.#region = region;
  }

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
    if (this.#held) throw alreadyHeld(this.name);
  }

  tryLock(): LockResult | null {
    this.#checkNotHeld();
    const r = this.#attempt(false);
    return typeof r === 'number' ? null : r;
  }

  lock(timeoutMs: number): LockResult {
    return driveBlocking(this.#region, this.#lockSteps(timeoutMs));
  }

  async lockAsync(timeoutMs: number): Promise<LockResult> {
    return driveAsync(this.#region, this.#lockSteps(timeoutMs));
  }

  *#lockSteps(timeoutMs: number): Generator<WaitStep, LockResult> {
    const deadline = performance.now() + timeoutMs;
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

  #timeout(timeoutMs: number): ShmError {
    const owner = this.#region.load(OWNER) & THREAD_ID_MASK;
    return new ShmError('ERR_TIMEOUT', `named mutex '${this.name}' still held by thread ${owner} after ${timeoutMs} ms`);
  }

  unlock(): void {
    if (!this.#held) throw notHeld(this.name);
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

  close(): void {
    if (this.#region.closed) return;
    if (this.#held) {
      this.#region.store(ABANDONED, 1);
      this.#release();
    }
    this.#region.close();
  }
}

export const wordMutexes: MutexBackend = {
  open(name, disposition) {
    const region = openPrefixed(MUTEX_PREFIX, name, disposition, SIZE);
    try {
      initializeHeader(region, { what: 'named mutex', magic: MAGIC, version: VERSION, magicOffset: 0, versionOffset: 4 }, () => {});
    } catch (err) {
      region.close();
      throw err;
    }
    return new WordMutex(name, region);
  },
  unlink(name) {
    return unlinkPrefixed(MUTEX_PREFIX, name);
  },
};
