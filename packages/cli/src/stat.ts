// A live view of a channel's traffic: per direction, messages and bytes per second and what waits
// in the ring. It reads the headers only (read-only mapping), so it never takes a side.
import { countMessages, inspectChannel, type HalfHeader } from '@shmlink/core';
import { Region, ShmError } from '@shmlink/native';
import { EXIT } from './exit-codes';
import { bytes } from './format';
import type { Output } from './commands';

/** Ticks between samples: the frames published since the last tick are still in the ring
 *  unless more than a ring's worth went by, so messages are counted, not guessed, at most rates. */
const TICK_MS = 10;

/** One direction's traffic since the last printed sample. */
interface Traffic {
  bytes: number;
  messages: number;
  /** Some ticks' frames were overwritten before they were counted: `messages` is partly estimated. */
  estimated: boolean;
}

function rate(n: number, seconds: number): string {
  const r = n / seconds;
  return r >= 100 ? Math.round(r).toString() : r.toFixed(1);
}

/**
 * Adds what `now` published since `before` to `traffic`. Where the frames are gone, it estimates
 * from the frame size seen last (`sizes`, ring bytes per message per half).
 */
function account(region: Region, before: HalfHeader, now: HalfHeader, traffic: Traffic, sizes: Map<number, number>): void {
  const wrap = Math.floor(0x100000000 / now.ringSize) * now.ringSize;
  const sent = (now.tail - before.tail + wrap) % wrap;
  if (sent === 0) return;
  traffic.bytes += sent;
  const counted = countMessages(region, now, before.tail, now.tail);
  if (counted.messages > 0) sizes.set(now.base, counted.walked / counted.messages);
  if (counted.complete) {
    traffic.messages += counted.messages;
    return;
  }
  traffic.estimated = true;
  const perMessage = sizes.get(now.base);
  if (perMessage !== undefined) traffic.messages += sent / perMessage;
}

function directionLine(region: Region, now: HalfHeader, traffic: Traffic, seconds: number, sizes: Map<number, number>): string {
  const queued = now.used === null ? null : countMessages(region, now, now.head, now.tail);
  const unknown = traffic.estimated && !sizes.has(now.base);
  const messages = unknown ? '?' : `${traffic.estimated ? '~' : ''}${rate(traffic.messages, seconds)}`;
  const depth = queued === null ? '?' : `${queued.complete ? '' : '~'}${queued.messages} msg ${bytes(now.used)}`;
  const reader = now.writtenBy === 'a' ? 'b' : 'a';
  return `${now.writtenBy}→${reader}  ${messages} msg/s  ${bytes(Math.round(traffic.bytes / seconds))}/s  queued ${depth}`;
}

/**
 * Samples the channel every `interval` ms (counting frames every TICK_MS). On a terminal it redraws in place; piped, it prints
 * one line per interval (both directions). Stops after `count` samples, or at SIGINT/SIGTERM.
 */
export async function stat(name: string, options: { interval: number; count?: number }, io: Output, tty: boolean): Promise<number> {
  const region = Region.open(name, { access: 'read' });
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopped = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const read = (): HalfHeader[] => {
      const channel = inspectChannel(region);
      if (channel === null) throw new ShmError('ERR_LAYOUT_MISMATCH', `'${name}' is not a channel (no channel header)`);
      if (channel.health === 'corrupt') throw new ShmError('ERR_CORRUPT', `'${name}' is corrupt: ${channel.problems.join('; ')}`);
      return channel.halves;
    };
    const sizes = new Map<number, number>();
    let halves = read();
    let drawn = 0;
    for (let n = 0; !stopped && (options.count === undefined || n < options.count); n++) {
      const started = performance.now();
      const traffic: Traffic[] = halves.map(() => ({ bytes: 0, messages: 0, estimated: false }));
      // Count at every tick (the ring keeps only its last lap), print at the interval.
      for (let left = options.interval; left > 0 && !stopped; left = options.interval - (performance.now() - started)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(TICK_MS, left));
        });
        const now = read();
        now.forEach((h, i) => account(region, halves[i] ?? h, h, traffic[i]!, sizes));
        halves = now;
      }
      if (stopped) break;
      const seconds = (performance.now() - started) / 1000;
      const lines = halves.map((h, i) => directionLine(region, h, traffic[i]!, seconds, sizes));
      if (tty) {
        // Move up over the previous drawing and clear each line before writing it again.
        io.out(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}`);
        drawn = lines.length;
      } else {
        io.out(`${new Date().toISOString()}  ${lines.join('  |  ')}`);
      }
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    region.close();
  }
}
