// Idle receiver: attaches a reader that gets no messages and reports the CPU its whole process
// used over a window (after a settling pause).
//   idle.js shm <name> <capacity> <seconds> <settleMs>  |  idle.js socket <path> <seconds> <settleMs>
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Communicator } from '@shmlink/core';
import { arg, fail, isStopping, onStop, ownName, send } from './common';

async function measure(seconds: number, settleMs: number): Promise<void> {
  await sleep(settleMs);
  const start = process.hrtime.bigint();
  const before = process.cpuUsage();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(before);
  const elapsedMicros = Number(process.hrtime.bigint() - start) / 1000;
  send({ type: 'done', userMicros: cpu.user, systemMicros: cpu.system, elapsedMicros });
}

function idleShm(): [number, number] {
  const name = arg(1);
  ownName(name);
  const comm = new Communicator(name, Number(arg(2)), { side: 'b' });
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', () => fail(new Error('the idle reader received a message')));
  comm.startReader();
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
  const [seconds, settleMs] = transport === 'shm' ? idleShm() : transport === 'socket' ? idleSocket() : [NaN, NaN];
  if (Number.isNaN(seconds)) throw new Error(`idle: unsupported transport ${transport}`);
  send({ type: 'ready' });
  measure(seconds, settleMs).catch(fail);
} catch (err) {
  fail(err);
}
