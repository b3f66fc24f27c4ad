import { EventEmitter } from 'node:events';
import { isShmError, type Region } from '@shmlink/native';
import type { FieldInfo } from './layout';
import type { Fields, ValueOf } from './types';

/**
 * One field that changed: PropertyChangeEventData (PropertyIdentifier, NewValue) of seed 002, the C#
 * article this package follows (docs/seeds.md).
 */
export type FieldChange<F extends Fields> = {
  [K in keyof F & string]: {
    field: K;
    value: ValueOf<F[K]>;
    /** The value in the watcher's previous snapshot. */
    previous: ValueOf<F[K]>;
    /** The change counter the new snapshot was taken at. */
    changeCount: number;
  };
}[keyof F & string];

export interface WatcherEvents<F extends Fields> {
  change: [FieldChange<F>];
  error: [Error];
  close: [];
}

/** What a watcher needs from its StructHandle. */
export interface WatchSource {
  region: Region;
  counterOffset: number;
  fields: readonly FieldInfo[];
  readRaw(): Buffer;
  onClose(watcher: Watcher<never>): void;
}

/**
 * Sleeps on the change counter (waitAsync: a native pool thread, never the event loop); when it
 * moves, reads the whole struct and emits 'change' for every field whose bytes differ from the
 * previous snapshot. Changes coalesce: a write of an equal value, or one undone before the watcher
 * looks, is not reported. A pending wait keeps the process alive until close().
 */
export class Watcher<F extends Fields> extends EventEmitter<WatcherEvents<F>> {
  readonly #source: WatchSource;
  #closed = false;
  #seen: number;
  #last: Buffer;

  constructor(source: WatchSource) {
    super();
    this.#source = source;
    // Taken now, synchronously: every write after watch() returns moves the counter past #seen.
    this.#seen = source.region.load(source.counterOffset);
    this.#last = source.readRaw();
    this.#run().catch((err: Error) => {
      this.close();
      // A closed region (or handle) just ends the watch; anything else, a listener's throw
      // included, is an 'error' — uncaught when nobody listens, as with any EventEmitter.
      if (!isShmError(err, 'ERR_CLOSED')) process.nextTick(() => this.emit('error', err));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops watching; the pending wait is woken so that it lets the process exit. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.onClose(this as Watcher<never>);
    // Wakes every waiter on the word (ours included); the others re-check and sleep again.
    if (!this.#source.region.closed) this.#source.region.notify(this.#source.counterOffset);
    process.nextTick(() => this.emit('close'));
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #run(): Promise<void> {
    const { region, counterOffset } = this.#source;
    while (!this.#closed) {
      await region.waitAsync(counterOffset, this.#seen);
      if (this.#closed) return;
      const count = region.load(counterOffset);
      if (count === this.#seen) continue; // spurious wake-up, or another watcher's close()
      this.#seen = count;
      this.#report(count, this.#source.readRaw());
    }
  }

  #report(changeCount: number, raw: Buffer): void {
    const last = this.#last;
    this.#last = raw;
    for (const f of this.#source.fields) {
      const end = f.offset + f.size;
      if (raw.compare(last, f.offset, end, f.offset, end) === 0) continue;
      const change = { field: f.name, value: f.codec.decode(raw, f.offset), previous: f.codec.decode(last, f.offset), changeCount };
      this.emit('change', change as FieldChange<F>);
      if (this.#closed) return; // a listener closed us
    }
  }
}
