// The printed report: round trips, throughput, idle and memory, and the targets with verdicts.
import type { Machine } from './machine';
import { renderTable } from './table';
import type { Measured } from './targets';
import { TRANSPORT_LABEL, type RttResult, type TargetRow, type ThroughputResult } from './types';
import { formatBandwidth, formatBytes, formatMicros, formatRate, formatSize } from './units';

export function renderReport(machine: Machine, m: Measured, targets: readonly TargetRow[], notes: Record<string, string>): string {
  const parts = [
    `Machine: ${machine.cpuModel}, ${machine.cpuCount} CPUs, ${formatBytes(machine.totalMemoryBytes)}, ` +
      `Node ${machine.node}, ${machine.platform} ${machine.kernel}, load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}\n` +
      Object.values(notes).map((n) => `- ${n}`).join('\n'),
  ];
  if (m.rtt.length > 0) parts.push(`Round trip (µs; ratio = this / Unix socket)\n${rttTable(m.rtt)}`);
  if (m.throughput.length > 0) parts.push(`One-way throughput (median of rounds; ratio = this / Unix socket)\n${throughputTable(m.throughput)}`);
  const other = otherLines(m);
  if (other.length > 0) parts.push(other.join('\n'));
  parts.push(`Targets (issue 5)\n${targetTable(targets)}`);
  return parts.join('\n\n');
}

function rttTable(results: readonly RttResult[]): string {
  const rows = results.map((r) => {
    const sock = results.find((s) => s.transport === 'socket' && s.size === r.size)?.latencyMicros;
    const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(2)}x` : '-');
    const l = r.latencyMicros;
    return [formatSize(r.size), TRANSPORT_LABEL[r.transport], formatMicros(l.p50), formatMicros(l.p99), formatMicros(l.p999),
      formatMicros(l.max), ratio(l.p50, sock?.p50), ratio(l.p99, sock?.p99), String(l.count)];
  });
  return renderTable(['size', 'transport', 'p50', 'p99', 'p99.9', 'max', 'p50 ratio', 'p99 ratio', 'samples'], rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
}

function throughputTable(results: readonly ThroughputResult[]): string {
  const rows = results.map((r) => {
    const sock = results.find((s) => s.transport === 'socket' && s.size === r.size);
    return [formatSize(r.size), TRANSPORT_LABEL[r.transport], r.capacity === null ? '-' : formatBytes(r.capacity),
      formatRate(r.messagesPerSecond), formatBandwidth(r.bytesPerSecond),
      sock ? `${(r.messagesPerSecond / sock.messagesPerSecond).toFixed(2)}x` : '-',
      `${r.lagP99Ms.toFixed(2)} ms`, `${Math.max(...r.rounds.map((x) => x.receiverCpuPercent)).toFixed(0)} %`];
  });
  return renderTable(['size', 'transport', 'capacity', 'msgs/s', 'bytes/s', 'ratio', 'recv lag p99', 'recv CPU'], rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
}

function otherLines(m: Measured): string[] {
  const lines: string[] = [];
  if (m.idle) {
    lines.push(`Idle reader CPU over ${m.idle.seconds} s: shmlink ${m.idle.shm.cpuPercent.toFixed(3)} % of a core, ` +
      `idle Unix-socket reader ${m.idle.socket.cpuPercent.toFixed(3)} % (whole process, incl. Node itself)`);
  }
  if (m.memory) {
    const p = m.memory.perCommunicator;
    lines.push(`Memory per communicator (${m.memory.count} x ${formatBytes(m.memory.capacity)}, readers started): ` +
      `RSS ${formatBytes(p.rssBytes)}, of which shared region ${formatBytes(p.shmemBytes)} and private ${formatBytes(p.privateBytes)}; ` +
      `RSS - capacity = ${formatBytes(p.beyondCapacityBytes)}`);
  }
  return lines;
}

function targetTable(targets: readonly TargetRow[]): string {
  return renderTable(['target', 'goal', 'measured', 'verdict'], targets.map((t) => [t.what, t.goal, t.measured, t.verdict]),
    ['left', 'left', 'right', 'left']);
}
