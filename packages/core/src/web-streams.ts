import { ByteLengthQueuingStrategy, CountQueuingStrategy, ReadableStream, WritableStream } from 'node:stream/web';
import { ShmError } from '@shmlink/native';
import type { Communicator } from './communicator';
import { MessageSource } from './message-source';
import { END_OF_STREAM, readBytes, resolveStreamOptions, writeBytes, type StreamOptions } from './stream-options';

const WEB_MESSAGES = 16;
const WEB_BYTES = 64 * 1024;

/**
 * The messages of a communicator as a WHATWG ReadableStream (for code written against Web
 * Streams): Buffers (or the codec's values) in 'object' mode, the bytes of the peer's byte stream
 * in 'bytes' mode (closed at its end marker). Backpressure as with toDuplex(): a full queue
 * pauses the reader and the messages wait in the ring. Closes when the communicator is disposed,
 * errors with its 'error'; cancel() detaches and stops the reader.
 */
export function toReadableStream<T = Buffer>(comm: Communicator<T>, options?: StreamOptions): ReadableStream<T> {
  const opts = resolveStreamOptions(comm, options, 'toReadableStream');
  let source: MessageSource<T> | undefined;
  const strategy = opts.bytes
    ? new ByteLengthQueuingStrategy({ highWaterMark: opts.highWaterMark ?? WEB_BYTES })
    : new CountQueuingStrategy({ highWaterMark: opts.highWaterMark ?? WEB_MESSAGES });
  return new ReadableStream<T>(
    {
      start(controller) {
        source = new MessageSource<T>(comm, {
          message(value) {
            if (opts.bytes && readBytes(value) === null) {
              source!.close();
              controller.close();
              return false;
            }
            controller.enqueue(value);
            return (controller.desiredSize ?? 0) > 0;
          },
          end() {
            controller.close();
          },
          fail(error) {
            controller.error(error);
          },
        }, { watchPeer: opts.bytes });
      },
      pull() {
        source!.resume();
      },
      cancel() {
        source!.close();
      },
    },
    strategy as CountQueuingStrategy,
  );
}

/**
 * A WHATWG WritableStream that sends each chunk: a write settles when its message is committed
 * to shared memory (a full ring holds the writer back). 'bytes' mode takes Uint8Arrays, cuts them
 * into messages of at most `chunkSize` bytes and sends the end marker at close(). Writes to a
 * disposed communicator fail ERR_CLOSED. Aborting or closing never disposes the communicator.
 */
export function toWritableStream<T = Buffer>(comm: Communicator<T>, options?: StreamOptions): WritableStream<Parameters<Communicator<T>['write']>[0]> {
  const opts = resolveStreamOptions(comm, options, 'toWritableStream');
  type Chunk = Parameters<Communicator<T>['write']>[0];
  return new WritableStream<Chunk>(
    {
      write(chunk) {
        if (!opts.bytes) return comm.write(chunk);
        if (!(chunk instanceof Uint8Array)) {
          throw new ShmError('ERR_INVALID_ARGUMENT', `mode: 'bytes' writes Uint8Arrays, got ${typeof chunk}`);
        }
        return writeBytes(comm as Communicator<unknown>, chunk, opts.chunkSize);
      },
      close() {
        if (!opts.bytes) return undefined;
        return comm.write(END_OF_STREAM as Chunk);
      },
    },
  );
}
