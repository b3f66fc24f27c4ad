// Shared by the peer scripts: control messages to and from the parent, and a clean exit on
// 'stop', on a lost parent and on failure (the peer's own names are removed on the way out).
import net from 'node:net';
import { Region } from '@shmlink/native';
import { FrameParser } from '../socket-framing';
import { isControl, type Control } from './protocol';

const stopHandlers: (() => void | Promise<void>)[] = [];
const controlHandlers = new Map<string, (msg: Control) => void>();
const ownedNames = new Set<string>();
let stopping = false;

export function send(msg: Control | Uint8Array): void {
  process.send?.(msg);
}

/** Registers what to do before exiting (dispose communicators, close sockets). */
export function onStop(handler: () => void | Promise<void>): void {
  stopHandlers.push(handler);
}

export function onControl(type: string, handler: (msg: Control) => void): void {
  controlHandlers.set(type, handler);
}

/** A shared-memory name this peer uses: removed if the peer ends abnormally. */
export function ownName(name: string): void {
  ownedNames.add(name);
}

export function isStopping(): boolean {
  return stopping;
}

/** Runs the stop handlers and exits with `code`. */
export async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const handler of stopHandlers) {
    try {
      await handler();
    } catch (err) {
      console.error(`[bench peer ${process.pid}] while stopping:`, err);
      code = code || 1;
    }
  }
  if (code !== 0) for (const name of ownedNames) Region.unlinkIfExists(name);
  process.exit(code);
}

/** Reports the failure to the parent and exits. */
export function fail(err: unknown): void {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (!process.connected || process.send === undefined) {
    void stop(1);
    return;
  }
  // Exit once the report is out (or after a second, should the channel be stuck).
  const timer = setTimeout(() => void stop(1), 1000);
  process.send({ type: 'error', message }, () => {
    clearTimeout(timer);
    void stop(1);
  });
}

/** The argument at `index` of the peer's command line, required. */
export function arg(index: number): string {
  const value = process.argv[2 + index];
  if (value === undefined) throw new Error(`peer ${process.argv[1]}: missing argument ${index}`);
  return value;
}

process.on('message', (msg: unknown) => {
  if (!isControl(msg)) return;
  if (msg.type === 'stop') {
    void stop(0);
    return;
  }
  controlHandlers.get(msg.type)?.(msg);
});
// The parent went away (killed, crashed): leave nothing behind.
process.on('disconnect', () => void stop(1));
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/**
 * Connects to the parent's Unix socket at `path` and hands each length-prefixed frame to
 * `onFrame`; reports 'ready' once connected. Destroyed on stop; an error before then fails.
 */
export function connectFramed(path: string, onFrame: (frame: Buffer) => void): net.Socket {
  const socket = net.connect(path);
  onStop(() => {
    socket.destroy();
  });
  const parser = new FrameParser(onFrame);
  socket.on('data', (chunk: Buffer) => parser.push(chunk));
  socket.on('error', (err) => {
    if (!isStopping()) fail(err);
  });
  socket.on('connect', () => send({ type: 'ready' }));
  return socket;
}
