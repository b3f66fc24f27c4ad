// The raw addon and its hand-written typings. Nothing outside this package sees these types; the
// facade classes validate arguments and give them meaning.
import path from 'node:path';
import load from 'node-gyp-build';
import { ShmError } from './errors';

export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

export interface RegionHandle {
  readonly size: number;
  readonly created: boolean;
  readonly closed: boolean;
  close(): void;
  write(offset: number, source: Uint8Array, sourceOffset?: number, length?: number): number;
  readInto(offset: number, target: Uint8Array, targetOffset?: number, length?: number): number;
  view(offset: number, length: number): Buffer;
  detach(view: Uint8Array): void;
  fill(offset: number, length: number, value: number): void;
  load(offset: number): number;
  store(offset: number, value: number): void;
  compareExchange(offset: number, expected: number, replacement: number): number;
  add(offset: number, delta: number): number;
  wait(offset: number, expected: number, timeoutMs?: number): WaitOutcome;
  waitAsync(offset: number, expected: number, timeoutMs?: number, spinMicros?: number): Promise<WaitOutcome>;
  notify(offset: number, count?: number): number;
  flush(): void;
}

/** disposition 0 create, 1 open, 2 create-or-open; access 0 readWrite, 1 read, 2 copyOnWrite. */
export interface RegionHandleConstructor {
  new (
    osName: string | null,
    path: string | null,
    disposition: 0 | 1 | 2,
    size: number,
    access: 0 | 1 | 2,
    permissions: number,
  ): RegionHandle;
}

/** Windows only: a named event kernel object (CreateEventW / OpenEventW), src/kernel_sync_win32.cc. */
export interface KernelEventHandle {
  readonly created: boolean;
  readonly manualReset: boolean;
  readonly closed: boolean;
  set(): void;
  reset(): void;
  isSet(): boolean;
  wait(timeoutMs: number): boolean;
  waitAsync(timeoutMs: number): Promise<'signaled' | 'timed-out' | 'closed'>;
  close(): void;
}

/**
 * Windows only: a named mutex kernel object (CreateMutexW / OpenMutexW) whose waits and releases
 * run on a thread of this handle's own, src/kernel_sync_win32.cc.
 */
export interface KernelMutexHandle {
  readonly created: boolean;
  readonly isLocked: boolean;
  readonly closed: boolean;
  tryLock(): 'acquired' | 'abandoned' | 'busy' | 'already-held';
  lock(timeoutMs: number): 'acquired' | 'abandoned' | 'timed-out' | 'already-held';
  lockAsync(timeoutMs: number): Promise<'acquired' | 'abandoned' | 'timed-out' | 'already-held' | 'closed'>;
  unlock(): 'released' | 'not-held';
  close(): void;
}

export interface Binding {
  RegionHandle: RegionHandleConstructor;
  setErrorClass(ctor: typeof ShmError): void;
  unlink(osName: string): void;
  list(): string[];
  makeFifo(path: string, permissions: number): void;
  /** The fd of the FIFO at `path`, read-write and non-blocking; not tracked by Node's fs (platform.h). */
  openFifo(path: string): number;
  processAlive(pid: number): boolean;
  processStartTime(pid: number): number | null;
  /** The OS id of the calling thread (on Linux: the pid for a main thread, the tid for a worker). */
  currentThreadId(): number;
  platformSupported: boolean;
  /** Present on Windows only. `osName` is "/" + the object's name, as toOsName returns it. */
  KernelEvent?: new (osName: string, create: boolean, manualReset: boolean, initialState: boolean) => KernelEventHandle;
  KernelMutex?: new (osName: string, create: boolean) => KernelMutexHandle;
}

function loadBinding(): Binding {
  const root = path.join(__dirname, '..');
  try {
    return load(root) as Binding;
  } catch (cause) {
    // node-gyp-build's reason first: "No native build was found …", or the loader's own (a
    // prebuild that needs a newer glibc than this machine has says which symbol is missing).
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ShmError(
      'ERR_UNSUPPORTED_PLATFORM',
      `no loadable @shmlink/native binary for ${process.platform}-${process.arch}: ${reason}. ` +
        `Build one from source with 'npm rebuild @shmlink/native' (needs python3, make and a C++17 ` +
        `compiler; in the shmlink repository: 'pnpm --filter @shmlink/native build'). Prebuilt: ` +
        `linux-x64 and linux-arm64 with glibc 2.34 or later, win32-x64.`,
      { cause },
    );
  }
}

export const binding: Binding = loadBinding();
binding.setErrorClass(ShmError);
