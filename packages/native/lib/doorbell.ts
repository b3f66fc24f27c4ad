import fs from 'node:fs';
import net from 'node:net';
import { ShmError } from './errors';
import { makeFifo } from './fifo';
import { assertValidName } from './names';
import { Region } from './region';
import { assertInteger } from './validate';

// A doorbell wakes a sleeping event loop in another process: the sleeper listens, the other side
// rings. On Linux it is a FIFO that the ringer writes one byte to: the byte wakes the event loop
// directly through epoll — one hop, like a socket — where a futex needs a waiter thread and a
// second hop (docs/decisions.md §2). The listener reads rings as the event loop delivers them and
// wakes the waits registered by then; a ring nobody waits for is dropped. A sleeper therefore
// registers its wait in the same synchronous turn as its last check of the condition: no ring can
// be read in between, so none is lost, and a stale ring never wakes a later sleep for nothing.
// Doorbells are the only OS object of the channel besides its region, which is why they live here
// and not in @shmlink/core: core is the same TypeScript on every platform.

/**
 * Where doorbell `key` of channel `channel` lives. Key = the base offset of the half whose reader
 * listens on it (docs/protocol.md §4), so both sides name each other's bell without agreement.
 */
function doorbellPath(channel: string, key: number): string {
  assertValidName(channel);
  assertInteger(key, 'key', 0, 2 ** 32 - 1);
  if (process.platform !== 'linux') {
    throw new ShmError('ERR_UNSUPPORTED_PLATFORM', `doorbells are not implemented on ${process.platform}`);
  }
  return `/dev/shm/${channel}@${key}.bell`;
}

/** The listening end: one per side, shared by its reader and its writer. */
export class Doorbell {
  readonly path: string;
  readonly #socket: net.Socket;
  #waiters: (() => void)[] = [];
  #closed = false;

  /** Creates (or takes over) doorbell `key` of channel `channel` and listens on it. */
  constructor(channel: string, key: number) {
    const path = doorbellPath(channel, key);
    this.path = path;
    makeFifo(path, 0o600);
    // Opened read-write so that the FIFO never reports end-of-file when a ringer goes away.
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    this.#socket = new net.Socket({ fd, readable: true, writable: false });
    this.#socket.on('data', () => this.#wakeAll());
    this.#socket.on('error', () => this.#wakeAll());
    this.#socket.unref();
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    if (!this.#closed) this.#socket.unref();
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
      this.#socket.ref();
    });
  }

  /** Ends the current waits early (the waiters re-check their state). */
  interrupt(): void {
    this.#wakeAll();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#wakeAll();
    removeDoorbell(this.path);
  }
}

/** Removes a doorbell FIFO; false when it was already gone (the channel's last side removed it). */
function removeDoorbell(path: string): boolean {
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

const ONE = Buffer.alloc(1);

/** The ringing end: opened lazily; a missing listener just means nobody sleeps there. */
export class DoorbellRinger {
  readonly path: string;
  #fd = -1;

  /** The ringer of doorbell `key` of channel `channel` (nothing is opened until the first ring). */
  constructor(channel: string, key: number) {
    this.path = doorbellPath(channel, key);
  }

  ring(): void {
    if (this.#fd < 0) {
      let fd: number;
      try {
        fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch {
        return; // no FIFO or no reader: the sleeper is gone, and will re-check when it returns
      }
      // Something else at a doorbell's path (docs/protocol.md §4) is never written into.
      if (!fs.fstatSync(fd).isFIFO()) {
        fs.closeSync(fd);
        return;
      }
      this.#fd = fd;
    }
    try {
      fs.writeSync(this.#fd, ONE);
    } catch (err) {
      // EAGAIN: the pipe is full of unread rings, which will wake the sleeper anyway.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.close();
    }
  }

  close(): void {
    if (this.#fd >= 0) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // closing a broken pipe end can fail; nothing is left to release
      }
      this.#fd = -1;
    }
  }
}

/** Removes the doorbell FIFOs of channel `name`; whether there were any. */
export function removeDoorbells(channel: string): boolean {
  assertValidName(channel);
  if (process.platform !== 'linux') return false;
  let removed = false;
  for (const entry of Region.list(`${channel}@`)) {
    if (entry.endsWith('.bell') && removeDoorbell(`/dev/shm/${entry}`)) removed = true;
  }
  return removed;
}
