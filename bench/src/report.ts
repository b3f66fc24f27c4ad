// The printed report: round trips, throughput, idle and memory, and the targets with verdicts.
import type { Machine } from './machine';
import { renderTable } from './table';
import type { Measured } from './targets';
import { TRANSPORT_LABEL, type ContentionResult, type RttResult, type TargetRow, type ThroughputResult } from './types';
import { median } from './stats';
import { formatBandwidth, formatBytes, formatMicros, formatRate, formatSize } from './units';

export function renderReport(machine: Machine, m: Measured, targets: readonly TargetRow[], notes: Record<string, string>): string {
  const parts = [
    `Machine: ${machine.cpuModel}, ${machine.cpuCount} CPUs, ${formatBytes(machine.totalMemoryBytes)}, ` +
      `Node ${machine.node}, ${machine.platform} ${machine.kernel}, load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}\n` +
      Object.values(notes).map((n) => `- ${n}`).join('\n'),
  ];
  if (m.rtt.length > 0) parts.push(`Round trip (µs; ratio = this / Unix socket)\n${rttTable(m.rtt)}`);
  if (m.throughput.length > 0) parts.push(`One-way throughput (median of rounds; ratio = this / Unix socket)\n${throughputTable(m.throughput)}`);
  if (m.contention.length > 0) parts.push(`Small round trip under a stream the other way (µs)\n${contentionTable(m.contention)}`);
  parts.push(`reader: 'worker' against the event-loop reader (both with default options)\n${workerComparison(m)}`);
  const other = otherLines(m);
  if (other.length > 0) parts.push(other.join('\n'));
  parts.push(`Targets (issue 5)\n${targetTable(targets.filter((t) => t.issue === 5))}`);
  parts.push(`Targets (issue 15)\n${targetTable(targets.filter((t) => t.issue === 15))}`);
  return parts.join('\n\n');
}

function contentionTable(results: readonly ContentionResult[]): string {
  const rows = results.map((c) => [TRANSPORT_LABEL[c.transport], `${formatSize(c.pingSize)} / ${formatSize(c.streamSize)}`,
    formatMicros(c.idleMicros.p50), formatMicros(c.idleMicros.p99), formatMicros(c.loadedMicros.p50), formatMicros(c.loadedMicros.p99),
    `${(c.loadedMicros.p99 / c.idleMicros.p99).toFixed(2)}x`, formatBandwidth(c.streamBytesPerSecond)]);
  return renderTable(['transport', 'ping / stream', 'idle p50', 'idle p99', 'loaded p50', 'loaded p99', 'p99 ratio', 'stream'], rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right']);
}

/**
 * The worker reader beside the event-loop reader with the same (default) options: throughput,
 * the receiver's main-thread busy time per message, its event-loop lag, and round trips.
 */
function workerComparison(m: Measured): string {
  if (!m.features.workerReader.available) return `N/A: ${m.features.workerReader.detail}`;
  const rows: string[][] = [];
  for (const w of m.throughput.filter((r) => r.transport === 'shm-worker')) {
    const e = m.throughput.find((r) => r.transport === 'shm-write' && r.size === w.size);
    if (e === undefined) continue;
    const mainPerMessage = (r: ThroughputResult): number => median(r.rounds.map((x) => (x.receiverMainActiveMs * 1e6) / x.messages));
    rows.push([`throughput ${formatSize(w.size)}`, formatRate(e.messagesPerSecond), formatRate(w.messagesPerSecond), ratio(w.messagesPerSecond, e.messagesPerSecond)]);
    rows.push([`recv main thread per message ${formatSize(w.size)}`, `${mainPerMessage(e).toFixed(0)} ns`, `${mainPerMessage(w).toFixed(0)} ns`, ratio(mainPerMessage(w), mainPerMessage(e))]);
    rows.push([`recv lag p99 ${formatSize(w.size)}`, `${e.lagP99Ms.toFixed(2)} ms`, `${w.lagP99Ms.toFixed(2)} ms`, ratio(w.lagP99Ms, e.lagP99Ms)]);
  }
  for (const w of m.rtt.filter((r) => r.transport === 'shm-worker')) {
    const e = m.rtt.find((r) => r.transport === 'shm' && r.size === w.size);
    if (e === undefined) continue;
    for (const p of ['p50', 'p99'] as const) {
      rows.push([`RTT ${formatSize(w.size)} ${p}`, `${formatMicros(e.latencyMicros[p])} µs`, `${formatMicros(w.latencyMicros[p])} µs`, ratio(w.latencyMicros[p], e.latencyMicros[p])]);
    }
  }
  if (m.idle?.worker) rows.push(['idle CPU', `${m.idle.shm.cpuPercent.toFixed(3)} %`, `${m.idle.worker.cpuPercent.toFixed(3)} %`, ratio(m.idle.worker.cpuPercent, m.idle.shm.cpuPercent)]);
  if (rows.length === 0) return 'not measured in this run';
  return renderTable(['what', 'event loop', 'worker', 'worker / event loop'], rows, ['left', 'right', 'right', 'right']);
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : '-';
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
    const reference = r.transport === 'memcpy'; // no receiver: lag and CPU do not apply
    return [formatSize(r.size), TRANSPORT_LABEL[r.transport], r.capacity === null ? '-' : formatBytes(r.capacity),
      formatRate(r.messagesPerSecond), formatBandwidth(r.bytesPerSecond),
      sock ? `${(r.messagesPerSecond / sock.messagesPerSecond).toFixed(2)}x` : '-',
      reference ? '-' : `${r.lagP99Ms.toFixed(2)} ms`,
      reference ? '-' : `${Math.max(...r.rounds.map((x) => x.receiverCpuPercent)).toFixed(0)} %`,
      reference ? '-' : `${Math.max(...r.rounds.map((x) => x.receiverMainPercent)).toFixed(0)} %`];
  });
  return renderTable(['size', 'transport', 'capacity', 'msgs/s', 'bytes/s', 'ratio', 'recv lag p99', 'recv CPU', 'recv main ELU'], rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
}

function otherLines(m: Measured): string[] {
  const lines: string[] = [];
  if (m.idle) {
    const also = [
      ...(m.idle.sync ? [`receiveSync worker (default options) ${m.idle.sync.cpuPercent.toFixed(3)} %`] : []),
      ...(m.idle.worker ? [`reader 'worker' ${m.idle.worker.cpuPercent.toFixed(3)} %`] : []),
    ];
    lines.push(`Idle reader CPU over ${m.idle.seconds} s: shmlink event reader ${m.idle.shm.cpuPercent.toFixed(3)} % of a core, ` +
      `${also.map((a) => `${a}, `).join('')}idle Unix-socket reader ${m.idle.socket.cpuPercent.toFixed(3)} % (whole process, incl. Node itself)`);
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
  return renderTable(['id', 'target', 'goal', 'measured', 'verdict'], targets.map((t) => [t.id, t.what, t.goal, t.measured, t.verdict]),
    ['left', 'left', 'left', 'right', 'left']);
}
