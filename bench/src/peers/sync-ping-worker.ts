// Worker thread of the parent for the synchronous round trip: writeSync a message, receiveSync the
// echo, time it; posts the timed samples (µs) back as a Float64Array. Raising `stopFlag` ends it
// within 100 ms (terminating a worker inside a native wait is not safe; see the bench README).
import { parentPort, workerData } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import type { SyncSpin } from './protocol';

export interface PingData {
  name: string;
  capacity: number;
  /** 'default': no spin option anywhere. */
  spin: SyncSpin;
  size: number;
  warmup: number;
  iterations: number;
  stopFlag: Int32Array;
}

const { name, capacity, spin, size, warmup, iterations, stopFlag } = workerData as PingData;
const ECHO_TIMEOUT_MS = 10_000;

function receive(comm: Communicator, ping: number): Buffer | null {
  const deadline = performance.now() + ECHO_TIMEOUT_MS;
  for (;;) {
    const reply = comm.receiveSync(receiveOptions);
    if (reply !== null || Atomics.load(stopFlag, 0) !== 0) return reply;
    if (performance.now() > deadline) throw new Error(`no echo within ${ECHO_TIMEOUT_MS} ms (ping ${ping})`);
  }
}

const receiveOptions = spin === 'default' ? { timeout: 100 } : { timeout: 100, spin };
const comm = new Communicator(name, capacity, spin === 'default' ? { side: 'a' } : { side: 'a', spin });
try {
  const payload = Buffer.alloc(size, 0x5a);
  const samples = new Float64Array(iterations);
  let i = -warmup;
  for (; i < iterations; i++) {
    const start = performance.now();
    comm.writeSync(payload);
    const reply = receive(comm, i + warmup);
    const end = performance.now();
    if (reply === null) break; // stopped
    if (reply.length !== size) throw new Error(`echo of ${reply.length} bytes, expected ${size}`);
    if (i >= 0) samples[i] = (end - start) * 1000;
  }
  if (i === iterations) parentPort!.postMessage(samples, [samples.buffer]);
} finally {
  comm.dispose();
}
