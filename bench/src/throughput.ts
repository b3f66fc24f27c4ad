// One-way throughput: the parent sends for `duration` seconds as fast as each transport accepts,
// then the end marker; the sink reports what it received, when, and its event-loop delay. The rate
// spans the sender's first write to the sink's last message (both read CLOCK_MONOTONIC).
import type { Features } from './features';
import type { Options } from './options';
import { Peer, retryingSpawn } from './peer';
import type { Control } from './peers/protocol';
import { median } from './stats';
import { ipcSender, shmDefaultSender, shmSender, socketSender, zmqSender, type Sender } from './throughput-senders';
import { SHM_THROUGHPUT, type BenchError, type ThroughputResult, type ThroughputRound, type Transport } from './types';
import { guarded } from './watchdog';

const MiB = 1024 * 1024;

/** A capacity that holds at least 4 messages per half, and at least 8 MiB. */
export function capacityFor(size: number): number {
  const perHalf = 4 * (size + 64);
  let capacity = 8 * MiB;
  while (capacity / 2 < perHalf + 4096) capacity *= 2;
  return capacity;
}

export function batchFor(size: number, batchBytes: number): number {
  return Math.max(1, Math.min(1024, Math.floor(batchBytes / size)));
}

/** Transports measured at `size`, in order; those this run lacks (features) are left out. */
export function throughputTransports(size: number, o: Options, features: Features): Transport[] {
  const transports: Transport[] = ['shm-write', 'shm', 'shm-view'];
  if (features.workerReader.available) transports.push('shm-worker');
  transports.push('socket', 'socket-corked');
  if (features.zmq.available) transports.push('zmq');
  if (size <= o.ipcMaxSize) transports.push('ipc');
  transports.push('memcpy');
  return transports;
}

/** Seconds of copying for the memcpy reference: it settles far sooner than a transport. */
function memcpySeconds(o: Options): number {
  return Math.min(o.duration, 1);
}

export async function runThroughput(o: Options, features: Features, errors: BenchError[], log: (line: string) => void): Promise<ThroughputResult[]> {
  const rounds = new Map<string, ThroughputRound[]>();
  for (let round = 1; round <= o.rounds; round++) {
    for (const size of o.throughputSizes) {
      for (const transport of throughputTransports(size, o, features)) {
        const detail = `${transport} ${size} B round ${round}`;
        try {
          const r = transport === 'memcpy' ? await measureMemcpy(size, memcpySeconds(o)) : await retryingSpawn(() => measure(transport, size, o), `throughput ${detail}`, log);
          const key = `${transport}/${size}`;
          rounds.set(key, [...(rounds.get(key) ?? []), r]);
          log(`throughput ${detail}: ${(r.messagesPerSecond / 1e6).toFixed(3)} M msg/s, ${(r.bytesPerSecond / 1e9).toFixed(3)} GB/s, lag p99 ${r.lagP99Ms.toFixed(1)} ms`);
        } catch (err) {
          errors.push({ benchmark: 'throughput', detail, message: (err as Error).message });
          log(`throughput ${detail}: FAILED ${(err as Error).message}`);
        }
      }
    }
  }
  const results: ThroughputResult[] = [];
  for (const size of o.throughputSizes) {
    for (const transport of throughputTransports(size, o, features)) {
      const rs = rounds.get(`${transport}/${size}`);
      if (rs === undefined) continue;
      results.push({
        transport,
        size,
        capacity: SHM_THROUGHPUT.includes(transport) ? capacityFor(size) : null,
        batch: transport === 'memcpy' ? 1 : batchFor(size, o.batchBytes),
        rounds: rs,
        messagesPerSecond: median(rs.map((r) => r.messagesPerSecond)),
        bytesPerSecond: median(rs.map((r) => r.bytesPerSecond)),
        lagP99Ms: Math.max(...rs.map((r) => r.lagP99Ms)),
      });
    }
  }
  return results;
}

function openSender(transport: Transport, size: number, o: Options): Promise<Sender> {
  switch (transport) {
    case 'shm':
    case 'shm-view':
      return shmSender(size, capacityFor(size), { poll: o.poll, pollBusy: o.pollBusy }, transport === 'shm-view', o.shmSendApi);
    case 'shm-write':
    case 'shm-worker':
      return shmDefaultSender(size, capacityFor(size), transport === 'shm-worker', o.writeAwait);
    case 'socket':
      return socketSender(size, false);
    case 'socket-corked':
      return socketSender(size, true);
    case 'zmq':
      return zmqSender(size);
    case 'ipc':
      return ipcSender(size);
    case 'sync':
    case 'sync-default':
    case 'memcpy':
      throw new Error(`throughput has no sender for ${transport}`);
  }
}

/** The single-core memcpy reference (peers/memcpy.ts), in a fresh process like a sink. */
async function measureMemcpy(size: number, seconds: number): Promise<ThroughputRound> {
  const peer = new Peer('memcpy', [String(size), String(seconds)]);
  try {
    const done = await guarded(peer.waitFor('done', seconds * 1000 + 60_000), peer.failure(), seconds * 1000 + 60_000);
    const elapsed = done.seconds as number;
    const copies = done.copies as number;
    return {
      messages: copies, bytes: copies * size, seconds: elapsed,
      messagesPerSecond: copies / elapsed, bytesPerSecond: (copies * size) / elapsed,
      receiverCpuPercent: 100, receiverMainPercent: 100, receiverMainActiveMs: elapsed * 1000, lagP99Ms: 0, lagMaxMs: 0,
    };
  } finally {
    await peer.stop();
  }
}

async function measure(transport: Transport, size: number, o: Options): Promise<ThroughputRound> {
  const sender = await openSender(transport, size, o);
  try {
    const run = async (): Promise<ThroughputRound> => {
      const batch = batchFor(size, o.batchBytes);
      const start = process.hrtime.bigint();
      const deadline = start + BigInt(Math.round(o.duration * 1e9));
      let messages = 0;
      while (process.hrtime.bigint() < deadline) {
        await sender.sendBatch(batch);
        messages += batch;
      }
      await sender.sendEnd();
      const done = await sender.peer.waitFor('done', 120_000);
      return toRound(done, messages, size, start);
    };
    return await guarded(run(), sender.peer.failure(), o.duration * 1000 + 150_000);
  } finally {
    await sender.close();
  }
}

function toRound(done: Control, sent: number, size: number, start: bigint): ThroughputRound {
  const count = done.count as number;
  if (count !== sent) throw new Error(`sink received ${count} messages, ${sent} were sent`);
  const seconds = Number((done.last as bigint) - start) / 1e9;
  const flowing = Number((done.last as bigint) - (done.first as bigint)) / 1e9;
  return {
    messages: count,
    bytes: count * size,
    seconds,
    messagesPerSecond: count / seconds,
    bytesPerSecond: (count * size) / seconds,
    receiverCpuPercent: flowing > 0 ? ((done.cpuMicros as number) / 1e6 / flowing) * 100 : 0,
    receiverMainPercent: (done.mainUtilization as number) * 100,
    receiverMainActiveMs: done.mainActiveMs as number,
    lagP99Ms: (done.lagP99Ns as number) / 1e6,
    lagMaxMs: (done.lagMaxNs as number) / 1e6,
  };
}
