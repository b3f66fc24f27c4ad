import v8 from 'node:v8';
import { ShmError } from '@shmlink/native';

/** Turns values into message bytes and back. `decode` may throw: the message is then reported as ERR_CORRUPT. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Buffer): T;
}

/** Bytes as they are (default); strings are sent as UTF-8. Incoming messages are Buffers. */
export const bytesCodec: Codec<Buffer | Uint8Array | string> = {
  encode: (value) => {
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    if (value instanceof Uint8Array) return value;
    throw new ShmError('ERR_INVALID_ARGUMENT', `data must be a string or a Uint8Array, got ${describe(value)}`);
  },
  decode: (bytes) => bytes,
};

/** UTF-8 text. */
export const textCodec: Codec<string> = {
  encode: (value) => {
    if (typeof value !== 'string') throw new ShmError('ERR_INVALID_ARGUMENT', `the text codec sends strings, got ${describe(value)}`);
    return Buffer.from(value, 'utf8');
  },
  decode: (bytes) => bytes.toString('utf8'),
};

/** JSON as UTF-8. */
export const jsonCodec: Codec<unknown> = {
  encode: (value) => {
    const text = JSON.stringify(value);
    if (text === undefined) throw new ShmError('ERR_INVALID_ARGUMENT', `the json codec cannot send ${describe(value)}`);
    return Buffer.from(text, 'utf8');
  },
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
};

/** V8's structured clone (Map, Set, Date, RegExp, typed arrays, BigInt, cycles): both peers must be Node. */
export const structuredCodec: Codec<unknown> = {
  encode: (value) => {
    try {
      return v8.serialize(value);
    } catch (cause) {
      throw new ShmError('ERR_INVALID_ARGUMENT', `the structured codec cannot send this value: ${(cause as Error).message}`, { cause });
    }
  },
  decode: (bytes) => v8.deserialize(bytes) as unknown,
};

export type CodecName = 'bytes' | 'text' | 'json' | 'structured';

const BY_NAME: Record<CodecName, Codec<unknown>> = {
  bytes: bytesCodec as Codec<unknown>,
  text: textCodec as Codec<unknown>,
  json: jsonCodec,
  structured: structuredCodec,
};

/** A codec given by name or as `{ encode, decode }`, checked up front. */
export function resolveCodec<T>(codec: CodecName | Codec<T> | undefined): Codec<T> {
  if (codec === undefined) return bytesCodec as Codec<T>;
  if (typeof codec === 'string') {
    const found = BY_NAME[codec];
    if (found === undefined) {
      throw new ShmError('ERR_INVALID_ARGUMENT', `codec=${JSON.stringify(codec)} expected one of ${Object.keys(BY_NAME).join(', ')} or { encode, decode }`);
    }
    return found as Codec<T>;
  }
  if (typeof codec !== 'object' || codec === null || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new ShmError('ERR_INVALID_ARGUMENT', 'codec must be a codec name or an object with encode and decode functions');
  }
  return codec;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
