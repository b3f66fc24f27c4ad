import fs from 'node:fs';
import net from 'node:net';
import { Region } from '@shmlink/native';
import { makeFifo } from '@shmlink/native/internal';

// Each side's event loop sleeps on a doorbell: a FIFO that the other side writes one byte to when
// this side announced (flag value 2) that it sleeps. The byte wakes the event loop directly
// through epoll — one hop, like a socket — where a futex needs a waiter thread and a second hop.

/** Where the doorbell of the side that reads the half at `readBase` lives. */
export function doorbellPath(name: string, readBase: number): string {
  return `/dev/shm/${name}@${readBase}.bell`;
}

/** The listening end: one per side, shared by its reader and its writer. */
export class Doorbell {
  readonly path: string;
  readonly #socket: net.Socket;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(path: string) {
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
export function removeDoorbell(path: string): boolean {
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

  constructor(path: string) {
    this.path = path;
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
export function removeDoorbells(name: string): boolean {
  let removed = false;
  for (const entry of Region.list(`${name}@`)) {
    if (entry.endsWith('.bell') && removeDoorbell(`/dev/shm/${entry}`)) removed = true;
  }
  return removed;
}
