import { Region, ShmError, type OpenOptions, type RegionOptions } from '@shmlink/native';
import { renderCHeader } from './c-header';
import { codecFor, isFieldType, type Codec } from './codecs';
import { HEADER_SIZE } from './header';
import { checkFieldName, checkIdentifier } from './names';
import { attachStruct, type SharedStruct } from './shared-struct';
import type { FieldType, Fields } from './types';

/** One field of a layout, where it lives in the packed struct and how it is encoded. */
export interface FieldInfo {
  readonly name: string;
  readonly type: FieldType;
  /** Byte offset inside the struct (C offsetof). */
  readonly offset: number;
  readonly size: number;
  readonly codec: Codec;
}

/** FNV-1a of the field list: two processes that declared different layouts must not share bytes. */
function fingerprintOf(fields: readonly FieldInfo[]): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(fields.map((f) => `${f.name}:${f.codec.label};`).join(''), 'utf8')) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  // 0 means "not attached yet" in the header word.
  return hash === 0 ? 1 : hash;
}

/**
 * A packed struct declaration: fields in declaration order, 1-byte alignment, no padding — the
 * layout of a C struct under `#pragma pack(1)` (and of .NET's `[StructLayout(Pack = 1)]`).
 */
export class Layout<F extends Fields> {
  readonly fields: readonly FieldInfo[];
  /** Bytes of the packed struct: the C `sizeof`. */
  readonly size: number;
  /** Bytes attach() needs: the 8-byte header plus the struct, rounded up to 4 (the C `sizeof` of `<Name>_shared`). */
  readonly sharedSize: number;
  /** Stored in the header by the first attach; identifies the field list (names, types, order). */
  readonly fingerprint: number;
  readonly #byName: ReadonlyMap<string, FieldInfo>;

  constructor(declaration: F) {
    if (declaration === null || typeof declaration !== 'object' || Array.isArray(declaration)) {
      throw new ShmError('ERR_INVALID_ARGUMENT', 'defineLayout() expects an object of field name → type');
    }
    const fields: FieldInfo[] = [];
    let offset = 0;
    for (const [name, type] of Object.entries(declaration)) {
      checkFieldName(name);
      if (!isFieldType(type)) {
        throw new ShmError(
          'ERR_INVALID_ARGUMENT',
          `field '${name}' has type ${JSON.stringify(type)}; expected one of i8 u8 i16 u16 i32 u32 i64 u64 f32 f64, bytes(n), utf8(n)`,
        );
      }
      const codec = codecFor(type);
      fields.push(Object.freeze({ name, type, offset, size: codec.size, codec }));
      offset += codec.size;
    }
    // C has no empty structs, and an integer key order would not be declaration order.
    if (fields.length === 0) throw new ShmError('ERR_INVALID_ARGUMENT', 'a layout needs at least one field');
    this.fields = Object.freeze(fields);
    this.size = offset;
    this.sharedSize = HEADER_SIZE + Math.ceil(offset / 4) * 4;
    this.fingerprint = fingerprintOf(fields);
    this.#byName = new Map(fields.map((f) => [f.name, f]));
  }

  /** The field called `name`; ERR_INVALID_ARGUMENT when there is none. */
  field(name: keyof F & string): FieldInfo {
    const info = this.#byName.get(name);
    if (info === undefined) {
      throw new ShmError('ERR_INVALID_ARGUMENT', `no field '${String(name)}' (fields: ${[...this.#byName.keys()].join(', ')})`);
    }
    return info;
  }

  /** Offset of a field inside the struct, as C's offsetof (the header is not counted). */
  offsetOf(name: keyof F & string): number {
    return this.field(name).offset;
  }

  /** The equivalent C header: the packed struct, the shared block with its header, static asserts. */
  toCHeader(structName: string): string {
    checkIdentifier(structName, 'structName');
    return renderCHeader({ structName, fields: this.fields, size: this.size, sharedSize: this.sharedSize, fingerprint: this.fingerprint });
  }

  /** Typed access to the layout at `offset` (a multiple of 4) of `region`; the region stays the caller's. */
  attach(region: Region, offset = 0): SharedStruct<F> {
    return attachStruct(this, region, offset, false);
  }

  /** Creates a region of `sharedSize` bytes named `name` and attaches; close() closes the region. */
  create(name: string, options?: RegionOptions): SharedStruct<F> {
    return this.#own(Region.create(name, this.sharedSize, options));
  }

  /** Opens the region `name` if it exists (its size must be `sharedSize`), creates it otherwise. */
  createOrOpen(name: string, options?: RegionOptions): SharedStruct<F> {
    return this.#own(Region.createOrOpen(name, this.sharedSize, options));
  }

  /** Opens an existing region `name` and attaches at offset 0; close() closes the region. */
  open(name: string, options?: Omit<OpenOptions, 'size'>): SharedStruct<F> {
    return this.#own(Region.open(name, options));
  }

  #own(region: Region): SharedStruct<F> {
    try {
      return attachStruct(this, region, 0, true);
    } catch (err) {
      region.close();
      throw err;
    }
  }
}

/**
 * Declares a packed layout. Key order is memory order, so integer-like keys (which JS would move
 * first) are refused by the C-identifier rule.
 *
 *   const Controller = defineLayout({ timestamp: 'f64', paused: 'i32', messageBuffer: bytes(1024) });
 */
export function defineLayout<const F extends Fields>(fields: F): Layout<F> {
  return new Layout(fields);
}
