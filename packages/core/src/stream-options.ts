import { ShmError } from '@shmlink/native';
import { assertInteger, checkOneOf, checkOptions } from '@shmlink/native/internal';
import { Communicator } from './communicator';

export interface StreamOptions {
  /**
   * 'object' (default): one message is one chunk — the communicator's values (Buffers with the
   * bytes codec) in and out. 'bytes': a byte stream, cut into messages of at most `chunkSize`
   * bytes and ended by an empty message; needs the bytes codec (the default) on both sides.
   */
  mode?: 'object' | 'bytes';
  /** What the reading side holds before the reader pauses: messages in 'object' mode, bytes in
   *  'bytes' mode. Default: Node's defaults (16 objects, 16 KiB… 64 KiB by Node version); Web
   *  streams: 16 messages, 64 KiB. */
  highWaterMark?: number;
  /** 'bytes' mode: the largest message a chunk is cut into. Default 64 KiB. */
  chunkSize?: number;
}

export interface ResolvedStreamOptions {
  bytes: boolean;
  highWaterMark: number | undefined;
  chunkSize: number;
}

const DEFAULT_CHUNK = 64 * 1024;

/** The end of a byte stream on the wire: a message of length 0 (a byte stream never sends one). */
export const END_OF_STREAM = new Uint8Array(0);

/** Checks a stream adapter's arguments (ERR_INVALID_ARGUMENT naming the bad one). */
export function resolveStreamOptions(comm: unknown, options: StreamOptions | undefined, what: string): ResolvedStreamOptions {
  if (!(comm instanceof Communicator)) throw new ShmError('ERR_INVALID_ARGUMENT', `${what} expects a Communicator`);
  const opts = checkOptions<StreamOptions>(options, 'options', ['mode', 'highWaterMark', 'chunkSize']);
  const mode = checkOneOf(opts.mode, 'mode', ['object', 'bytes'] as const, 'object');
  if (opts.highWaterMark !== undefined) assertInteger(opts.highWaterMark, 'highWaterMark', 1, 2 ** 32);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  assertInteger(chunkSize, 'chunkSize', 1, 2 ** 32);
  if (opts.chunkSize !== undefined && mode !== 'bytes') throw new ShmError('ERR_INVALID_ARGUMENT', "chunkSize applies to mode: 'bytes' only");
  return { bytes: mode === 'bytes', highWaterMark: opts.highWaterMark, chunkSize };
}

/**
 * Writes one chunk of a byte stream as messages of at most `chunkSize` bytes, in order; resolves
 * when the last is committed. An empty chunk writes nothing (an empty message ends the stream).
 */
export function writeBytes(comm: Communicator<unknown>, chunk: Uint8Array, chunkSize: number): Promise<void> {
  if (chunk.length <= chunkSize) return chunk.length === 0 ? Promise.resolve() : comm.write(chunk);
  const writes: Promise<void>[] = [];
  for (let at = 0; at < chunk.length; at += chunkSize) writes.push(comm.write(chunk.subarray(at, at + chunkSize)));
  return Promise.all(writes).then(() => undefined);
}

/**
 * What a message means to the reading side of a byte stream: bytes, or the end. A value that is
 * not bytes means the communicator has another codec: ERR_INVALID_STATE.
 */
export function readBytes(value: unknown): Buffer | null {
  if (!Buffer.isBuffer(value)) {
    throw new ShmError('ERR_INVALID_STATE', `mode: 'bytes' needs the bytes codec, but a message decoded to ${typeof value}`);
  }
  return value.length === 0 ? null : value;
}
