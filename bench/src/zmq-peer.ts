// A peer process connected to this one over a ZeroMQ PAIR socket on ipc:// (the counterpart of
// socket-peer.ts): this side binds, the peer connects; the hello (ZMQ_HELLO) crosses before the
// measurement, so that no timed message waits for the connection.
import type * as Zmq from 'zeromq';
import { releaseSocketPath, uniqueSocketFile } from './cleanup';
import { Peer } from './peer';
import { guarded } from './watchdog';
import { ZMQ_HELLO, zmqModule } from './zmq';

export interface ZmqPeer {
  peer: Peer;
  socket: Zmq.Pair;
  close(): Promise<void>;
}

/** Binds a fresh ipc:// address, starts `role` with `args` plus that address, and waits until it is connected. */
export async function connectZmqPeer(role: string, args: readonly string[]): Promise<ZmqPeer> {
  const zmq = zmqModule();
  const file = uniqueSocketFile();
  const address = `ipc://${file}`;
  // linger 0: a closed socket drops what it still holds instead of keeping the process alive.
  const socket = new zmq.Pair({ linger: 0 });
  let peer: Peer | undefined;
  const close = async (): Promise<void> => {
    try {
      socket.close();
      await peer?.stop();
    } finally {
      releaseSocketPath(file);
    }
  };
  try {
    await socket.bind(address);
    peer = new Peer(role, [...args, address]);
    // PAIR blocks a send until the peer is connected; the peer reports 'ready' when the hello arrived.
    await guarded(socket.send(ZMQ_HELLO), peer.failure(), 30_000);
    await peer.waitFor('ready');
  } catch (err) {
    await close();
    throw err;
  }
  return { peer, socket, close };
}
