// Round-trip peer: sends every message it receives straight back.
//   echo.js shm    <name> <capacity> <poll> <pollBusy>  event API (startReader + write)
//   echo.js shm-worker <name> <capacity>         the same with reader: 'worker' and no other option
//   echo.js sync   <name> <capacity> <spin|default>  receiveSync + writeSync in a worker thread
//   echo.js socket <path>                        length-prefixed frames over a Unix socket
//   echo.js zmq    <address>                     a ZeroMQ PAIR socket over ipc://
//   echo.js ipc                                  process.send over the fork channel
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import { encodeFrame } from '../socket-framing';
import { connectZmqPair } from '../zmq';
import { arg, connectFramed, fail, isStopping, onStop, ownName, send } from './common';
import { WORKER_READER, parsePolling, type SyncSpin, type Transport } from './protocol';

function echoShm(worker: boolean): void {
  const name = arg(1);
  ownName(name);
  const options = worker ? { side: 'b' as const, ...WORKER_READER } : { side: 'b' as const, ...parsePolling(arg(3), arg(4)) };
  const comm = new Communicator(name, Number(arg(2)), options);
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', (data) => {
    comm.write(data).catch((err: unknown) => {
      if (!isStopping()) fail(err);
    });
  });
  comm.startReader();
  send({ type: 'ready' });
}

function echoSync(): void {
  const name = arg(1);
  ownName(name);
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const spin: SyncSpin = arg(3) === 'default' ? 'default' : Number(arg(3));
  const worker = new Worker(path.join(__dirname, 'sync-echo-worker.js'), {
    workerData: { name, capacity: Number(arg(2)), spin, stopFlag },
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  onStop(async () => {
    Atomics.store(stopFlag, 0, 1);
    await exited;
  });
  worker.on('error', fail);
  worker.on('message', (msg: unknown) => {
    if (msg === 'ready') send({ type: 'ready' });
  });
}

function echoSocket(): void {
  const socket = connectFramed(arg(1), (frame) => socket.write(encodeFrame(frame)));
}

function echoZmq(): void {
  const socket = connectZmqPair(arg(1), (msg) => {
    socket.send(msg).catch((err: unknown) => {
      if (!isStopping()) fail(err);
    });
  }, () => send({ type: 'ready' }), fail);
  onStop(() => socket.close());
}

function echoIpc(): void {
  process.on('message', (msg: unknown) => {
    if (ArrayBuffer.isView(msg)) send(msg as Uint8Array);
  });
  send({ type: 'ready' });
}

try {
  const transport = arg(0) as Transport;
  const starts: Partial<Record<Transport, () => void>> = {
    shm: () => echoShm(false), 'shm-worker': () => echoShm(true), sync: echoSync, 'sync-default': echoSync,
    socket: echoSocket, zmq: echoZmq, ipc: echoIpc,
  };
  const start = starts[transport];
  if (start === undefined) throw new Error(`echo: unknown transport ${transport}`);
  start();
} catch (err) {
  fail(err);
}
