// A live view of a channel's traffic: per direction, messages and bytes per second and what waits
// in the ring. It reads the headers only (read-only mapping), so it never takes a side.
import { countMessages, inspectChannel, type HalfHeader } from '@shmlink/core';
import { Region, ShmError } from '@shmlink/native';
import { EXIT } from './exit-codes';
import { bytes } from './format';
import type { Output } from './commands';

interface Sample {
  at: number;
  halves: HalfHeader[];
}

function rate(n: number, seconds: number): string {
  const r = n / seconds;
  return r >= 100 ? Math.round(r).toString() : r.toFixed(1);
}

/** One direction's line: rates since the previous sample and the queue now. */
function directionLine(region: Region, before: HalfHeader, now: HalfHeader, seconds: number): string {
  const wrap = Math.floor(0x100000000 / now.ringSize) * now.ringSize;
  const sent = (now.tail - before.tail + wrap) % wrap;
  const counted = countMessages(region, now, before.tail, now.tail);
  // More than a ring's worth went by, or the producer overwrote the start: extrapolate.
  const messages = counted.complete || counted.walked === 0 ? counted.messages : (counted.messages * sent) / counted.walked;
  const approx = counted.complete ? '' : '~';
  const queued = now.used === null ? null : countMessages(region, now, now.head, now.tail);
  const depth = queued === null ? '?' : `${queued.complete ? '' : '~'}${queued.messages} msg ${bytes(now.used)}`;
  const reader = now.writtenBy === 'a' ? 'b' : 'a';
  return `${now.writtenBy}→${reader}  ${approx}${rate(messages, seconds)} msg/s  ${bytes(Math.round(sent / seconds))}/s  queued ${depth}`;
}

/**
 * Samples the channel every `interval` ms. On a terminal it redraws in place; piped, it prints
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
    const read = (): Sample => {
      const channel = inspectChannel(region);
      if (channel === null) throw new ShmError('ERR_LAYOUT_MISMATCH', `'${name}' is not a channel (no channel header)`);
      if (channel.health === 'corrupt') throw new ShmError('ERR_CORRUPT', `'${name}' is corrupt: ${channel.problems.join('; ')}`);
      return { at: performance.now(), halves: channel.halves };
    };
    let previous = read();
    let drawn = 0;
    for (let n = 0; !stopped && (options.count === undefined || n < options.count); n++) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.interval);
      });
      if (stopped) break;
      const current = read();
      const seconds = (current.at - previous.at) / 1000;
      const lines = current.halves.map((h, i) => directionLine(region, previous.halves[i] ?? h, h, seconds));
      if (tty) {
        // Move up over the previous drawing and clear each line before writing it again.
        io.out(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}`);
        drawn = lines.length;
      } else {
        io.out(`${new Date().toISOString()}  ${lines.join('  |  ')}`);
      }
      previous = current;
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    region.close();
  }
}
