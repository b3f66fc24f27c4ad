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
 * The transports a benchmark compares. 'sync' is shmlink with receiveSync/writeSync in workers;
 * 'shm-view' is the event API with `receive: 'view'` (messages lent as views of the ring, no
 * copy); 'socket-corked' is the Unix socket with each throughput batch corked into one writev.
 */
export type Transport = 'shm' | 'shm-view' | 'sync' | 'socket' | 'socket-corked' | 'ipc';

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
