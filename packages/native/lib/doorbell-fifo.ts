import fs from 'node:fs';
import net from 'node:net';
import type { BellSource, Ringer } from './doorbell';
import { makeFifo, openFifo } from './fifo';

// The Linux doorbell: a FIFO that the ringer writes one byte to. The byte wakes the event loop
// directly through epoll — one hop, like a socket — where a futex needs a waiter thread and a
// second hop (docs/decisions.md §2). The listener reads rings as the event loop delivers them; a
// ring nobody waits for is read and dropped.

/** Where doorbell `key` of channel `channel` lives. */
export function fifoPath(channel: string, key: number): string {
  return `/dev/shm/${channel}@${key}.bell`;
}

/** The listening end: the FIFO, read through a socket that holds the event loop only while a wait is pending. */
export class FifoSource implements BellSource {
  readonly path: string;
  readonly #socket: net.Socket;

  /** Creates (or takes over) the FIFO at `path`; `onRing` runs on the event loop at each ring. */
  constructor(path: string, onRing: () => void) {
    this.path = path;
    makeFifo(path, 0o600);
    // Opened read-write so that the FIFO never reports end-of-file when a ringer goes away, and
    // natively: the socket closes this fd, and one opened through fs would be closed again at a
    // Worker's exit (fifo.ts, openFifo).
    const fd = openFifo(path);
    this.#socket = new net.Socket({ fd, readable: true, writable: false });
    this.#socket.on('data', onRing);
    this.#socket.on('error', onRing);
    this.#socket.unref();
  }

  listen(): void {
    this.#socket.ref();
  }

  idle(): void {
    this.#socket.unref();
  }

  close(): void {
    this.#socket.destroy();
    removeFifo(this.path);
  }
}

/** Removes a doorbell FIFO; false when it was already gone (the channel's last side removed it). */
export function removeFifo(path: string): boolean {
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

const ONE = Buffer.alloc(1);

/** The ringing end: opened lazily; a missing listener just means nobody sleeps there. */
export class FifoRinger implements Ringer {
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
