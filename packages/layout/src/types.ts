import { assertInteger } from '@shmlink/native/internal';

/** The fixed-size numeric field types, named as in Rust / WebAssembly; all little-endian. */
export type ScalarType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'f32' | 'f64';

/** `n` raw bytes (C `uint8_t name[n]`), read as a Buffer. */
export interface BytesType {
  readonly kind: 'bytes';
  readonly length: number;
}

/** A NUL-terminated UTF-8 string in `n` bytes (C `char name[n]`): at most n - 1 bytes of text. */
export interface Utf8Type {
  readonly kind: 'utf8';
  readonly length: number;
}

export type FieldType = ScalarType | BytesType | Utf8Type;

/** A layout's declaration: field name → type, in memory order (object key order is kept by JS). */
export type Fields = Record<string, FieldType>;

/** The JavaScript value of a field of type `T`. */
export type ValueOf<T extends FieldType> = T extends 'i64' | 'u64'
  ? bigint
  : T extends ScalarType
    ? number
    : T extends BytesType
      ? Buffer
      : T extends Utf8Type
        ? string
        : never;

/** What a write accepts: like ValueOf, but any Uint8Array for bytes. */
export type InputOf<T extends FieldType> = T extends BytesType ? Uint8Array : ValueOf<T>;

/** Every field's value: what `snapshot()` returns and what the attached object exposes. */
export type Values<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]> };

export type Inputs<F extends Fields> = { [K in keyof F]: InputOf<F[K]> };

// 2^31 - 1 bytes keeps every offset exact and matches what a C int can index.
const MAX_ARRAY = 0x7fffffff;

/** A field of `length` raw bytes. */
export function bytes(length: number): BytesType {
  assertInteger(length, 'bytes(length)', 1, MAX_ARRAY);
  return Object.freeze({ kind: 'bytes', length });
}

/** A NUL-terminated UTF-8 string field of `length` bytes including the terminator. */
export function utf8(length: number): Utf8Type {
  assertInteger(length, 'utf8(length)', 1, MAX_ARRAY);
  return Object.freeze({ kind: 'utf8', length });
}
