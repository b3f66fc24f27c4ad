// Throughput receiver: counts messages until the end marker (a message of another length than the
// payload size), measuring its event-loop delay and CPU while messages flow, then reports.
//   sink.js shm|shm-view <size> <name> <capacity> <poll> <pollBusy>   event API with those poll windows
//   sink.js shm-write|shm-worker <size> <name> <capacity>             default options (+ reader: 'worker')
//   sink.js socket|socket-corked <size> <path>  |  sink.js zmq <size> <address>  |  sink.js ipc <size>
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Communicator } from '@shmlink/core';
import { connectZmqPair } from '../zmq';
import { arg, connectFramed, fail, onStop, ownName, send } from './common';
import { WORKER_READER, parsePolling, type Transport } from './protocol';

const size = Number(arg(1));
const lag = monitorEventLoopDelay({ resolution: 1 });
let count = 0;
let bytes = 0;
let first = 0n;
let cpuAtFirst: NodeJS.CpuUsage | undefined;
/** The main thread's busy time (event-loop utilization): with reader: 'worker' it excludes the reader. */
let eluAtFirst: EventLoopUtilization | undefined;
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
    eluAtFirst = performance.eventLoopUtilization();
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
  const elu = eluAtFirst === undefined ? undefined : performance.eventLoopUtilization(eluAtFirst);
  send({
    type: 'done',
    count,
    bytes,
    first,
    last,
    cpuMicros: cpu.user + cpu.system,
    mainActiveMs: elu?.active ?? 0,
    mainUtilization: elu?.utilization ?? 0,
    lagP99Ns: lag.count > 0 ? lag.percentile(99) : 0,
    lagMaxNs: lag.count > 0 ? lag.max : 0,
    lagSamples: lag.count,
  });
}

/** `tuned`: the given poll windows and receive mode; `default`: no options but the side; `worker`: reader: 'worker'. */
function sinkShm(mode: 'copy' | 'view' | 'default' | 'worker'): void {
  const name = arg(2);
  ownName(name);
  const options =
    mode === 'default' ? { side: 'b' as const }
      : mode === 'worker' ? { side: 'b' as const, ...WORKER_READER }
        : { side: 'b' as const, ...parsePolling(arg(4), arg(5)), receive: mode };
  const comm = new Communicator(name, Number(arg(3)), options);
  onStop(() => comm.dispose());
  comm.on('error', fail);
  comm.on('data', (data) => receive(data.length));
  comm.startReader();
  send({ type: 'ready' });
}

function sinkSocket(): void {
  connectFramed(arg(2), (frame) => receive(frame.length));
}

function sinkZmq(): void {
  const socket = connectZmqPair(arg(2), (msg) => receive(msg.length), () => send({ type: 'ready' }), fail);
  onStop(() => socket.close());
}

function sinkIpc(): void {
  process.on('message', (msg: unknown) => {
    if (ArrayBuffer.isView(msg)) receive(msg.byteLength);
  });
  send({ type: 'ready' });
}

try {
  const transport = arg(0) as Transport;
  const starts: Partial<Record<Transport, () => void>> = {
    shm: () => sinkShm('copy'), 'shm-view': () => sinkShm('view'), 'shm-write': () => sinkShm('default'), 'shm-worker': () => sinkShm('worker'),
    socket: sinkSocket, 'socket-corked': sinkSocket, zmq: sinkZmq, ipc: sinkIpc,
  };
  const start = starts[transport];
  if (start === undefined) throw new Error(`sink: unsupported transport ${transport}`);
  start();
} catch (err) {
  fail(err);
}
