// Throughput receiver: counts messages until the end marker (a message of another length than the
// payload size), measuring its event-loop delay and CPU while messages flow, then reports.
//   sink.js shm|shm-view <size> <name> <capacity> <poll> <pollBusy>  |  sink.js socket <size> <path>  |  sink.js ipc <size>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Communicator } from '@shmlink/core';
import { arg, connectFramed, fail, onStop, ownName, send } from './common';
import { parsePolling, type Transport } from './protocol';

const size = Number(arg(1));
const lag = monitorEventLoopDelay({ resolution: 1 });
let count = 0;
let bytes = 0;
let first = 0n;
let cpuAtFirst: NodeJS.CpuUsage | undefined;
let done = false;

function receive(length: number): void {
  if (done) return;
  if (length !== size) {
    finish();
    return;
  }
  if (count === 0) {
    first = process.hrtime.bigint();
    cpuAtFirst = process.cpuUsage();
    lag.enable();
  }
  count++;
  bytes += length;
}

function finish(): void {
  const last = process.hrtime.bigint();
  lag.disable();
  done = true;
  const cpu = process.cpuUsage(cpuAtFirst);
  send({
    type: 'done',
    count,
    bytes,
    first,
    last,
    cpuMicros: cpu.user + cpu.system,
    lagP99Ns: lag.count > 0 ? lag.percentile(99) : 0,
    lagMaxNs: lag.count > 0 ? lag.max : 0,
    lagSamples: lag.count,
  });
}

function sinkShm(mode: 'copy' | 'view'): void {
  const name = arg(2);
  ownName(name);
  const comm = new Communicator(name, Number(arg(3)), { side: 'b', ...parsePolling(arg(4), arg(5)), receive: mode });
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', (data) => receive(data.length));
  comm.startReader();
  send({ type: 'ready' });
}

function sinkSocket(): void {
  connectFramed(arg(2), (frame) => receive(frame.length));
}

function sinkIpc(): void {
  process.on('message', (msg: unknown) => {
    if (ArrayBuffer.isView(msg)) receive(msg.byteLength);
  });
  send({ type: 'ready' });
}

try {
  const transport = arg(0) as Transport;
  const start = { shm: () => sinkShm('copy'), 'shm-view': () => sinkShm('view'), socket: sinkSocket, 'socket-corked': sinkSocket, ipc: sinkIpc, sync: undefined }[transport];
  if (start === undefined) throw new Error(`sink: unsupported transport ${transport}`);
  start();
} catch (err) {
  fail(err);
}
