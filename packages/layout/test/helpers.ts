// Shared by the layout tests: the seed's struct (seed 002, the C# article, docs/seeds.md), unique
// names, cleanup, small waits.
import path from 'node:path';
import { NamedMutex, Region } from '@shmlink/native';
import { bytes, defineLayout } from '@shmlink/layout';

export const FIXTURES = path.join(__dirname, 'fixtures');

/** The seed's ProcessControllerData / ControllerData; fixtures/*.js declare the same fields. */
export const Controller = defineLayout({
  timestamp: 'f64',
  totalDuration: 'f64',
  paused: 'i32',
  muted: 'i32',
  heartbeat: 'i32',
  controlFlags: 'i32',
  dataLength: 'i32',
  messageBuffer: bytes(1024),
});

// Every object a test creates carries this prefix, so leftovers are easy to find.
export const PREFIX = `lay${process.pid}-`;
let counter = 0;
const used = new Set<string>();

export function uniqueName(): string {
  const name = `${PREFIX}${++counter}`;
  used.add(name);
  return name;
}

// Jest's sandbox has no Symbol.dispose, so tests close what they open through open() instead of `using`.
const handles: { close(): void }[] = [];

/** Remembers `handle` so that cleanup() closes it after the test. */
export function open<T extends { close(): void }>(handle: T): T {
  handles.push(handle);
  return handle;
}

/** Closes every handle from open() and removes every name from uniqueName(). */
export function cleanup(): void {
  for (const handle of handles.splice(0)) handle.close();
  removeNames();
}

export function removeNames(): void {
  for (const name of used) {
    Region.unlinkIfExists(name);
    NamedMutex.unlink(name);
  }
  used.clear();
}

export function leftovers(): string[] {
  return Region.list().filter((n) => n.includes(PREFIX));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until(check: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Runs `fn` and returns the ShmError code it threw (undefined when it did not throw). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
