// Idle receiver: attaches a reader that gets no messages and reports the CPU its whole process
// used over a window (after a settling pause).
//   idle.js shm|shm-worker <name> <capacity> <seconds> <settleMs>   event reader (default options / reader: 'worker')
//   idle.js sync <name> <capacity> <seconds> <settleMs>             a worker in receiveSync, default options
//   idle.js socket <path> <seconds> <settleMs>
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import { arg, fail, isStopping, onStop, ownName, send } from './common';
import { WORKER_READER } from './protocol';

async function measure(seconds: number, settleMs: number): Promise<void> {
  await sleep(settleMs);
  const start = process.hrtime.bigint();
  const before = process.cpuUsage();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(before);
  const elapsedMicros = Number(process.hrtime.bigint() - start) / 1000;
  send({ type: 'done', userMicros: cpu.user, systemMicros: cpu.system, elapsedMicros });
}

function idleShm(worker: boolean): [number, number] {
  const name = arg(1);
  ownName(name);
  const comm = new Communicator(name, Number(arg(2)), worker ? { side: 'b', ...WORKER_READER } : { side: 'b' });
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', () => fail(new Error('the idle reader received a message')));
  comm.startReader();
  return [Number(arg(3)), Number(arg(4))];
}

/** The synchronous round trip's echo worker with default options: with no traffic it only waits. */
function idleSync(): [number, number] {
  const name = arg(1);
  ownName(name);
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(path.join(__dirname, 'sync-echo-worker.js'), {
    workerData: { name, capacity: Number(arg(2)), spin: 'default', stopFlag },
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  onStop(async () => {
    Atomics.store(stopFlag, 0, 1);
    await exited;
  });
  worker.on('error', fail);
  return [Number(arg(3)), Number(arg(4))];
}

function idleSocket(): [number, number] {
  const socket = net.connect(arg(1));
  onStop(() => {
    socket.destroy();
  });
  socket.on('data', () => fail(new Error('the idle socket received data')));
  socket.on('error', (err) => {
    if (!isStopping()) fail(err);
  });
  return [Number(arg(2)), Number(arg(3))];
}

try {
  const transport = arg(0);
  const start = { shm: () => idleShm(false), 'shm-worker': () => idleShm(true), sync: idleSync, socket: idleSocket }[transport];
  const [seconds, settleMs] = start === undefined ? [NaN, NaN] : start();
  if (Number.isNaN(seconds)) throw new Error(`idle: unsupported transport ${transport}`);
  send({ type: 'ready' });
  measure(seconds, settleMs).catch(fail);
} catch (err) {
  fail(err);
}
