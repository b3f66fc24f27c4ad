// The targets of issue 5, evaluated against one run's results (ratios are within the run); issue
// 15's are in targets-issue15.ts, and evaluateTargets returns both, each row naming its issue.
import type { Features } from './features';
import type { ShmSendApi } from './options';
import { targetRow } from './target-row';
import { evaluateIssue15 } from './targets-issue15';
import type { ContentionResult, IdleResult, MemoryResult, RttResult, TargetRow, ThroughputResult, Transport } from './types';
import { formatBytes, formatSize } from './units';

export interface Measured {
  rtt: RttResult[];
  throughput: ThroughputResult[];
  contention: ContentionResult[];
  idle: IdleResult | null;
  memory: MemoryResult | null;
  features: Features;
  /** How the "shmlink events" throughput rows sent (--shm-send): issue 15 compares write() with send(). */
  shmSendApi: ShmSendApi;
}

const MiB = 1024 * 1024;

export function evaluateTargets(m: Measured): TargetRow[] {
  return [...evaluateIssue5(m), ...evaluateIssue15(m)];
}

function evaluateIssue5(m: Measured): TargetRow[] {
  const rows: TargetRow[] = [];
  const tp = (transport: Transport, size: number): ThroughputResult | undefined =>
    m.throughput.find((r) => r.transport === transport && r.size === size);
  const rtt = (transport: Transport, size: number): RttResult | undefined =>
    m.rtt.find((r) => r.transport === transport && r.size === size);

  // Verdicts against the plain socket (one write per message, the baseline the goals were set
  // against), for the faster of shmlink's two receive modes; the other mode and the ratio
  // against the corked socket are shown beside them.
  const throughputRow = (id: string, size: number, goal: number, rate: (r: ThroughputResult) => number, unit: string): void => {
    const sock = tp('socket', size);
    const corked = tp('socket-corked', size);
    const modes = (['shm', 'shm-view'] as const)
      .map((transport) => ({ transport, result: tp(transport, size) }))
      .filter((m): m is { transport: 'shm' | 'shm-view'; result: ThroughputResult } => m.result !== undefined);
    const best = modes.reduce<(typeof modes)[number] | undefined>((a, m) => (a === undefined || rate(m.result) > rate(a.result) ? m : a), undefined);
    const ratio = best && sock ? rate(best.result) / rate(sock) : null;
    const show = (r: number): string => {
      const name = (t: 'shm' | 'shm-view'): string => (t === 'shm' ? 'copies' : 'views');
      const others = modes.filter((m) => m !== best).map((m) => `${name(m.transport)} ${(rate(m.result) / rate(sock!)).toFixed(2)}x`);
      const vsCorked = corked ? [`corked ${(rate(best!.result) / rate(corked)).toFixed(2)}x`] : [];
      const extra = [...others, ...vsCorked];
      return `${r.toFixed(2)}x ${name(best!.transport)}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
    };
    rows.push(row(id, `throughput ${formatSize(size)} ${unit} vs socket`, `>= ${goal}x`, ratio, show, (r) => r >= goal));
  };
  for (const size of [64, 1024]) throughputRow(`throughput-${size}`, size, 4, (r) => r.messagesPerSecond, 'msgs/s');
  throughputRow('throughput-1MiB', MiB, 3, (r) => r.bytesPerSecond, 'bytes/s');
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
  const lags = m.throughput.filter((r) => r.transport === 'shm' || r.transport === 'shm-view').map((r) => r.lagP99Ms);
  const lag = lags.length > 0 ? Math.max(...lags) : null;
  rows.push(row('event-loop-lag', 'receiver event-loop lag p99 (worst size)', '< 10 ms', lag, (v) => `${v.toFixed(2)} ms`, (v) => v < 10));
  // The target's own formula (ΔRSS − N × capacity) undercounts when region pages stay untouched, so
  // the verdict takes the larger of it and the non-shared resident memory per communicator.
  const mem = m.memory ? Math.max(m.memory.perCommunicator.beyondCapacityBytes, m.memory.perCommunicator.privateBytes) : null;
  rows.push(row('memory', 'memory per communicator beyond capacity', '<= 8 MiB', mem, formatBytes, (v) => v <= 8 * MiB));
  return rows;
}

function row(id: string, what: string, goal: string, value: number | null, show: (v: number) => string, ok: (v: number) => boolean): TargetRow {
  return targetRow(5, id, what, goal, value, show, ok);
}

