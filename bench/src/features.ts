// What this run can measure beyond the core set, detected once: the ZeroMQ peer (an optional
// addon) and the `reader: 'worker'` option (added to @shmlink/core by issue 15). Whatever is
// missing is reported N/A with the reason; the rest of the bench runs as usual.
import { Communicator, isShmError } from '@shmlink/core';
import { releaseName, releaseSocketPath, uniqueName, uniqueSocketFile } from './cleanup';
import type { Options } from './options';
import { WORKER_READER } from './peers/protocol';
import { loadZmq, zmqModule, type Availability } from './zmq';

export type { Availability };

export interface Features {
  zmq: Availability;
  workerReader: Availability;
}

export function detectFeatures(o: Options): Features {
  return {
    zmq: o.zmq ? loadZmq().availability : { available: false, detail: 'zeromq skipped (--no-zmq)' },
    workerReader: detectWorkerReader(),
  };
}

/**
 * Whether ZeroMQ, loaded, can bind ipc:// here: on Windows libzmq needs AF_UNIX for it, which
 * wine does not provide ("address family not supported"). Not: N/A with the reason.
 */
export async function probeZmqIpc(loaded: Availability): Promise<Availability> {
  if (!loaded.available) return loaded;
  const file = uniqueSocketFile();
  const socket = new (zmqModule().Pair)({ linger: 0 });
  try {
    await socket.bind(`ipc://${file}`);
    return loaded;
  } catch (err) {
    return { available: false, detail: `zeromq loaded but cannot bind ipc:// here: ${(err as Error).message}` };
  } finally {
    socket.close();
    releaseSocketPath(file);
  }
}

/**
 * Opens a small communicator with `reader: 'worker'`. A core without the option rejects the unknown
 * key with a coded error before it creates anything; that (or any coded error) means N/A.
 */
export function detectWorkerReader(extra: object = WORKER_READER): Availability {
  const name = uniqueName();
  try {
    const comm = new Communicator(name, 64 * 1024, { side: 'a', ...extra });
    comm.dispose();
    return { available: true, detail: "@shmlink/core accepts reader: 'worker'" };
  } catch (err) {
    if (!isShmError(err)) throw err;
    return { available: false, detail: `@shmlink/core rejects reader: 'worker' (${err.code}: ${err.message})` };
  } finally {
    releaseName(name);
  }
}

/** Every feature present: what the unit tests of target logic start from. */
export const ALL_FEATURES: Features = {
  zmq: { available: true, detail: 'assumed' },
  workerReader: { available: true, detail: 'assumed' },
};
