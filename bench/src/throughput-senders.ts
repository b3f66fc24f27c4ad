// The sending end of a one-way throughput run, one per transport: a receiver peer ("sink") on the
// other side, a way to send a batch of messages as fast as the transport accepts them, and the end
// marker (an empty message) after which the sink reports.
import { once } from 'node:events';
import { Communicator } from '@shmlink/core';
import { closeShmChannel, uniqueName } from './cleanup';
import { Peer } from './peer';
import { WORKER_READER, pollingArgs, type Polling } from './peers/protocol';
import type { ShmSendApi } from './options';
import { connectSocketPeer } from './socket-peer';
import { encodeFrame } from './socket-framing';
import { connectZmqPeer } from './zmq-peer';

export interface Sender {
  peer: Peer;
  /** Sends `count` messages; resolves when the transport can take more. */
  sendBatch(count: number): Promise<void>;
  sendEnd(): Promise<void>;
  close(): Promise<void>;
}

const EMPTY = Buffer.alloc(0);
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * shmlink, the counterpart of the socket below: with `api` 'send', one send() per message (no
 * Promise; false means wait for 'drain'), then a turn of the event loop; with 'write', one
 * write() per message, awaiting the batch's last. Messages of one tick are committed together
 * either way. With `views` the sink takes messages as views of the ring (receive: 'view').
 */
export async function shmSender(size: number, capacity: number, polling: Polling, views: boolean, api: ShmSendApi): Promise<Sender> {
  const name = uniqueName();
  const payload = Buffer.alloc(size, 0x5a);
  const comm = new Communicator(name, capacity, { side: 'a', ...polling });
  const peer = new Peer('sink', [views ? 'shm-view' : 'shm', String(size), name, String(capacity), ...pollingArgs(polling)]);
  return ready({
    peer,
    sendBatch: async (count) => {
      if (api === 'write') {
        let last: Promise<void> | undefined;
        for (let i = 0; i < count; i++) last = comm.write(payload);
        await last;
        return;
      }
      let ok = true;
      for (let i = 0; i < count; i++) ok = comm.send(payload);
      await (ok ? nextTick() : once(comm, 'drain'));
    },
    sendEnd: () => comm.write(EMPTY),
    close: () => closeShmChannel(peer, comm, name),
  });
}

/**
 * shmlink as the README's quick start uses it: no option but the side (or `reader: 'worker'` with
 * `worker`), copying receive, one write() Promise per message, and an `await` of every
 * `awaitEvery`-th write (the last of the batch) — what a user who awaits every write now and then gets.
 */
export async function shmDefaultSender(size: number, capacity: number, worker: boolean, awaitEvery: number): Promise<Sender> {
  const name = uniqueName();
  const payload = Buffer.alloc(size, 0x5a);
  const options = worker ? { side: 'a' as const, ...WORKER_READER } : { side: 'a' as const };
  const comm = new Communicator(name, capacity, options);
  const peer = new Peer('sink', [worker ? 'shm-worker' : 'shm-write', String(size), name, String(capacity)]);
  return ready({
    peer,
    sendBatch: async (count) => {
      for (let sent = 0; sent < count; ) {
        let last: Promise<void> | undefined;
        const n = Math.min(awaitEvery, count - sent);
        for (let i = 0; i < n; i++) last = comm.write(payload);
        sent += n;
        await last;
      }
    },
    sendEnd: () => comm.write(EMPTY),
    close: () => closeShmChannel(peer, comm, name),
  });
}

/**
 * ZeroMQ PAIR over ipc://: `await socket.send()` per message, the library's documented way (a
 * send resolves at once while the socket queues; only one send may wait at a time). libzmq's I/O
 * thread batches what queues up, as a corked socket does. Default options (high-water mark 1000).
 */
export async function zmqSender(size: number): Promise<Sender> {
  const payload = Buffer.alloc(size, 0x5a);
  const { peer, socket, close } = await connectZmqPeer('sink', ['zmq', String(size)]);
  return {
    peer,
    sendBatch: async (count) => {
      for (let i = 0; i < count; i++) await socket.send(payload);
    },
    sendEnd: () => socket.send(EMPTY),
    close,
  };
}

/**
 * Unix socket: each message is a pre-built frame (header and payload in one buffer, no copy per
 * message), one socket.write() each. Plain: Node sends each write at once while the kernel takes
 * it and gathers the rest into one writev while a write is pending. Corked: every batch is
 * corked, so it leaves in one writev — the strongest `net` sender, and the closest match to
 * shmlink committing the writes of one tick together.
 */
export async function socketSender(size: number, corked: boolean): Promise<Sender> {
  const frame = encodeFrame(Buffer.alloc(size, 0x5a));
  const { peer, socket, close } = await connectSocketPeer('sink', [corked ? 'socket-corked' : 'socket', String(size)]);
  socket.on('error', () => {}); // a broken connection surfaces as the sink's failure
  const sender: Sender = {
    peer,
    sendBatch: async (count) => {
      if (corked) socket.cork();
      let ok = true;
      for (let i = 0; i < count; i++) ok = socket.write(frame);
      if (corked) socket.uncork();
      await (ok ? nextTick() : once(socket, 'drain'));
    },
    sendEnd: async () => {
      socket.write(encodeFrame(EMPTY));
    },
    close,
  };
  return ready(sender);
}

/** child_process IPC ('advanced' serialization): await the send callback of the batch's last message. */
export async function ipcSender(size: number): Promise<Sender> {
  const payload = Buffer.alloc(size, 0x5a);
  const peer = new Peer('sink', ['ipc', String(size)]);
  const sendAwaited = (data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      peer.send(data, (err) => (err ? reject(err) : resolve()));
    });
  return ready({
    peer,
    sendBatch: async (count) => {
      for (let i = 1; i < count; i++) peer.send(payload);
      await sendAwaited(payload);
    },
    sendEnd: () => sendAwaited(EMPTY),
    close: () => peer.stop(),
  });
}

async function ready(sender: Sender): Promise<Sender> {
  try {
    await sender.peer.waitFor('ready');
    return sender;
  } catch (err) {
    await sender.close();
    throw err;
  }
}
