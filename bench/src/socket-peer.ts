// A peer process connected to this one over a Unix domain socket: the listening server, the
// peer, the accepted connection, and a close that releases all three. Shared by the round-trip
// and the throughput benchmarks.
import { once } from 'node:events';
import net from 'node:net';
import { releaseSocketPath, uniqueSocketPath } from './cleanup';
import { Peer } from './peer';
import { guarded } from './watchdog';

export interface SocketPeer {
  peer: Peer;
  socket: net.Socket;
  close(): Promise<void>;
}

/** Listens on a fresh socket path, starts `role` with `args` plus that path, and accepts its connection. */
export async function connectSocketPeer(role: string, args: readonly string[]): Promise<SocketPeer> {
  const file = uniqueSocketPath();
  const server = net.createServer();
  server.listen(file);
  await once(server, 'listening');
  const peer = new Peer(role, [...args, file]);
  let socket: net.Socket | undefined;
  const close = async (): Promise<void> => {
    try {
      socket?.destroy();
      await peer.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } finally {
      releaseSocketPath(file);
    }
  };
  try {
    [socket] = (await guarded(once(server, 'connection'), peer.failure(), 30_000)) as [net.Socket];
  } catch (err) {
    await close();
    throw err;
  }
  return { peer, socket, close };
}
