// Contention peer: echoes every small message at once and, while the parent asks for it, streams
// large messages back as fast as the transport takes them — the same connection carries both.
//   duplex.js shm <name> <capacity> <streamSize> <pingSize>   default options, write() awaited per message
//   duplex.js socket <streamSize> <pingSize> <path>            length-prefixed frames, 'drain' when full
import { once } from 'node:events';
import { Communicator } from '@shmlink/core';
import { encodeFrame } from '../socket-framing';
import { arg, connectFramed, fail, isStopping, onControl, onStop, ownName, send } from './common';

let streaming = false;
let loop: Promise<void> = Promise.resolve();

/** Starts or stops the stream on the parent's 'stream' control message; 'streaming' is sent once it runs. */
function controlStream(writeOne: () => Promise<void>): void {
  onControl('stream', (msg) => {
    const on = msg.on === true;
    if (on === streaming) return;
    streaming = on;
    if (!on) return;
    loop = loop.then(async () => {
      send({ type: 'streaming' });
      while (streaming && !isStopping()) await writeOne();
    }).catch((err: unknown) => {
      if (!isStopping()) fail(err);
    });
  });
}

function duplexShm(): void {
  const name = arg(1);
  ownName(name);
  const pingSize = Number(arg(4));
  const big = Buffer.alloc(Number(arg(3)), 0x5a);
  const comm = new Communicator(name, Number(arg(2)), { side: 'b' });
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', (data) => {
    if (data.length !== pingSize) return;
    comm.write(data).catch((err: unknown) => {
      if (!isStopping()) fail(err);
    });
  });
  controlStream(() => comm.write(big));
  comm.startReader();
  send({ type: 'ready' });
}

function duplexSocket(): void {
  const pingSize = Number(arg(2));
  const big = encodeFrame(Buffer.alloc(Number(arg(1)), 0x5a));
  const socket = connectFramed(arg(3), (frame) => {
    if (frame.length === pingSize) socket.write(encodeFrame(frame));
  });
  controlStream(async () => {
    if (!socket.write(big)) await once(socket, 'drain');
  });
}

try {
  const transport = arg(0);
  if (transport === 'shm') duplexShm();
  else if (transport === 'socket') duplexSocket();
  else throw new Error(`duplex: unsupported transport ${transport}`);
} catch (err) {
  fail(err);
}
