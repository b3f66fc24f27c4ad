// The targets of issue 15 (fast with the defaults a user writes, ahead of ZeroMQ), evaluated
// against one run's results; every ratio is within the run. Ids start with "i15-".
import type { Features } from './features';
import { targetRow } from './target-row';
import type { Measured } from './targets';
import { SHM_RTT, SHM_THROUGHPUT, TRANSPORT_LABEL, type IdleSide, type RttResult, type TargetRow, type ThroughputResult, type Transport } from './types';
import { formatSize } from './units';

const KiB = 1024;
const MiB = 1024 * 1024;


/** Sizes in target ids: 64, 1k, 64k, 1m. */
export function sizeId(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB}m`;
  if (bytes % KiB === 0) return `${bytes / KiB}k`;
  return String(bytes);
}

const x = (r: number): string => `${r.toFixed(2)}x`;
const us = (v: number): string => `${v.toFixed(2)} µs`;

export function evaluateIssue15(m: Measured): TargetRow[] {
  const rows: TargetRow[] = [];
  const add = (id: string, what: string, goal: string, value: number | null, show: (v: number) => string, ok: (v: number) => boolean, missing?: string): void => {
    rows.push(targetRow(15, `i15-${id}`, what, goal, value, show, ok, missing));
  };
  const tp = (transport: Transport, size: number): ThroughputResult | undefined =>
    m.throughput.find((r) => r.transport === transport && r.size === size);
  const rtt = (transport: Transport, size: number): RttResult | undefined =>
    m.rtt.find((r) => r.transport === transport && r.size === size);
  const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : a / b);

  // Throughput with the defaults: write() per message, copying receive, no options.
  for (const size of [64, KiB]) {
    const defaults = tp('shm-write', size)?.messagesPerSecond;
    add(`defaults-vs-corked-${sizeId(size)}`, `defaults throughput ${formatSize(size)} vs corked socket`, '>= 2x',
      ratio(defaults, tp('socket-corked', size)?.messagesPerSecond), x, (r) => r >= 2);
    add(`defaults-vs-socket-${sizeId(size)}`, `defaults throughput ${formatSize(size)} vs plain socket`, '>= 8x',
      ratio(defaults, tp('socket', size)?.messagesPerSecond), x, (r) => r >= 8);
  }
  // Only meaningful while the "shmlink events" rows send with send() (the default of --shm-send).
  add('write-vs-send-64', 'write() vs send() at 64 B (both copying receive)', '>= 0.8x',
    m.shmSendApi === 'send' ? ratio(tp('shm-write', 64)?.messagesPerSecond, tp('shm', 64)?.messagesPerSecond) : null, x, (r) => r >= 0.8,
    m.shmSendApi === 'send' ? undefined : 'N/A: the events rows used write() (--shm-send write)');

  // Copying receive at large sizes: the defaults row decides; send()'s copying row is shown beside.
  for (const size of [64 * KiB, MiB]) {
    const defaults = tp('shm-write', size)?.bytesPerSecond;
    const viaSend = tp('shm', size)?.bytesPerSecond;
    for (const [id, ref, goal, min] of [['socket', 'socket', '>= 4x', 4], ['memcpy', 'memcpy', '>= 0.5x', 0.5]] as const) {
      const base = tp(ref, size)?.bytesPerSecond;
      const beside = viaSend !== undefined && base !== undefined ? ` (send() ${x(viaSend / base)})` : '';
      add(`copy-vs-${id}-${sizeId(size)}`, `copying receive ${formatSize(size)} bytes/s vs ${ref === 'socket' ? 'plain socket' : '1-core memcpy'}`,
        goal, ratio(defaults, base), (r) => `${x(r)}${beside}`, (r) => r >= min);
    }
  }

  // Event-API round trips against the socket.
  for (const size of [64, KiB]) {
    const ev = rtt('shm', size)?.latencyMicros;
    const sock = rtt('socket', size)?.latencyMicros;
    add(`rtt-event-p50-${sizeId(size)}`, `event RTT ${formatSize(size)} p50 vs socket`, '<= 0.25x', ratio(ev?.p50, sock?.p50), x, (r) => r <= 0.25);
    add(`rtt-event-p99-${sizeId(size)}`, `event RTT ${formatSize(size)} p99 vs socket`, '<= 0.5x', ratio(ev?.p99, sock?.p99), x, (r) => r <= 0.5);
  }

  // receiveSync with default options; the spinning variant shown beside.
  for (const size of [64, KiB]) {
    const spin = rtt('sync', size)?.latencyMicros.p50;
    add(`rtt-sync-default-p50-${sizeId(size)}`, `receiveSync RTT ${formatSize(size)} p50, default options`, '<= 2 µs',
      rtt('sync-default', size)?.latencyMicros.p50 ?? null, (v) => `${us(v)}${spin === undefined ? '' : ` (spin: ${us(spin)})`}`, (v) => v <= 2);
  }
  rows.push(idleRow(m));
  rows.push(lagRow(m));
  rows.push(contentionRow(m));
  rows.push(...zmqRows(m, m.features));
  return rows;
}

/** The worst idle CPU of the readers that default options give: the event reader, receiveSync, the worker reader. */
function idleRow(m: Measured): TargetRow {
  const idle = m.idle;
  const all: [string, IdleSide | null][] = idle === null ? [] : [['events', idle.shm], ['receiveSync', idle.sync], ['worker', idle.worker]];
  const sides = all.filter((s): s is [string, IdleSide] => s[1] !== null);
  const worst = sides.length === 0 ? null : Math.max(...sides.map(([, s]) => s.cpuPercent));
  const detail = sides.map(([name, s]) => `${name} ${s.cpuPercent.toFixed(3)} %`).join(', ');
  return targetRow(15, 'i15-idle-cpu', `idle CPU, default options${idle ? ` over ${idle.seconds} s` : ''} (worst reader)`, '< 1 %',
    worst, () => detail, (v) => v < 1);
}

/** The worst receiver event-loop lag p99 over every shmlink throughput row (all sizes, all modes). */
function lagRow(m: Measured): TargetRow {
  const shm = m.throughput.filter((r) => SHM_THROUGHPUT.includes(r.transport));
  const worst = shm.reduce<ThroughputResult | undefined>((a, r) => (a === undefined || r.lagP99Ms > a.lagP99Ms ? r : a), undefined);
  return targetRow(15, 'i15-lag', 'receiver event-loop lag p99 at full rate (worst row)', '<= 5 ms', worst?.lagP99Ms ?? null,
    (v) => `${v.toFixed(2)} ms (${TRANSPORT_LABEL[worst!.transport]}, ${formatSize(worst!.size)})`, (v) => v <= 5);
}

/** Small round trip p99 under a 1 MiB stream against its idle p99 (shmlink defaults; the socket beside). */
function contentionRow(m: Measured): TargetRow {
  const shm = m.contention.find((c) => c.transport === 'shm-write');
  const sock = m.contention.find((c) => c.transport === 'socket');
  const factor = (c: NonNullable<typeof shm>): number => c.loadedMicros.p99 / c.idleMicros.p99;
  return targetRow(15, 'i15-contention-p99', 'small RTT p99 under a 1 MiB stream vs idle p99', '<= 2x', shm ? factor(shm) : null,
    (r) => `${x(r)} (${us(shm!.idleMicros.p99)} -> ${us(shm!.loadedMicros.p99)}${sock ? `; socket ${x(factor(sock))}` : ''})`, (r) => r <= 2);
}

/**
 * Every shmlink mode ahead of ZeroMQ: per throughput size the slowest shmlink row against ZeroMQ
 * (> 1x), per round-trip size the worst of p50 and p99 of every shmlink round trip against
 * ZeroMQ's (< 1x). N/A, naming the reason, when ZeroMQ did not run.
 */
function zmqRows(m: Measured, features: Features): TargetRow[] {
  const missing = features.zmq.available ? 'ZeroMQ not measured' : `N/A: ${features.zmq.detail}`;
  const rows: TargetRow[] = [];
  const sizes = [...new Set(m.throughput.map((r) => r.size))];
  for (const size of sizes.length > 0 ? sizes : [64, KiB, 64 * KiB, MiB]) {
    const zmq = m.throughput.find((r) => r.transport === 'zmq' && r.size === size);
    const shm = m.throughput.filter((r) => r.size === size && SHM_THROUGHPUT.includes(r.transport));
    const worst = zmq === undefined ? undefined : shm.reduce<ThroughputResult | undefined>((a, r) => (a === undefined || r.messagesPerSecond < a.messagesPerSecond ? r : a), undefined);
    rows.push(targetRow(15, `i15-zmq-throughput-${sizeId(size)}`, `every shmlink mode vs ZeroMQ, throughput ${formatSize(size)} (slowest)`, '> 1x',
      worst && zmq ? worst.messagesPerSecond / zmq.messagesPerSecond : null, (r) => `${x(r)} (${TRANSPORT_LABEL[worst!.transport]})`, (r) => r > 1, missing));
  }
  const rttSizes = [...new Set(m.rtt.map((r) => r.size))];
  for (const size of rttSizes.length > 0 ? rttSizes : [64, KiB]) {
    const zmq = m.rtt.find((r) => r.transport === 'zmq' && r.size === size)?.latencyMicros;
    let worst: { value: number; label: string } | undefined;
    for (const r of m.rtt.filter((r) => r.size === size && SHM_RTT.includes(r.transport))) {
      if (zmq === undefined) break;
      for (const p of ['p50', 'p99'] as const) {
        const value = r.latencyMicros[p] / zmq[p];
        if (worst === undefined || value > worst.value) worst = { value, label: `${TRANSPORT_LABEL[r.transport]} ${p}` };
      }
    }
    rows.push(targetRow(15, `i15-zmq-rtt-${sizeId(size)}`, `every shmlink mode vs ZeroMQ, RTT ${formatSize(size)} p50/p99 (worst)`, '< 1x',
      worst?.value ?? null, (r) => `${x(r)} (${worst!.label})`, (r) => r < 1, missing));
  }
  return rows;
}
