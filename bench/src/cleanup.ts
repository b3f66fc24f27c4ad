// Everything the suite creates outside its own heap — shared-memory names, socket files, peer
// processes — is registered here, removed when the benchmark that made it ends, and removed again
// on any exit path (normal end, exception, SIGINT/SIGTERM).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Region } from '@shmlink/native';

/** Every shared-memory name of this run starts with this (short: macOS allows 19 characters). */
export const NAME_PREFIX = `slb${process.pid}-`;
let counter = 0;

const names = new Set<string>();
const socketPaths = new Set<string>();
const children = new Set<ChildProcess>();
/** Ends a worker thread of this process in an orderly way: it leaves its channel with dispose(). */
const stoppers = new Set<() => Promise<void>>();

/** A shared-memory name unique to this run, removed at the end. */
export function uniqueName(): string {
  const name = `${NAME_PREFIX}${++counter}`;
  names.add(name);
  return name;
}

/** A socket file path unique to this run (a Unix socket; ZeroMQ's ipc:// on every platform), removed at the end. */
export function uniqueSocketFile(): string {
  const file = path.join(os.tmpdir(), `shmlink-bench-${process.pid}-${++counter}.sock`);
  socketPaths.add(file);
  return file;
}

/**
 * Where the socket baseline listens, unique to this run: a Unix socket file, or on Windows a named
 * pipe (`\\.\pipe\...`, Node's local stream transport there; no file to remove).
 */
export function uniqueSocketPath(): string {
  return process.platform === 'win32' ? `\\\\.\\pipe\\shmlink-bench-${process.pid}-${++counter}` : uniqueSocketFile();
}

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Registers how to end a worker politely; returns the function that unregisters it. */
export function trackStopper(stop: () => Promise<void>): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

export function releaseName(name: string): void {
  Region.unlinkIfExists(name);
  names.delete(name);
}

/** Ends a shmlink benchmark channel: stops its peer, disposes this side, releases the name. */
export async function closeShmChannel(peer: { stop(): Promise<void> }, comm: { dispose(): void }, name: string): Promise<void> {
  try {
    await peer.stop();
    comm.dispose();
  } finally {
    releaseName(name);
  }
}

export function releaseSocketPath(file: string): void {
  if (!file.startsWith('\\\\.\\pipe\\')) fs.rmSync(file, { force: true }); // a named pipe goes with its server
  socketPaths.delete(file);
}

/** Kills what still runs and removes every name and socket file. Synchronous: safe in 'exit'. */
export function cleanupAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const name of names) {
    try {
      Region.unlinkIfExists(name);
    } catch {
      // keep removing the others
    }
  }
  names.clear();
  for (const file of socketPaths) fs.rmSync(file, { force: true });
  socketPaths.clear();
}

/** Names of this run still present in /dev/shm (should be none after cleanupAll). */
export function leftovers(): string[] {
  return Region.list(NAME_PREFIX);
}

let installed = false;

/** Cleans up on every way out of the process. */
export function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAll();
      // Workers end on their own first, so that they leave their channels (exiting under them is
      // safe, but leaves the names to the cleanup).
      const grace = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
      void Promise.race([Promise.allSettled([...stoppers].map((stop) => stop())), grace]).then(() =>
        process.exit(128 + (os.constants.signals[signal] ?? 0)),
      );
    });
  }
}
