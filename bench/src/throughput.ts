// One-way throughput: the parent sends for `duration` seconds as fast as each transport accepts,
// then the end marker; the sink reports what it received, when, and its event-loop delay. The rate
// spans the sender's first write to the sink's last message (both read CLOCK_MONOTONIC).
import type { Options } from './options';
import type { Control } from './peers/protocol';
import { median } from './stats';
import { ipcSender, shmSender, socketSender, type Sender } from './throughput-senders';
import type { BenchError, ThroughputResult, ThroughputRound, Transport } from './types';
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

export function throughputTransports(size: number, o: Options): Transport[] {
  const transports: Transport[] = ['shm', 'shm-view', 'socket', 'socket-corked'];
  return size <= o.ipcMaxSize ? [...transports, 'ipc'] : transports;
}

export async function runThroughput(o: Options, errors: BenchError[], log: (line: string) => void): Promise<ThroughputResult[]> {
  const rounds = new Map<string, ThroughputRound[]>();
  for (let round = 1; round <= o.rounds; round++) {
    for (const size of o.throughputSizes) {
      for (const transport of throughputTransports(size, o)) {
        const detail = `${transport} ${size} B round ${round}`;
        try {
          const r = await measure(transport, size, o);
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
    for (const transport of throughputTransports(size, o)) {
      const rs = rounds.get(`${transport}/${size}`);
      if (rs === undefined) continue;
      results.push({
        transport,
        size,
        capacity: transport === 'shm' || transport === 'shm-view' ? capacityFor(size) : null,
        batch: batchFor(size, o.batchBytes),
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
    case 'socket':
      return socketSender(size, false);
    case 'socket-corked':
      return socketSender(size, true);
    case 'ipc':
      return ipcSender(size);
    case 'sync':
      throw new Error('throughput has no synchronous variant');
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
    lagP99Ms: (done.lagP99Ns as number) / 1e6,
    lagMaxMs: (done.lagMaxNs as number) / 1e6,
  };
}
