import { ShmError } from '@shmlink/native';
import { assertInteger } from '@shmlink/native/internal';
import type { FieldType, ScalarType } from './types';

/** How one field type is laid out, checked, encoded and decoded (little-endian, packed). */
export interface Codec {
  /** Bytes the field occupies; with pack(1) this is also its C sizeof. */
  readonly size: number;
  /** The type as written in declarations and messages: 'i32', 'bytes[1024]'. */
  readonly label: string;
  /** The C declaration of a member called `name`, using <stdint.h> types. */
  cDeclaration(name: string): string;
  /** Checks `value` (ERR_INVALID_ARGUMENT with `what` in the message) and writes it at `at`. */
  encode(target: Buffer, at: number, value: unknown, what: string): void;
  decode(source: Buffer, at: number): unknown;
}

function invalid(what: string, value: unknown, expected: string): ShmError {
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new ShmError('ERR_INVALID_ARGUMENT', `${what}=${shown} expected ${expected}`);
}

function integer(label: ScalarType, size: 1 | 2 | 4, signed: boolean): Codec {
  const bits = size * 8;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return {
    size,
    label,
    cDeclaration: (name) => `${signed ? '' : 'u'}int${bits}_t ${name};`,
    encode(target, at, value, what) {
      assertInteger(value, what, min, max);
      if (signed) target.writeIntLE(value, at, size);
      else target.writeUIntLE(value, at, size);
    },
    decode: (source, at) => (signed ? source.readIntLE(at, size) : source.readUIntLE(at, size)),
  };
}

function bigInteger(label: 'i64' | 'u64', signed: boolean): Codec {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return {
    size: 8,
    label,
    cDeclaration: (name) => `${signed ? '' : 'u'}int64_t ${name};`,
    encode(target, at, value, what) {
      // A number would lose precision above 2^53 without a word: 64-bit fields take bigints only.
      if (typeof value !== 'bigint' || value < min || value > max) throw invalid(what, value, `a bigint in ${min}..${max}`);
      if (signed) target.writeBigInt64LE(value, at);
      else target.writeBigUInt64LE(value, at);
    },
    decode: (source, at) => (signed ? source.readBigInt64LE(at) : source.readBigUInt64LE(at)),
  };
}

const f32: Codec = {
  size: 4,
  label: 'f32',
  cDeclaration: (name) => `float ${name};`,
  encode(target, at, value, what) {
    // Rounding to the nearest float is expected; overflowing to Infinity would silently lie.
    if (typeof value !== 'number' || (Number.isFinite(value) && !Number.isFinite(Math.fround(value)))) {
      throw invalid(what, value, 'a number within the f32 range (±3.4028234663852886e38), Infinity or NaN');
    }
    target.writeFloatLE(value, at);
  },
  decode: (source, at) => source.readFloatLE(at),
};

const f64: Codec = {
  size: 8,
  label: 'f64',
  cDeclaration: (name) => `double ${name};`,
  encode(target, at, value, what) {
    if (typeof value !== 'number') throw invalid(what, value, 'a number');
    target.writeDoubleLE(value, at);
  },
  decode: (source, at) => source.readDoubleLE(at),
};

const SCALARS: Record<ScalarType, Codec> = {
  i8: integer('i8', 1, true),
  u8: integer('u8', 1, false),
  i16: integer('i16', 2, true),
  u16: integer('u16', 2, false),
  i32: integer('i32', 4, true),
  u32: integer('u32', 4, false),
  i64: bigInteger('i64', true),
  u64: bigInteger('u64', false),
  f32,
  f64,
};

/** A byte array; a shorter value is zero-padded so that no bytes of an older value survive. */
function byteArray(length: number): Codec {
  return {
    size: length,
    label: `bytes[${length}]`,
    cDeclaration: (name) => `uint8_t ${name}[${length}];`,
    encode(target, at, value, what) {
      if (!(value instanceof Uint8Array) || value.length > length) {
        throw invalid(what, value instanceof Uint8Array ? `<${value.length} bytes>` : value, `a Uint8Array of at most ${length} bytes`);
      }
      target.set(value, at);
      target.fill(0, at + value.length, at + length);
    },
    decode: (source, at) => Buffer.from(source.subarray(at, at + length)),
  };
}

/** A NUL-terminated UTF-8 string: C code can strcmp it because a terminator is always written. */
function utf8String(length: number): Codec {
  return {
    size: length,
    label: `utf8[${length}]`,
    cDeclaration: (name) => `char ${name}[${length}];`,
    encode(target, at, value, what) {
      if (typeof value !== 'string') throw invalid(what, value, `a string`);
      const encoded = Buffer.from(value, 'utf8');
      // A NUL would end the string early and a lone surrogate would become U+FFFD: neither reads back.
      if (encoded.length > length - 1 || encoded.includes(0) || encoded.toString('utf8') !== value) {
        throw invalid(what, value, `a string without NUL or lone surrogates of at most ${length - 1} UTF-8 bytes`);
      }
      target.set(encoded, at);
      target.fill(0, at + encoded.length, at + length);
    },
    decode(source, at) {
      const end = source.indexOf(0, at);
      // A C writer may fill every byte without a terminator: the field's end bounds the string.
      return source.toString('utf8', at, end === -1 || end > at + length ? at + length : end);
    },
  };
}

export function codecFor(type: FieldType): Codec {
  if (typeof type === 'string') return SCALARS[type];
  return type.kind === 'bytes' ? byteArray(type.length) : utf8String(type.length);
}

/** Whether `type` is something codecFor understands (a declaration is untrusted input). */
export function isFieldType(type: unknown): type is FieldType {
  if (typeof type === 'string') return Object.hasOwn(SCALARS, type);
  if (type === null || typeof type !== 'object') return false;
  const { kind, length } = type as { kind?: unknown; length?: unknown };
  return (kind === 'bytes' || kind === 'utf8') && Number.isInteger(length) && (length as number) >= 1 && (length as number) <= 0x7fffffff;
}
