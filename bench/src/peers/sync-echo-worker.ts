// Worker thread of the echo peer for the synchronous path: receiveSync + writeSync in a loop until
// the stop flag is raised (receiveSync wakes every 100 ms to look at it).
import { parentPort, workerData } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';

interface EchoData {
  name: string;
  capacity: number;
  spin: number;
  stopFlag: Int32Array;
}

const { name, capacity, spin, stopFlag } = workerData as EchoData;
const comm = new Communicator(name, capacity, { side: 'b', spin });
try {
  parentPort!.postMessage('ready');
  while (Atomics.load(stopFlag, 0) === 0) {
    const message = comm.receiveSync({ timeout: 100, spin });
    if (message !== null) comm.writeSync(message);
  }
} finally {
  comm.dispose();
}
