import { concatMap, map, type OperatorFunction } from 'rxjs';
import { ShmError, type Communicator, type Outgoing } from '@shmlink/core';

/**
 * Writes each value to `comm` in order, waiting for each write to commit before the next
 * (backpressure), and emits the value once it is in shared memory. A failed write errors the stream.
 */
export function writeTo<T extends Outgoing<C>, C = Buffer>(comm: Communicator<C>): OperatorFunction<T, T> {
  if (typeof comm?.write !== 'function') {
    throw new ShmError('ERR_INVALID_ARGUMENT', 'writeTo expects a Communicator');
  }
  return concatMap(async (value: T) => {
    await comm.write(value);
    return value;
  });
}

/** Decodes each message as text (UTF-8 by default). */
export function decodeText(encoding: BufferEncoding = 'utf8'): OperatorFunction<Buffer, string> {
  if (!Buffer.isEncoding(encoding)) {
    throw new ShmError('ERR_INVALID_ARGUMENT', `unknown text encoding ${JSON.stringify(encoding)}`);
  }
  return map((data: Buffer) => data.toString(encoding));
}

/** Parses each message as UTF-8 JSON; a message that is not JSON errors the stream with ERR_CORRUPT. */
export function decodeJson<T = unknown>(): OperatorFunction<Buffer, T> {
  return map((data: Buffer) => {
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (cause) {
      throw new ShmError('ERR_CORRUPT', `message of ${data.length} bytes is not JSON: ${(cause as Error).message}`, { cause });
    }
  });
}

/** Encodes each value as UTF-8 JSON, ready for writeTo. */
export function encodeJson<T>(): OperatorFunction<T, Buffer> {
  return map((value: T) => Buffer.from(JSON.stringify(value), 'utf8'));
}
