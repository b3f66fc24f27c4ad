// The parent's end of a ping-pong for the event-driven transports: an echo peer on the other side,
// a way to send the ping, and a hook called with the length of each echo.
import { Communicator } from '@shmlink/core';
import { closeShmChannel, uniqueName } from './cleanup';
import { Peer } from './peer';
import { WORKER_READER, pollingArgs, type Polling } from './peers/protocol';
import { connectSocketPeer } from './socket-peer';
import { FrameParser, encodeFrame } from './socket-framing';
import { connectZmqPeer } from './zmq-peer';

export interface PingChannel {
  peer: Peer;
  send(): void;
  /** Set by the ping-pong loop: called with the length of each echo. */
  onReply: (length: number) => void;
  /** Set by the ping-pong loop: called when the transport fails. */
  onError: (err: Error) => void;
  close(): Promise<void>;
}

export const RTT_CAPACITY = 1024 * 1024;

/** The event API with these poll windows, or with `reader: 'worker'` and no other option. */
export async function openShmChannel(size: number, reader: Polling | 'worker'): Promise<PingChannel> {
  const name = uniqueName();
  const payload = Buffer.alloc(size, 0x5a);
  const worker = reader === 'worker';
  const comm = new Communicator(name, RTT_CAPACITY, worker ? { side: 'a', ...WORKER_READER } : { side: 'a', ...reader });
  const peer = new Peer('echo', worker ? ['shm-worker', name, String(RTT_CAPACITY)] : ['shm', name, String(RTT_CAPACITY), ...pollingArgs(reader)]);
  const channel: PingChannel = {
    peer,
    send: () => {
      comm.write(payload).catch((err: Error) => channel.onError(err));
    },
    onReply: () => {},
    onError: () => {},
    close: () => closeShmChannel(peer, comm, name),
  };
  try {
    comm.on('data', (data) => channel.onReply(data.length));
    comm.on('error', (err) => channel.onError(err));
    comm.startReader();
    await peer.waitFor('ready');
    return channel;
  } catch (err) {
    await channel.close();
    throw err;
  }
}

export async function openSocketChannel(size: number): Promise<PingChannel> {
  const frame = encodeFrame(Buffer.alloc(size, 0x5a));
  const { peer, socket, close } = await connectSocketPeer('echo', ['socket']);
  const channel: PingChannel = {
    peer,
    send: () => socket.write(frame),
    onReply: () => {},
    onError: () => {},
    close,
  };
  try {
    const parser = new FrameParser((f) => channel.onReply(f.length));
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', (err) => channel.onError(err));
    await peer.waitFor('ready');
    return channel;
  } catch (err) {
    await close();
    throw err;
  }
}

/** ZeroMQ PAIR over ipc://: send() per ping (its Promise resolves once queued), an async receive loop. */
export async function openZmqChannel(size: number): Promise<PingChannel> {
  const payload = Buffer.alloc(size, 0x5a);
  const { peer, socket, close } = await connectZmqPeer('echo', ['zmq']);
  const channel: PingChannel = {
    peer,
    send: () => {
      socket.send(payload).catch((err: Error) => channel.onError(err));
    },
    onReply: () => {},
    onError: () => {},
    close,
  };
  void (async () => {
    try {
      for await (const [msg] of socket) channel.onReply(msg!.length);
    } catch (err) {
      if (!socket.closed) channel.onError(err as Error);
    }
  })();
  return channel;
}

export async function openIpcChannel(size: number): Promise<PingChannel> {
  const payload = Buffer.alloc(size, 0x5a);
  const peer = new Peer('echo', ['ipc']);
  const channel: PingChannel = {
    peer,
    send: () => peer.send(payload),
    onReply: () => {},
    onError: () => {},
    close: () => peer.stop(),
  };
  peer.onData = (data) => channel.onReply(data.byteLength);
  try {
    await peer.waitFor('ready');
    return channel;
  } catch (err) {
    await channel.close();
    throw err;
  }
}
