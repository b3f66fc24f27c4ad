// A mapping in plain memory with Region's word and copy methods, for unit tests of the framing and
// parsing algorithms (as Agrona tests its ring buffer against a plain buffer). Nothing here
// crosses a process: the cross-process behaviour is tested with real regions and processes.
import type { WaitOutcome } from '@shmlink/native';
import type { RingMemory } from '../src/half';

export class MemoryRegion implements RingMemory {
  readonly name: string;
  readonly bytes: Buffer;
  readonly #words: DataView;

  constructor(size: number, name = 'memory') {
    this.name = name;
    this.bytes = Buffer.alloc(size);
    this.#words = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
  }

  load(offset: number): number {
    return this.#words.getUint32(offset, true);
  }

  store(offset: number, value: number): void {
    this.#words.setUint32(offset, value >>> 0, true);
  }

  compareExchange(offset: number, expected: number, replacement: number): number {
    const found = this.load(offset);
    if (found === expected >>> 0) this.store(offset, replacement);
    return found;
  }

  add(offset: number, delta: number): number {
    const found = this.load(offset);
    this.store(offset, found + delta);
    return found;
  }

  notify(): number {
    return 0;
  }

  /** One thread: nobody can change the word while this waits, so it never sleeps. */
  wait(offset: number, expected: number): WaitOutcome {
    return this.load(offset) === expected >>> 0 ? 'timed-out' : 'not-equal';
  }

  read(offset: number, length: number): Buffer {
    return Buffer.from(this.bytes.subarray(offset, offset + length));
  }

  write(offset: number, source: Uint8Array, sourceOffset = 0, length = source.length - sourceOffset): number {
    this.bytes.set(source.subarray(sourceOffset, sourceOffset + length), offset);
    return length;
  }
}
