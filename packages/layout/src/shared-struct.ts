import { Region, ShmError } from '@shmlink/native';
import { assertInteger, checkOptions } from '@shmlink/native/internal';
import { CHANGE_COUNTER, FINGERPRINT, HEADER_SIZE } from './header';
import type { FieldInfo, Layout } from './layout';
import type { Fields, Inputs, Values } from './types';
import { Watcher, type FieldChange } from './watcher';

/** An attached layout: the fields as typed properties, plus the members of StructHandle. */
export type SharedStruct<F extends Fields> = StructHandle<F> & Values<F>;

/** Decodes every field of a raw struct image. */
export function decodeAll<F extends Fields>(fields: readonly FieldInfo[], raw: Buffer): Values<F> {
  const values: Record<string, unknown> = {};
  for (const f of fields) values[f.name] = f.codec.decode(raw, f.offset);
  return values as Values<F>;
}

// One subclass per layout, whose prototype carries a getter/setter per field.
const classes = new WeakMap<object, new (...args: ConstructorParameters<typeof StructHandle>) => StructHandle<Fields>>();

/**
 * The non-field members of an attached layout. Every property read copies the field out of the
 * region and every write copies it in (the region is copy-in/copy-out: no ArrayBuffer ever points
 * into shared memory, which Electron forbids), then bumps the change counter and wakes watchers.
 * Single fields are not atomic: guard multi-field consistency with a NamedMutex, as seed 002 (the
 * C# article this package follows, docs/seeds.md) does.
 */
export class StructHandle<F extends Fields> {
  readonly layout: Layout<F>;
  readonly region: Region;
  /** Where the header starts in the region. */
  readonly offset: number;
  /** Where the packed struct starts in the region (offset + 8). */
  readonly dataOffset: number;
  readonly #owns: boolean;
  #closed = false;
  readonly #watchers = new Set<Watcher<F>>();

  constructor(layout: Layout<F>, region: Region, offset: number, owns: boolean) {
    this.layout = layout;
    this.region = region;
    this.offset = offset;
    this.dataOffset = offset + HEADER_SIZE;
    this.#owns = owns;
  }

  /** The subclass for `layout`, with one accessor per field. */
  static classFor<F extends Fields>(layout: Layout<F>): new (...args: ConstructorParameters<typeof StructHandle>) => StructHandle<F> {
    let cls = classes.get(layout);
    if (cls === undefined) {
      cls = class extends StructHandle<Fields> {};
      for (const field of layout.fields) {
        Object.defineProperty(cls.prototype, field.name, {
          enumerable: true,
          get(this: StructHandle<Fields>) {
            return this.#read(field);
          },
          set(this: StructHandle<Fields>, value: unknown) {
            this.#write([[field, value]]);
          },
        });
      }
      classes.set(layout, cls);
    }
    return cls as new (...args: ConstructorParameters<typeof StructHandle>) => StructHandle<F>;
  }

  get closed(): boolean {
    return this.#closed || this.region.closed;
  }

  /** The change counter: how many writes (modulo 2^32) the struct has seen, from every process. */
  get changeCount(): number {
    this.#checkOpen();
    return this.region.load(this.offset + CHANGE_COUNTER);
  }

  /** Every field, read in one copy of the whole struct. */
  snapshot(): Values<F> {
    return decodeAll<F>(this.layout.fields, this.#readRaw());
  }

  /**
   * Writes several fields, then bumps the counter once: watchers see them in one wake-up. Every
   * value is checked before any is written, so an invalid one leaves the struct untouched.
   */
  update(values: Partial<Inputs<F>>): void {
    const given = checkOptions<Inputs<F>>(values, 'values', this.layout.fields.map((f) => f.name as keyof F & string));
    this.#write(Object.entries(given).map(([name, value]) => [this.layout.field(name), value] as const));
  }

  /**
   * Reports changes made by any process (this one included): one 'change' per field whose bytes
   * differ from the watcher's last snapshot. Sleeps in waitAsync, never blocking the event loop.
   */
  watch(listener?: (change: FieldChange<F>) => void): Watcher<F> {
    this.#checkOpen();
    const watcher = new Watcher<F>({
      region: this.region,
      counterOffset: this.offset + CHANGE_COUNTER,
      fields: this.layout.fields,
      readRaw: () => this.#readRaw(),
      onClose: (w) => this.#watchers.delete(w),
    });
    this.#watchers.add(watcher);
    if (listener !== undefined) watcher.on('change', listener);
    return watcher;
  }

  /** Stops this handle's watchers; closes the region when the handle opened it (create/open). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const watcher of this.#watchers) watcher.close();
    if (this.#owns) this.region.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ShmError('ERR_CLOSED', `layout attached to '${this.region.name}' is closed`);
  }

  #readRaw(): Buffer {
    this.#checkOpen();
    return this.region.read(this.dataOffset, this.layout.size);
  }

  #read(field: FieldInfo): unknown {
    this.#checkOpen();
    return field.codec.decode(this.region.read(this.dataOffset + field.offset, field.size), 0);
  }

  #write(entries: readonly (readonly [FieldInfo, unknown])[]): void {
    this.#checkOpen();
    const encoded = entries.map(([field, value]) => {
      const bytes = Buffer.alloc(field.size);
      field.codec.encode(bytes, 0, value, `${field.name} (${field.codec.label})`);
      return [field, bytes] as const;
    });
    if (encoded.length === 0) return;
    for (const [field, bytes] of encoded) this.region.write(this.dataOffset + field.offset, bytes);
    // The counter moves after the bytes: a watcher that sees the new count reads the new bytes.
    this.region.add(this.offset + CHANGE_COUNTER, 1);
    this.region.notify(this.offset + CHANGE_COUNTER);
  }
}

/** Checks that `layout` fits `region` at `offset` and agrees with its fingerprint, then attaches. */
export function attachStruct<F extends Fields>(layout: Layout<F>, region: Region, offset: number, owns: boolean): SharedStruct<F> {
  if (!(region instanceof Region)) throw new ShmError('ERR_INVALID_ARGUMENT', 'attach() expects a Region from @shmlink/native');
  assertInteger(offset, 'offset', 0, region.size);
  if (offset % 4 !== 0) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `offset=${offset} expected a multiple of 4 (the header holds atomic words)`);
  }
  if (offset + layout.sharedSize > region.size) {
    throw new ShmError(
      'ERR_INVALID_ARGUMENT',
      `layout of ${layout.sharedSize} bytes (8-byte header + ${layout.size}-byte struct, rounded to 4) at offset=${offset} ` +
        `does not fit region '${region.name}' of size=${region.size}`,
    );
  }
  const fingerprint = offset + FINGERPRINT;
  // A read-only mapping cannot claim the word; it only checks what a writer stored.
  const found =
    region.access === 'read' ? region.load(fingerprint) : region.compareExchange(fingerprint, 0, layout.fingerprint);
  if (found !== 0 && found !== layout.fingerprint) {
    throw new ShmError(
      'ERR_LAYOUT_MISMATCH',
      `region '${region.name}' at offset=${offset} holds a layout with fingerprint=0x${found.toString(16)} ` +
        `expected=0x${layout.fingerprint.toString(16)} (another field list)`,
    );
  }
  const Cls = StructHandle.classFor(layout);
  return new Cls(layout as unknown as Layout<Fields>, region, offset, owns) as unknown as SharedStruct<F>;
}
