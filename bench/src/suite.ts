// Runs the selected benchmarks one after another and gathers everything the JSON holds.
import { NAME_PREFIX, cleanupAll, leftovers } from './cleanup';
import { PING_SIZE, STREAM_SIZE, runContention } from './contention';
import { detectFeatures, probeZmqIpc, type Features } from './features';
import { runIdle } from './idle';
import { describeMachine, describeRevision, type Machine, type Revision } from './machine';
import { runMemory } from './memory';
import type { Options } from './options';
import { runRtt } from './rtt';
import { evaluateTargets, type Measured } from './targets';
import { runThroughput } from './throughput';
import type { BenchError, TargetRow } from './types';

/** 2: issue 15's transports, contention, features, targets with their issue. */
export const SCHEMA = 2;

export interface RunResult extends Measured {
  schema: number;
  startedAt: string;
  finishedAt: string;
  elapsedSeconds: number;
  machine: Machine;
  revision: Revision;
  parameters: Options;
  /** The ZeroMQ peer and the worker reader: present or not, and why. */
  features: Features;
  notes: Record<string, string>;
  targets: TargetRow[];
  errors: BenchError[];
  namePrefix: string;
  /** Shared-memory names of this run found after cleanup (should be empty). */
  leftovers: string[];
}

function notes(o: Options, f: Features): Record<string, string> {
  return {
    features: `ZeroMQ: ${f.zmq.available ? f.zmq.detail : `N/A, ${f.zmq.detail}`}; reader 'worker': ${f.workerReader.available ? 'measured' : `N/A, ${f.workerReader.detail}`}`,
    processes: 'every benchmark runs between this process and a forked peer process; transports interleaved in each round',
    ipc: "child_process IPC: process.send with serialization 'advanced' (structured clone; Buffers cross as bytes)",
    socket: 'Unix socket: 4-byte length prefix, pre-built frames, one write() per message ("corked": cork/uncork per batch); ' +
      'the receiver hands out frames as views of the chunk and copies only frames that span chunks',
    rtt: `round trip: next ping sent from the echo handler; event API poll ${o.poll} µs (${o.pollBusy} µs while dense); receiveSync + writeSync in a worker ` +
      `on both sides, spin ${o.syncSpin} µs and with default options; ${o.iterations} timed + ${o.warmup} warm-up per round, rounds pooled`,
    throughput: `one way, ${o.duration} s per run, from the first write to the last message received, median of ${o.rounds} rounds; ` +
      `sender batches of ${o.batchBytes} bytes (at most 1024 messages); "shmlink events" through ${o.shmSendApi}(), "defaults" with no options, one write() per message, ` +
      `awaiting every ${o.writeAwait}th (or each batch's last); ZeroMQ awaits each send(); receiver event-loop delay by monitorEventLoopDelay (1 ms) and main-thread ELU while messages flow`,
    memcpy: `memcpy: Buffer.copy of the message size in a loop on one core for ${Math.min(o.duration, 1)} s, 32 MiB source and destination, moving on by the size each copy`,
    contention: `contention: ${PING_SIZE} B round trips, ${o.contentionIterations} idle then ${o.contentionIterations} while the peer streams ${STREAM_SIZE / 1024 / 1024} MiB messages back over the same connection`,
    memory: `memory: RSS delta of ${o.memoryCount} communicators (reader started, one message each way) after a warm-up one and a GC` +
      (process.platform === 'linux' ? '' : '; its split into shared region and private memory reads Linux /proc: N/A here (0)'),
    ...(process.platform === 'win32'
      ? {
          windows: 'Windows: the "Unix socket" rows run over a named pipe (\\\\.\\pipe\\...), the nearest Node transport there; ' +
            'ZeroMQ keeps ipc:// (a socket file). Numbers measured in Windows Node under wine are wine\'s, not Windows\'',
        }
      : {}),
  };
}

export async function runSuite(o: Options, log: (line: string) => void): Promise<RunResult> {
  const started = new Date();
  const machine = describeMachine();
  const revision = describeRevision();
  const errors: BenchError[] = [];
  const detected = detectFeatures(o);
  const features = { ...detected, zmq: await probeZmqIpc(detected.zmq) };
  log(`features: ${notes(o, features).features}`);
  const measured: Measured = { rtt: [], throughput: [], contention: [], idle: null, memory: null, features, shmSendApi: o.shmSendApi };
  const guard = async (benchmark: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      errors.push({ benchmark, detail: '', message: (err as Error).message });
      log(`${benchmark}: FAILED ${(err as Error).message}`);
    }
  };
  for (const benchmark of o.only) {
    log(`-- ${benchmark}`);
    switch (benchmark) {
      case 'rtt':
        await guard('rtt', async () => void (measured.rtt = await runRtt(o, features, errors, log)));
        break;
      case 'throughput':
        await guard('throughput', async () => void (measured.throughput = await runThroughput(o, features, errors, log)));
        break;
      case 'contention':
        await guard('contention', async () => void (measured.contention = await runContention(o, errors, log)));
        break;
      case 'idle':
        await guard('idle', async () => void (measured.idle = await runIdle(o, features)));
        break;
      case 'memory':
        await guard('memory', async () => void (measured.memory = await runMemory(o)));
        break;
    }
  }
  cleanupAll();
  const finished = new Date();
  return {
    schema: SCHEMA,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    elapsedSeconds: (finished.getTime() - started.getTime()) / 1000,
    machine,
    revision,
    parameters: o,
    notes: notes(o, features),
    ...measured,
    targets: evaluateTargets(measured),
    errors,
    namePrefix: NAME_PREFIX,
    leftovers: leftovers(),
  };
}
