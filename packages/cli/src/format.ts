// Rendering for people: sizes, ages, tables, the decoded header. JSON output skips all of this.
import type { HalfHeader, PartySlot } from '@shmlink/core';
import type { ShmObject } from './objects';

export function bytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function age(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** "123 (alive)", "123 (dead)", "123 (left)", "123 (claiming, alive)", "-" — a slot in a few words. */
export function slot(s: PartySlot): string {
  if (s.state === 'none') return '-';
  if (s.state === 'left') return `${s.pid} (left)`;
  if (s.state === 'invalid') return `${s.pid} (state ${s.stateValue}?)`;
  if (s.state === 'claiming') return `${s.stateValue & 0x7fffffff} (claiming, ${s.alive ? 'alive' : 'dead'})`;
  return `${s.pid} (${s.alive ? 'alive' : 'dead'})`;
}

/** Side x: the producer of the half it writes (its consumer slot is in the other half). */
export function sides(object: ShmObject): string {
  const halves = object.channel?.halves ?? [];
  return halves.map((h) => `${h.writtenBy}:${slot(h.producer)}`).join(' ');
}

/** Bytes waiting per direction: "a→b 12 B, b→a 0 B". */
export function waiting(halves: HalfHeader[]): string {
  return halves.map((h) => `${h.writtenBy}→${h.writtenBy === 'a' ? 'b' : 'a'} ${h.used === null ? '?' : bytes(h.used)}`).join(', ');
}

const SLEEP = ['awake', 'futex', 'doorbell'];

/** The decoded header, field by field (docs/protocol.md §2). */
export function halfReport(h: HalfHeader): string {
  const reader = h.writtenBy === 'a' ? 'b' : 'a';
  const party = (name: string, s: PartySlot): string =>
    `  ${name.padEnd(9)} pid ${s.pid}  state ${s.stateValue} (${s.state}${s.state === 'attached' ? (s.alive ? ', alive' : ', dead') : ''})  epoch ${s.epoch}  start ${s.startTime}`;
  return [
    `half ${h.writtenBy}→${reader} at offset ${h.base} (written by side ${h.writtenBy}, read by side ${reader})`,
    `  magic     0x${h.magic.toString(16)}  version ${h.version}  headerSize ${h.headerSize}  ringSize ${h.ringSize}  halfSize ${h.halfSize}`,
    `  cursors   tail ${h.tail}  head ${h.head}  waiting ${h.used === null ? 'invalid' : `${h.used} bytes`}`,
    `  flags     producerWaiting ${h.producerWaiting} (${SLEEP[h.producerWaiting] ?? 'invalid'})  consumerSleeping ${h.consumerSleeping} (${SLEEP[h.consumerSleeping] ?? 'invalid'})  orphan ${h.orphan}`,
    party('producer', h.producer),
    party('consumer', h.consumer),
  ].join('\n');
}
