// Idle reader CPU: a peer with a started reader that receives nothing, next to a peer with an idle
// Unix-socket reader (Node's own idle cost), both measured over the same window.
import { once } from 'node:events';
import net from 'node:net';
import { Communicator } from '@shmlink/core';
import { releaseName, releaseSocketPath, uniqueName, uniqueSocketPath } from './cleanup';
import type { Features } from './features';
import type { Options } from './options';
import { Peer } from './peer';
import { WORKER_READER, type Control } from './peers/protocol';
import type { IdleResult, IdleSide } from './types';
import { guarded } from './watchdog';

const CAPACITY = 1024 * 1024;
const SETTLE_MS = 1000;

/** The idle peers run side by side over the same window (they sleep: no one competes for a core). */
export async function runIdle(o: Options, features: Features): Promise<IdleResult> {
  const s = o.idleSeconds;
  const [shm, sync, worker, socket] = await Promise.all([
    idleShm(s, 'shm'), idleShm(s, 'sync'), features.workerReader.available ? idleShm(s, 'shm-worker') : null, idleSocket(s),
  ]);
  return { seconds: s, shm, sync, worker, socket };
}

/** An idle peer of `kind` on a fresh channel; this side attached too (with a reader, except for sync). */
async function idleShm(seconds: number, kind: 'shm' | 'shm-worker' | 'sync'): Promise<IdleSide> {
  const name = uniqueName();
  const comm = new Communicator(name, CAPACITY, kind === 'shm-worker' ? { side: 'a', ...WORKER_READER } : { side: 'a' });
  const peer = new Peer('idle', [kind, name, String(CAPACITY), String(seconds), String(SETTLE_MS)]);
  try {
    comm.on('error', () => {}); // the peer's report is what counts
    if (kind !== 'sync') comm.startReader(); // as in a real conversation
    return await collect(peer, seconds);
  } finally {
    try {
      await peer.stop();
      comm.dispose();
    } finally {
      releaseName(name);
    }
  }
}

async function idleSocket(seconds: number): Promise<IdleSide> {
  const file = uniqueSocketPath();
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(file);
  try {
    await once(server, 'listening');
    const peer = new Peer('idle', ['socket', file, String(seconds), String(SETTLE_MS)]);
    try {
      return await collect(peer, seconds);
    } finally {
      await peer.stop();
    }
  } finally {
    server.close();
    releaseSocketPath(file);
  }
}

async function collect(peer: Peer, seconds: number): Promise<IdleSide> {
  const done = await guarded(peer.waitFor<Control>('done', seconds * 1000 + 60_000), peer.failure(), seconds * 1000 + 60_000);
  const user = done.userMicros as number;
  const system = done.systemMicros as number;
  const elapsed = done.elapsedMicros as number;
  return { cpuPercent: ((user + system) / elapsed) * 100, userMicros: user, systemMicros: system, elapsedSeconds: elapsed / 1e6 };
}
