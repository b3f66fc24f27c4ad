// Control messages between the parent and its peers (over the fork IPC channel). Payloads of the
// child_process IPC benchmark travel on the same channel as Uint8Arrays; control messages are
// plain objects with a `type`.

export interface Control {
  type: string;
  [key: string]: unknown;
}

export function isControl(msg: unknown): msg is Control {
  return typeof msg === 'object' && msg !== null && !ArrayBuffer.isView(msg) && typeof (msg as Control).type === 'string';
}

/**
 * The transports a benchmark compares. 'shm' is the event API (send() in throughput); 'shm-view'
 * the same with `receive: 'view'` (messages lent as views of the ring, no copy); 'shm-write' what
 * the README's quick start gets (default options, write() Promises, copying receive); 'shm-worker'
 * the same with `reader: 'worker'`; 'sync' is receiveSync/writeSync in workers with `spin`,
 * 'sync-default' without options; 'socket-corked' is the Unix socket with each throughput batch
 * corked into one writev; 'zmq' a ZeroMQ PAIR socket over ipc://; 'memcpy' no transport at all but
 * Buffer.copy of the message size on one core, the ceiling of a copying receive.
 */
export type Transport =
  | 'shm' | 'shm-view' | 'shm-write' | 'shm-worker' | 'sync' | 'sync-default'
  | 'socket' | 'socket-corked' | 'zmq' | 'ipc' | 'memcpy';

/**
 * The option that moves the event reader into a worker thread (issue 15). Typed as a bare object
 * and spread into the options, because @shmlink/core may predate it: its option check then rejects
 * the unknown key (ERR_INVALID_ARGUMENT) and the bench reports the worker rows as N/A.
 */
export const WORKER_READER: object = { reader: 'worker' };

/** The receiveSync spin of the synchronous round trip, or 'default' for no spin option at all. */
export type SyncSpin = number | 'default';

/** The event reader's poll windows (µs), as both processes of a shmlink benchmark use them. */
export interface Polling {
  poll: number;
  pollBusy: number;
}

/** Polling as command-line arguments of a peer, and back. */
export function pollingArgs(p: Polling): string[] {
  return [String(p.poll), String(p.pollBusy)];
}

export function parsePolling(poll: string, pollBusy: string): Polling {
  return { poll: Number(poll), pollBusy: Number(pollBusy) };
}
