// Worker thread of the echo peer for the synchronous path: receiveSync + writeSync in a loop until
// the stop flag is raised (receiveSync wakes every 100 ms to look at it).
import { parentPort, workerData } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import type { SyncSpin } from './protocol';

interface EchoData {
  name: string;
  capacity: number;
  /** 'default': no spin option anywhere, what a user who passes none gets. */
  spin: SyncSpin;
  stopFlag: Int32Array;
}

const { name, capacity, spin, stopFlag } = workerData as EchoData;
const comm = new Communicator(name, capacity, spin === 'default' ? { side: 'b' } : { side: 'b', spin });
const receiveOptions = spin === 'default' ? { timeout: 100 } : { timeout: 100, spin };
try {
  parentPort!.postMessage('ready');
  while (Atomics.load(stopFlag, 0) === 0) {
    const message = comm.receiveSync(receiveOptions);
    if (message !== null) comm.writeSync(message);
  }
} finally {
  comm.dispose();
}
