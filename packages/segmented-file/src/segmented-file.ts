import { NamedMutex, Region, ShmError, type RegionOptions } from '@shmlink/native';
import { assertInteger, checkOptions, initializeHeader } from '@shmlink/native/internal';
import { SegmentedFileError } from './errors';
import { Exclusive } from './exclusive';
import {
  CAPACITY_OFFSET,
  COUNT_OFFSET,
  HEADER_SPEC,
  LENGTH_PREFIX,
  MAX_SEGMENTED_FILE_CAPACITY,
  MAX_SEGMENT_INDEX,
  SEGMENTED_FILE_HEADER_SIZE,
  USED_OFFSET,
} from './layout';
import { CREATE_KEYS, OPEN_KEYS, settingsOf, type SegmentedFileCreateOptions, type SegmentedFileOptions, type Settings } from './options';

function toBytes(data: unknown): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new ShmError('ERR_INVALID_ARGUMENT', `data must be a string or a Uint8Array, got ${typeof data}`);
}

/**
 * The seed's MmFile: an append-only sequence of segments in a named mapping, each an Int32 length
 * and then the bytes. Segments are numbered from 0, written only in order and never overwritten.
 * One process typically creates the file under a uniqueName(), writes the input segments and passes
 * the name to another process, which opens it, reads them and appends its result.
 *
 * Every value read from the mapping (header words, segment lengths) is checked against the real
 * capacity before use: a bad one is ERR_CORRUPT, never an out-of-range read.
 */
export class SegmentedFile {
  readonly name: string;
  /** Bytes available to segments, length prefixes included (the mapping is 64 bytes larger). */
  readonly capacity: number;
  readonly path: string | undefined;
  /** Whether reads and writes take the NamedMutex named after the file. */
  readonly synchronized: boolean;
  /** Whether this handle created the file (false when it opened an existing one). */
  readonly created: boolean;
  #region: Region;
  #exclusive: Exclusive;
  /**
   * Where each known segment starts in the data area; the last entry is where the next one would.
   * Committed segments never move, so the index only ever grows (the seed's `_segments` list).
   */
  #offsets: number[] = [0];

  private constructor(name: string, region: Region, mutex: NamedMutex | null, settings: Settings) {
    this.name = name;
    this.#region = region;
    this.#exclusive = new Exclusive(`segmented file '${name}'`, mutex, settings.lockTimeoutMs, () => this.#checkOpen());
    this.capacity = region.size - SEGMENTED_FILE_HEADER_SIZE;
    this.path = settings.path;
    this.synchronized = mutex !== null;
    this.created = region.created;
  }

  /** CreateNew: a new, empty file of `capacity` bytes; ERR_SHM_EXISTS when the name (or path) exists. */
  static create(name: string, capacity: number, options?: SegmentedFileCreateOptions): SegmentedFile {
    return SegmentedFile.#make(name, capacity, options, (size, regionOptions) => Region.create(name, size, regionOptions));
  }

  /** OpenExisting: ERR_SHM_NOT_FOUND when there is none, ERR_LAYOUT_MISMATCH when it is not a segmented file. */
  static open(name: string, options?: SegmentedFileOptions): SegmentedFile {
    const opts = checkOptions<SegmentedFileOptions>(options, 'options', OPEN_KEYS);
    const settings = settingsOf(opts);
    const region = Region.open(name, { path: opts.path });
    const size = region.size;
    if (size < SEGMENTED_FILE_HEADER_SIZE) {
      region.close();
      throw new ShmError('ERR_LAYOUT_MISMATCH', `'${name}' is not a segmented file: size=${size} is smaller than its header`);
    }
    return SegmentedFile.#attach(name, region, settings);
  }

  /** Opens the file if it exists (its capacity must be `capacity`, else ERR_LAYOUT_MISMATCH), creates it otherwise. */
  static createOrOpen(name: string, capacity: number, options?: SegmentedFileCreateOptions): SegmentedFile {
    return SegmentedFile.#make(name, capacity, options, (size, regionOptions) => Region.createOrOpen(name, size, regionOptions));
  }

  /** create() and createOrOpen(): the same checks and sizing, a different way to get the region. */
  static #make(
    name: string,
    capacity: number,
    options: SegmentedFileCreateOptions | undefined,
    region: (size: number, options: RegionOptions) => Region,
  ): SegmentedFile {
    const opts = checkOptions<SegmentedFileCreateOptions>(options, 'options', CREATE_KEYS);
    assertInteger(capacity, 'capacity', 0, MAX_SEGMENTED_FILE_CAPACITY);
    const settings = settingsOf(opts);
    return SegmentedFile.#attach(name, region(SEGMENTED_FILE_HEADER_SIZE + capacity, { path: opts.path, mode: opts.mode }), settings);
  }

  /** Removes the file (its region, or the file at `path`) and its mutex; ERR_SHM_NOT_FOUND when absent. */
  static unlink(name: string, options?: { path?: string }): void {
    const opts = checkOptions<{ path: string }>(options, 'options', ['path']);
    try {
      Region.unlink(name, opts);
    } finally {
      // Also when the region is already gone: the mutex must not outlive a crashed creator's file.
      NamedMutex.unlink(name);
    }
  }

  /** The same, returning false instead of throwing when there is no file to remove. */
  static unlinkIfExists(name: string, options?: { path?: string }): boolean {
    try {
      SegmentedFile.unlink(name, options);
      return true;
    } catch (err) {
      if (err instanceof ShmError && err.code === 'ERR_SHM_NOT_FOUND') return false;
      throw err;
    }
  }

  static #attach(name: string, region: Region, settings: Settings): SegmentedFile {
    let mutex: NamedMutex | null = null;
    try {
      initializeHeader(region, HEADER_SPEC, () => {
        region.store(CAPACITY_OFFSET, region.size - SEGMENTED_FILE_HEADER_SIZE);
        region.store(COUNT_OFFSET, 0);
        region.store(USED_OFFSET, 0);
      });
      const capacity = region.load(CAPACITY_OFFSET);
      if (capacity !== region.size - SEGMENTED_FILE_HEADER_SIZE) {
        throw new ShmError(
          'ERR_CORRUPT',
          `segmented file '${name}' header says capacity=${capacity}, its mapping holds ${region.size - SEGMENTED_FILE_HEADER_SIZE}`,
        );
      }
      // createOrOpen, not open, even for an opener: a persisted file outlives the mutex of the
      // process that created it (the seed instead silently drops synchronization when its mutex is
      // missing; a fresh mutex keeps the guarantee the caller asked for).
      if (settings.synchronize) mutex = NamedMutex.createOrOpen(name);
    } catch (err) {
      region.close();
      // Leave nothing behind from a create that failed half-way.
      if (region.created) Region.unlinkIfExists(name, { path: settings.path });
      throw err;
    }
    return new SegmentedFile(name, region, mutex, settings);
  }

  get closed(): boolean {
    return this.#region.closed;
  }

  get persisted(): boolean {
    return this.#region.persisted;
  }

  /** Number of committed segments (one atomic load; no lock needed). */
  get count(): number {
    this.#checkOpen();
    return this.#header().count;
  }

  /** Bytes of the data area taken by committed segments, length prefixes included. */
  get bytesUsed(): number {
    this.#checkOpen();
    return this.#header().used;
  }

  /**
   * Appends `data` (strings as UTF-8) as segment number `segment`, which must be the next one
   * (`count`), else ERR_SEGMENT_ORDER; ERR_CAPACITY when 4 + its length bytes do not fit.
   */
  write(segment: number, data: string | Uint8Array): void {
    assertInteger(segment, 'segment', 0, MAX_SEGMENT_INDEX);
    const bytes = toBytes(data);
    this.#exclusive.run(() => this.#append(segment, bytes));
  }

  /** write() that waits for the mutex without blocking the event loop. */
  writeAsync(segment: number, data: string | Uint8Array): Promise<void> {
    try {
      assertInteger(segment, 'segment', 0, MAX_SEGMENT_INDEX);
      const bytes = toBytes(data);
      return this.#exclusive.runAsync(() => void this.#append(segment, bytes));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Appends `data` as the next segment, whatever its number; returns that number. */
  append(data: string | Uint8Array): number {
    const bytes = toBytes(data);
    return this.#exclusive.run(() => this.#append(null, bytes));
  }

  appendAsync(data: string | Uint8Array): Promise<number> {
    try {
      const bytes = toBytes(data);
      return this.#exclusive.runAsync(() => this.#append(null, bytes));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A copy of segment `segment`'s bytes; ERR_SEGMENT_NOT_FOUND when it has not been written. */
  read(segment: number): Buffer {
    assertInteger(segment, 'segment', 0, MAX_SEGMENT_INDEX);
    return this.#exclusive.run(() => this.#read(segment));
  }

  /** The segment decoded as UTF-8. */
  readText(segment: number): string {
    return this.read(segment).toString('utf8');
  }

  readAsync(segment: number): Promise<Buffer> {
    try {
      assertInteger(segment, 'segment', 0, MAX_SEGMENT_INDEX);
      return this.#exclusive.runAsync(() => this.#read(segment));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async readTextAsync(segment: number): Promise<string> {
    return (await this.readAsync(segment)).toString('utf8');
  }

  /** Writes a persisted file's pages to disk (msync) before returning; a no-op for shared memory. */
  flush(): void {
    this.#checkOpen();
    this.#region.flush();
  }

  /**
   * Releases this handle's mapping and mutex handle. The file lives on for other processes (and a
   * persisted one on disk) until SegmentedFile.unlink: closing is not deleting.
   */
  close(): void {
    this.#exclusive.close();
    this.#region.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(): void {
    if (this.#region.closed) throw new ShmError('ERR_CLOSED', `segmented file '${this.name}' is closed`);
  }

  /**
   * count and used, checked. count is loaded first: a writer stores used before count, so the
   * bytes of `count` segments always lie within the `used` seen afterwards.
   */
  #header(): { count: number; used: number } {
    const count = this.#region.load(COUNT_OFFSET);
    const used = this.#region.load(USED_OFFSET);
    if (used > this.capacity || count > used / LENGTH_PREFIX) {
      throw new ShmError(
        'ERR_CORRUPT',
        `segmented file '${this.name}' header says count=${count} used=${used}, capacity=${this.capacity}`,
      );
    }
    return { count, used };
  }

  /** Extends the index to cover `upTo` segments, checking every length read against `used`. */
  #index(upTo: number, used: number): number[] {
    const offsets = this.#offsets;
    if (offsets[offsets.length - 1]! > used) {
      throw new ShmError('ERR_CORRUPT', `segmented file '${this.name}' shrank: used=${used} below known segments`);
    }
    while (offsets.length <= upTo) {
      const at = offsets[offsets.length - 1]!;
      const segment = offsets.length - 1;
      if (at + LENGTH_PREFIX > used) {
        throw new ShmError('ERR_CORRUPT', `segmented file '${this.name}' segment ${segment} at ${at}: no room for its length within used=${used}`);
      }
      const length = this.#region.read(SEGMENTED_FILE_HEADER_SIZE + at, LENGTH_PREFIX).readInt32LE(0);
      if (length < 0 || length > used - at - LENGTH_PREFIX) {
        throw new ShmError(
          'ERR_CORRUPT',
          `segmented file '${this.name}' segment ${segment} at ${at} has length=${length}, ` +
            `${used - at - LENGTH_PREFIX} bytes left within used=${used} (capacity=${this.capacity})`,
        );
      }
      offsets.push(at + LENGTH_PREFIX + length);
    }
    return offsets;
  }

  #read(segment: number): Buffer {
    this.#checkOpen();
    const { count, used } = this.#header();
    if (segment >= count) {
      throw new SegmentedFileError('ERR_SEGMENT_NOT_FOUND', `segmented file '${this.name}' has no segment ${segment}: count=${count}`);
    }
    const offsets = this.#index(segment + 1, used);
    const at = offsets[segment]!;
    const length = offsets[segment + 1]! - at - LENGTH_PREFIX;
    // One copy for prefix and bytes; the prefix is checked again because the index may be older
    // than a stray write over this segment.
    const copy = this.#region.read(SEGMENTED_FILE_HEADER_SIZE + at, LENGTH_PREFIX + length);
    const found = copy.readInt32LE(0);
    if (found !== length) {
      throw new ShmError('ERR_CORRUPT', `segmented file '${this.name}' segment ${segment} length changed: ${length} indexed, ${found} found`);
    }
    return copy.subarray(LENGTH_PREFIX);
  }

  /**
   * Writes the length and the bytes past the last committed segment, then publishes them: used
   * first, count last. A writer that dies in between leaves count as it was, and the bytes it left
   * past the committed segments are simply overwritten by the next append.
   */
  #append(segment: number | null, bytes: Uint8Array): number {
    this.#checkOpen();
    const { count, used } = this.#header();
    if (segment !== null && segment !== count) {
      throw new SegmentedFileError(
        'ERR_SEGMENT_ORDER',
        `segmented file '${this.name}': segment ${segment} cannot be written, the next one is ${count} ` +
          `(segments are appended in order and never overwritten)`,
      );
    }
    const end = this.#index(count, used)[count]!;
    const free = this.capacity - end;
    if (LENGTH_PREFIX + bytes.length > free) {
      throw new SegmentedFileError(
        'ERR_CAPACITY',
        `segmented file '${this.name}': segment ${count} needs ${LENGTH_PREFIX}+${bytes.length} bytes, ` +
          `${free} of capacity=${this.capacity} are free`,
      );
    }
    const prefix = Buffer.allocUnsafe(LENGTH_PREFIX);
    prefix.writeInt32LE(bytes.length, 0);
    this.#region.write(SEGMENTED_FILE_HEADER_SIZE + end, prefix);
    this.#region.write(SEGMENTED_FILE_HEADER_SIZE + end + LENGTH_PREFIX, bytes);
    const next = end + LENGTH_PREFIX + bytes.length;
    this.#region.store(USED_OFFSET, next);
    this.#region.store(COUNT_OFFSET, count + 1);
    this.#offsets.push(next);
    return count;
  }
}
