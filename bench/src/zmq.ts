// ZeroMQ (the registry's `zeromq`, v6) as a peer: loaded on demand, so that a machine where its
// prebuilt addon does not load still runs every other benchmark; its rows then say N/A and why.
import type * as Zmq from 'zeromq';

export type ZmqModule = typeof Zmq;

export type Availability = { available: true; detail: string } | { available: false; detail: string };

let cached: { module: ZmqModule | null; availability: Availability } | undefined;

/** Loads `id` (the zeromq package unless a test names another) once; never throws. */
export function loadZmq(id = 'zeromq'): { module: ZmqModule | null; availability: Availability } {
  if (id === 'zeromq' && cached !== undefined) return cached;
  let result: { module: ZmqModule | null; availability: Availability };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional at run time
    const module = require(id) as ZmqModule;
    result = { module, availability: { available: true, detail: `zeromq with libzmq ${module.version}` } };
  } catch (err) {
    result = { module: null, availability: { available: false, detail: `zeromq did not load: ${(err as Error).message.split('\n')[0]}` } };
  }
  if (id === 'zeromq') cached = result;
  return result;
}

/** The loaded module; only for code that runs after the availability was checked. */
export function zmqModule(): ZmqModule {
  const { module, availability } = loadZmq();
  if (module === null) throw new Error(availability.detail);
  return module;
}

/** The first message on a fresh PAIR connection: it tells the connecting peer that the link is up. */
export const ZMQ_HELLO = Buffer.from('hello');

/**
 * The connecting end in a peer: a PAIR socket to `address` that hands every message after the
 * hello to `onMessage` and calls `onReady` when the hello arrived (the connection is up).
 */
export function connectZmqPair(address: string, onMessage: (msg: Buffer) => void, onReady: () => void, onError: (err: unknown) => void): Zmq.Pair {
  const zmq = zmqModule();
  const socket = new zmq.Pair({ linger: 0 });
  socket.connect(address);
  void (async () => {
    let hello = true;
    try {
      for await (const [msg] of socket) {
        if (hello) {
          hello = false;
          onReady();
        } else {
          onMessage(msg!);
        }
      }
    } catch (err) {
      if (!socket.closed) onError(err);
    }
  })();
  return socket;
}
