// Round-trip peer: sends every message it receives straight back.
//   echo.js shm    <name> <capacity> <poll> <pollBusy>  event API (startReader + write)
//   echo.js sync   <name> <capacity> <spin>      receiveSync + writeSync in a worker thread
//   echo.js socket <path>                        length-prefixed frames over a Unix socket
//   echo.js ipc                                  process.send over the fork channel
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Communicator } from '@shmlink/core';
import { encodeFrame } from '../socket-framing';
import { arg, connectFramed, fail, isStopping, onStop, ownName, send } from './common';
import { parsePolling, type Transport } from './protocol';

function echoShm(): void {
  const name = arg(1);
  ownName(name);
  const comm = new Communicator(name, Number(arg(2)), { side: 'b', ...parsePolling(arg(3), arg(4)) });
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
  const worker = new Worker(path.join(__dirname, 'sync-echo-worker.js'), {
    workerData: { name, capacity: Number(arg(2)), spin: Number(arg(3)), stopFlag },
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

function echoIpc(): void {
  process.on('message', (msg: unknown) => {
    if (ArrayBuffer.isView(msg)) send(msg as Uint8Array);
  });
  send({ type: 'ready' });
}

try {
  const transport = arg(0) as Transport;
  const start = { shm: echoShm, 'shm-view': undefined, sync: echoSync, socket: echoSocket, 'socket-corked': undefined, ipc: echoIpc }[transport];
  if (start === undefined) throw new Error(`echo: unknown transport ${transport}`);
  start();
} catch (err) {
  fail(err);
}
