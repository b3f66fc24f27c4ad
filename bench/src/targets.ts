// The targets of issue 5, evaluated against one run's results (ratios are within the run).
import type { IdleResult, MemoryResult, RttResult, TargetRow, ThroughputResult, Transport, Verdict } from './types';
import { formatBytes, formatSize } from './units';

export interface Measured {
  rtt: RttResult[];
  throughput: ThroughputResult[];
  idle: IdleResult | null;
  memory: MemoryResult | null;
}

const MiB = 1024 * 1024;

export function evaluateTargets(m: Measured): TargetRow[] {
  const rows: TargetRow[] = [];
  const tp = (transport: Transport, size: number): ThroughputResult | undefined =>
    m.throughput.find((r) => r.transport === transport && r.size === size);
  const rtt = (transport: Transport, size: number): RttResult | undefined =>
    m.rtt.find((r) => r.transport === transport && r.size === size);

  // Verdicts against the plain socket (one write per message, as the reference numbers
  // were taken); the ratio against the corked socket is shown beside them.
  const vsCorked = (size: number): string => {
    const shm = tp('shm', size);
    const corked = tp('socket-corked', size);
    return shm && corked ? ` (corked ${(shm.messagesPerSecond / corked.messagesPerSecond).toFixed(2)}x)` : '';
  };
  for (const size of [64, 1024]) {
    const shm = tp('shm', size);
    const sock = tp('socket', size);
    const ratio = shm && sock ? shm.messagesPerSecond / sock.messagesPerSecond : null;
    rows.push(row(`throughput-${size}`, `throughput ${formatSize(size)} msgs/s vs socket`, '>= 4x', ratio, (r) => `${r.toFixed(2)}x${vsCorked(size)}`, (r) => r >= 4));
  }
  {
    const shm = tp('shm', MiB);
    const sock = tp('socket', MiB);
    const ratio = shm && sock ? shm.bytesPerSecond / sock.bytesPerSecond : null;
    rows.push(row('throughput-1MiB', 'throughput 1 MiB bytes/s vs socket', '>= 3x', ratio, (r) => `${r.toFixed(2)}x${vsCorked(MiB)}`, (r) => r >= 3));
  }
  for (const size of [64, 1024]) {
    const ev = rtt('shm', size);
    const sock = rtt('socket', size);
    const p50 = ev && sock ? ev.latencyMicros.p50 / sock.latencyMicros.p50 : null;
    const p99 = ev && sock ? ev.latencyMicros.p99 / sock.latencyMicros.p99 : null;
    rows.push(row(`rtt-event-p50-${size}`, `event RTT ${formatSize(size)} p50 vs socket`, '<= 1.0x', p50, (r) => `${r.toFixed(2)}x`, (r) => r <= 1.0));
    rows.push(row(`rtt-event-p99-${size}`, `event RTT ${formatSize(size)} p99 vs socket`, '<= 0.7x', p99, (r) => `${r.toFixed(2)}x`, (r) => r <= 0.7));
  }
  for (const size of [64, 1024]) {
    const p50 = rtt('sync', size)?.latencyMicros.p50 ?? null;
    rows.push(row(`rtt-sync-p50-${size}`, `receiveSync RTT ${formatSize(size)} p50`, '< 5 µs', p50, (v) => `${v.toFixed(3)} µs`, (v) => v < 5));
  }
  const idle = m.idle?.shm.cpuPercent ?? null;
  rows.push(row('idle-cpu', m.idle ? `idle reader CPU over ${m.idle.seconds} s` : 'idle reader CPU', '< 1 %', idle, (v) => `${v.toFixed(3)} %`, (v) => v < 1));
  const lags = m.throughput.filter((r) => r.transport === 'shm').map((r) => r.lagP99Ms);
  const lag = lags.length > 0 ? Math.max(...lags) : null;
  rows.push(row('event-loop-lag', 'receiver event-loop lag p99 (worst size)', '< 10 ms', lag, (v) => `${v.toFixed(2)} ms`, (v) => v < 10));
  // The formula (ΔRSS − N × capacity) undercounts when region pages stay untouched, so
  // the verdict takes the larger of it and the non-shared resident memory per communicator.
  const mem = m.memory ? Math.max(m.memory.perCommunicator.beyondCapacityBytes, m.memory.perCommunicator.privateBytes) : null;
  rows.push(row('memory', 'memory per communicator beyond capacity', '<= 8 MiB', mem, formatBytes, (v) => v <= 8 * MiB));
  return rows;
}

function row(id: string, what: string, goal: string, value: number | null, show: (v: number) => string, ok: (v: number) => boolean): TargetRow {
  const verdict: Verdict = value === null ? 'N/A' : ok(value) ? 'PASS' : 'MISS';
  return { id, what, goal, value, measured: value === null ? 'not run' : show(value), verdict };
}
