import { ShmError } from './errors';

// What a backend of NamedEvent / NamedMutex provides. One backend per platform family, chosen in
// named-event.ts / named-mutex.ts: the shared-word objects of docs/protocol.md (named-*-word.ts,
// Linux and the C peer) or Windows kernel objects (named-*-kernel.ts). Why two: decisions §32.
// The facades check arguments and the calling thread; a backend receives checked timeouts.

export const EVENT_PREFIX = 'shmlink.ev.';
export const MUTEX_PREFIX = 'shmlink.mx.';

export interface LockResult {
  /** True when the previous owner died (or closed) while holding the mutex: the data it guarded may be inconsistent. */
  abandoned: boolean;
}

export interface NamedEventOptions {
  /** Manual-reset events stay set until reset() and release every waiter; auto-reset (default) release one. */
  manualReset?: boolean;
  /** Start in the set state (only when this call creates the event). */
  initialState?: boolean;
}

export interface EventImpl {
  readonly manualReset: boolean;
  readonly isSet: boolean;
  readonly closed: boolean;
  set(): void;
  reset(): void;
  /** Blocks the calling thread; true when signalled, false on timeout. */
  wait(timeoutMs: number): boolean;
  waitAsync(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export interface EventBackend {
  createOrOpen(name: string, options: NamedEventOptions): EventImpl;
  open(name: string): EventImpl;
  unlink(name: string): boolean;
}

export interface MutexImpl {
  readonly isLocked: boolean;
  readonly closed: boolean;
  tryLock(): LockResult | null;
  /** Blocks the calling thread; ERR_TIMEOUT after `timeoutMs`. */
  lock(timeoutMs: number): LockResult;
  lockAsync(timeoutMs: number): Promise<LockResult>;
  unlock(): void;
  /** Releases a held lock as abandoned. */
  close(): void;
}

export interface MutexBackend {
  open(name: string, disposition: 'open' | 'createOrOpen'): MutexImpl;
  unlink(name: string): boolean;
}

export function alreadyHeld(name: string): ShmError {
  return new ShmError('ERR_INVALID_STATE', `named mutex '${name}' is already held by this handle (not recursive)`);
}

export function notHeld(name: string): ShmError {
  return new ShmError('ERR_INVALID_STATE', `named mutex '${name}' is not held by this handle`);
}
