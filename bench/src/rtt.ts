// Round trip (ping-pong): one message out, the echo back, the next ping sent from the echo's
// handler. Transports are interleaved within each round; samples of all rounds are pooled.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { releaseName, trackStopper, uniqueName } from './cleanup';
import type { Features } from './features';
import type { Options } from './options';
import { PEERS_DIR, Peer, retryingSpawn } from './peer';
import type { SyncSpin } from './peers/protocol';
import type { PingData } from './peers/sync-ping-worker';
import { RTT_CAPACITY, openIpcChannel, openShmChannel, openSocketChannel, openZmqChannel, type PingChannel } from './rtt-channels';
import { concat, percentile, summarize } from './stats';
import { SHM_RTT, type BenchError, type RttResult, type Transport } from './types';
import { guarded, withWatchdog } from './watchdog';

/** The round-trip transports this run measures, in order (those it lacks are left out). */
export function rttTransports(features: Features): Transport[] {
  const transports: Transport[] = ['shm'];
  if (features.workerReader.available) transports.push('shm-worker');
  transports.push('sync', 'sync-default', 'socket');
  if (features.zmq.available) transports.push('zmq');
  transports.push('ipc');
  return transports;
}

/** A measurement that has not finished after this long is abandoned (its peer is killed). */
function watchdogMs(o: Options): number {
  return 30_000 + (o.warmup + o.iterations) * 5;
}

export async function runRtt(o: Options, features: Features, errors: BenchError[], log: (line: string) => void): Promise<RttResult[]> {
  const samples = new Map<string, Float64Array[]>();
  const transports = rttTransports(features);
  for (let round = 1; round <= o.rounds; round++) {
    for (const size of o.rttSizes) {
      for (const transport of transports) {
        const detail = `${transport} ${size} B round ${round}`;
        try {
          const got = await retryingSpawn(() => measure(transport, size, o), `rtt ${detail}`, log);
          const key = `${transport}/${size}`;
          samples.set(key, [...(samples.get(key) ?? []), got]);
          log(`rtt ${detail}: p50 ${percentile(Float64Array.from(got).sort(), 50).toFixed(1)} µs`);
        } catch (err) {
          errors.push({ benchmark: 'rtt', detail, message: (err as Error).message });
          log(`rtt ${detail}: FAILED ${(err as Error).message}`);
        }
      }
    }
  }
  const results: RttResult[] = [];
  for (const size of o.rttSizes) {
    for (const transport of transports) {
      const rounds = samples.get(`${transport}/${size}`);
      if (rounds === undefined) continue;
      results.push({
        transport,
        size,
        capacity: SHM_RTT.includes(transport) ? RTT_CAPACITY : null,
        latencyMicros: summarize(concat(rounds)),
        roundP50Micros: rounds.map((r) => percentile(Float64Array.from(r).sort(), 50)),
      });
    }
  }
  return results;
}

function measure(transport: Transport, size: number, o: Options): Promise<Float64Array> {
  switch (transport) {
    case 'sync':
      return measureSync(size, o, o.syncSpin);
    case 'sync-default':
      return measureSync(size, o, 'default');
    case 'shm':
      return measureChannel(() => openShmChannel(size, { poll: o.poll, pollBusy: o.pollBusy }), size, o);
    case 'shm-worker':
      return measureChannel(() => openShmChannel(size, 'worker'), size, o);
    case 'socket':
      return measureChannel(() => openSocketChannel(size), size, o);
    case 'zmq':
      return measureChannel(() => openZmqChannel(size), size, o);
    case 'ipc':
      return measureChannel(() => openIpcChannel(size), size, o);
    case 'socket-corked':
    case 'shm-view':
    case 'shm-write':
    case 'memcpy':
      throw new Error(`${transport} is a throughput variant`);
  }
}

async function measureChannel(open: () => Promise<PingChannel>, size: number, o: Options): Promise<Float64Array> {
  const channel = await open();
  try {
    return await guarded(pingPong(channel, size, o.warmup, o.iterations), channel.peer.failure(), watchdogMs(o));
  } finally {
    await channel.close();
  }
}

/** Sends a ping, waits for its echo, records the time and sends the next ping from the handler. */
export function pingPong(channel: PingChannel, size: number, warmup: number, iterations: number): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const samples = new Float64Array(iterations);
    let i = -warmup;
    let start = 0;
    channel.onError = reject;
    channel.onReply = (length) => {
      const end = performance.now();
      if (length !== size) {
        reject(new Error(`echo of ${length} bytes, expected ${size}`));
        return;
      }
      if (i >= 0) samples[i] = (end - start) * 1000;
      if (++i === iterations) {
        channel.onReply = () => {};
        resolve(samples);
        return;
      }
      start = performance.now();
      channel.send();
    };
    start = performance.now();
    channel.send();
  });
}

/** receiveSync + writeSync in a worker thread on both sides, with `spin` or ('default') no options. */
async function measureSync(size: number, o: Options, spin: SyncSpin): Promise<Float64Array> {
  const name = uniqueName();
  const peer = new Peer('echo', ['sync', name, String(RTT_CAPACITY), String(spin)]);
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = async (): Promise<void> => {
    Atomics.store(stopFlag, 0, 1);
    await exited;
  };
  const untrack = trackStopper(stop);
  try {
    await peer.waitFor('ready');
    const data: PingData = {
      name, capacity: RTT_CAPACITY, spin, size, warmup: o.warmup, iterations: o.iterations, stopFlag,
    };
    const w = new Worker(path.join(PEERS_DIR, 'sync-ping-worker.js'), { workerData: data });
    worker = w;
    exited = new Promise((resolve) => w.once('exit', () => resolve()));
    const result = new Promise<Float64Array>((resolve, reject) => {
      w.once('message', (samples: Float64Array) => resolve(samples));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`ping worker exited (code ${code}) before reporting`)));
    });
    return await guarded(result, peer.failure(), watchdogMs(o));
  } finally {
    // Raise the flag and let the worker leave receiveSync by itself; terminate only a stuck one.
    if (worker !== undefined) await withWatchdog(stop(), 2000).catch(() => worker!.terminate());
    untrack();
    await peer.stop();
    releaseName(name);
  }
}
