import { EventRinger, EventSource, eventName } from './doorbell-event';
import { FifoRinger, FifoSource, fifoPath, removeFifo } from './doorbell-fifo';
import { ShmError } from './errors';
import { assertValidName } from './names';
import { Region } from './region';
import { assertInteger } from './validate';

// A doorbell wakes a sleeping event loop in another process: the sleeper listens, the other side
// rings (docs/protocol.md §4). Linux: a FIFO (doorbell-fifo.ts); Windows: a named auto-reset event
// (doorbell-event.ts). A ring wakes the waits registered when the event loop delivers it, so a
// sleeper registers its wait in the same synchronous turn as its last check of the condition: no
// ring can be delivered in between, so none is lost. Doorbells are the only OS object of a channel
// besides its region, which is why they live here and not in @shmlink/core (decisions §22).

/** What a platform provides to listen: it calls back on the event loop at each ring. */
export interface BellSource {
  readonly path: string;
  /** A wait is pending: hold the event loop and deliver rings. */
  listen(): void;
  /** No wait is pending: let the event loop go. */
  idle(): void;
  close(): void;
}

/** What a platform provides to ring. */
export interface Ringer {
  readonly path: string;
  ring(): void;
  close(): void;
}

/** Checks the arguments; key = the base offset of the half whose reader listens (docs/protocol.md §4). */
function checkBell(channel: string, key: number): void {
  assertValidName(channel);
  assertInteger(key, 'key', 0, 2 ** 32 - 1);
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    throw new ShmError('ERR_UNSUPPORTED_PLATFORM', `doorbells are not implemented on ${process.platform}`);
  }
}

/** The listening end: one per side, shared by its reader and its writer. */
export class Doorbell {
  /** The FIFO's path on Linux, the event's object name on Windows. */
  readonly path: string;
  readonly #source: BellSource;
  #waiters: (() => void)[] = [];
  #closed = false;

  /** Creates (or takes over) doorbell `key` of channel `channel` and listens on it. */
  constructor(channel: string, key: number) {
    checkBell(channel, key);
    const onRing = (): void => this.#wakeAll();
    this.#source = process.platform === 'win32' ? new EventSource(eventName(channel, key), onRing) : new FifoSource(fifoPath(channel, key), onRing);
    this.path = this.#source.path;
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    if (!this.#closed) this.#source.idle();
    // Over a copy: each waiter removes itself from `waiters` as it wakes, which would make a loop
    // over the array itself skip the next one (a reader and a writer waiting together lost a wake).
    for (const wake of [...waiters]) wake();
  }

  /** Resolves at the next ring, after `timeoutMs`, or when closed. Keeps the process alive meanwhile. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
      const waiters = this.#waiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      this.#waiters.push(done);
      this.#source.listen();
    });
  }

  /** Ends the current waits early (the waiters re-check their state). */
  interrupt(): void {
    this.#wakeAll();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.close();
    this.#wakeAll();
  }
}

/** The ringing end: opened lazily; a missing listener just means nobody sleeps there. */
export class DoorbellRinger {
  readonly path: string;
  readonly #ringer: Ringer;

  /** The ringer of doorbell `key` of channel `channel` (nothing is opened until the first ring). */
  constructor(channel: string, key: number) {
    checkBell(channel, key);
    this.#ringer = process.platform === 'win32' ? new EventRinger(eventName(channel, key)) : new FifoRinger(fifoPath(channel, key));
    this.path = this.#ringer.path;
  }

  ring(): void {
    this.#ringer.ring();
  }

  close(): void {
    this.#ringer.close();
  }
}

/**
 * Removes the doorbells of channel `channel` that their owners left (a side killed before it could
 * close its own); whether there were any. Windows events go with their last handle: nothing to remove.
 */
export function removeDoorbells(channel: string): boolean {
  assertValidName(channel);
  if (process.platform !== 'linux') return false;
  let removed = false;
  for (const entry of Region.list(`${channel}@`)) {
    if (entry.endsWith('.bell') && removeFifo(`/dev/shm/${entry}`)) removed = true;
  }
  return removed;
}
