// Talking to a channel from a shell: send and listen. Both join the channel as one of its sides
// (the free one, or --side), so a side held by a live process is refused (ERR_INVALID_STATE).
import readline from 'node:readline';
import { Communicator, type CommunicatorOptions, type Side } from '@shmlink/core';
import { ShmError } from '@shmlink/native';
import { EXIT } from './exit-codes';
import { describe } from './objects';
import type { Output } from './commands';

/**
 * Joins an existing channel. Anything else is refused (ERR_LAYOUT_MISMATCH): joining writes a
 * header, which would overwrite a plain region's bytes — the command never creates a channel.
 */
function open(name: string, side: Side | undefined, extra: CommunicatorOptions = {}): Communicator {
  const object = describe(name);
  if (object.kind !== 'channel') {
    throw new ShmError('ERR_LAYOUT_MISMATCH', `'${name}' is not a channel: it is a ${object.kind} (the command joins channels an application started)`);
  }
  return Communicator.open(name, { ...extra, ...(side === undefined ? {} : { side }) });
}

/**
 * Sends TEXT as one message, or with '-' (or no TEXT) each line of stdin as a message; waits
 * until every message is committed (at most `timeout` ms each: ERR_TIMEOUT, exit 7), then leaves.
 */
export async function send(name: string, text: string | undefined, options: { side?: Side; timeout: number }, io: Output, stdin: NodeJS.ReadableStream): Promise<number> {
  const comm = open(name, options.side, { timeout: options.timeout });
  try {
    let count = 0;
    if (text !== undefined && text !== '-') {
      await comm.write(text);
      count = 1;
    } else {
      const writes: Promise<void>[] = [];
      for await (const line of readline.createInterface({ input: stdin, crlfDelay: Infinity })) {
        writes.push(comm.write(line));
        count++;
      }
      await Promise.all(writes);
    }
    io.err(`sent ${count} message${count === 1 ? '' : 's'} to ${name} as side ${comm.side}`);
    return EXIT.ok;
  } finally {
    await comm.disposeAsync();
  }
}

export type ListenFormat = 'text' | 'json' | 'hex';

function render(message: Buffer, format: ListenFormat): string {
  if (format === 'hex') return message.toString('hex');
  if (format === 'text') return message.toString('utf8');
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return JSON.stringify({ time: new Date().toISOString(), length: message.length, text: text.decode(message) });
  } catch {
    return JSON.stringify({ time: new Date().toISOString(), length: message.length, base64: message.toString('base64') });
  }
}

/**
 * Prints every message as it arrives, one per line, until SIGINT or SIGTERM (then it leaves the
 * channel in order and exits 0). Peer events go to stderr.
 */
export async function listen(name: string, options: { side?: Side; format: ListenFormat }, io: Output): Promise<number> {
  const comm = open(name, options.side);
  const stop = (): void => comm.dispose();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  comm.on('peer', (event) => io.err(`peer ${event.type} (pid ${event.pid})`));
  try {
    const messages = comm.messages();
    // Joining happens at the first read: say so only once this side holds its slots.
    const first = messages.next();
    if (comm.readerRunning) io.err(`listening on ${name} as side ${comm.side} (Ctrl-C to stop)`);
    for (let next = await first; !next.done; next = await messages.next()) io.out(render(next.value, options.format));
    return EXIT.ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    comm.dispose();
  }
}
