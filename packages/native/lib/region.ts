import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { binding, type RegionHandle, type WaitOutcome } from './binding';
import { ShmError } from './errors';
import { toOsName } from './names';
import { assertInteger, assertPath, checkOneOf, checkOptions, checkTimeout } from './validate';

export type { WaitOutcome } from './binding';
export type Access = 'readWrite' | 'read' | 'copyOnWrite';
/** What opening does about an existing object; `mode` is only ever the permission bits. */
export type Disposition = 'create' | 'open' | 'createOrOpen';

export interface RegionOptions {
  /** Map this file instead of POSIX shared memory: a persisted region that outlives every process. */
  path?: string;
  /** 'readWrite' (default), 'read' (writes fail with ERR_PERMISSION), 'copyOnWrite' (writes stay private). */
  access?: Access;
  /** Permission bits for a created object; default 0o600 (owner only). */
  mode?: number;
}

export interface OpenOptions extends RegionOptions {
  /** When given, the opened object must have exactly this size (ERR_LAYOUT_MISMATCH otherwise). */
  size?: number;
}

// The addon takes both as their index here.
const ACCESS: readonly Access[] = ['readWrite', 'read', 'copyOnWrite'];
const DISPOSITION: readonly Disposition[] = ['create', 'open', 'createOrOpen'];
const OPTION_KEYS = ['path', 'access', 'mode', 'size'] as const;
// mmap cannot map more than the address space; 2^46 keeps every offset exact in a double.
const MAX_SIZE = 2 ** 46;

/** Refuses blocking calls on Node's main thread, where they would freeze the event loop. */
export function assertMayBlock(what: string): void {
  if (isMainThread) {
    throw new ShmError(
      'ERR_NOT_MAIN_THREAD_SAFE',
      `${what} blocks the calling thread and is refused on Node's main thread; call it in a ` +
        `worker thread or use the async variant`,
    );
  }
}

/**
 * Opens the object `prefix + name` (NamedEvent, NamedMutex). Only `name` is the caller's: it is
 * validated like any name, before the prefix is added, so that '' or 42 cannot slip through as
 * 'shmlink.ev.' or 'shmlink.ev.42' and a name of maxNameLength works for every kind of object.
 */
export let openPrefixed: (
  prefix: string,
  name: string,
  disposition: Disposition,
  size: number,
  options?: OpenOptions,
) => Region;

/** Removes the object `prefix + name` if it exists (`name` validated as in openPrefixed). */
export function unlinkPrefixed(prefix: string, name: string): boolean {
  const osName = toOsName(name, prefix);
  try {
    binding.unlink(osName);
    return true;
  } catch (err) {
    if (err instanceof ShmError && err.code === 'ERR_SHM_NOT_FOUND') return false;
    throw err;
  }
}

/**
 * A named region of shared memory mapped into this process (POSIX shared memory by default, a file
 * with `path`). Reads and writes copy in and out of the mapping, so it works where external
 * ArrayBuffers are forbidden (Electron's memory cage).
 */
export class Region {
  readonly name: string;
  readonly persisted: boolean;
  readonly access: Access;
  readonly path: string | undefined;
  #handle: RegionHandle;

  private constructor(name: string, handle: RegionHandle, options: OpenOptions) {
    this.name = name;
    this.#handle = handle;
    this.persisted = options.path !== undefined;
    this.path = options.path;
    this.access = options.access ?? 'readWrite';
  }

  /** Creates a new region; fails with ERR_SHM_EXISTS when the name (or file) already exists. */
  static create(name: string, size: number, options?: RegionOptions): Region {
    return Region.#open(name, 'create', size, options);
  }

  /** Opens an existing region; fails with ERR_SHM_NOT_FOUND when there is none. */
  static open(name: string, options?: OpenOptions): Region {
    const opts = checkOptions<OpenOptions>(options, 'options', OPTION_KEYS);
    if (opts.size !== undefined) assertInteger(opts.size, 'size', 1, MAX_SIZE);
    return Region.#open(name, 'open', opts.size ?? 0, opts);
  }

  /** Opens the region if it exists (its size must equal `size`), creates it otherwise. */
  static createOrOpen(name: string, size: number, options?: RegionOptions): Region {
    return Region.#open(name, 'createOrOpen', size, options);
  }

  /** Removes a shared-memory name (the memory lives on until every mapping of it is closed). */
  static unlink(name: string, options?: { path?: string }): void {
    const opts = checkOptions<{ path: string }>(options, 'options', ['path']);
    const osName = toOsName(name);
    if (opts.path !== undefined) {
      try {
        fs.unlinkSync(opts.path);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_SHM_NOT_FOUND' : 'ERR_SYSTEM';
        throw new ShmError(code, `unlink '${opts.path}': ${(cause as Error).message}`, { cause });
      }
      return;
    }
    binding.unlink(osName);
  }

  /** Removes the name if it exists; returns whether it did. */
  static unlinkIfExists(name: string, options?: { path?: string }): boolean {
    try {
      Region.unlink(name, options);
      return true;
    } catch (err) {
      if (err instanceof ShmError && err.code === 'ERR_SHM_NOT_FOUND') return false;
      throw err;
    }
  }

  /**
   * Names of the shared-memory objects on this machine that start with `prefix` — the way to find
   * what a crashed process left behind (POSIX objects outlive their creators until unlinked).
   */
  static list(prefix = ''): string[] {
    if (typeof prefix !== 'string') throw new ShmError('ERR_INVALID_ARGUMENT', 'prefix must be a string');
    return binding.list().filter((n) => n.startsWith(prefix)).sort();
  }

  static {
    openPrefixed = (prefix, name, disposition, size, options) => Region.#open(name, disposition, size, options, prefix);
  }

  static #open(name: string, disposition: Disposition, size: number, options: OpenOptions | undefined, prefix = ''): Region {
    const opts = checkOptions<OpenOptions>(options, 'options', OPTION_KEYS);
    const osName = toOsName(name, prefix);
    if (disposition !== 'open') assertInteger(size, 'size', 1, MAX_SIZE);
    const access = checkOneOf(opts.access, 'access', ACCESS, 'readWrite');
    const permissions = opts.mode ?? 0o600;
    assertInteger(permissions, 'mode', 0, 0o777);
    if (opts.path !== undefined) assertPath(opts.path);
    if (disposition !== 'open' && access === 'read') {
      throw new ShmError('ERR_INVALID_ARGUMENT', "access 'read' can only open an existing region");
    }
    const handle = new binding.RegionHandle(
      opts.path === undefined ? osName : null,
      opts.path ?? null,
      DISPOSITION.indexOf(disposition) as 0 | 1 | 2,
      size,
      ACCESS.indexOf(access) as 0 | 1 | 2,
      permissions,
    );
    return new Region(prefix + name, handle, { ...opts, access });
  }

  /** Size of the mapping in bytes. */
  get size(): number {
    return this.#handle.size;
  }

  /** Whether this call created the object (false when it opened an existing one). */
  get created(): boolean {
    return this.#handle.created;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Copies `source` (or `length` bytes of it from `sourceOffset`) to `offset`; returns the count. */
  write(offset: number, source: Uint8Array, sourceOffset?: number, length?: number): number {
    return this.#handle.write(offset, source, sourceOffset, length);
  }

  /** Copies `length` bytes at `offset` out into a new Buffer. */
  read(offset: number, length: number): Buffer {
    // A pooled or uninitialised Buffer filled by readInto is several times faster than a copy the
    // addon allocates (measured: 1 MiB in ~140 µs against ~450 µs); the addon checks the range.
    assertInteger(length, 'length', 0, MAX_SIZE);
    const target = Buffer.allocUnsafe(length);
    this.#handle.readInto(offset, target);
    return target;
  }

  /** Copies bytes at `offset` into `target` (from `targetOffset`, `length` bytes); returns the count. */
  readInto(offset: number, target: Uint8Array, targetOffset?: number, length?: number): number {
    return this.#handle.readInto(offset, target, targetOffset, length);
  }

  /**
   * A Buffer over `length` bytes of the mapping at `offset` (default: all of it) — the shared
   * bytes themselves, no copy. What it shows changes whenever any process writes there, so data
   * from another process must be checked where it is used, or copied first. It keeps the mapping
   * alive while referenced (even after close()), so holding it never faults; detach() lets go of
   * it sooner. Not for regions opened with access 'read' (ERR_PERMISSION: a Buffer cannot be
   * read-only); ERR_UNSUPPORTED_PLATFORM where the runtime forbids external memory (Electron's V8
   * sandbox).
   */
  view(offset = 0, length?: number): Buffer {
    assertInteger(offset, 'offset', 0, MAX_SIZE);
    const size = this.#handle.size;
    const count = length ?? Math.max(0, size - offset);
    assertInteger(count, 'length', 0, MAX_SIZE);
    return this.#handle.view(offset, count);
  }

  /**
   * Empties a Buffer that view() returned, together with every Buffer over the same memory (its
   * subarrays): their length becomes 0, and the mapping is released at close() instead of when
   * the garbage collector finds them. A view already detached is left alone; any other Buffer is
   * ERR_INVALID_ARGUMENT.
   */
  detach(view: Uint8Array): void {
    this.#handle.detach(view);
  }

  /** Sets `length` bytes at `offset` to `value`. */
  fill(offset: number, length: number, value = 0): void {
    this.#handle.fill(offset, length, value);
  }

  /** Atomic 32-bit load (sequentially consistent); `offset` must be a multiple of 4. */
  load(offset: number): number {
    return this.#handle.load(offset);
  }

  /** Atomic 32-bit store (sequentially consistent). */
  store(offset: number, value: number): void {
    this.#handle.store(offset, value);
  }

  /** Atomic compare-and-swap; returns the value found, which equals `expected` on success. */
  compareExchange(offset: number, expected: number, replacement: number): number {
    return this.#handle.compareExchange(offset, expected, replacement);
  }

  /** Atomic add modulo 2^32; returns the previous value. */
  add(offset: number, delta: number): number {
    return this.#handle.add(offset, delta);
  }

  /**
   * Sleeps while the word at `offset` equals `expected`, until notified or `timeoutMs` passes.
   * Blocks the calling thread, so it is refused on the main thread (ERR_NOT_MAIN_THREAD_SAFE).
   * 'ok' means woken (possibly spuriously): re-check the word.
   */
  wait(offset: number, expected: number, timeoutMs?: number): WaitOutcome {
    assertMayBlock('Region.wait()');
    return this.#handle.wait(offset, expected, checkTimeout(timeoutMs));
  }

  /**
   * The same wait on a native pool thread, never blocking the event loop. `spinMicros` spins on the
   * word before sleeping, trading a little CPU for wake latency. Rejects ERR_CLOSED when the region
   * is closed meanwhile.
   */
  waitAsync(offset: number, expected: number, timeoutMs?: number, spinMicros?: number): Promise<WaitOutcome> {
    try {
      return this.#handle.waitAsync(offset, expected, checkTimeout(timeoutMs), spinMicros);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Wakes up to `count` (default all) waiters on the word at `offset`, in every process. */
  notify(offset: number, count?: number): number {
    return this.#handle.notify(offset, count);
  }

  /** Writes a persisted region's pages to its file (msync) before returning; no-op otherwise. */
  flush(): void {
    this.#handle.flush();
  }

  /** Unmaps the region. Idempotent; later use fails ERR_CLOSED; pending waitAsync calls reject ERR_CLOSED. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
